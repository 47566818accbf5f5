//! The marts on an Apache `DataFusion` Ballista cluster (`[engine] kind = "ballista"`):
//! the same `queries/` files, planned here and run by the cluster's executors.
//!
//! ```text
//!  transform ─ session (lake tables, config tables, marts built so far)
//!     │ config tables and marts live in memory here: written as Arrow IPC files in
//!     │ <lake>/_engine/<run>/ first, so the executors read them as they read the lake
//!     ▼
//!  one query ──df://scheduler──► executors ──► rows ──► the mart, written here
//!     └ the cluster fails or exceeds query_timeout_secs: the query runs in this
//!       process instead, and the transform says which and why (never silently)
//! ```
//! Executors read the lake's files by their paths: on this machine, or on storage they
//! all see (docs/scale-out.md).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::ipc::writer::FileWriter;
use ballista::prelude::SessionContextExt as _;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::arrow::ArrowFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::union::{InterleaveExec, UnionExec};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::config::ClusterConfig;
use crate::query::QueryError;

pub mod node;

/// A transform's connection to the cluster.
pub struct Cluster {
    remote: SessionContext,
    scratch: PathBuf,
    written: HashSet<String>,
    config: ClusterConfig,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn err(table: &str, e: impl std::fmt::Display) -> QueryError {
    QueryError::Register {
        table: table.to_string(),
        message: e.to_string(),
    }
}

/// `host:port` of `df://host:port`.
fn host_port(scheduler: &str) -> &str {
    scheduler.strip_prefix("df://").unwrap_or(scheduler)
}

/// The operator of a query's plan that Ballista 55 does not run right, if any: a union
/// (`UNION`, `UNION ALL`). Its tasks each get some of the union's inputs, and the
/// scheduler mixes them up: with the sample programme's main mart, one union input's
/// rows came twice and another's not at all, or a task's status was dropped ("task metrics array size 12
/// does not equal with the stage metrics array size 11") and the job never ended.
async fn not_for_ballista(
    local: &SessionContext,
    file: &str,
    sql: &str,
    params: &[(&str, ScalarValue)],
) -> Result<Option<&'static str>, QueryError> {
    fn find(plan: &dyn ExecutionPlan) -> Option<&'static str> {
        let any: &dyn std::any::Any = plan;
        if any.is::<UnionExec>() || any.is::<InterleaveExec>() {
            return Some("union (UNION / UNION ALL)");
        }
        plan.children().into_iter().find_map(|c| find(c.as_ref()))
    }
    let plan = crate::transform::plan_query(local, file, sql, params)
        .await?
        .create_physical_plan()
        .await
        .map_err(|e| QueryError::Sql {
            query: file.to_string(),
            message: e.to_string(),
        })?;
    Ok(find(plan.as_ref()))
}

