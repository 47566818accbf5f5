//! The mart catalogue: every `queries/*.sql` builds one mart, named by its file, and
//! its header says what the mart is. Adding a mart is adding a file.
//!
//! ```text
//! -- description: what the mart holds
//! -- params: min_weeks int64            bound parameters ($min_weeks)
//! -- tables: population_cells, …        what it reads; a mart it reads is built first
//! -- period_key: period                 the column holding 2018Q4 / 2018M12, or
//! -- month_key: month                   the column holding 2018-11
//! -- columns: program utf8, share float64 null, …   the mart's schema, in order
//! -- order_by: metric, period           the rows' order
//! ```
//!
//! A transform of some periods replaces the rows whose key column holds one of them (a
//! quarter: the quarter and its months), and keeps the others.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::{Field, Schema, SchemaRef};

use crate::land::Kind;
use crate::query::QueryError;

/// The embedded default programme's `queries/<id>/*.sql`: (path, text), in file-name
/// order (`pipeline/build.rs`).
fn embedded_files() -> &'static [(&'static str, &'static str)] {
    use crate::config::programmes::{default_id, embedded_queries};
    embedded_queries(default_id()).unwrap_or(&[])
}

/// A mart's period column and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodKey {
    /// The marts' period key: `2018Q4`, or `2018M12` for a month.
    Period(String),
    /// A month: `2018-11`.
    Month(String),
}

/// One mart: its query and its schema.
#[derive(Debug, Clone)]
pub struct Mart {
    /// Its name: the file's, without `.sql`.
    pub name: String,
    /// The file, for messages (`queries/imi/target_metrics.sql`).
    pub file: String,
    /// The SQL.
    pub sql: String,
    /// Its schema, as the header declares it.
    pub schema: SchemaRef,
    /// Its period column.
    pub key: PeriodKey,
    /// The tables it reads.
    pub tables: Vec<String>,
}

fn header_error(file: &str, line: usize, column: usize, message: String) -> QueryError {
    QueryError::Sql {
        query: format!("{file}:{line}:{column}"),
        message,
    }
}

fn kind(name: &str) -> Option<Kind> {
    Some(match name {
        "utf8" => Kind::Text,
        "int32" => Kind::Int32,
        "int64" => Kind::Int64,
        "float64" => Kind::Float64,
        "bool" => Kind::Bool,
        "date" => Kind::Date,
        "timestamp" => Kind::Timestamp,
        _ => return None,
    })
}

/// Parses a query file's header into its mart; an error names the file, line and column.
pub(super) fn parse(file: &str, sql: &str) -> Result<Mart, QueryError> {
    let name = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".sql")
        .to_string();
    let mut columns: Option<Vec<Field>> = None;
    let mut key = None;
    let mut tables = Vec::new();
    let mut last = 0;
    for (i, line) in sql
        .lines()
        .enumerate()
        .take_while(|(_, l)| l.starts_with("--"))
    {
        last = i + 1;
        let Some((field, value)) = line.trim_start_matches("--").trim().split_once(':') else {
            continue;
        };

        match field.trim() {
            "columns" => {
                let mut fields = Vec::new();
                // Each item's own column in the line, for the messages.
                let mut offset = line.len() - value.len();
                for raw in value.split(',') {
                    let item = raw.trim();
                    let at = offset + (raw.len() - raw.trim_start().len()) + 1;
                    offset += raw.len() + 1;
                    let words: Vec<&str> = item.split_whitespace().collect();
                    let (col, ty, nullable) = match words.as_slice() {
                        [c, t] => (*c, *t, false),
                        [c, t, "null"] => (*c, *t, true),
                        _ => {
                            return Err(header_error(
                                file,
                                i + 1,
                                at,
                                format!(
                                    "`-- columns:` item `{item}`: give `name type` or `name type null`"
                                ),
                            ));
                        }
                    };
                    let Some(k) = kind(ty) else {
                        return Err(header_error(
                            file,
                            i + 1,
                            at,
                            format!(
                                "column `{col}`: unknown type `{ty}`; valid: utf8, int32, int64, float64, bool, date, timestamp"
                            ),
                        ));
                    };
                    fields.push(crate::land::field(col, k, nullable));
                }
                columns = Some(fields);
            }
            "period_key" => key = Some(PeriodKey::Period(value.trim().to_string())),
            "month_key" => key = Some(PeriodKey::Month(value.trim().to_string())),
            "tables" => {
                tables = value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            _ => {}
        }
    }
    let Some(fields) = columns else {
        return Err(header_error(
            file,
            last + 1,
            1,
            "no `-- columns:` line in the header: a mart's schema is declared there (`-- columns: name type [null], …`)".into(),
        ));
    };
    let Some(key) = key else {
        return Err(header_error(
            file,
            last + 1,
            1,
            "no `-- period_key:` or `-- month_key:` line in the header: which column holds the period".into(),
        ));
    };
    let column = match &key {
        PeriodKey::Period(c) | PeriodKey::Month(c) => c,
    };
    if !fields.iter().any(|f| f.name() == column) {
        return Err(header_error(
            file,
            1,
            1,
            format!("the period column `{column}` is not among the mart's `-- columns:`"),
        ));
    }
    Ok(Mart {
        name,
        file: file.to_string(),
        sql: sql.to_string(),
        schema: Arc::new(Schema::new(fields)),
        key,
        tables,
    })
}

