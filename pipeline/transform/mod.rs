//! Transform: the SQL in `queries/` over the lake → the marts `target_metrics` and
//! `project_average`, written whole and atomically (staging, then rename).
//!
//! ```text
//! raw tables ─┐
//! config ─────┼─► queries/imi/target_metrics.sql ─► marts/target_metrics ─► queries/imi/project_average.sql ─► marts/project_average
//! (tables)    ┘
//! ```
//! Config enters SQL as small registered tables (`program_municipalities`,
//! `municipality_names`, `metric_categories`, `settings`) and bound parameters
//! (`$min_weeks`, …); nothing is formatted into SQL text. A raw table that has not been
//! landed is registered empty, so the metrics the other sources allow are still
//! computed, and the report names what is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::config::Config;
use crate::error::Error;
use crate::land::{self, Staging};
use crate::period::Period;
use crate::query::{self, QueryError};

mod inputs;
mod marts;
mod notes;
mod sql;
use inputs::{narrow_register, register, register_inputs};
pub use marts::{Mart, PeriodKey};
pub use sql::{Spilled, declared_params, plan_file as plan_query, run_file as run_query};
use sql::{plan_file, run_file};

/// What a transform did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransformReport {
    /// Mart name and its rows after the transform.
    pub marts: Vec<(String, usize)>,
    /// Raw tables that were not in the lake.
    pub missing_tables: Vec<String>,
    /// For a requested period: metrics with no rows, and why.
    pub missing_metrics: Vec<String>,
    /// Comparison values that could not be computed, and why.
    pub comparison_notes: Vec<String>,
    /// Queries that spilled to disk to stay within `[engine] memory_limit_mib`.
    pub spilled: Vec<(String, Spilled)>,
    /// With `[engine] kind = "ballista"`: the query files the cluster could not run,
    /// which ran in this process instead, and why.
    pub fallbacks: Vec<String>,
}

/// The period strings of the marts that a requested period covers: a quarter covers
/// itself (a quarterly metric's key) and its months (a monthly one's, `2018M10`); a
/// month covers itself.
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

