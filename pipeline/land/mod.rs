//! Landing: typed Arrow batches → zstd Parquet in the lake, one period at a time,
//! replaced atomically; rejected extracts to quarantine; the fetch ledger.
//!
//! ```text
//! parser ──rows──► PartitionWriter ──batches──► encoder thread (encode.rs) ──► <lake>/_staging/<run>/raw/<source>/<table>/<partition>/part-0.parquet
//!                                                                         │ all written + fsynced
//!                                                                         ▼ commit: swapped into <lake>/raw/... (commit.rs)
//! ```
//! A crash before the journal leaves only `_staging` (swept at the next start); a crash
//! after it is rolled forward by [`recover`]. Readers never see a half-written file.
//! This module must not know what the extracts mean: parsers hand it typed rows.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

mod commit;
mod encode;
mod ledger;
pub use commit::{Staging, recover, write_synced};
pub use ledger::{FetchRecord, LEDGER_FETCHES, append_ledger, append_ledger_rows};

/// Rows per Arrow batch: the unit that bounds a landing's memory.
pub const BATCH_ROWS: usize = 16_384;
/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 262_144;

/// Errors of the landing stage.
#[derive(Debug, thiserror::Error)]
pub enum LandError {
    /// A file system operation failed.
    #[error("{path}: {op}: {error}")]
    Io {
        /// Path involved.
        path: String,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        error: io::Error,
    },
    /// Parquet or Arrow refused a batch (an internal schema mismatch).
    #[error("{path}: writing parquet: {message}")]
    Parquet {
        /// File being written.
        path: String,
        /// Message.
        message: String,
    },
}

pub(crate) fn io_err<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl FnOnce(io::Error) -> LandError + 'a {
    move |error| LandError::Io {
        path: path.display().to_string(),
        op,
        error,
    }
}

/// Column kinds the lake uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Utf8.
    Text,
    /// Int32.
    Int32,
    /// Int64.
    Int64,
    /// Float64.
    Float64,
    /// Boolean.
    Bool,
    /// Date32.
    Date,
    /// Timestamp(ms, UTC).
    Timestamp,
}

/// A column: name, kind, nullable.
pub type ColumnSpec = (&'static str, Kind, bool);

/// The Arrow field of a column.
#[must_use]
pub fn field(name: &str, kind: Kind, nullable: bool) -> Field {
    let dt = match kind {
        Kind::Text => DataType::Utf8,
        Kind::Int32 => DataType::Int32,
        Kind::Int64 => DataType::Int64,
        Kind::Float64 => DataType::Float64,
        Kind::Bool => DataType::Boolean,
        Kind::Date => DataType::Date32,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
    };
    Field::new(name, dt, nullable)
}

/// The Arrow schema of a list of columns.
#[must_use]
pub fn schema(columns: &[ColumnSpec]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, kind, nullable)| field(name, *kind, *nullable))
        .collect();
    Arc::new(Schema::new(fields))
}

enum Col {
    Text(StringBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMillisecondBuilder),
}

fn days(d: NaiveDate) -> i32 {
    /// Days from 0001-01-01 (day 1) to 1970-01-01.
    const EPOCH_FROM_CE: i32 = 719_163;
    chrono::Datelike::num_days_from_ce(&d) - EPOCH_FROM_CE
}

/// Typed column builders for one batch. Push one value per column, in order, then
/// [`BatchBuilder::end_row`]. A value of the wrong kind is an internal bug.
pub struct BatchBuilder {
    schema: SchemaRef,
    cols: Vec<Col>,
    next: usize,
    rows: usize,
}

