//! A CSV source (`[sources.<name>]`, `type = "csv"`): where its bundles are, the period
//! one covers, and its contract as data: its files, read in order, and each file's
//! columns with the rule a value must keep (`[[sources.<name>.files]]`). The parser
//! (`parse::bundle`) knows the rules, never the files.
//!
//! ```toml
//! [[sources.<name>.files]]
//! name = "placeringer"
//! columns = [
//!   { name = "placering_id", rule = "id" },
//!   { name = "cpr", rule = "cpr" },
//!   { name = "medarbejder_id", rule = "ref", ref = "medarbejdere.medarbejder_id" },
//!   { name = "start", rule = "date", not_before = "henvist" },
//!   { name = "slut", rule = "date", optional = true, not_before = "start" },
//! ]
//! ```

use serde::Deserialize;

use super::problems::{Problems, codes, encoding, env_name, location};
use super::raw::RawCsvSource;
use super::types::CsvSourceConfig;
use crate::schedule::Span;

/// One `[[sources.<source>.files]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// The file's name without `.csv`; its lake table is `<source>_<name>`.
    pub name: String,
    /// Fewer rows than this rejects the export (default 0).
    pub min_rows: Option<u64>,
    /// Its columns, with their rules.
    pub columns: Vec<RawColumn>,
}

/// One column of a file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    /// The header name (matched case-insensitively).
    pub name: String,
    /// `id`, `cpr`, `ref`, `text`, `email`, `date`, `cvr` or `one_of`.
    pub rule: String,
    /// May be empty (`text`, `email`, `date`).
    #[serde(default)]
    pub optional: bool,
    /// `one_of`: the allowed values.
    pub values: Option<Vec<String>>,
    /// `ref`: `<file>.<column>`, an `id` column of an earlier file.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// `date`: another date column of the file this one may not be before.
    pub not_before: Option<String>,
}

/// What a value must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Non-empty and unique in its file.
    Id,
    /// A CPR number: pseudonymised, lands as `person_id`.
    Cpr,
    /// A value of an `id` column of an earlier file.
    Ref {
        /// The earlier file.
        file: String,
        /// Its id column.
        column: String,
    },
    /// Text.
    Text,
    /// An email address.
    Email,
    /// `YYYY-MM-DD`.
    Date,
    /// 8 digits.
    Cvr,
    /// One of a fixed list.
    OneOf(Vec<String>),
}

/// A column, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header name.
    pub name: String,
    /// Its rule.
    pub rule: Rule,
    /// May be empty.
    pub optional: bool,
    /// A date column this one may not be before.
    pub not_before: Option<String>,
}

/// A file of the source, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContract {
    /// Name without `.csv`.
    pub name: String,
    /// Fewest rows.
    pub min_rows: u64,
    /// Columns in contract order (the lake's order).
    pub columns: Vec<Column>,
}

/// The embedded default's files of `source`.
fn embedded(source: &str) -> Vec<RawFile> {
    toml::from_str::<toml::Table>(super::EMBEDDED_DEFAULT)
        .ok()
        .and_then(|t| {
            let files = t.get("sources")?.get(source)?.get("files")?.clone();
            files.try_into::<Vec<RawFile>>().ok()
        })
        .unwrap_or_default()
}

