//! Jobindsats v2 JSON → `jobindsats_<table>`: long rows (area × period × sex ×
//! category × measure) with the value, or null plus the suppression token in
//! `raw_value`.
//!
//! Every cell is located by line and column in the JSON text (via `RawValue` slices),
//! so a bad area name or value is reported where it stands.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Locus, ParseError};
use crate::config::{JobindsatsConfig, JobindsatsTableConfig};
use crate::land::{ColumnSpec, Kind, PartitionWriter};
use crate::municipality::{Area, resolve_area};
use crate::period::Period;
use crate::redact;

/// Columns of every `jobindsats_<table>` table.
pub const COLUMNS: &[ColumnSpec] = &[
    ("table_id", Kind::Text, false),
    ("area", Kind::Text, false),
    ("municipality_code", Kind::Int32, true),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("category", Kind::Text, false),
    ("measure", Kind::Text, false),
    ("value", Kind::Float64, true),
    ("raw_value", Kind::Text, true),
    ("other_dimensions", Kind::Text, true),
];

/// Tokens that mean a missing or suppressed value.
pub const SUPPRESSED: &[&str] = &["", "..", "-", "."];

/// A table's metadata: what periods, areas and dimensions it has.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// Valid period codes (`2018M12`, `2018Q4`).
    #[serde(rename = "Period", default)]
    pub periods: Vec<String>,
    /// Area names.
    #[serde(rename = "Area", default)]
    pub areas: Vec<String>,
    /// Measurement names.
    #[serde(rename = "Measurements", default)]
    pub measurements: Vec<serde_json::Value>,
    /// Dimensions.
    #[serde(rename = "Dimensions", default)]
    pub dimensions: Vec<Dimension>,
}

/// One dimension of a table.
#[derive(Debug, Clone, Deserialize)]
pub struct Dimension {
    /// Technical id, `_kon`.
    #[serde(rename = "DimensionID")]
    pub id: String,
    /// Danish name.
    #[serde(rename = "DimensionName", default)]
    pub name: String,
    /// Value labels.
    #[serde(rename = "Values", default)]
    pub values: Vec<String>,
}

/// If the text is the API's bad-key answer (a JSON object with a message), its message.
#[must_use]
pub fn auth_failure(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    let obj = v.as_object()?;
    let msg = obj
        .values()
        .filter_map(serde_json::Value::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    Some(if msg.is_empty() { v.to_string() } else { msg })
}

fn json_error(locus: &Locus, e: &serde_json::Error) -> ParseError {
    locus.reject(
        Some(e.line() as u64),
        Some(e.column() as u64),
        None,
        format!("invalid JSON: {}", redact::value(&e.to_string())),
    )
}

/// Parses a metadata answer.
pub fn parse_metadata(text: &str, locus: &Locus, key_env: &str) -> Result<Metadata, ParseError> {
    if let Some(message) = auth_failure(text) {
        return Err(ParseError::Auth {
            path: locus.path.clone(),
            key_env: key_env.to_string(),
            message,
        });
    }
    let mut list: Vec<Metadata> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| json_error(locus, &e))?;
    if list.len() != 1 {
        return Err(locus.file(format!(
            "metadata: expected a one-element array, found {} elements",
            list.len()
        )));
    }
    Ok(list.remove(0))
}

#[derive(Deserialize)]
struct RawData<'a> {
    #[serde(rename = "Variables")]
    variables: Vec<Variable>,
    #[serde(rename = "Data", borrow)]
    data: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Variable {
    #[serde(rename = "Name")]
    name: String,
}

/// Line and column of a slice of `text`.
fn locate(text: &str, part: &str) -> (u64, u64) {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let (l, c) = crate::config::line_col(text, offset);
    (l as u64, c as u64)
}

enum Cell {
    Number(f64),
    Missing(String),
    Decimal(f64, String),
}

fn cell_value(raw: &RawValue) -> Option<Cell> {
    let t = raw.get().trim();
    if t == "null" {
        return Some(Cell::Missing("null".into()));
    }
    if let Ok(n) = t.parse::<f64>() {
        return Some(Cell::Number(n));
    }
    let s: String = serde_json::from_str(t).ok()?;
    let st = s.trim();
    if SUPPRESSED.contains(&st) {
        return Some(Cell::Missing(st.to_string()));
    }
    let normal = st.replace('.', "").replace(',', ".");
    let ok = !st.is_empty()
        && st
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.' || b == b'-');
    if ok && let Ok(v) = normal.parse::<f64>() {
        return Some(Cell::Decimal(v, s));
    }
    None
}