impl BatchBuilder {
    /// Empty builders for a schema.
    #[must_use]
    pub fn new(schema: SchemaRef) -> Self {
        let cols = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Int32 => Col::Int32(Int32Builder::new()),
                DataType::Int64 => Col::Int64(Int64Builder::new()),
                DataType::Float64 => Col::Float64(Float64Builder::new()),
                DataType::Boolean => Col::Bool(BooleanBuilder::new()),
                DataType::Date32 => Col::Date(Date32Builder::new()),
                DataType::Timestamp(..) => {
                    Col::Timestamp(TimestampMillisecondBuilder::new().with_timezone("UTC"))
                }
                _ => Col::Text(StringBuilder::new()),
            })
            .collect();
        Self {
            schema,
            cols,
            next: 0,
            rows: 0,
        }
    }

    fn col(&mut self) -> &mut Col {
        let i = self.next;
        self.next += 1;
        &mut self.cols[i]
    }

    /// Pushes text (or null).
    ///
    /// # Panics
    /// When the column is not text: a bug in the caller's column order.
    pub fn text(&mut self, v: Option<&str>) -> &mut Self {
        match self.col() {
            Col::Text(b) => b.append_option(v),
            _ => panic!("column kind mismatch: text"),
        }
        self
    }
    /// Pushes an i32 (or null).
    ///
    /// # Panics
    /// When the column is not Int32.
    pub fn i32(&mut self, v: Option<i32>) -> &mut Self {
        match self.col() {
            Col::Int32(b) => b.append_option(v),
            _ => panic!("column kind mismatch: int32"),
        }
        self
    }
    /// Pushes an i64 (or null).
    ///
    /// # Panics
    /// When the column is not Int64.
    pub fn i64(&mut self, v: Option<i64>) -> &mut Self {
        match self.col() {
            Col::Int64(b) => b.append_option(v),
            _ => panic!("column kind mismatch: int64"),
        }
        self
    }
    /// Pushes an f64 (or null).
    ///
    /// # Panics
    /// When the column is not Float64.
    pub fn f64(&mut self, v: Option<f64>) -> &mut Self {
        match self.col() {
            Col::Float64(b) => b.append_option(v),
            _ => panic!("column kind mismatch: float64"),
        }
        self
    }
    /// Pushes a bool (or null).
    ///
    /// # Panics
    /// When the column is not Boolean.
    pub fn bool(&mut self, v: Option<bool>) -> &mut Self {
        match self.col() {
            Col::Bool(b) => b.append_option(v),
            _ => panic!("column kind mismatch: bool"),
        }
        self
    }
    /// Pushes a date (or null).
    ///
    /// # Panics
    /// When the column is not Date32.
    pub fn date(&mut self, v: Option<NaiveDate>) -> &mut Self {
        match self.col() {
            Col::Date(b) => b.append_option(v.map(days)),
            _ => panic!("column kind mismatch: date"),
        }
        self
    }
    /// Pushes a timestamp (or null).
    ///
    /// # Panics
    /// When the column is not a timestamp.
    pub fn timestamp(&mut self, v: Option<DateTime<Utc>>) -> &mut Self {
        match self.col() {
            Col::Timestamp(b) => b.append_option(v.map(|t| t.timestamp_millis())),
            _ => panic!("column kind mismatch: timestamp"),
        }
        self
    }

    /// Ends a row.
    ///
    /// # Panics
    /// When the row did not fill every column.
    pub fn end_row(&mut self) {
        assert_eq!(
            self.next,
            self.cols.len(),
            "row filled {} of {} columns",
            self.next,
            self.cols.len()
        );
        self.next = 0;
        self.rows += 1;
    }

    /// Rows buffered.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Takes the buffered rows as a batch. The next batch's buffers are sized like this
    /// one's: grown from empty, each batch's were copied over a dozen times.
    pub fn finish(&mut self) -> Result<RecordBatch, arrow::error::ArrowError> {
        use std::mem::replace;
        let n = self.rows;
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Text(b) => {
                        let bytes = b.values_slice().len();
                        Arc::new(replace(b, StringBuilder::with_capacity(n, bytes)).finish())
                    }
                    Col::Int32(b) => Arc::new(replace(b, Int32Builder::with_capacity(n)).finish()),
                    Col::Int64(b) => Arc::new(replace(b, Int64Builder::with_capacity(n)).finish()),
                    Col::Float64(b) => {
                        Arc::new(replace(b, Float64Builder::with_capacity(n)).finish())
                    }
                    Col::Bool(b) => Arc::new(replace(b, BooleanBuilder::with_capacity(n)).finish()),
                    Col::Date(b) => Arc::new(replace(b, Date32Builder::with_capacity(n)).finish()),
                    Col::Timestamp(b) => {
                        let fresh =
                            TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
                        Arc::new(replace(b, fresh).finish())
                    }
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

/// One partition being written under the run's staging folder.
pub struct PartitionWriter {
    /// Lake-relative partition folder, e.g. `raw/<source>/persons/quarter=2018Q4`.
    pub relative: PathBuf,
    pub(super) file_path: PathBuf,
    writer: encode::Encoder,
    pub(super) builder: BatchBuilder,
    pub(super) rows: u64,
}

/// A partition written completely to staging, ready to commit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StagedPartition {
    /// Lake-relative partition folder.
    pub relative: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// Bytes of the Parquet file.
    pub bytes: u64,
}

