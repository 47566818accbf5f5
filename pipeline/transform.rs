//! Transform: the SQL in `queries/` over the lake → the marts `target_metrics` and
//! `project_average`, written whole and atomically (staging, then rename).
//!
//! ```text
//! raw tables ─┐
//! config ─────┼─► queries/target_metrics.sql ─► marts/target_metrics ─► queries/project_average.sql ─► marts/project_average
//! (tables)    ┘
//! ```
//! Config enters SQL as small registered tables (`program_municipalities`,
//! `municipality_names`, `metric_categories`, `settings`) and bound parameters
//! (`$min_weeks`, …); nothing is formatted into SQL text. A raw table that has not been
//! landed is registered empty, so the metrics the other sources allow are still
//! computed, and the report names what is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::config::Config;
use crate::error::Error;
use crate::land::{self, ColumnSpec, Kind, Staging};
use crate::municipality::MUNICIPALITIES;
use crate::period::Period;
use crate::query::{self, QueryError};

/// `queries/target_metrics.sql`.
pub const TARGET_METRICS_SQL: &str = include_str!("../queries/target_metrics.sql");
/// `queries/metric_comparison.sql`.
pub const METRIC_COMPARISON_SQL: &str = include_str!("../queries/metric_comparison.sql");
/// `queries/maanedsbog.sql`.
pub const MAANEDSBOG_SQL: &str = include_str!("../queries/maanedsbog.sql");
/// `queries/maanedsbog_afdeling.sql`.
pub const MAANEDSBOG_AFDELING_SQL: &str = include_str!("../queries/maanedsbog_afdeling.sql");
/// `queries/maanedsbog_visibility.sql`.
pub const MAANEDSBOG_VISIBILITY_SQL: &str = include_str!("../queries/maanedsbog_visibility.sql");
/// `queries/project_average.sql`.
pub const PROJECT_AVERAGE_SQL: &str = include_str!("../queries/project_average.sql");

/// Schema of the `target_metrics` mart (spec: lake.md).
pub const TARGET_METRICS: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("municipality", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("numerator", Kind::Int64, true),
    ("denominator", Kind::Int64, true),
    ("share", Kind::Float64, true),
];

/// Schema of the `project_average` mart.
pub const PROJECT_AVERAGE: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("share", Kind::Float64, true),
    ("method", Kind::Text, false),
    ("municipalities", Kind::Int32, false),
];

/// Schema of the `metric_comparison` mart: what the reports print.
pub const METRIC_COMPARISON: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("municipality", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("share", Kind::Float64, true),
    ("baseline_period", Kind::Text, false),
    ("baseline_share", Kind::Float64, true),
    ("change_pp", Kind::Float64, true),
    ("project_average", Kind::Float64, true),
    ("project_average_baseline", Kind::Float64, true),
    ("rank", Kind::Int32, true),
    ("ranked_municipalities", Kind::Int32, false),
    ("lowest_share", Kind::Float64, true),
    ("lowest_municipality", Kind::Text, true),
    ("highest_share", Kind::Float64, true),
    ("highest_municipality", Kind::Text, true),
];

/// The six figures of the månedsbog, per employee or department.
const FIGURES: [ColumnSpec; 6] = [
    ("aktive_sager", Kind::Int64, false),
    ("aktiverede", Kind::Int64, false),
    ("samtaler", Kind::Int64, false),
    ("virksomhedsbesoeg_6_mdr", Kind::Int64, false),
    ("afsluttede_placeringer", Kind::Int64, false),
    ("gns_ventetid_dage", Kind::Float64, true),
];

/// Schema of the `maanedsbog` mart.
pub const MAANEDSBOG: &[ColumnSpec] = &[
    ("kommune", Kind::Int32, false),
    ("month", Kind::Text, false),
    ("medarbejder_id", Kind::Text, false),
    ("navn", Kind::Text, false),
    ("afdeling", Kind::Text, false),
    ("rolle", Kind::Text, false),
    FIGURES[0],
    FIGURES[1],
    FIGURES[2],
    FIGURES[3],
    FIGURES[4],
    FIGURES[5],
];