fn cell_text(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(raw.get())
        .ok()
        .and_then(|v| match v {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// Parses one data answer (one table, one or more periods) into `writer`. Every period
/// in the data must be one of `periods`. Returns the rows written.
pub fn parse_data(
    text: &str,
    locus: &Locus,
    table: &JobindsatsTableConfig,
    cfg: &JobindsatsConfig,
    periods: &[Period],
    writer: &mut PartitionWriter,
) -> Result<u64, ParseError> {
    let key_env = cfg.api_key_env.clone().unwrap_or_default();
    if let Some(message) = auth_failure(text) {
        return Err(ParseError::Auth {
            path: locus.path.clone(),
            key_env,
            message,
        });
    }
    let body = text.trim_start_matches('\u{feff}');
    let list: Vec<RawData<'_>> = serde_json::from_str(body).map_err(|e| json_error(locus, &e))?;
    if list.len() != 1 {
        return Err(locus.file(format!(
            "data: expected a one-element array, found {} elements",
            list.len()
        )));
    }
    let data = &list[0];
    let names: Vec<&str> = data.variables.iter().map(|v| v.name.as_str()).collect();
    let need = |n: &str| -> Result<usize, ParseError> {
        names
            .iter()
            .position(|x| x.eq_ignore_ascii_case(n))
            .ok_or_else(|| {
                locus.reject(
                    None,
                    None,
                    Some("Variables"),
                    format!("no variable `{n}`; the table has {}", names.join(", ")),
                )
            })
    };
    let area_i = need("area")?;
    let period_i = need("period")?;
    let sex_i = need(&cfg.sex_dimension)?;
    let cat_i = need(&table.category_dimension)?;
    let other_dims: Vec<usize> = (0..names.len())
        .filter(|i| names[*i].starts_with('_') && ![sex_i, cat_i].contains(i))
        .collect();
    let measures: Vec<usize> = (0..names.len())
        .filter(|i| ![area_i, period_i].contains(i) && !names[*i].starts_with('_'))
        .collect();
    if measures.is_empty() {
        return Err(locus.reject(None, None, Some("Variables"), "no measurement column"));
    }
    let codes: Vec<String> = periods.iter().map(|p| p.jobindsats_code()).collect();
    let mut rows = 0u64;
    for row_raw in &data.data {
        let (line, col) = locate(body, row_raw.get());
        let cells: Vec<&RawValue> = serde_json::from_str(row_raw.get()).map_err(|e| {
            locus.reject(
                Some(line),
                Some(col),
                Some("Data"),
                format!("a row must be an array: {}", redact::value(&e.to_string())),
            )
        })?;
        if cells.len() != names.len() {
            return Err(locus.reject(
                Some(line),
                Some(col),
                Some("Data"),
                format!(
                    "row has {} values, the table has {} variables",
                    cells.len(),
                    names.len()
                ),
            ));
        }
        let text_at = |i: usize| -> Result<String, ParseError> {
            let (l, c) = locate(body, cells[i].get());
            cell_text(cells[i]).ok_or_else(|| {
                locus.field(
                    l,
                    c,
                    names[i],
                    format!(
                        "invalid value {}: expected a text",
                        redact::value(cells[i].get())
                    ),
                )
            })
        };
        let area = text_at(area_i)?;
        let code = match resolve_area(&area) {
            Some(Area::Municipality(c)) => Some(c),
            Some(Area::Aggregate) => None,
            None => {
                let (l, c) = locate(body, cells[area_i].get());
                return Err(locus.field(
                    l,
                    c,
                    names[area_i],
                    format!(
                        "unknown area \"{}\": not a municipality name or aggregate",
                        redact::value(&area)
                    ),
                ));
            }
        };
        let period = text_at(period_i)?;
        if !codes.contains(&period) {
            let (l, c) = locate(body, cells[period_i].get());
            return Err(locus.field(
                l,
                c,
                names[period_i],
                format!(
                    "period \"{}\" was not asked for (expected {})",
                    redact::value(&period),
                    codes.join(", ")
                ),
            ));
        }
        let sex_label = text_at(sex_i)?;
        let Some(sex) = cfg.sex_labels.get(&sex_label) else {
            let (l, c) = locate(body, cells[sex_i].get());
            let valid: Vec<String> = cfg.sex_labels.keys().map(|k| format!("\"{k}\"")).collect();
            return Err(locus.field(
                l,
                c,
                names[sex_i],
                format!(
                    "unknown sex label \"{}\"; configured: {}",
                    redact::value(&sex_label),
                    valid.join(", ")
                ),
            ));
        };
        let category = text_at(cat_i)?;
        let others: BTreeMap<String, String> = other_dims
            .iter()
            .map(|i| Ok((names[*i].to_string(), text_at(*i)?)))
            .collect::<Result<_, ParseError>>()?;
        let others =
            (!others.is_empty()).then(|| serde_json::to_string(&others).unwrap_or_default());
        for &m in &measures {
            let (l, c) = locate(body, cells[m].get());
            let (value, raw_value) = match cell_value(cells[m]) {
                Some(Cell::Number(v)) => (Some(v), None),
                Some(Cell::Decimal(v, s)) => (Some(v), Some(s)),
                Some(Cell::Missing(t)) => (None, Some(t)),
                None => {
                    return Err(locus.field(
                        l,
                        c,
                        names[m],
                        format!("invalid value {}: expected a number, a decimal like \"9,08\", or one of null, \"\", \"..\", \"-\", \".\"", redact::value(cells[m].get())),
                    ));
                }
            };
            let measure = names[m];
            writer
                .row()
                .text(Some(&table.table_id))
                .text(Some(&area))
                .i32(code)
                .text(Some(&period))
                .text(Some(sex));
            writer
                .row()
                .text(Some(&category))
                .text(Some(measure))
                .f64(value)
                .text(raw_value.as_deref())
                .text(others.as_deref());
            writer.end_row()?;
            rows += 1;
        }
    }
    Ok(rows)
}
