//! `DataFusion` over the lake: every table registered by name (Hive partition columns
//! included), so analysts write `select … from dream_persons` without paths.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::EngineConfig;
use crate::extract::Blame;
use crate::lake;

/// Errors of the query stage.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The SQL is wrong (unknown table or column, syntax).
    #[error("{query}: {message}")]
    Sql {
        /// Which query (`<command line>` or a file).
        query: String,
        /// The message of `DataFusion`.
        message: String,
    },
    /// A statement that writes, or names files, where only reading the lake is allowed.
    #[error(
        "{query}: refused, `maaltal sql` only reads the lake ({message}); give a query (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE) over its tables"
    )]
    ReadOnly {
        /// Which query.
        query: String,
        /// What `DataFusion` found in the plan (`DML not supported: COPY`).
        message: String,
    },
    /// A lake table could not be registered.
    #[error("table `{table}`: {message}")]
    Register {
        /// Table.
        table: String,
        /// Message.
        message: String,
    },
    /// The result could not be printed.
    #[error("formatting the result: {message}")]
    Format {
        /// Message.
        message: String,
    },
    /// The Ballista cluster of `[engine]` cannot be reached.
    #[error("`[engine] scheduler` = {scheduler}: {message}")]
    Cluster {
        /// `df://host:port`.
        scheduler: String,
        /// What happened, and what to do.
        message: String,
    },
}

impl QueryError {
    /// Whose problem it is.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            Self::Sql { .. } | Self::ReadOnly { .. } => Blame::User,
            Self::Register { .. } | Self::Format { .. } => Blame::Internal,
            Self::Cluster { .. } => Blame::External,
        }
    }
}

/// The type of a Hive partition column.
#[must_use]
pub fn partition_type(key: &str) -> DataType {
    if key == "kommune" {
        DataType::Int32
    } else {
        DataType::Utf8
    }
}

/// The engine's runtime: a memory pool of `[engine] memory_limit_mib` shared fairly by
/// the operators that can spill (aggregations, sorts), and the folder they spill to.
pub fn runtime(engine: &EngineConfig) -> Result<Arc<RuntimeEnv>, QueryError> {
    use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
    use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
    let mut builder = RuntimeEnvBuilder::new();
    if let Some(limit) = engine.memory_limit {
        // The pool names its largest consumers when a query cannot fit.
        builder = builder.with_memory_pool(Arc::new(TrackConsumersPool::new(
            FairSpillPool::new(limit),
            std::num::NonZeroUsize::MIN.saturating_add(2),
        )));
    }
    if let Some(dir) = &engine.spill_path {
        std::fs::create_dir_all(dir).map_err(|e| QueryError::Register {
            table: "(engine)".into(),
            message: format!(
                "`[engine] spill_path` = {}: cannot create the spill folder: {e}",
                dir.display()
            ),
        })?;
        builder = builder.with_disk_manager_builder(
            DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
        );
    }
    builder.build_arc().map_err(|e| QueryError::Register {
        table: "(engine)".into(),
        message: format!("setting up the engine (memory limit, spill folder): {e}"),
    })
}

/// The engine's message when a query did not fit in its memory limit, with what to do
/// about it; any other message unchanged.
#[must_use]
pub fn memory_hint(message: String, engine: &EngineConfig) -> String {
    if message.contains("partition not used yet") {
        // DataFusion 55.2's nested-loop join, out of memory with more than one
        // partition, executes its input again and panics (apache/datafusion#24676).
        return format!(
            "{message} (DataFusion fails this way when a join runs out of memory: raise `[engine] memory_limit_mib`, or set `[engine] partitions = 1`)"
        );
    }
    if !message.contains("Resources exhausted") {
        return message;
    }
    let limit = engine
        .memory_limit_mib()
        .map_or_else(|| "no limit".to_string(), |m| format!("{m} MiB"));
    format!(
        "{message} (the query needs more memory than `[engine] memory_limit_mib` ({limit}) gives, and the part that ran out cannot spill to disk: raise the limit)"
    )
}

/// The largest join side that is built once and shared (see [`session`]).
const BROADCAST_JOIN_BYTES: usize = 64 << 20;
/// The same in rows.
const BROADCAST_JOIN_ROWS: usize = 4_000_000;