/// Writer properties used for every lake file.
pub(super) fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by("maaltal".into())
        .build()
}

impl PartitionWriter {
    /// The current row's builder.
    pub fn row(&mut self) -> &mut BatchBuilder {
        &mut self.builder
    }

    /// Ends the current row, flushing a full batch to the file.
    pub fn end_row(&mut self) -> Result<(), LandError> {
        self.builder.end_row();
        self.rows += 1;
        if self.builder.rows() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), LandError> {
        if self.builder.rows() == 0 {
            return Ok(());
        }
        let batch = self.builder.finish().map_err(|e| LandError::Parquet {
            path: self.file_path.display().to_string(),
            message: e.to_string(),
        })?;
        self.writer.write(batch)
    }

    /// Appends a whole batch (the marts' query results), after the rows built so far.
    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), LandError> {
        self.flush()?;
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch.clone())
    }

    /// Writes what is left and the footer, and fsyncs the file.
    pub fn finish(mut self) -> Result<StagedPartition, LandError> {
        self.flush()?;
        let file = self.writer.finish()?;
        file.sync_all().map_err(io_err(&self.file_path, "fsync"))?;
        let bytes = file
            .metadata()
            .map_err(io_err(&self.file_path, "stat"))?
            .len();
        Ok(StagedPartition {
            relative: self.relative,
            rows: self.rows,
            bytes,
        })
    }
}

/// Creates a folder readable by its owner only.
pub fn private_dir(path: &Path) -> Result<(), LandError> {
    fs::create_dir_all(path).map_err(io_err(path, "create private folder"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .map_err(io_err(path, "chmod 700"))?;
    }
    Ok(())
}

/// Moves a rejected extract's files into quarantine with the error beside them.
/// Returns the quarantine folder.
pub fn quarantine(
    quarantine_root: &Path,
    incoming: &Path,
    name: &str,
    error: &str,
    meta: &serde_json::Value,
) -> Result<PathBuf, LandError> {
    private_dir(quarantine_root)?;
    let dest = quarantine_root.join(name);
    fs::rename(incoming, &dest).map_err(io_err(incoming, "move to quarantine"))?;
    private_dir(&dest)?;
    write_synced(&dest.join("ERROR.txt"), format!("{error}\n").as_bytes())?;
    let meta_text = serde_json::to_string_pretty(meta).unwrap_or_default();
    write_synced(&dest.join("extract.json"), meta_text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(entries) = fs::read_dir(&dest) {
            for e in entries.flatten() {
                let _ = fs::set_permissions(e.path(), fs::Permissions::from_mode(0o600));
            }
        }
    }
    Ok(dest)
}
