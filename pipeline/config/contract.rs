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
    /// Land each row's line in the file as `source_line` (int64), after the columns.
    #[serde(default)]
    pub source_line: bool,
    /// Rules across rows, as SQL over the parsed file (`[[sources.<name>.files.checks]]`).
    #[serde(default)]
    pub checks: Vec<RawCheck>,
}

/// One check across rows as written: a query over the parsed file (its table is the
/// file's name, with `source_line`) that returns the `source_line` of every row that
/// breaks the rule. `$period_start` and `$period_end` are the period's first and last
/// calendar day; `previous_<file>` is the file as landed for the period before (no rows
/// when none was). A `warn` check lands the file and says how many rows it returned.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// A short name (`overlapping_packages`), shown in the rejection.
    pub name: String,
    /// The column the rejection points at.
    pub column: String,
    /// What the rule is, said to the person who fixes the file.
    pub message: String,
    /// The query; it returns a `source_line` column (a `warn` check: any rows).
    pub sql: String,
    /// A warning, not a rejection: the file lands, and the message is said, with `{n}`
    /// the count of rows the query returns (never their values).
    #[serde(default)]
    pub warn: bool,
}

/// One column of a file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    /// The header name (matched case-insensitively).
    pub name: String,
    /// `id`, `cpr`, `ref`, `text`, `email`, `date`, `cvr`, `one_of`, `integer` or
    /// `municipality`.
    pub rule: String,
    /// Other header names the column may have (`pnr` for `cpr`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// May be empty (`text`, `email`, `date`, `one_of`, `integer`, `municipality`).
    #[serde(default)]
    pub optional: bool,
    /// `integer`: the smallest value allowed.
    pub min: Option<i64>,
    /// `integer`: the largest value allowed.
    pub max: Option<i64>,
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
    /// A whole number in `min..=max`; lands as int32.
    Integer {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A DST municipality code (3 digits, or 4 with a leading zero); lands as int32.
    Municipality,
}

/// A column, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header name.
    pub name: String,
    /// Other header names it may have.
    pub aliases: Vec<String>,
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
    /// Lands `source_line`.
    pub source_line: bool,
    /// Rules across rows.
    pub checks: Vec<Check>,
}

/// A check across rows, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Its name.
    pub name: String,
    /// The column a rejection points at.
    pub column: String,
    /// The rule, in words.
    pub message: String,
    /// The query.
    pub sql: String,
    /// Warns instead of rejecting.
    pub warn: bool,
}

/// The embedded default's files of `source`.
fn embedded(source: &str) -> Vec<RawFile> {
    toml::from_str::<toml::Table>(&super::EMBEDDED_DEFAULT)
        .ok()
        .and_then(|t| {
            let files = t.get("sources")?.get(source)?.get("files")?.clone();
            files.try_into::<Vec<RawFile>>().ok()
        })
        .unwrap_or_default()
}

/// The message for a source `type` that is no kind.
pub(super) fn kinds_message(other: &str) -> String {
    format!(
        "`{other}`; valid: `csv` (a bundle of CSV files with a contract), `wide_weeks` (a register of persons × ISO weeks), `jobindsats_v2` (the Jobindsats API)"
    )
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
                "municipality" => Some(Rule::Municipality),
                "integer" => {
                    let (min, max) = (
                        c.min.unwrap_or(i64::from(i32::MIN)),
                        c.max.unwrap_or(i64::from(i32::MAX)),
                    );
                    if min > max || min < i64::from(i32::MIN) || max > i64::from(i32::MAX) {
                        p.at(
                            &field("min"),
                            format!("`{min}..={max}`: give `min <= max` within 32 bits"),
                        );
                    }
                    Some(Rule::Integer { min, max })
                }
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
                        format!("`{other}`: valid: `id`, `cpr`, `ref`, `text`, `email`, `date`, `cvr`, `one_of`, `integer`, `municipality`"),
                    );
                    None
                }
            };
            if c.optional
                && !matches!(
                    rule,
                    Some(
                        Rule::Text
                            | Rule::Email
                            | Rule::Date
                            | Rule::OneOf(_)
                            | Rule::Integer { .. }
                            | Rule::Municipality
                    ) | None
                )
            {
                p.at(
                    &field("optional"),
                    format!("a `{}` column is never empty; `optional` is for `text`, `email`, `date`, `one_of`, `integer` and `municipality`", c.rule),
                );
            }
            if (c.min.is_some() || c.max.is_some()) && c.rule != "integer" {
                p.at(&field("min"), "`min` and `max` are for `integer` columns");
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
                    aliases: c.aliases.clone(),
                    rule,
                    optional: c.optional,
                    not_before: c.not_before.clone(),
                });
            }
        }
        let mut checks: Vec<Check> = Vec::new();
        for (j, c) in f.checks.into_iter().enumerate() {
            let field = |k: &str| format!("{at}.checks.{j}.{k}");
            if !f.source_line {
                p.at(
                    &field("sql"),
                    "a check finds rows by `source_line`: give the file `source_line = true`",
                );
            }
            if !columns.iter().any(|x| x.name == c.column) {
                p.at(
                    &field("column"),
                    format!("`{}` is not a column of `{}`", c.column, f.name),
                );
            }
            if !c.warn && !c.sql.to_lowercase().contains("source_line") {
                p.at(
                    &field("sql"),
                    "the query returns the `source_line` of the rows that break the rule",
                );
            }
            if checks.iter().any(|x| x.name == c.name) || c.name.is_empty() {
                p.at(
                    &field("name"),
                    format!("`{}`: give each check a name of its own", c.name),
                );
            }
            checks.push(Check {
                name: c.name,
                column: c.column,
                message: c.message,
                sql: c.sql,
                warn: c.warn,
            });
        }
        out.push(FileContract {
            name: f.name,
            min_rows: f.min_rows.unwrap_or(0),
            columns,
            source_line: f.source_line,
            checks,
        });
    }
    out
}

/// Does a location name one `.csv` file (rather than a bundle's folder)?
#[must_use]
pub fn is_csv_file(location: &str) -> bool {
    std::path::Path::new(location)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
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
            kinds_message(other),
        ),
        None => p.at(
            &format!("sources.{name}"),
            "unknown source kind: give `type = \"csv\"` (a bundle of CSV files with a contract), `\"wide_weeks\"` (a register of persons × ISO weeks) or `\"jobindsats_v2\"` (the Jobindsats API)",
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
    if is_csv_file(&r.location) && files.len() != 1 {
        p.at(
            &at("location"),
            format!(
                "`{}` names one file, and the source has {}: a bundle's location is its folder",
                r.location,
                files.len()
            ),
        );
    }
    CsvSourceConfig {
        title: r.title.clone().unwrap_or_else(|| name.clone()),
        name,
        location: r.location,
        encoding: enc,
        span,
        municipalities,
        auth_env: r.auth_env,
        files,
    }
}