/// A session with every lake table registered, on the engine `[engine]` describes.
pub async fn session(
    lake_root: &Path,
    engine: &EngineConfig,
) -> Result<SessionContext, QueryError> {
    let mut config = SessionConfig::new().with_information_schema(true);
    // A join whose smaller side is up to this big builds its hash table once and every
    // partition probes it, instead of both sides being hash-partitioned first. A
    // per-person metric's population (some 200,000 persons, 15 MB) against 155 million week rows: the
    // repartitioning of the week rows was half of the query (DataFusion's defaults are
    // 1 MB and 128 Ki rows).
    let optimizer = &mut config.options_mut().optimizer;
    optimizer.hash_join_single_partition_threshold = BROADCAST_JOIN_BYTES;
    optimizer.hash_join_single_partition_threshold_rows = BROADCAST_JOIN_ROWS;
    if let Some(n) = engine.partitions {
        config = config.with_target_partitions(n);
    }
    let ctx = SessionContext::new_with_config_rt(config, runtime(engine)?);
    let root = std::path::absolute(lake_root).unwrap_or_else(|_| lake_root.to_path_buf());
    for t in lake::tables(&root) {
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(
                t.partition_keys
                    .iter()
                    .map(|k| (k.clone(), partition_type(k)))
                    .collect(),
            );
        let url = format!("{}/", t.dir.display());
        ctx.register_listing_table(&t.name, &url, options, None, None)
            .await
            .map_err(|e| QueryError::Register {
                table: t.name.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(ctx)
}

/// What a query over the lake may do: read its registered tables. No DDL (`CREATE
/// EXTERNAL TABLE` would read any file on the machine), no DML or `COPY` (writes files),
/// no statements (`SET`, transactions).
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Did a writer replace a file while this reader listed and read it? A commit swaps a
/// whole partition folder atomically, but a reader that listed the old file (with its
/// size) and reads after the swap finds another file, or none, at that path: reading
/// again sees the new partition whole.
fn changed_underneath(e: &QueryError) -> bool {
    let message = match e {
        QueryError::Register { message, .. } | QueryError::Sql { message, .. } => message,
        QueryError::ReadOnly { .. } | QueryError::Format { .. } | QueryError::Cluster { .. } => {
            return false;
        }
    };
    [
        "Parquet error",
        "Object at location",
        "No such file or directory",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Runs one read-only SQL statement over the lake ([`read_only`]): anything else is
/// refused before it runs, so nothing is written and no file outside the lake is read.
/// A query that meets a partition being replaced by a writer (`serve`, a transform) is
/// run again, up to five times.
pub async fn run_sql(
    lake_root: &Path,
    engine: &EngineConfig,
    sql: &str,
    query_name: &str,
) -> Result<Vec<RecordBatch>, QueryError> {
    let mut attempt = 0;
    loop {
        match run_sql_once(lake_root, engine, sql, query_name).await {
            Err(e) if attempt < 5 && changed_underneath(&e) => {
                attempt += 1;
                tracing::debug!(attempt, error = %e, "a lake file changed while it was read; reading again");
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn run_sql_once(
    lake_root: &Path,
    engine: &EngineConfig,
    sql: &str,
    query_name: &str,
) -> Result<Vec<RecordBatch>, QueryError> {
    let ctx = session(lake_root, engine).await?;
    let err = |e: datafusion::error::DataFusionError| QueryError::Sql {
        query: query_name.to_string(),
        message: memory_hint(e.to_string(), engine),
    };
    let plan = ctx.state().create_logical_plan(sql).await.map_err(|e| {
        let mut message = e.to_string();
        if message.contains("not found") && message.contains("table") {
            // Say what there is to query (`maaltal tables` lists them with partitions).
            let names: Vec<String> = lake::tables(lake_root)
                .into_iter()
                .map(|t| format!("`{}`", t.name))
                .collect();
            message = if names.is_empty() {
                format!(
                    "{message}; the lake at {} holds no tables yet",
                    lake_root.display()
                )
            } else {
                format!("{message}; the lake's tables: {}", names.join(", "))
            };
        }
        QueryError::Sql {
            query: query_name.to_string(),
            message,
        }
    })?;
    read_only()
        .verify_plan(&plan)
        .map_err(|e| QueryError::ReadOnly {
            query: query_name.to_string(),
            message: e
                .strip_backtrace()
                .trim_start_matches("Error during planning: ")
                .to_string(),
        })?;
    let df = ctx.execute_logical_plan(plan).await.map_err(err)?;
    df.collect().await.map_err(err)
}

/// Output formats of `maaltal sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A boxed text table.
    Table,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Renders batches in a format.
pub fn render(batches: &[RecordBatch], format: Format) -> Result<String, QueryError> {
    let ferr = |e: arrow::error::ArrowError| QueryError::Format {
        message: e.to_string(),
    };
    match format {
        Format::Table => Ok(arrow::util::pretty::pretty_format_batches(batches)
            .map_err(ferr)?
            .to_string()),
        Format::Csv => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut buf);
                for b in batches {
                    w.write(b).map_err(ferr)?;
                }
            }
            String::from_utf8(buf).map_err(|e| QueryError::Format {
                message: e.to_string(),
            })
        }
        Format::Json => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::json::ArrayWriter::new(&mut buf);
                for b in batches {
                    w.write(b).map_err(ferr)?;
                }
                w.finish().map_err(ferr)?;
            }
            let s = String::from_utf8(buf).map_err(|e| QueryError::Format {
                message: e.to_string(),
            })?;
            Ok(if s.is_empty() { "[]".into() } else { s })
        }
    }
}