/// Validates `[[sources.<source>.files]]` (the embedded default's when not given).
pub(super) fn validate_files(
    p: &mut Problems<'_>,
    source: &str,
    raw: Option<Vec<RawFile>>,
) -> Vec<FileContract> {
    let raw = raw.unwrap_or_else(|| embedded(source));
    if raw.is_empty() {
        p.at(
            &format!("sources.{source}.files"),
            "empty: the source needs at least one file (`[[sources.<source>.files]]`)",
        );
    }
    let mut out: Vec<FileContract> = Vec::new();
    for (i, f) in raw.into_iter().enumerate() {
        let at = format!("sources.{source}.files.{i}");
        if f.name.is_empty()
            || !f
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            p.at(
                &format!("{at}.name"),
                format!(
                    "`{}`: give the file's name without `.csv` (letters, digits, `_`)",
                    f.name
                ),
            );
        }
        if out.iter().any(|o| o.name == f.name) {
            p.at(
                &format!("{at}.name"),
                format!("`{}` is listed twice", f.name),
            );
        }
        let mut columns: Vec<Column> = Vec::new();
        for (j, c) in f.columns.iter().enumerate() {
            let field = |k: &str| format!("{at}.columns.{j}.{k}");
            let rule = match c.rule.as_str() {
                "id" => Some(Rule::Id),
                "cpr" => Some(Rule::Cpr),
                "text" => Some(Rule::Text),
                "email" => Some(Rule::Email),
                "date" => Some(Rule::Date),
                "cvr" => Some(Rule::Cvr),
                "one_of" => match &c.values {
                    Some(v) if !v.is_empty() => Some(Rule::OneOf(v.clone())),
                    _ => {
                        p.at(&field("values"), "`one_of` needs `values = [\"…\", …]`");
                        None
                    }
                },
                "ref" => {
                    let target = c.reference.as_deref().and_then(|r| r.split_once('.'));
                    let known = target.is_some_and(|(file, col)| {
                        out.iter().any(|o| {
                            o.name == file
                                && o.columns
                                    .iter()
                                    .any(|x| x.name == col && x.rule == Rule::Id)
                        })
                    });
                    match target {
                        Some((file, column)) if known => Some(Rule::Ref {
                            file: file.to_string(),
                            column: column.to_string(),
                        }),
                        _ => {
                            p.at(
                                &field("ref"),
                                format!(
                                    "`{}`: give `<file>.<column>`, an `id` column of a file listed before this one",
                                    c.reference.as_deref().unwrap_or("")
                                ),
                            );
                            None
                        }
                    }
                }
                other => {
                    p.at(
                        &field("rule"),
                        format!("`{other}`: valid: `id`, `cpr`, `ref`, `text`, `email`, `date`, `cvr`, `one_of`"),
                    );
                    None
                }
            };
            if c.optional && !matches!(rule, Some(Rule::Text | Rule::Email | Rule::Date) | None) {
                p.at(
                    &field("optional"),
                    format!("a `{}` column is never empty; `optional` is for `text`, `email` and `date`", c.rule),
                );
            }
            if let Some(other) = &c.not_before {
                let ok = rule == Some(Rule::Date)
                    && columns
                        .iter()
                        .any(|x| &x.name == other && x.rule == Rule::Date);
                if !ok {
                    p.at(
                        &field("not_before"),
                        format!("`{other}`: give a `date` column listed before this one (and make this one a `date`)"),
                    );
                }
            }
            if columns.iter().any(|x| x.name.eq_ignore_ascii_case(&c.name)) {
                p.at(&field("name"), format!("`{}` is listed twice", c.name));
            }
            if let Some(rule) = rule {
                columns.push(Column {
                    name: c.name.clone(),
                    rule,
                    optional: c.optional,
                    not_before: c.not_before.clone(),
                });
            }
        }
        out.push(FileContract {
            name: f.name,
            min_rows: f.min_rows.unwrap_or(0),
            columns,
        });
    }
    out
}

/// Validates one CSV source.
pub(super) fn validate_csv_source(
    p: &mut Problems<'_>,
    name: String,
    r: RawCsvSource,
) -> CsvSourceConfig {
    let at = |k: &str| format!("sources.{name}.{k}");
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        p.at(
            &format!("sources.{name}"),
            "a source's name is its lake folder and table prefix: lowercase letters, digits, `_`",
        );
    }
    match r.kind.as_deref() {
        Some("csv") => {}
        Some(other) => p.at(
            &at("type"),
            format!("`{other}`: a source other than `dream` and `jobindsats` is `type = \"csv\"`"),
        ),
        None => p.at(
            &format!("sources.{name}"),
            "unknown source kind: give `type = \"csv\"` (a bundle of CSV files with a contract), or name it `dream` or `jobindsats`",
        ),
    }
    let span = match r.period.as_deref() {
        Some("month") => Span::Month,
        Some("quarter") => Span::Quarter,
        other => {
            p.at(
                &at("period"),
                format!(
                    "`{}`: give `month` or `quarter` (the period one bundle covers)",
                    other.unwrap_or("")
                ),
            );
            Span::Month
        }
    };
    let municipalities = codes(p, &at("municipalities"), &r.municipalities);
    let placeholders: &[&str] = if municipalities.is_empty() {
        &["period"]
    } else {
        &["municipality", "period"]
    };
    location(p, &at("location"), &r.location, placeholders);
    let enc = encoding(p, &at("encoding"), r.encoding.as_deref());
    if let Some(e) = &r.auth_env {
        env_name(p, &at("auth_env"), e);
    }
    let files = validate_files(p, &name, r.files);
    CsvSourceConfig {
        name,
        location: r.location,
        encoding: enc,
        span,
        municipalities,
        auth_env: r.auth_env,
        files,
    }
}