/// Orders marts so that each comes after the marts it reads (by `-- tables:`); among
/// those ready, by name. A cycle is an error naming its marts.
pub(super) fn order(mut marts: Vec<Mart>) -> Result<Vec<Mart>, QueryError> {
    marts.sort_by(|a, b| a.name.cmp(&b.name));
    let names: BTreeSet<String> = marts.iter().map(|m| m.name.clone()).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(marts.len());
    while !marts.is_empty() {
        let ready = marts.iter().position(|m| {
            m.tables
                .iter()
                .all(|t| *t == m.name || !names.contains(t) || done.contains(t))
        });
        let Some(i) = ready else {
            let stuck: Vec<&str> = marts.iter().map(|m| m.file.as_str()).collect();
            return Err(header_error(
                stuck[0],
                1,
                1,
                format!(
                    "these marts read each other in a circle (`-- tables:`): {}",
                    stuck.join(", ")
                ),
            ));
        };
        let m = marts.remove(i);
        done.insert(m.name.clone());
        out.push(m);
    }
    Ok(out)
}

/// The marts of a folder of queries (`*.sql`, not its subfolders), in build order.
pub(super) fn load_dir(dir: &std::path::Path) -> Result<Vec<Mart>, QueryError> {
    let read_err = |e: std::io::Error| QueryError::Sql {
        query: dir.display().to_string(),
        message: format!("cannot read the folder of queries: {e}"),
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(QueryError::Sql {
            query: dir.display().to_string(),
            message: "no `*.sql` file: a programme needs at least one mart".into(),
        });
    }
    let mut marts = Vec::new();
    for f in files {
        let sql = std::fs::read_to_string(&f).map_err(|e| QueryError::Sql {
            query: f.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        marts.push(parse(&f.display().to_string(), &sql)?);
    }
    order(marts)
}

/// The marts of an embedded programme folder (`queries/<id>/`), in build order.
pub(super) fn load_embedded(files: &[(&str, &str)]) -> Result<Vec<Mart>, QueryError> {
    let marts = files
        .iter()
        .map(|(file, sql)| parse(file, sql))
        .collect::<Result<Vec<_>, _>>()?;
    order(marts)
}

/// The embedded default programme's marts, in the order they are built: those of a
/// programme that is no embedded folder.
///
/// # Panics
/// When an embedded query's header is broken (a unit test reads them all).
#[must_use]
pub(super) fn embedded() -> &'static [Mart] {
    static MARTS: OnceLock<Vec<Mart>> = OnceLock::new();
    MARTS.get_or_init(|| {
        let marts = embedded_files()
            .iter()
            .map(|(file, sql)| parse(file, sql))
            .collect::<Result<Vec<_>, _>>()
            .and_then(order);
        match marts {
            Ok(m) => m,
            Err(e) => panic!("an embedded query is broken: {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_query_is_a_mart_in_dependency_order() {
        let marts = embedded();
        assert!(!marts.is_empty());
        assert_eq!(marts.len(), embedded_files().len());
        let pos = |n: &str| marts.iter().position(|m| m.name == n).unwrap();
        for m in marts {
            for t in &m.tables {
                if marts.iter().any(|o| &o.name == t) {
                    assert!(pos(t) < pos(&m.name), "{} reads {t}", m.name);
                }
            }
        }
    }

    #[test]
    fn a_broken_header_is_named_by_file_line_and_column() {
        let sql = "-- description: x\n-- period_key: period\n-- columns: period utf8, n integer\nselect 1";
        let e = parse("queries/x.sql", sql).unwrap_err().to_string();
        assert!(
            e.starts_with("queries/x.sql:3:26: column `n`: unknown type `integer`"),
            "{e}"
        );
        let e = parse(
            "queries/x.sql",
            "-- columns: a utf8\n-- period_key: period\nselect 1",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("the period column `period` is not among"), "{e}");
        let e = parse("queries/x.sql", "-- columns: period utf8\nselect 1")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("queries/x.sql:2:1: no `-- period_key:`"),
            "{e}"
        );
        let a = parse(
            "queries/a.sql",
            "-- tables: b\n-- period_key: p\n-- columns: p utf8\nselect 1",
        )
        .unwrap();
        let b = parse(
            "queries/b.sql",
            "-- tables: a\n-- period_key: p\n-- columns: p utf8\nselect 1",
        )
        .unwrap();
        let e = order(vec![a, b]).unwrap_err().to_string();
        assert!(e.contains("read each other in a circle"), "{e}");
    }
}
