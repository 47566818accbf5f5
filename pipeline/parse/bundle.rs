//! A bundle of CSV exports with a declared contract (`[[sources.<source>.files]]`,
//! [`crate::config::contract`]): each file → a `<source>_<file>` table, partitioned by
//! municipality and period. The rules are known here; the files and their columns are
//! the config's.
//!
//! Files are read in the contract's order, so a `ref` column is checked against the ids
//! of a file read before it. Ids are unique per file; a date is not before the column
//! its `not_before` names.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use chrono::NaiveDate;

use super::csv_input::CsvInput;
use super::{Locus, ParseError, date, extras_json};
use crate::config::Encoding;
use crate::config::contract::{FileContract, Rule};
use crate::land::{Kind, PartitionWriter, Staging};
use crate::period::Period;
use crate::pseudonym::{Pseudonymizer, is_cpr};

/// The lake schema of a file: `cpr` becomes `person_id`, then `extra_columns`.
#[must_use]
pub fn lake_schema(file: &FileContract) -> SchemaRef {
    let mut fields: Vec<_> = file
        .columns
        .iter()
        .map(|c| match c.rule {
            Rule::Cpr => crate::land::field("person_id", Kind::Text, false),
            Rule::Date => crate::land::field(&c.name, Kind::Date, c.optional),
            Rule::Integer { .. } | Rule::Municipality => {
                crate::land::field(&c.name, Kind::Int32, c.optional)
            }
            _ => crate::land::field(&c.name, Kind::Text, c.optional),
        })
        .collect();
    if file.source_line {
        fields.push(crate::land::field("source_line", Kind::Int64, false));
    }
    fields.push(crate::land::field("extra_columns", Kind::Text, true));
    Arc::new(Schema::new(fields))
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}

/// A DST code: 3 digits, or 4 with a leading zero, of one of the 98 municipalities.
fn municipality(v: &str) -> Option<i32> {
    let digits = match v.len() {
        3 => v,
        4 => v.strip_prefix('0')?,
        _ => return None,
    };
    let code: i32 = digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())??;
    crate::municipality::name(code).map(|_| code)
}

