//! The marts the reports read, as plain rows. Each mart is one Parquet file
//! (`marts/<table>/part-0.parquet`); a missing mart reads as no rows, so a report whose
//! period lacks a source still renders and says so.

use std::fs::File;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Reads every row of mart `table` into `T` (columns by name; nulls as `None`).
pub fn read<T: DeserializeOwned>(lake: &Path, table: &str) -> Result<Vec<T>, String> {
    read_file(&lake.join("marts").join(table).join("part-0.parquet"))
}

/// Reads the rows of programme `program` of a mart (a mart without a `program`
/// column: all its rows): the programmes of one lake share the marts.
pub fn read_for<T: DeserializeOwned>(
    lake: &Path,
    table: &str,
    program: &str,
) -> Result<Vec<T>, String> {
    read_rows(
        &lake.join("marts").join(table).join("part-0.parquet"),
        Some(program),
    )
}

/// Reads every row of one Parquet file into `T`; a missing file reads as no rows.
pub fn read_file<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, String> {
    read_rows(path, None)
}

fn only_programme(
    batch: arrow::record_batch::RecordBatch,
    program: Option<&str>,
) -> Result<arrow::record_batch::RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{Array, BooleanArray, StringArray};
    let (Some(id), Some(col)) = (program, batch.column_by_name("program")) else {
        return Ok(batch);
    };
    let Some(strings) = col.as_any().downcast_ref::<StringArray>() else {
        return Ok(batch);
    };
    let mask: BooleanArray = (0..strings.len())
        .map(|i| Some(strings.is_valid(i) && strings.value(i) == id))
        .collect();
    arrow::compute::filter_record_batch(&batch, &mask)
}

fn read_rows<T: DeserializeOwned>(path: &Path, program: Option<&str>) -> Result<Vec<T>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(ParquetRecordBatchReaderBuilder::build)
        .map_err(|e| err(&e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = only_programme(batch.map_err(|e| err(&e))?, program).map_err(|e| err(&e))?;
        let mut buf = Vec::new();
        {
            let mut w = arrow::json::ArrayWriter::new(&mut buf);
            w.write(&batch).map_err(|e| err(&e))?;
            w.finish().map_err(|e| err(&e))?;
        }
        if buf.is_empty() {
            continue;
        }
        let rows: Vec<T> = serde_json::from_slice(&buf).map_err(|e| err(&e))?;
        out.extend(rows);
    }
    Ok(out)
}

/// A row of `target_metrics`.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricRow {
    /// DST code.
    pub municipality_code: i32,
    /// Name.
    pub municipality: String,
    /// Metric.
    pub metric: String,
    /// Period.
    pub period: String,
    /// `alle`, `M`, `K`.
    pub sex: String,
    /// Numerator.
    #[serde(default)]
    pub numerator: Option<i64>,
    /// Denominator.
    #[serde(default)]
    pub denominator: Option<i64>,
    /// Share.
    #[serde(default)]
    pub share: Option<f64>,
}

/// A row of `project_average`.
#[derive(Debug, Clone, Deserialize)]
pub struct AverageRow {
    /// Metric.
    pub metric: String,
    /// Period.
    pub period: String,
    /// Sex.
    pub sex: String,
    /// The average.
    #[serde(default)]
    pub share: Option<f64>,
    /// Municipalities counted.
    pub municipalities: i32,
}

/// A row of `metric_comparison`.
#[derive(Debug, Clone, Deserialize)]
pub struct ComparisonRow {
    /// DST code.
    pub municipality_code: i32,
    /// Name.
    pub municipality: String,
    /// Metric.
    pub metric: String,
    /// Period.
    pub period: String,
    /// Sex.
    pub sex: String,
    /// Share now.
    #[serde(default)]
    pub share: Option<f64>,
    /// Baseline period.
    pub baseline_period: String,
    /// Share at the baseline.
    #[serde(default)]
    pub baseline_share: Option<f64>,
    /// Project average now.
    #[serde(default)]
    pub project_average: Option<f64>,
    /// Project average at the baseline.
    #[serde(default)]
    pub project_average_baseline: Option<f64>,
    /// Rank (1 = highest).
    #[serde(default)]
    pub rank: Option<i32>,
    /// How many were ranked.
    pub ranked_municipalities: i32,
}

/// A row of a staff book's employees mart.
#[derive(Debug, Clone, Deserialize)]
pub struct EmployeeRow {
    /// Municipality.
    pub kommune: i32,
    /// Month `2018-11`.
    pub month: String,
    /// Employee id.
    pub medarbejder_id: String,
    /// Name.
    pub navn: String,
    /// Department.
    pub afdeling: String,
    /// Role.
    pub rolle: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A row of `maanedsbog_afdeling`.
#[derive(Debug, Clone, Deserialize)]
pub struct DepartmentRow {
    /// Municipality.
    pub kommune: i32,
    /// Month.
    pub month: String,
    /// Department.
    pub afdeling: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// The månedsbog figures of an employee or a department.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Figures {
    /// Active cases at the month's end.
    pub aktive_sager: i64,
    /// Distinct persons with a placement in the month.
    pub aktiverede: i64,
    /// Conversations.
    pub samtaler: i64,
    /// Company visits in six months.
    pub virksomhedsbesoeg_6_mdr: i64,
    /// Distinct persons with a placement ending.
    pub afsluttede_placeringer: i64,
    /// Mean waiting days.
    #[serde(default)]
    pub gns_ventetid_dage: Option<f64>,
}

/// A row of `maanedsbog_visibility`.
#[derive(Debug, Clone, Deserialize)]
pub struct VisibilityRow {
    /// Municipality.
    pub kommune: i32,
    /// Month.
    pub month: String,
    /// Recipient.
    pub recipient_email: String,
    /// Their id.
    pub recipient_id: String,
    /// Their name.
    pub recipient_navn: String,
    /// Their role.
    pub recipient_rolle: String,
    /// A department whose employees they see.
    pub afdeling: String,
}