impl Cluster {
    /// Connects `local`'s session to the cluster: both see the same tables. The error
    /// names `[engine] scheduler` when nothing answers there.
    pub async fn connect(
        config: &ClusterConfig,
        local: &SessionContext,
        lake: &Path,
        run_id: &str,
    ) -> Result<Self, QueryError> {
        let addr = host_port(&config.scheduler);
        let reach = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(addr),
        )
        .await;
        if !matches!(reach, Ok(Ok(_))) {
            return Err(QueryError::Cluster {
                scheduler: config.scheduler.clone(),
                message: format!(
                    "no Ballista scheduler answers there; start one (`maaltal cluster --bind {addr} --executors 2`) or set `[engine] kind = \"in_process\"`"
                ),
            });
        }
        // Ballista's session starts with an empty default catalog in the catalog list it
        // shares with `local`: the tables registered so far are put back, for both.
        let tables = local.catalog("datafusion");
        let remote = SessionContext::remote_with_state(&config.scheduler, local.state())
            .await
            .map_err(|e| QueryError::Cluster {
                scheduler: config.scheduler.clone(),
                message: e.to_string(),
            })?;
        if let Some(tables) = tables {
            remote.register_catalog("datafusion", tables.clone());
            local.register_catalog("datafusion", tables);
        }
        let lake = std::path::absolute(lake).unwrap_or_else(|_| lake.to_path_buf());
        Ok(Self {
            remote,
            scratch: lake.join("_engine").join(run_id),
            written: HashSet::new(),
            config: config.clone(),
        })
    }

    /// Writes each in-memory table of the session (config tables, the marts built so
    /// far) to Parquet in the scratch folder and registers it from there instead, so
    /// the executors can read it.
    async fn share_tables(&mut self) -> Result<(), QueryError> {
        let names: Vec<String> = self
            .remote
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default();
        for name in names {
            let Some(provider) = self.remote.table_provider(&name).await.ok() else {
                continue;
            };
            let any: &dyn std::any::Any = provider.as_ref();
            if !any.is::<MemTable>() {
                continue;
            }
            let schema = provider.schema();
            let batches: Vec<RecordBatch> = SessionContext::new()
                .read_table(provider)
                .map_err(|e| err(&name, e))?
                .collect()
                .await
                .map_err(|e| err(&name, e))?;
            let mut n = 0;
            let dir = loop {
                let d = self.scratch.join(format!("{name}-{n}"));
                if self.written.insert(d.display().to_string()) {
                    break d;
                }
                n += 1;
            };
            std::fs::create_dir_all(&dir).map_err(|e| err(&name, e))?;
            // Arrow IPC, not Parquet: config tables hold types Parquet cannot (the
            // intervals of `age_bands`), and these files live for one transform.
            let file =
                std::fs::File::create(dir.join("part-0.arrow")).map_err(|e| err(&name, e))?;
            let mut w = FileWriter::try_new(file, &schema).map_err(|e| err(&name, e))?;
            for b in &batches {
                w.write(b).map_err(|e| err(&name, e))?;
            }
            w.finish().map_err(|e| err(&name, e))?;
            // Built first and swapped in without an await between: a query cancelled
            // here (its timeout) never leaves the table missing.
            let options = ListingOptions::new(Arc::new(ArrowFormat)).with_file_extension(".arrow");
            let url =
                ListingTableUrl::parse(format!("{}/", dir.display())).map_err(|e| err(&name, e))?;
            let config = ListingTableConfig::new(url)
                .with_listing_options(options)
                .with_schema(schema);
            let table = ListingTable::try_new(config).map_err(|e| err(&name, e))?;
            self.remote
                .deregister_table(&name)
                .map_err(|e| err(&name, e))?;
            self.remote
                .register_table(&name, Arc::new(table))
                .map_err(|e| err(&name, e))?;
        }
        Ok(())
    }

    /// Runs one query file on the cluster. When the cluster cannot (an error, or no
    /// answer within `query_timeout_secs`), it runs in `local` instead and the reason
    /// comes back with the rows, for the transform to say.
    pub async fn run(
        &mut self,
        local: &SessionContext,
        file: &str,
        sql: &str,
        params: &[(&str, ScalarValue)],
    ) -> Result<(Vec<RecordBatch>, crate::transform::Spilled, Option<String>), QueryError> {
        let limit = self.config.query_timeout;
        if let Some(operator) = not_for_ballista(local, file, sql, params).await? {
            let (rows, spilled) = crate::transform::run_query(local, file, sql, params).await?;
            let why = format!(
                "its plan has a {operator}, and Ballista 55 splits a union's inputs over its tasks wrongly (rows lost or repeated, or a job that never ends; docs/scale-out.md)"
            );
            return Ok((rows, spilled, Some(why)));
        }
        let on_cluster = async {
            self.share_tables().await?;
            crate::transform::run_query(&self.remote, file, sql, params).await
        };
        let why = match tokio::time::timeout(limit, on_cluster).await {
            Ok(Ok((rows, spilled))) => return Ok((rows, spilled, None)),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "no answer from the cluster in {} s (`[engine] query_timeout_secs`)",
                limit.as_secs()
            ),
        };
        let (rows, spilled) = crate::transform::run_query(local, file, sql, params).await?;
        Ok((rows, spilled, Some(why)))
    }
}