/// Parses one file into `writer`; returns rows. `ids` holds each earlier file's id
/// values (by `<file>.<column>`), which `ref` columns are checked against; this file's
/// are added.
#[expect(
    clippy::implicit_hasher,
    reason = "ids are few; the std hasher is fine"
)]
pub fn parse_file<R: Read>(
    input: R,
    locus: Locus,
    encoding: Encoding,
    file: &FileContract,
    ids: &mut HashMap<String, HashSet<String>>,
    pseudo: &Pseudonymizer,
    writer: &mut PartitionWriter,
) -> Result<u64, ParseError> {
    let mut csv = CsvInput::open(input, encoding, locus)?;
    let idx: Vec<usize> = file
        .columns
        .iter()
        .map(|c| {
            let mut names = vec![c.name.as_str()];
            names.extend(c.aliases.iter().map(String::as_str));
            csv.require(&names)
        })
        .collect::<Result<_, _>>()?;
    let mut own: Vec<HashSet<String>> = vec![HashSet::new(); idx.len()];
    let mut rows = 0u64;
    let pos = |name: &str| file.columns.iter().position(|c| c.name == name);
    let before: Vec<Option<usize>> = file
        .columns
        .iter()
        .map(|c| c.not_before.as_deref().and_then(pos))
        .collect();
    let empty = HashSet::new();
    let refs: Vec<&HashSet<String>> = file
        .columns
        .iter()
        .map(|c| match &c.rule {
            Rule::Ref { file, column } => ids.get(&format!("{file}.{column}")).unwrap_or(&empty),
            _ => &empty,
        })
        .collect();
    let other = csv.other_columns(&idx);
    while csv.next_record()? {
        let mut dates: Vec<Option<NaiveDate>> = vec![None; idx.len()];
        let mut ints: Vec<Option<i32>> = vec![None; idx.len()];
        for (k, c) in file.columns.iter().enumerate() {
            let i = idx[k];
            let v = csv.get(i);
            if v.is_empty() && c.optional {
                continue;
            }
            match &c.rule {
                Rule::Id => {
                    if v.is_empty() {
                        return Err(csv.bad(i, "a non-empty id"));
                    }
                    if !own[k].insert(v.to_string()) {
                        return Err(csv.bad(i, "an id unique in the file (it appears earlier)"));
                    }
                }
                Rule::Cpr if !is_cpr(v) => {
                    return Err(csv.bad_hidden(i, "a CPR number of 10 digits"));
                }
                Rule::Ref { file, column } if !refs[k].contains(v) => {
                    return Err(csv.bad(i, &format!("a `{column}` that exists in {file}.csv")));
                }
                Rule::Text if v.is_empty() => return Err(csv.bad(i, "a non-empty value")),
                Rule::Email if !valid_email(v) => {
                    let expected = if c.optional {
                        "an email address or empty"
                    } else {
                        "an email address"
                    };
                    return Err(csv.bad(i, expected));
                }
                Rule::Date => {
                    let expected = if c.optional {
                        "a date YYYY-MM-DD or empty"
                    } else {
                        "a date YYYY-MM-DD"
                    };
                    dates[k] = Some(date(v).ok_or_else(|| csv.bad(i, expected))?);
                }
                Rule::Cvr if !(v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit())) => {
                    return Err(csv.bad(i, "a CVR number of 8 digits"));
                }
                Rule::Integer { min, max } => {
                    let n = v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (*min..=*max).contains(n))
                        .ok_or_else(|| {
                            csv.bad(i, &format!("a whole number from {min} to {max}"))
                        })?;
                    ints[k] = i32::try_from(n).ok();
                }
                Rule::Municipality => {
                    ints[k] = Some(municipality(v).ok_or_else(|| {
                        csv.bad(
                            i,
                            "a DST municipality code (3 digits, e.g. 350 for Lejre; 0350 is read as 350)",
                        )
                    })?);
                }
                Rule::OneOf(list) if !list.iter().any(|x| x == v) => {
                    let valid: Vec<String> = list.iter().map(|x| format!("`{x}`")).collect();
                    return Err(csv.bad(i, &format!("one of {}", valid.join(", "))));
                }
                _ => {}
            }
        }
        for (k, b) in before.iter().enumerate() {
            if let Some(b) = *b
                && let (Some(earlier), Some(this)) = (dates[b], dates[k])
                && this < earlier
            {
                return Err(csv.bad(
                    idx[k],
                    &format!("a date on or after `{}` ({earlier})", file.columns[b].name),
                ));
            }
        }
        let row = writer.row();
        for (k, c) in file.columns.iter().enumerate() {
            let v = csv.get(idx[k]);
            match c.rule {
                Rule::Cpr => {
                    row.text(Some(&pseudo.id(v)));
                }
                Rule::Date => {
                    row.date(dates[k]);
                }
                Rule::Integer { .. } | Rule::Municipality => {
                    row.i32(ints[k]);
                }
                _ if c.optional => {
                    row.text((!v.is_empty()).then_some(v));
                }
                _ => {
                    row.text(Some(v));
                }
            }
        }
        if file.source_line {
            row.i64(i64::try_from(csv.line).ok());
        }
        let extras = extras_json(&csv.extras(&other));
        row.text(extras.as_deref());
        writer.end_row()?;
        rows += 1;
    }
    if rows < file.min_rows {
        return Err(csv.locus.file(format!(
            "{rows} rows: the export needs at least {} in {}.csv",
            file.min_rows, file.name
        )));
    }
    for (k, c) in file.columns.iter().enumerate() {
        if c.rule == Rule::Id {
            ids.insert(
                format!("{}.{}", file.name, c.name),
                std::mem::take(&mut own[k]),
            );
        }
    }
    Ok(rows)
}

/// The lake folder of one file's partition: `raw/<source>/<file>/[kommune=<m>/]<period>`.
#[must_use]
pub fn partition_dir(
    source: &str,
    file: &str,
    municipality: Option<i32>,
    period: Period,
) -> PathBuf {
    let mut rel = PathBuf::from("raw").join(source).join(file);
    if let Some(m) = municipality {
        rel.push(format!("kommune={m}"));
    }
    rel.push(period.partition());
    rel
}

/// Opens the staged partition of one file of `source` for a period (and municipality).
pub fn writer(
    staging: &Staging,
    source: &str,
    file: &FileContract,
    municipality: Option<i32>,
    period: Period,
) -> Result<PartitionWriter, ParseError> {
    let rel = partition_dir(source, &file.name, municipality, period);
    Ok(staging.partition(rel, lake_schema(file))?)
}
