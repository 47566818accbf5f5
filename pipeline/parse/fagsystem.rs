//! The case system's monthly export: five CSV files → `fagsystem_<entity>` tables,
//! partitioned by municipality and month.
//!
//! `medarbejdere.csv` is read first; every other file's `medarbejder_id` must exist
//! there. Ids are unique per file; `start >= henvist`, `slut >= start`.

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;

use chrono::NaiveDate;

use super::csv_input::CsvInput;
use super::{Locus, ParseError, date, extras_json};
use crate::config::Encoding;
use crate::land::{ColumnSpec, Kind, PartitionWriter, Staging, schema};
use crate::period::Period;
use crate::pseudonym::{Pseudonymizer, is_cpr};

/// What a column of an export holds, and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Unique id in its file.
    Id,
    /// CPR number: pseudonymised, lands as `person_id`.
    Cpr,
    /// Must exist in `medarbejdere.csv`.
    EmployeeRef,
    /// Non-empty text.
    Text,
    /// Text or empty.
    OptText,
    /// An email address or empty.
    OptEmail,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD` or empty.
    OptDate,
    /// 8 digits.
    Cvr,
    /// One of a fixed list.
    OneOf(&'static [&'static str]),
}

/// One export file: name, columns with rules, and the lake columns they land as.
pub struct Entity {
    /// Entity (and table suffix): `medarbejdere`.
    pub name: &'static str,
    /// Input columns and their rules.
    pub columns: &'static [(&'static str, Rule)],
}

const ROLES: &[&str] = &["sagsbehandler", "virksomhedskonsulent", "mentor", "leder"];
const OFFERS: &[&str] = &[
    "Virksomhedspraktik",
    "Ansættelse med løntilskud",
    "Nytteindsats",
];

/// The five files, in the order they are read.
pub const ENTITIES: &[Entity] = &[
    Entity {
        name: "medarbejdere",
        columns: &[
            ("medarbejder_id", Rule::Id),
            ("navn", Rule::Text),
            ("email", Rule::OptEmail),
            ("afdeling", Rule::Text),
            ("rolle", Rule::OneOf(ROLES)),
        ],
    },
    Entity {
        name: "sager",
        columns: &[
            ("sag_id", Rule::Id),
            ("cpr", Rule::Cpr),
            ("medarbejder_id", Rule::EmployeeRef),
            ("visitationskategori", Rule::OptText),
            ("oprettet", Rule::Date),
            ("afsluttet", Rule::OptDate),
        ],
    },
    Entity {
        name: "samtaler",
        columns: &[
            ("samtale_id", Rule::Id),
            ("cpr", Rule::Cpr),
            ("medarbejder_id", Rule::EmployeeRef),
            ("dato", Rule::Date),
            ("type", Rule::Text),
        ],
    },
    Entity {
        name: "virksomhedsbesoeg",
        columns: &[
            ("besoeg_id", Rule::Id),
            ("medarbejder_id", Rule::EmployeeRef),
            ("cvr", Rule::Cvr),
            ("dato", Rule::Date),
        ],
    },
    Entity {
        name: "placeringer",
        columns: &[
            ("placering_id", Rule::Id),
            ("cpr", Rule::Cpr),
            ("medarbejder_id", Rule::EmployeeRef),
            ("cvr", Rule::Cvr),
            ("tilbud", Rule::OneOf(OFFERS)),
            ("henvist", Rule::Date),
            ("start", Rule::Date),
            ("slut", Rule::OptDate),
        ],
    },
];

/// The lake columns of an entity: `cpr` becomes `person_id`, then `extra_columns`.
#[must_use]
pub fn lake_columns(entity: &Entity) -> Vec<ColumnSpec> {
    let mut out: Vec<ColumnSpec> = entity
        .columns
        .iter()
        .map(|(name, rule)| match rule {
            Rule::Cpr => ("person_id", Kind::Text, false),
            Rule::Date => (*name, Kind::Date, false),
            Rule::OptDate => (*name, Kind::Date, true),
            Rule::OptText | Rule::OptEmail => (*name, Kind::Text, true),
            _ => (*name, Kind::Text, false),
        })
        .collect();
    out.push(("extra_columns", Kind::Text, true));
    out
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

/// Parses one entity file into `writer`; returns rows. `employees` is filled from
/// `medarbejdere` and checked by the others.
#[expect(
    clippy::implicit_hasher,
    reason = "ids are few; the std hasher is fine"
)]
pub fn parse_entity<R: Read>(
    input: R,
    locus: Locus,
    encoding: Encoding,
    entity: &Entity,
    employees: &mut HashSet<String>,
    pseudo: &Pseudonymizer,
    writer: &mut PartitionWriter,
) -> Result<u64, ParseError> {
    let mut csv = CsvInput::open(input, encoding, locus)?;
    let idx: Vec<usize> = entity
        .columns
        .iter()
        .map(|(n, _)| csv.require(&[n]))
        .collect::<Result<_, _>>()?;
    let mut ids: HashSet<String> = HashSet::new();
    let mut rows = 0u64;
    let pos = |name: &str| entity.columns.iter().position(|(n, _)| *n == name);
    let other = csv.other_columns(&idx);
    while csv.next_record()? {
        let mut dates: Vec<Option<NaiveDate>> = vec![None; idx.len()];
        for (k, (_, rule)) in entity.columns.iter().enumerate() {
            let i = idx[k];
            let v = csv.get(i);
            match rule {
                Rule::Id => {
                    if v.is_empty() {
                        return Err(csv.bad(i, "a non-empty id"));
                    }
                    if !ids.insert(v.to_string()) {
                        return Err(csv.bad(i, "an id unique in the file (it appears earlier)"));
                    }
                }
                Rule::Cpr if !is_cpr(v) => {
                    return Err(csv.bad_hidden(i, "a CPR number of 10 digits"));
                }
                Rule::EmployeeRef if !employees.contains(v) => {
                    return Err(csv.bad(i, "a `medarbejder_id` that exists in medarbejdere.csv"));
                }
                Rule::Text if v.is_empty() => return Err(csv.bad(i, "a non-empty value")),
                Rule::OptEmail if !v.is_empty() && !valid_email(v) => {
                    return Err(csv.bad(i, "an email address or empty"));
                }
                Rule::Date => {
                    dates[k] = Some(date(v).ok_or_else(|| csv.bad(i, "a date YYYY-MM-DD"))?);
                }
                Rule::OptDate if !v.is_empty() => {
                    dates[k] =
                        Some(date(v).ok_or_else(|| csv.bad(i, "a date YYYY-MM-DD or empty"))?);
                }
                Rule::Cvr if !(v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit())) => {
                    return Err(csv.bad(i, "a CVR number of 8 digits"));
                }
                Rule::OneOf(list) if !list.contains(&v) => {
                    let valid: Vec<String> = list.iter().map(|x| format!("`{x}`")).collect();
                    return Err(csv.bad(i, &format!("one of {}", valid.join(", "))));
                }
                _ => {}
            }
        }
        if let (Some(h), Some(s)) = (pos("henvist"), pos("start"))
            && let (Some(henvist), Some(start)) = (dates[h], dates[s])
            && start < henvist
        {
            return Err(csv.bad(
                idx[s],
                &format!("a start on or after `henvist` ({henvist})"),
            ));
        }
        if let (Some(s), Some(e)) = (pos("start"), pos("slut"))
            && let (Some(start), Some(slut)) = (dates[s], dates[e])
            && slut < start
        {
            return Err(csv.bad(idx[e], &format!("an end on or after `start` ({start})")));
        }
        let row = writer.row();
        for (k, (_, rule)) in entity.columns.iter().enumerate() {
            let v = csv.get(idx[k]);
            match rule {
                Rule::Cpr => {
                    row.text(Some(&pseudo.id(v)));
                }
                Rule::Date | Rule::OptDate => {
                    row.date(dates[k]);
                }
                Rule::OptText | Rule::OptEmail => {
                    row.text((!v.is_empty()).then_some(v));
                }
                _ => {
                    row.text(Some(v));
                }
            }
        }
        let extras = extras_json(&csv.extras(&other));
        row.text(extras.as_deref());
        writer.end_row()?;
        rows += 1;
    }
    if entity.name == "medarbejdere" {
        *employees = ids;
        if rows == 0 {
            return Err(csv
                .locus
                .file("no employees: the export needs at least one row in medarbejdere.csv"));
        }
    }
    Ok(rows)
}

/// Opens the staged partition of one entity for a municipality and month.
pub fn writer(
    staging: &Staging,
    entity: &Entity,
    municipality: i32,
    month: Period,
) -> Result<PartitionWriter, ParseError> {
    let rel = PathBuf::from(format!(
        "raw/fagsystem/{}/kommune={municipality}/{}",
        entity.name,
        month.partition()
    ));
    Ok(staging.partition(rel, schema(&lake_columns(entity)))?)
}
