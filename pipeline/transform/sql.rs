//! Running one SQL file: bound parameters, and errors that name the file, line and column.

use arrow::array::RecordBatch;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::query::QueryError;

pub(super) fn sql_error(
    file: &str,
    sql: &str,
    e: &datafusion::error::DataFusionError,
) -> QueryError {
    let message = e.to_string();
    // The SQL parser reports "... at Line: 12, Column: 5"; point at the file.
    let locus = message
        .find("Line: ")
        .and_then(|i| {
            let rest = &message[i + 6..];
            let (line, rest) = rest.split_once(", Column: ")?;
            let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some(format!("{file}:{}:{col}", line.trim()))
        })
        .or_else(|| {
            // Planning errors carry no position: find the name they complain about.
            let name = unknown_name(&message)?;
            let (line, col) = find_identifier(sql, &name)?;
            Some(format!("{file}:{line}:{col}"))
        })
        .unwrap_or_else(|| format!("{file}:1:1"));
    QueryError::Sql {
        query: locus,
        message,
    }
}

/// The identifier a planning error names (`table 'x.y.z' not found`, `No field named x`).
pub(super) fn unknown_name(message: &str) -> Option<String> {
    if let Some(i) = message.find("table '") {
        let rest = &message[i + 7..];
        let full = &rest[..rest.find('\'')?];
        return full.rsplit('.').next().map(str::to_string);
    }
    if let Some(i) = message.find("No field named ") {
        let rest = &message[i + 15..];
        let name: String = rest
            .trim_start_matches(['"', '`'])
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        return name
            .trim_end_matches('.')
            .rsplit('.')
            .next()
            .map(|s| s.trim_matches('"').to_string());
    }
    None
}

/// Line and column of the first whole-word occurrence of `name` outside `--` comments.
pub(super) fn find_identifier(sql: &str, name: &str) -> Option<(usize, usize)> {
    let lower = name.to_lowercase();
    for (i, line) in sql.lines().enumerate() {
        let code = line.split("--").next().unwrap_or_default().to_lowercase();
        let mut from = 0;
        while let Some(pos) = code[from..].find(&lower) {
            let at = from + pos;
            let before = code[..at].chars().next_back();
            let after = code[at + lower.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word(before) && !word(after) {
                return Some((i + 1, code[..at].chars().count() + 1));
            }
            from = at + lower.len();
        }
    }
    None
}

/// Parses the `-- params:` header of a query file into names.
#[must_use]
pub fn declared_params(sql: &str) -> Vec<String> {
    sql.lines()
        .take_while(|l| l.starts_with("--"))
        .find_map(|l| l.strip_prefix("-- params:"))
        .map(|list| {
            list.split(',')
                .filter_map(|p| p.split_whitespace().next())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// What a query wrote to disk because it did not fit in the memory limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Spilled {
    /// Spill files written.
    pub files: usize,
    /// Bytes written to them.
    pub bytes: usize,
}

/// The spills of every operator of an executed plan.
fn spilled(plan: &dyn ExecutionPlan) -> Spilled {
    let own = plan.metrics().map_or_else(Spilled::default, |m| Spilled {
        files: m.spill_count().unwrap_or(0),
        bytes: m.spilled_bytes().unwrap_or(0),
    });
    plan.children()
        .into_iter()
        .map(|c| spilled(c.as_ref()))
        .fold(own, |a, b| Spilled {
            files: a.files + b.files,
            bytes: a.bytes + b.bytes,
        })
}

/// The operators whose spilling gives wrong rows in `DataFusion` 55.2: a nested-loop join
/// whose build side ran out of memory executes its inputs again and loses or repeats
/// rows (apache/datafusion#24676, #24745, #22641).
const UNTRUSTED_SPILL: &[&str] = &["NestedLoopJoinExec"];

/// The first operator of an executed plan that spilled where spilling is not trusted.
fn untrusted_spill(plan: &dyn ExecutionPlan) -> Option<&'static str> {
    let own = UNTRUSTED_SPILL.iter().copied().find(|name| {
        *name == plan.name()
            && plan
                .metrics()
                .and_then(|m| m.spill_count())
                .is_some_and(|n| n > 0)
    });
    own.or_else(|| {
        plan.children()
            .into_iter()
            .find_map(|c| untrusted_spill(c.as_ref()))
    })
}

/// Runs one query file: its rows, and what it spilled to disk. A run in which an
/// operator spilled whose spilling is not trusted is an error: its rows are dropped.
pub async fn run_file(
    ctx: &SessionContext,
    file: &str,
    sql: &str,
    params: &[(&str, ScalarValue)],
) -> Result<(Vec<RecordBatch>, Spilled), QueryError> {
    let err = |e: datafusion::error::DataFusionError| sql_error(file, sql, &e);
    let plan = plan_file(ctx, file, sql, params)
        .await?
        .create_physical_plan()
        .await
        .map_err(err)?;
    let batches = datafusion::physical_plan::collect(plan.clone(), ctx.task_ctx())
        .await
        .map_err(err)?;
    if let Some(operator) = untrusted_spill(plan.as_ref()) {
        return Err(QueryError::Sql {
            query: format!("{file}:1:1"),
            message: format!(
                "Resources exhausted: {operator} ran out of memory and spilled, and DataFusion 55.2 loses or repeats rows when it does (apache/datafusion#24745); the result was not used"
            ),
        });
    }
    Ok((batches, spilled(plan.as_ref())))
}

/// Plans one query file with the parameters it declares bound (every one must have a
/// value); nothing runs yet.
pub async fn plan_file(
    ctx: &SessionContext,
    file: &str,
    sql: &str,
    params: &[(&str, ScalarValue)],
) -> Result<datafusion::dataframe::DataFrame, QueryError> {
    let declared = declared_params(sql);
    if let Some(missing) = declared
        .iter()
        .find(|d| !params.iter().any(|(n, _)| n == d))
    {
        return Err(QueryError::Sql {
            query: format!("{file}:1:1"),
            message: format!("parameter `${missing}` has no value"),
        });
    }
    let bound: Vec<(String, ScalarValue)> = params
        .iter()
        .filter(|(n, _)| declared.iter().any(|d| d == n))
        .map(|(n, v)| ((*n).to_string(), v.clone()))
        .collect();
    let df = ctx.sql(sql).await.map_err(|e| sql_error(file, sql, &e))?;
    if bound.is_empty() {
        Ok(df)
    } else {
        df.with_param_values(bound)
            .map_err(|e| sql_error(file, sql, &e))
    }
}
