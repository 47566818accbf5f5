//! A wide-weeks register's quarterly extract (one row per person, one column `y_YYWW`
//! per ISO week holding a benefit code) → `<source>_persons` (one row per person) and
//! `<source>_weeks` (one row per person and ISO week of the quarter, with the code's
//! class).
//!
//! Week columns outside the quarter are ignored; every week of the quarter must be
//! there. A CPR on two rows, an unmapped code, a bad value: the file is rejected.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;

use super::csv_input::CsvInput;
use super::{Locus, ParseError, date, extras_json};
use crate::config::WideWeeksConfig;
use crate::land::{ColumnSpec, Kind, StagedPartition, Staging, schema};
use crate::period::{IsoWeek, Period};
use crate::pseudonym::{Pseudonymizer, is_cpr};

/// Columns of `<source>_persons`.
pub const PERSONS: &[ColumnSpec] = &[
    ("person_id", Kind::Text, false),
    ("koen", Kind::Text, false),
    ("foedselsdato", Kind::Date, false),
    ("herkomst", Kind::Int32, false),
    ("kommune", Kind::Int32, false),
    ("integrationsprogram", Kind::Bool, false),
    ("foerste_integrationsydelse", Kind::Date, true),
    ("source_line", Kind::Int64, false),
    ("extra_columns", Kind::Text, true),
];

/// Columns of `<source>_weeks`.
pub const WEEKS: &[ColumnSpec] = &[
    ("person_id", Kind::Text, false),
    ("week", Kind::Text, false),
    ("week_start", Kind::Date, false),
    ("code", Kind::Text, true),
    ("class", Kind::Text, true),
];

/// The two tables a source named `source` lands: persons, then weeks.
#[must_use]
pub fn tables(source: &str) -> [String; 2] {
    [format!("{source}_persons"), format!("{source}_weeks")]
}

const ATTRIBUTES: &[&str] = &[
    "koen",
    "foedselsdato",
    "herkomst",
    "kommune",
    "integrationsprogram",
    "foerste_integrationsydelse",
];

