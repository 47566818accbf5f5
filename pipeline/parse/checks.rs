//! A CSV source's rules across rows (`[[sources.<name>.files.checks]]`): SQL over the
//! parsed file before it is committed. A check returns the `source_line` of every row
//! that breaks its rule; any row rejects the file, naming the lines, the column and the
//! rule (never a value: the query returns line numbers only).
//!
//! The file is the table of its name (`forloeb`), as it would land, with
//! `source_line`; `previous_<name>` is the file as landed for the period before (no rows
//! when none was). `$period_start` and `$period_end` are the period's first and last
//! calendar day. A check marked `warn` never rejects: the file lands, and the count of
//! rows its query returns comes back as a warning.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use arrow::array::{Array, Int64Array, RecordBatch};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion::scalar::ScalarValue;

use super::csv_input::CsvInput;
use super::{Locus, ParseError};
use crate::config::Encoding;
use crate::config::contract::{Check, FileContract};
use crate::period::Period;

/// The most lines a rejection lists.
const LINES_SHOWN: usize = 10;

/// The parsed file, staged, and where it came from.
pub struct Staged<'a> {
    /// Its contract.
    pub file: &'a FileContract,
    /// The staged Parquet file.
    pub parquet: &'a Path,
    /// The CSV as fetched (to find the column of a line).
    pub local: &'a Path,
    /// How the CSV is encoded.
    pub encoding: Encoding,
    /// Rejections name it.
    pub locus: Locus,
    /// The folder of the file as landed for the period before, if there is one.
    pub previous: Option<std::path::PathBuf>,
}

fn failed(source: &str, check: &Check, e: impl std::fmt::Display) -> ParseError {
    ParseError::Check {
        extract: source.to_string(),
        check: check.name.clone(),
        message: e.to_string(),
    }
}

/// Runs every check of the staged files; the first that finds rows rejects. Returns
/// the warnings of the `warn` checks that found rows.
pub async fn run(staged: &[Staged<'_>], period: Period) -> Result<Vec<String>, ParseError> {
    if staged.iter().all(|s| s.file.checks.is_empty()) {
        return Ok(Vec::new());
    }
    let ctx = SessionContext::new();
    for s in staged {
        ctx.register_parquet(
            s.file.name.as_str(),
            s.parquet.to_string_lossy().as_ref(),
            ParquetReadOptions::default(),
        )
        .await
        .map_err(|e| ParseError::Check {
            extract: s.locus.extract.clone(),
            check: "(reading the staged file)".into(),
            message: e.to_string(),
        })?;
    }
    // The period before, as landed: its rows, or none.
    for s in staged {
        let name = format!("previous_{}", s.file.name);
        let err = |e: datafusion::error::DataFusionError| ParseError::Check {
            extract: s.locus.extract.clone(),
            check: format!("(reading `{name}`)"),
            message: e.to_string(),
        };
        if let Some(dir) = &s.previous {
            ctx.register_parquet(
                name.as_str(),
                dir.to_string_lossy().as_ref(),
                ParquetReadOptions::default(),
            )
            .await
            .map_err(err)?;
        } else {
            let none = ctx
                .sql(&format!("select * from {} where false", s.file.name))
                .await
                .map_err(err)?;
            ctx.register_table(name.as_str(), none.into_view())
                .map_err(err)?;
        }
    }
    let mut warnings = Vec::new();
    let params = vec![
        (
            "period_start".to_string(),
            ScalarValue::Date32(Some(days(period.first_day()))),
        ),
        (
            "period_end".to_string(),
            ScalarValue::Date32(Some(days(period.last_day()))),
        ),
    ];
    for s in staged {
        for check in &s.file.checks {
            let source = s.locus.extract.as_str();
            let df = ctx
                .sql(&check.sql)
                .await
                .and_then(|df| df.with_param_values(params.clone()))
                .map_err(|e| failed(source, check, e))?;
            let batches = df.collect().await.map_err(|e| failed(source, check, e))?;
            if check.warn {
                let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
                if n > 0 {
                    warnings.push(format!(
                        "{source} {period}: {} (check `{}`)",
                        check.message.replace("{n}", &n.to_string()),
                        check.name,
                    ));
                }
                continue;
            }
            let mut lines: Vec<u64> = Vec::new();
            for b in &batches {
                let col = b
                    .column_by_name("source_line")
                    .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
                    .ok_or_else(|| {
                        failed(
                            source,
                            check,
                            "the query returns no int64 `source_line` column",
                        )
                    })?;
                lines.extend(col.iter().flatten().filter_map(|l| u64::try_from(l).ok()));
            }
            if lines.is_empty() {
                continue;
            }
            lines.sort_unstable();
            lines.dedup();
            return Err(reject(s, check, &lines));
        }
    }
    Ok(warnings)
}

fn days(d: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((d - epoch).num_days()).unwrap_or(i32::MAX)
}

/// The rejection: the first line and the check's column on it, every line (up to ten).
fn reject(s: &Staged<'_>, check: &Check, lines: &[u64]) -> ParseError {
    let first = lines[0];
    let mut shown: Vec<String> = lines
        .iter()
        .take(LINES_SHOWN)
        .map(ToString::to_string)
        .collect();
    if lines.len() > LINES_SHOWN {
        shown.push(format!("and {} more", lines.len() - LINES_SHOWN));
    }
    let which = if lines.len() == 1 {
        format!("line {}", shown[0])
    } else {
        format!("lines {}", shown.join(", "))
    };
    let message = format!("{} (check `{}`: {which})", check.message, check.name);
    let column = column_on(s, &check.column, first);
    s.locus
        .reject(Some(first), column, Some(&check.column), message)
}

/// The 1-based character column of `name` on line `line` of the CSV.
fn column_on(s: &Staged<'_>, name: &str, line: u64) -> Option<u64> {
    let f = File::open(s.local).ok()?;
    let mut csv = CsvInput::open(BufReader::new(f), s.encoding, s.locus.clone()).ok()?;
    let contract = s.file.columns.iter().find(|c| c.name == name)?;
    let mut names = vec![contract.name.as_str()];
    names.extend(contract.aliases.iter().map(String::as_str));
    let i = csv.require(&names).ok()?;
    while csv.next_record().ok()? {
        if csv.line == line {
            return Some(csv.column_of(i));
        }
    }
    None
}