/// Schema of the `maanedsbog_afdeling` mart.
pub const MAANEDSBOG_AFDELING: &[ColumnSpec] = &[
    ("kommune", Kind::Int32, false),
    ("month", Kind::Text, false),
    ("afdeling", Kind::Text, false),
    FIGURES[0],
    FIGURES[1],
    FIGURES[2],
    FIGURES[3],
    FIGURES[4],
    FIGURES[5],
];

/// Schema of the `maanedsbog_visibility` mart.
pub const MAANEDSBOG_VISIBILITY: &[ColumnSpec] = &[
    ("kommune", Kind::Int32, false),
    ("month", Kind::Text, false),
    ("recipient_email", Kind::Text, false),
    ("recipient_id", Kind::Text, false),
    ("recipient_navn", Kind::Text, false),
    ("recipient_rolle", Kind::Text, false),
    ("afdeling", Kind::Text, false),
];

/// What a transform did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransformReport {
    /// Mart name and its rows after the transform.
    pub marts: Vec<(String, usize)>,
    /// Raw tables that were not in the lake.
    pub missing_tables: Vec<String>,
    /// For a requested period: metrics with no rows, and why.
    pub missing_metrics: Vec<String>,
}

/// The period strings of the marts that a requested period covers: a quarter covers
/// itself (M1, M3) and its months (M2, `2018M10`); a month covers itself.
#[must_use]
pub fn covered_periods(p: Period) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if p.is_quarter() {
        out.insert(p.to_string());
    }
    for m in p.months() {
        out.insert(m.jobindsats_code());
    }
    out
}

