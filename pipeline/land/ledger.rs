//! The ledgers: append-only Parquet tables under `<lake>/ledger/<table>/`, one new file
//! per append, written aside, fsynced and renamed, so a reader sees a whole append or none.

use std::fs::{self, File};
use std::path::Path;

use arrow::datatypes::SchemaRef;
use chrono::{DateTime, Utc};
use parquet::arrow::ArrowWriter;

use super::{BatchBuilder, ColumnSpec, Kind, LandError, io_err, properties, schema};

/// One row of the fetch ledger (`ledger_fetches`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FetchRecord {
    /// Run that fetched it.
    pub run_id: String,
    /// The source's name in `[sources]`.
    pub source: String,
    /// Lake table it fed (empty for a fetch that landed nothing).
    pub table: String,
    /// Period, `2018Q4` or `2018-11`.
    pub period: String,
    /// Municipality, for a source delivered per municipality.
    pub municipality: Option<i32>,
    /// URL or path.
    pub location: String,
    /// sha256 of the bytes fetched.
    pub sha256: Option<String>,
    /// Bytes fetched.
    pub bytes: Option<i64>,
    /// Rows landed.
    pub rows: Option<i64>,
    /// `ETag` seen.
    pub etag: Option<String>,
    /// `Last-Modified` seen.
    pub last_modified: Option<String>,
    /// `landed`, `not_modified` or `unchanged`.
    pub status: String,
    /// When.
    pub fetched_at: DateTime<Utc>,
}

/// Columns of `ledger_fetches`.
pub const LEDGER_FETCHES: &[ColumnSpec] = &[
    ("run_id", Kind::Text, false),
    ("source", Kind::Text, false),
    ("table_name", Kind::Text, false),
    ("period", Kind::Text, false),
    ("municipality", Kind::Int32, true),
    ("location", Kind::Text, false),
    ("sha256", Kind::Text, true),
    ("bytes", Kind::Int64, true),
    ("rows", Kind::Int64, true),
    ("etag", Kind::Text, true),
    ("last_modified", Kind::Text, true),
    ("status", Kind::Text, false),
    ("fetched_at", Kind::Timestamp, false),
];

/// Appends records to the ledger as one new Parquet file (append-only, never rewritten).
pub fn append_ledger(lake: &Path, run_id: &str, records: &[FetchRecord]) -> Result<(), LandError> {
    if records.is_empty() {
        return Ok(());
    }
    let schema = schema(LEDGER_FETCHES);
    let mut b = BatchBuilder::new(schema.clone());
    for r in records {
        b.text(Some(&r.run_id))
            .text(Some(&r.source))
            .text(Some(&r.table))
            .text(Some(&r.period))
            .i32(r.municipality);
        b.text(Some(&r.location))
            .text(r.sha256.as_deref())
            .i64(r.bytes)
            .i64(r.rows);
        b.text(r.etag.as_deref())
            .text(r.last_modified.as_deref())
            .text(Some(&r.status))
            .timestamp(Some(r.fetched_at));
        b.end_row();
    }
    let stamp = records[0].fetched_at.format("%Y%m%dT%H%M%S%3f").to_string();
    append_ledger_rows(lake, "fetches", run_id, &stamp, &schema, &mut b)
}

/// Appends the rows of `b` to ledger table `table` (`<lake>/ledger/<table>/`, queried as
/// `ledger_<table>`) as one new Parquet file, written aside, fsynced and renamed: a
/// reader sees all of the rows or none. Files are named in time order.
pub fn append_ledger_rows(
    lake: &Path,
    table: &str,
    run_id: &str,
    stamp: &str,
    schema: &SchemaRef,
    b: &mut BatchBuilder,
) -> Result<(), LandError> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = lake.join("ledger").join(table);
    fs::create_dir_all(&dir).map_err(io_err(&dir, "create ledger folder"))?;
    // Several appends in one run (a range, the demo) each get their own file, in order.
    let mut seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut final_path = dir.join(format!("part-{stamp}-{run_id}-{seq:06}.parquet"));
    while final_path.exists() {
        seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        final_path = dir.join(format!("part-{stamp}-{run_id}-{seq:06}.parquet"));
    }
    let tmp = dir.join(format!(".tmp-{run_id}-{seq}"));
    let perr = |e: &dyn std::fmt::Display| LandError::Parquet {
        path: tmp.display().to_string(),
        message: e.to_string(),
    };
    let batch = b.finish().map_err(|e| perr(&e))?;
    let file = File::create(&tmp).map_err(io_err(&tmp, "create"))?;
    let mut w =
        ArrowWriter::try_new(file, schema.clone(), Some(properties())).map_err(|e| perr(&e))?;
    w.write(&batch).map_err(|e| perr(&e))?;
    let file = w.into_inner().map_err(|e| perr(&e))?;
    file.sync_all().map_err(io_err(&tmp, "fsync"))?;
    fs::rename(&tmp, &final_path).map_err(io_err(&tmp, "rename ledger file"))
}