/// Parses one quarter's extract into staged partitions of both tables.
pub fn parse<R: Read>(
    input: R,
    locus: Locus,
    period: Period,
    cfg: &WideWeeksConfig,
    pseudo: &Pseudonymizer,
    staging: &Staging,
) -> Result<Vec<StagedPartition>, ParseError> {
    if !period.is_quarter() {
        return Err(locus.file(format!(
            "a `{}` extract covers a quarter, not `{period}`",
            cfg.name
        )));
    }
    let mut csv = CsvInput::open(input, cfg.encoding, locus)?;
    let cpr_i = csv.require(&["cpr", "pnr"])?;
    let attr: Vec<usize> = ATTRIBUTES
        .iter()
        .map(|a| csv.require(&[a]))
        .collect::<Result<_, _>>()?;
    let (koen_i, fdato_i, herk_i, kom_i, prog_i, first_i) =
        (attr[0], attr[1], attr[2], attr[3], attr[4], attr[5]);

    // Week columns: those of the quarter are landed, others ignored; all of the quarter's must exist.
    let quarter_weeks = period.iso_weeks();
    let mut week_cols: Vec<(IsoWeek, usize)> = Vec::new();
    let mut known: Vec<usize> = vec![cpr_i];
    known.extend(&attr);
    for (i, name) in csv.header.iter().enumerate() {
        if let Some(w) = IsoWeek::from_column(name) {
            known.push(i);
            if quarter_weeks.contains(&w) {
                week_cols.push((w, i));
            }
        } else if name.starts_with("y_") {
            return Err(csv.locus.field(
                1,
                csv.column_of(i),
                name,
                "not a week column `y_YYWW` with a valid ISO week",
            ));
        }
    }
    let missing: Vec<String> = quarter_weeks
        .iter()
        .filter(|w| !week_cols.iter().any(|(x, _)| x == *w))
        .map(|w| format!("`{}`", w.column()))
        .collect();
    if !missing.is_empty() {
        return Err(csv.locus.line(
            1,
            format!(
                "quarter {period} needs every week column; missing {}",
                missing.join(", ")
            ),
        ));
    }
    week_cols.sort_by_key(|(w, _)| *w);

    let part = PathBuf::from(period.partition());
    let mut persons = staging.partition(
        PathBuf::from("raw")
            .join(&cfg.name)
            .join("persons")
            .join(&part),
        schema(PERSONS),
    )?;
    let mut weeks = staging.partition(
        PathBuf::from("raw")
            .join(&cfg.name)
            .join("weeks")
            .join(&part),
        schema(WEEKS),
    )?;
    let week_meta: Vec<(String, chrono::NaiveDate)> = week_cols
        .iter()
        .map(|(w, _)| (w.label(), w.monday()))
        .collect();

    // The code mapping as a table by code number: 13 lookups a person, 13 million a
    // national quarter.
    let mut classes: Vec<Option<&str>> = vec![None; 1000];
    for (code, class) in &cfg.codes {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
            classes[code_number(code)] = Some(class.as_str());
        }
    }
    let other = csv.other_columns(&known);
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut unknown: BTreeMap<String, (u64, u64, u64, u64)> = BTreeMap::new();
    let mut rows = 0u64;
    while csv.next_record()? {
        let line = csv.line;
        let cpr = csv.get(cpr_i);
        if !is_cpr(cpr) {
            return Err(csv.bad_hidden(cpr_i, "a CPR number of 10 digits"));
        }
        let key: u64 = cpr.parse().unwrap_or_default();
        if let Some(first) = seen.insert(key, line) {
            return Err(csv.locus.field(
                line,
                csv.column_of(cpr_i),
                &csv.header[cpr_i],
                format!("the same CPR number (withheld) is on line {first} and line {line}; a person appears once"),
            ));
        }
        let koen = csv.get(koen_i);
        if koen != "M" && koen != "K" {
            return Err(csv.bad(koen_i, "`M` or `K`"));
        }
        let Some(born) = date(csv.get(fdato_i)) else {
            return Err(csv.bad(fdato_i, "a date YYYY-MM-DD"));
        };
        let herkomst = match csv.get(herk_i) {
            s @ ("1" | "2" | "3" | "4" | "5") => s.parse::<i32>().unwrap_or_default(),
            _ => return Err(csv.bad(herk_i, "an origin group 1..5")),
        };
        let Some(kommune) = crate::municipality::parse_code(csv.get(kom_i)) else {
            return Err(csv.bad(
                kom_i,
                "a DST municipality code (3 digits, or 4 zero-padded)",
            ));
        };
        let program = match csv.get(prog_i) {
            "1" => true,
            "0" => false,
            _ => return Err(csv.bad(prog_i, "`1` or `0`")),
        };
        let first = match csv.get(first_i) {
            "" => None,
            s => Some(date(s).ok_or_else(|| csv.bad(first_i, "a date YYYY-MM-DD or empty"))?),
        };
        let pid = pseudo.id(cpr);
        for ((_, col), (label, monday)) in week_cols.iter().zip(&week_meta) {
            let code = csv.get(*col);
            let class = if code.is_empty() {
                None
            } else if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(csv.bad(*col, "a 3-digit benefit code or empty"));
            } else if let Some(class) = classes[code_number(code)] {
                Some(class)
            } else {
                // (rows, first line, first column, last line counted)
                let e =
                    unknown
                        .entry(code.to_string())
                        .or_insert((0, line, csv.column_of(*col), 0));
                if e.3 != line {
                    e.0 += 1;
                    e.3 = line;
                }
                Some("other_benefit")
            };
            let code = (!code.is_empty()).then_some(code);
            weeks
                .row()
                .text(Some(&pid))
                .text(Some(label))
                .date(Some(*monday))
                .text(code)
                .text(class);
            weeks.end_row()?;
        }
        let extras = extras_json(&csv.extras(&other));
        persons
            .row()
            .text(Some(&pid))
            .text(Some(koen))
            .date(Some(born))
            .i32(Some(herkomst))
            .i32(Some(kommune));
        persons
            .row()
            .bool(Some(program))
            .date(first)
            .i64(Some(line as i64))
            .text(extras.as_deref());
        persons.end_row()?;
        rows += 1;
    }
    if rows == 0 {
        return Err(csv.locus.file("no data rows"));
    }
    if !unknown.is_empty() && !cfg.unknown_codes_as_other {
        let list: Vec<String> = unknown
            .iter()
            .map(|(code, (n, l, c, _))| {
                format!(
                    "`{code}` ({n} row{}, first at {l}:{c})",
                    if *n == 1 { "" } else { "s" }
                )
            })
            .collect();
        let (line, col) = unknown
            .values()
            .map(|(_, l, c, _)| (*l, *c))
            .min()
            .unwrap_or_default();
        return Err(csv.locus.reject(
            Some(line),
            Some(col),
            None,
            format!(
                "benefit codes missing from the code mapping: {}; add them to the mapping or set `unknown_codes = \"other_benefit\"`",
                list.join(", ")
            ),
        ));
    }
    Ok(vec![persons.finish()?, weeks.finish()?])
}

/// The number of a 3-digit code (checked by the caller): its index in the code table.
fn code_number(code: &str) -> usize {
    code.bytes()
        .fold(0, |n, b| n * 10 + usize::from(b.wrapping_sub(b'0')))
}