fn sql_error(file: &str, sql: &str, e: &datafusion::error::DataFusionError) -> QueryError {
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
fn unknown_name(message: &str) -> Option<String> {
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
fn find_identifier(sql: &str, name: &str) -> Option<(usize, usize)> {
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

async fn run_file(
    ctx: &SessionContext,
    file: &str,
    sql: &str,
    params: &[(&str, ScalarValue)],
) -> Result<Vec<RecordBatch>, QueryError> {
    plan_file(ctx, file, sql, params)
        .await?
        .collect()
        .await
        .map_err(|e| sql_error(file, sql, &e))
}

/// Plans one query file with the parameters it declares bound (every one must have a
/// value); nothing runs yet.
async fn plan_file(
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

fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<(), QueryError> {
    let reg = |e: datafusion::error::DataFusionError| QueryError::Register {
        table: name.to_string(),
        message: e.to_string(),
    };
    let _ = ctx.deregister_table(name).map_err(reg)?;
    let table = MemTable::try_new(schema, vec![batches]).map_err(reg)?;
    ctx.register_table(name, Arc::new(table)).map_err(reg)?;
    Ok(())
}

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Registers the config as tables, and empty tables for raw tables not landed.
fn register_inputs(ctx: &SessionContext, cfg: &Config) -> Result<Vec<String>, QueryError> {
    let fmt = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "municipality_code",
        DataType::Int32,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(
            cfg.program.municipalities.clone(),
        ))],
    )
    .map_err(fmt)?;
    register(ctx, "program_municipalities", schema, vec![batch])?;

    let schema = Arc::new(Schema::new(vec![
        Field::new("municipality_code", DataType::Int32, false),
        Field::new("municipality", DataType::Utf8, false),
    ]));
    let codes: Vec<i32> = MUNICIPALITIES.iter().map(|(c, _)| *c).collect();
    let names: Vec<&str> = MUNICIPALITIES.iter().map(|(_, n)| *n).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(codes)), strings(&names)],
    )
    .map_err(fmt)?;
    register(ctx, "municipality_names", schema, vec![batch])?;

    let m = &cfg.metrics;
    let mut rows: Vec<(&str, &str, &str)> = m
        .offer_labels
        .iter()
        .map(|l| ("M3", "numerator", l.as_str()))
        .collect();
    rows.push(("M3", "denominator", m.recipients_label.as_str()));
    rows.push(("M2", "numerator", m.jobparat_label.as_str()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("part", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        strings(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.2).collect::<Vec<_>>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
    register(ctx, "metric_categories", schema, vec![batch])?;

    let mart_period = |p: Period| {
        if p.is_quarter() {
            p.to_string()
        } else {
            p.jobindsats_code()
        }
    };
    let metrics: Vec<&str> = m.baseline.keys().map(String::as_str).collect();
    let base: Vec<String> = m.baseline.values().map(|p| mart_period(*p)).collect();
    let sex_base: Vec<String> = m
        .baseline
        .iter()
        .map(|(metric, p)| {
            if metric.starts_with("M1") {
                mart_period(m.sex_gap_baseline)
            } else {
                mart_period(*p)
            }
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("baseline_period", DataType::Utf8, false),
        Field::new("sex_baseline_period", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        strings(&metrics),
        strings(&base.iter().map(String::as_str).collect::<Vec<_>>()),
        strings(&sex_base.iter().map(String::as_str).collect::<Vec<_>>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(fmt)?;
    register(ctx, "metric_baselines", schema, vec![batch])?;

    let schema = Arc::new(Schema::new(vec![Field::new(
        "program",
        DataType::Utf8,
        false,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![strings(&[cfg.program.id.as_str()])])
        .map_err(fmt)?;
    register(ctx, "settings", schema, vec![batch])?;

    let mut missing = Vec::new();
    for entity in crate::parse::fagsystem::ENTITIES {
        let name = format!("fagsystem_{}", entity.name);
        let exists = ctx.table_exist(&name).map_err(|e| QueryError::Register {
            table: name.clone(),
            message: e.to_string(),
        })?;
        if !exists {
            let base = land::schema(&crate::parse::fagsystem::lake_columns(entity));
            let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new("kommune", DataType::Int32, false));
            fields.push(Field::new("month", DataType::Utf8, false));
            register(ctx, &name, Arc::new(Schema::new(fields)), vec![])?;
            missing.push(name);
        }
    }
    let raw: [(&str, &[ColumnSpec], &str); 4] = [
        ("dream_persons", crate::parse::dream::PERSONS, "quarter"),
        ("dream_weeks", crate::parse::dream::WEEKS, "quarter"),
        (
            "jobindsats_visitation",
            crate::parse::jobindsats::COLUMNS,
            "month",
        ),
        (
            "jobindsats_offers",
            crate::parse::jobindsats::COLUMNS,
            "quarter",
        ),
    ];
    for (name, cols, partition) in raw {
        let exists = ctx.table_exist(name).map_err(|e| QueryError::Register {
            table: name.into(),
            message: e.to_string(),
        })?;
        if !exists {
            let base = land::schema(cols);
            let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new(partition, DataType::Utf8, false));
            register(ctx, name, Arc::new(Schema::new(fields)), vec![])?;
            missing.push(name.to_string());
        }
    }
    Ok(missing)
}

/// Casts query output to a mart's declared schema (names and types of the spec).
fn conform(batches: &[RecordBatch], spec: &[ColumnSpec]) -> Result<Vec<RecordBatch>, QueryError> {
    let schema = land::schema(spec);
    let fmt = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    batches
        .iter()
        .map(|b| {
            let cols = schema
                .fields()
                .iter()
                .map(|f| {
                    let col = b
                        .column_by_name(f.name())
                        .ok_or_else(|| QueryError::Format {
                            message: format!("query output lacks column `{}`", f.name()),
                        })?;
                    cast(col, f.data_type()).map_err(fmt)
                })
                .collect::<Result<Vec<_>, _>>()?;
            RecordBatch::try_new(schema.clone(), cols).map_err(fmt)
        })
        .collect()
}

fn period_mask(
    batch: &RecordBatch,
    column: &str,
    periods: &BTreeSet<String>,
    keep_inside: bool,
) -> Result<RecordBatch, QueryError> {
    let fmt = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    let col = batch
        .column_by_name(column)
        .ok_or_else(|| QueryError::Format {
            message: format!("no `{column}` column"),
        })?;
    let col = cast(col, &DataType::Utf8).map_err(fmt)?;
    let strings = col
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| QueryError::Format {
            message: "period is not text".into(),
        })?;
    let mask: BooleanArray = (0..strings.len())
        .map(|i| Some(periods.contains(strings.value(i)) == keep_inside))
        .collect();
    filter_record_batch(batch, &mask).map_err(fmt)
}

fn read_mart(lake: &Path, name: &str) -> Vec<RecordBatch> {
    let path = lake.join("marts").join(name).join("part-0.parquet");
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(file) else {
        return Vec::new();
    };
    builder
        .build()
        .map(|r| r.flatten().collect())
        .unwrap_or_default()
}

/// Replaces a mart with `batches` (one file, atomically).
fn write_mart(
    cfg: &Config,
    run_id: &str,
    name: &str,
    spec: &[ColumnSpec],
    batches: &[RecordBatch],
) -> Result<usize, Error> {
    let staging = Staging::new(&cfg.lake.path, run_id)?;
    let mut w = staging.partition(PathBuf::from("marts").join(name), land::schema(spec))?;
    let mut rows = 0;
    for b in batches {
        w.write_batch(b)?;
        rows += b.num_rows();
    }
    let part = w.finish()?;
    staging.commit(&[part])?;
    Ok(rows)
}

/// The marts, in the order they are built.
pub const MART_NAMES: [&str; QUERIES.len()] = {
    let mut names = [""; QUERIES.len()];
    let mut i = 0;
    while i < QUERIES.len() {
        names[i] = QUERIES[i].0;
        i += 1;
    }
    names
};

/// The queries in the order they run: mart, file, SQL, schema. Later ones read earlier marts.
const QUERIES: [(&str, &str, &str, &[ColumnSpec]); 6] = [
    (
        "target_metrics",
        "queries/target_metrics.sql",
        TARGET_METRICS_SQL,
        TARGET_METRICS,
    ),
    (
        "project_average",
        "queries/project_average.sql",
        PROJECT_AVERAGE_SQL,
        PROJECT_AVERAGE,
    ),
    (
        "metric_comparison",
        "queries/metric_comparison.sql",
        METRIC_COMPARISON_SQL,
        METRIC_COMPARISON,
    ),
    (
        "maanedsbog",
        "queries/maanedsbog.sql",
        MAANEDSBOG_SQL,
        MAANEDSBOG,
    ),
    (
        "maanedsbog_afdeling",
        "queries/maanedsbog_afdeling.sql",
        MAANEDSBOG_AFDELING_SQL,
        MAANEDSBOG_AFDELING,
    ),
    (
        "maanedsbog_visibility",
        "queries/maanedsbog_visibility.sql",
        MAANEDSBOG_VISIBILITY_SQL,
        MAANEDSBOG_VISIBILITY,
    ),
];

fn params(cfg: &Config) -> [(&'static str, ScalarValue); 3] {
    let m = &cfg.metrics;
    [
        ("min_weeks", ScalarValue::Int64(Some(m.min_weeks))),
        ("measure", ScalarValue::Utf8(Some(m.measure.clone()))),
        (
            "jobparat",
            ScalarValue::Utf8(Some(m.jobparat_label.clone())),
        ),
    ]
}

/// Plans every query in `queries/` against the lake's schemas (tables not landed yet
/// count as empty, with their documented schema) without running any: what
/// `maaltal validate` checks. Returns the files planned.
pub async fn plan_all(cfg: &Config) -> Result<Vec<String>, Error> {
    let lake = &cfg.lake.path;
    let ctx = if lake.exists() {
        query::session(lake).await?
    } else {
        SessionContext::new()
    };
    register_inputs(&ctx, cfg)?;
    let params = params(cfg);
    let mut planned = Vec::new();
    for (name, file, sql, spec) in QUERIES {
        let df = plan_file(&ctx, file, sql, &params).await?;
        // The query's columns must be the mart's contract.
        let got: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let want: Vec<String> = spec.iter().map(|(c, _, _)| (*c).to_string()).collect();
        if got != want {
            return Err(QueryError::Sql {
                query: format!("{file}:1:1"),
                message: format!(
                    "the query's columns {got:?} are not the mart's {want:?} (docs/lake.md)"
                ),
            }
            .into());
        }
        // Later queries read this mart: plan them against its schema.
        register(&ctx, name, land::schema(spec), Vec::new())?;
        planned.push(file.to_string());
    }
    Ok(planned)
}

/// Builds the marts; with `period`, only that period's rows are replaced.
pub async fn transform(
    cfg: &Config,
    run_id: &str,
    period: Option<Period>,
) -> Result<TransformReport, Error> {
    transform_periods(cfg, run_id, period.map(|p| vec![p]).as_deref()).await
}

/// Builds the marts; with `periods`, only their rows are replaced, and the DREAM tables
/// are narrowed to their quarters first, so a quarter's run reads one quarter of the
/// lake, not all of it (at national scale: 13 million week rows instead of 156).
pub async fn transform_periods(
    cfg: &Config,
    run_id: &str,
    periods: Option<&[Period]>,
) -> Result<TransformReport, Error> {
    let lake = &cfg.lake.path;
    std::fs::create_dir_all(lake).map_err(land::io_err(lake, "create lake"))?;
    let _lock = crate::lock::acquire(lake, "transform", crate::lock::WAIT_LIMIT).await?;
    land::recover(lake)?;
    let ctx = query::session(lake).await?;
    let missing_tables = register_inputs(&ctx, cfg)?;
    let params = params(cfg);
    let mut report = TransformReport {
        marts: Vec::new(),
        missing_tables,
        missing_metrics: Vec::new(),
    };
    let covered: Option<BTreeSet<String>> =
        periods.map(|ps| ps.iter().flat_map(|p| covered_periods(*p)).collect());
    let covered_months: Option<BTreeSet<String>> = periods.map(|ps| {
        ps.iter()
            .flat_map(|p| p.months())
            .map(|m| m.to_string())
            .collect()
    });
    if let Some(keys) = &covered {
        narrow_dream(&ctx, keys).await?;
    }

    for (name, file, sql, spec) in QUERIES {
        let fresh = conform(&run_file(&ctx, file, sql, &params).await?, spec)?;
        let (column, keys) = if name.starts_with("maanedsbog") {
            ("month", &covered_months)
        } else {
            ("period", &covered)
        };
        let batches = match keys {
            None => fresh,
            Some(periods) => {
                let mut out = Vec::new();
                for b in read_mart(lake, name) {
                    out.push(period_mask(&b, column, periods, false)?);
                }
                for b in &fresh {
                    out.push(period_mask(b, column, periods, true)?);
                }
                if name == "target_metrics" {
                    report.missing_metrics = missing_metrics(&out, periods)?;
                }
                out
            }
        };
        let rows = write_mart(cfg, run_id, name, spec, &batches)?;
        register(&ctx, name, land::schema(spec), batches)?;
        report.marts.push((name.to_string(), rows));
        crate::progress::advance(1);
    }
    Ok(report)
}

/// Replaces the DREAM tables by views of the covered quarters only. Rows of other
/// quarters would be masked out after the query anyway; the filter on the partition
/// column means their files are never opened.
async fn narrow_dream(ctx: &SessionContext, keys: &BTreeSet<String>) -> Result<(), QueryError> {
    use datafusion::prelude::{col, lit};
    let quarters: Vec<datafusion::prelude::Expr> = keys
        .iter()
        .filter(|k| k.contains('Q'))
        .map(|k| lit(k.as_str()))
        .collect();
    for table in ["dream_persons", "dream_weeks"] {
        let err = |e: datafusion::error::DataFusionError| QueryError::Register {
            table: table.to_string(),
            message: e.to_string(),
        };
        if !ctx.table_exist(table).map_err(err)? {
            continue;
        }
        let predicate = if quarters.is_empty() {
            lit(false)
        } else {
            col("quarter").in_list(quarters.clone(), false)
        };
        let view = ctx
            .table(table)
            .await
            .map_err(err)?
            .filter(predicate)
            .map_err(err)?;
        ctx.deregister_table(table).map_err(err)?;
        ctx.register_table(table, view.into_view()).map_err(err)?;
    }
    Ok(())
}

/// Quarters landed in `raw/dream` that have no M1 row in the `target_metrics` mart
/// yet (landed by hand, never transformed): the quarterly job computes them too.
#[must_use]
pub fn unmarted_quarters(lake: &Path) -> Vec<Period> {
    let Ok(dirs) = std::fs::read_dir(lake.join("raw/dream/persons")) else {
        return Vec::new();
    };
    let landed: BTreeSet<String> = dirs
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("quarter=").map(str::to_string)
        })
        .collect();
    let mut marted = BTreeSet::new();
    for b in read_mart(lake, "target_metrics") {
        let (Some(metric), Some(period)) = (
            b.column_by_name("metric")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>()),
            b.column_by_name("period")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>()),
        ) else {
            continue;
        };
        for i in 0..b.num_rows() {
            if metric.value(i) == "M1" {
                marted.insert(period.value(i).to_string());
            }
        }
    }
    landed
        .difference(&marted)
        .filter_map(|q| q.parse().ok())
        .collect()
}

fn missing_metrics(
    batches: &[RecordBatch],
    periods: &BTreeSet<String>,
) -> Result<Vec<String>, QueryError> {
    let mut have: BTreeSet<String> = BTreeSet::new();
    for b in batches {
        let b = period_mask(b, "period", periods, true)?;
        let metric = b
            .column_by_name("metric")
            .map(|c| cast(c, &DataType::Utf8))
            .transpose()
            .map_err(|e| QueryError::Format {
                message: e.to_string(),
            })?;
        if let Some(metric) = metric
            .as_ref()
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        {
            for i in 0..metric.len() {
                have.insert(metric.value(i).to_string());
            }
        }
    }
    let quarterly = periods.iter().any(|p| p.contains('Q'));
    Ok(crate::config::METRICS
        .iter()
        .filter(|m| quarterly || **m == "M2")
        .filter(|m| !have.contains(**m))
        .map(|m| {
            let source = match *m {
                "M2" => "jobindsats_visitation",
                "M3" => "jobindsats_offers",
                _ => "dream_persons/dream_weeks",
            };
            format!(
                "{m}: no data for {} (source `{source}` not landed for the period)",
                periods.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sql_errors_name_file_line_and_column() {
        let ctx = SessionContext::new();
        let sql = "-- description: x\n-- params:\nselect 1,\n       2 3\nfrom t";
        let err = run_file(&ctx, "queries/broken.sql", sql, &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("queries/broken.sql:4:10: "), "{err}");
        let sql = "-- description: x\nselect a,\n       nope\nfrom (select 1 as a) t";
        let err = run_file(&ctx, "queries/unknown.sql", sql, &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("queries/unknown.sql:3:8: "), "{err}");
        let sql = "select 1 from missing_table";
        let err = run_file(&ctx, "queries/t.sql", sql, &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("queries/t.sql:1:15: "), "{err}");
    }

    #[tokio::test]
    async fn a_declared_parameter_without_a_value_is_an_error() {
        let ctx = SessionContext::new();
        let sql = "-- params: limit_rows int64\nselect 1 where 1 < $limit_rows";
        let err = run_file(&ctx, "queries/p.sql", sql, &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("parameter `$limit_rows` has no value"),
            "{err}"
        );
        let ok = run_file(
            &ctx,
            "queries/p.sql",
            sql,
            &[("limit_rows", ScalarValue::Int64(Some(5)))],
        )
        .await
        .unwrap();
        assert_eq!(ok[0].num_rows(), 1);
    }

    #[test]
    fn a_quarter_covers_its_months_for_m2() {
        let c = covered_periods("2018Q4".parse().unwrap());
        assert_eq!(
            c.into_iter().collect::<Vec<_>>(),
            ["2018M10", "2018M11", "2018M12", "2018Q4"]
        );
    }
}