/// Casts query output to a mart's declared schema (names and types of the spec).
fn conform(batches: &[RecordBatch], schema: &SchemaRef) -> Result<Vec<RecordBatch>, QueryError> {
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

/// The rows of programme `id` (`ours`), or of the other programmes, of a mart's batch;
/// a mart without a `program` column is the one programme's.
fn programme_rows(batch: &RecordBatch, id: &str, ours: bool) -> Result<RecordBatch, QueryError> {
    let Some(col) = batch.column_by_name("program") else {
        return Ok(if ours {
            batch.clone()
        } else {
            batch.slice(0, 0)
        });
    };
    let fmt = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    let col = cast(col, &DataType::Utf8).map_err(fmt)?;
    let Some(strings) = col.as_any().downcast_ref::<StringArray>() else {
        return Ok(batch.clone());
    };
    let mask: BooleanArray = (0..strings.len())
        .map(|i| Some((strings.is_valid(i) && strings.value(i) == id) == ours))
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
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<usize, Error> {
    let staging = Staging::new(&cfg.lake.path, run_id)?;
    let mut w = staging.partition(PathBuf::from("marts").join(name), schema.clone())?;
    let mut rows = 0;
    for b in batches {
        w.write_batch(b)?;
        rows += b.num_rows();
    }
    let part = w.finish()?;
    staging.commit(&[part])?;
    Ok(rows)
}

/// The programme's marts, in the order they are built: `queries/*.sql` (embedded, or
/// the folder `[program] queries` names), each after the marts it reads.
pub fn marts(cfg: &Config) -> Result<std::borrow::Cow<'static, [Mart]>, QueryError> {
    match &cfg.program.queries {
        Some(dir) => Ok(std::borrow::Cow::Owned(marts::load_dir(dir)?)),
        None => match crate::config::programmes::embedded_queries(&cfg.program.id) {
            Some(files) => Ok(std::borrow::Cow::Owned(marts::load_embedded(files)?)),
            None => Ok(std::borrow::Cow::Borrowed(marts::embedded())),
        },
    }
}

fn params(cfg: &Config) -> [(&'static str, ScalarValue); 5] {
    let m = &cfg.metrics;
    let c = &cfg.comparison;
    [
        (
            "min_municipalities",
            ScalarValue::Int64(Some(c.min_municipalities)),
        ),
        (
            "min_reference_persons",
            ScalarValue::Int64(Some(c.min_reference_persons)),
        ),
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
        query::session(lake, &cfg.engine).await?
    } else {
        SessionContext::new()
    };
    register_inputs(&ctx, cfg)?;
    let params = params(cfg);
    let mut planned = Vec::new();
    for mart in marts(cfg)?.iter() {
        let file = mart.file.as_str();
        let df = plan_file(&ctx, file, &mart.sql, &params).await?;
        // The query's columns must be the mart's contract.
        let got: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let want: Vec<String> = mart
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        if got != want {
            return Err(QueryError::Sql {
                query: format!("{file}:1:1"),
                message: format!(
                    "the query's columns {got:?} are not its header's `-- columns:` {want:?}"
                ),
            }
            .into());
        }
        // Later queries read this mart: plan them against its schema.
        register(&ctx, &mart.name, mart.schema.clone(), Vec::new())?;
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

/// Builds the marts; with `periods`, only their rows are replaced, and the wide-weeks
/// register's tables are narrowed to their quarters first, so a quarter's run reads one quarter of the
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
    let ctx = query::session(lake, &cfg.engine).await?;
    let missing_tables = register_inputs(&ctx, cfg)?;
    let params = params(cfg);
    let mut report = TransformReport {
        marts: Vec::new(),
        missing_tables,
        missing_metrics: Vec::new(),
        comparison_notes: Vec::new(),
        spilled: Vec::new(),
        fallbacks: Vec::new(),
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
        narrow_register(&ctx, cfg, keys).await?;
    }
    let mut cluster = match &cfg.engine.cluster {
        Some(c) => Some(crate::cluster::Cluster::connect(c, &ctx, lake, run_id).await?),
        None => None,
    };

    for mart in marts(cfg)?.iter() {
        let (name, file) = (mart.name.as_str(), mart.file.as_str());
        let ran = match cluster.as_mut() {
            Some(c) => c
                .run(&ctx, file, &mart.sql, &params)
                .await
                .map(|(rows, spill, why)| {
                    if let Some(why) = why {
                        tracing::warn!(
                            stage = "transform",
                            "{file}: ran in this process, not on the cluster: {why}"
                        );
                        report.fallbacks.push(format!("{file}: {why}"));
                    }
                    (rows, spill)
                }),
            None => run_file(&ctx, file, &mart.sql, &params).await,
        };
        let (fresh, spill) = ran.map_err(|e| match e {
            QueryError::Sql { query, message } => QueryError::Sql {
                query,
                message: query::memory_hint(message, &cfg.engine),
            },
            other => other,
        })?;
        if spill.files > 0 {
            tracing::info!(
                stage = "transform",
                "{file}: spilled {} MiB to disk in {} file(s) to stay within the memory limit of {} MiB",
                spill.bytes >> 20,
                spill.files,
                cfg.engine.memory_limit_mib().unwrap_or(0)
            );
            report.spilled.push((name.to_string(), spill));
        }
        let fresh = conform(&fresh, &mart.schema)?;
        let (column, keys) = match &mart.key {
            PeriodKey::Month(c) => (c.as_str(), &covered_months),
            PeriodKey::Period(c) => (c.as_str(), &covered),
        };
        // A mart with a `program` column is shared by the programmes of one lake: a
        // programme replaces its own rows and keeps the others'.
        let id = cfg.program.id.as_str();
        let old = read_mart(lake, name);
        let others = old
            .iter()
            .map(|b| programme_rows(b, id, false))
            .collect::<Result<Vec<_>, _>>()?;
        let batches = match keys {
            None => fresh,
            Some(periods) => {
                let mut out = Vec::new();
                for b in &old {
                    let b = programme_rows(b, id, true)?;
                    out.push(period_mask(&b, column, periods, false)?);
                }
                for b in &fresh {
                    out.push(period_mask(b, column, periods, true)?);
                }
                if name == "target_metrics" {
                    report.missing_metrics =
                        missing_metrics(&out, periods, &cfg.metrics.catalogue)?;
                }
                out
            }
        };
        let all: Vec<RecordBatch> = others
            .into_iter()
            .filter(|b| b.num_rows() > 0)
            .chain(batches.iter().cloned())
            .collect();
        write_mart(cfg, run_id, name, &mart.schema, &all)?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        register(&ctx, name, mart.schema.clone(), batches)?;
        report.marts.push((name.to_string(), rows));
        crate::progress::advance(1);
    }
    report.comparison_notes = notes::expected_notes(
        &ctx,
        covered.as_ref(),
        cfg.comparison.min_reference_persons,
        cfg.sources
            .wide_weeks
            .as_ref()
            .map_or("register", |w| w.title.as_str()),
    )
    .await?;
    Ok(report)
}

/// Quarters of the wide-weeks register landed in the lake that have no row of a
/// per-person metric (the catalogue's `per_person`) in the `target_metrics` mart yet
/// (landed by hand, never transformed): the quarterly job computes them too.
#[must_use]
pub fn unmarted_quarters(cfg: &Config) -> Vec<Period> {
    let lake = &cfg.lake.path;
    let Some(w) = &cfg.sources.wide_weeks else {
        return Vec::new();
    };
    let Ok(dirs) = std::fs::read_dir(lake.join("raw").join(&w.name).join("persons")) else {
        return Vec::new();
    };
    let per_person: BTreeSet<&str> = cfg
        .metrics
        .catalogue
        .iter()
        .filter(|m| m.per_person)
        .map(|m| m.metric.as_str())
        .collect();
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
            if per_person.contains(metric.value(i)) {
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
    catalogue: &[crate::config::MetricInfo],
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
    Ok(catalogue
        .iter()
        .filter(|m| quarterly || m.monthly)
        .filter(|m| !have.contains(&m.metric))
        .map(|m| {
            format!(
                "{}: no data for {} (source `{}` not landed for the period)",
                m.metric,
                periods.iter().cloned().collect::<Vec<_>>().join(", "),
                m.tables
            )
        })
        .collect())
}

#[cfg(test)]
mod tests;
