//! Wires the stages for one command: extract → parse → land (and the ledger).
//! The only place that knows about the clock and the environment is the caller
//! (`main.rs`), which passes `now` and the run id in.
//!
//! ```text
//! ingest(source, location, period)
//!   recover lake ─► fetch into <quarantine>/.incoming/<run> ─► 304 / same sha256? ─► ledger only
//!                                                           └► parse into _staging ─► commit ─► ledger
//!                                                              └ rejected ─► quarantine/<run>-<source>-<period> + ERROR.txt
//! ```

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::{debug, info, warn};

use crate::config::{Config, is_url};
use crate::error::Error;
use crate::extract::http::HttpFetcher;
use crate::extract::{ExtractError, Fetched, Validators};
use crate::lake::Ledger;
use crate::land::{self, FetchRecord, StagedPartition, Staging};
use crate::parse::ParseError;
use crate::period::Period;
use crate::pseudonym::{DEMO_KEY, Pseudonymizer};

mod csv;
mod jobindsats;
mod send;
mod wide_weeks;
use csv::ingest_csv;
use jobindsats::ingest_jobindsats;
pub use send::{SendOptions, SendReport, send_reports};
use wide_weeks::ingest_wide_weeks;

pub use crate::config::SourceKind;

/// Everything a run needs from outside: config, key, clock, id.
pub struct Context {
    /// Validated config.
    pub config: Config,
    /// CPR pseudonymiser.
    pub pseudo: Pseudonymizer,
    /// The run's time.
    pub now: DateTime<Utc>,
    /// The run's id (names staging, quarantine and ledger files).
    pub run_id: String,
}

impl Context {
    /// Builds the context; the pseudonym key comes from the environment variable the
    /// config names (or the demo key, when allowed, with a warning).
    pub fn new(config: Config, now: DateTime<Utc>, run_id: String) -> Result<Self, Error> {
        let env = &config.pseudonym.key_env;
        let pseudo = match std::env::var(env) {
            Ok(k) if k.len() >= 16 => Pseudonymizer::new(k.into_bytes(), false),
            Ok(_) => {
                return Err(Error::Usage {
                    message: format!(
                        "the pseudonymisation key in `{env}` is shorter than 16 bytes"
                    ),
                });
            }
            Err(_) if config.pseudonym.allow_demo_key => {
                warn!(key_env = %env, "using the public DEMO pseudonymisation key: fine for sample data, never for real CPR numbers; set the variable for real data");
                Pseudonymizer::new(DEMO_KEY.as_bytes().to_vec(), true)
            }
            Err(_) => {
                return Err(ExtractError::MissingSecret {
                    env: env.clone(),
                    what: "pseudonymisation key",
                }
                .into());
            }
        };
        Ok(Self {
            config,
            pseudo,
            now,
            run_id,
        })
    }

    fn lake(&self) -> &Path {
        &self.config.lake.path
    }
}

/// What one ingest did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    /// Source (its name in `[sources]`).
    pub source: String,
    /// Period.
    pub period: String,
    /// Ledger rows written.
    pub records: Vec<FetchRecord>,
}

impl IngestReport {
    /// Rows landed in all tables.
    #[must_use]
    pub fn rows_landed(&self) -> i64 {
        self.records
            .iter()
            .filter(|r| r.status == "landed")
            .filter_map(|r| r.rows)
            .sum()
    }
}

/// One file fetched, not yet landed.
struct Pending {
    fetched: Fetched,
    table: String,
    period: Period,
    municipality: Option<i32>,
}

/// Lands one extract of the source named `source`. `location` overrides the configured
/// one; `municipality` names the bundle of a CSV source delivered per municipality.
pub async fn ingest(
    ctx: &Context,
    source: &str,
    location: Option<&str>,
    period: Period,
    municipality: Option<i32>,
) -> Result<IngestReport, Error> {
    let Some(kind) = ctx.config.sources.kind(source) else {
        return Err(Error::Usage {
            message: format!(
                "no source `{source}` in `[sources]`; sources: {}",
                ctx.config.sources.names().join(", ")
            ),
        });
    };
    let span = tracing::info_span!("ingest", source, period = %period);
    let _g = span.enter();
    let lake = ctx.lake().to_path_buf();
    std::fs::create_dir_all(&lake).map_err(land::io_err(&lake, "create lake"))?;
    let what = match municipality {
        Some(m) => format!("ingest {source} {period} kommune {m}"),
        None => format!("ingest {source} {period}"),
    };
    let _lock = crate::lock::acquire(&lake, &what, crate::lock::WAIT_LIMIT).await?;
    for done in land::recover(&lake)? {
        info!(action = %done, "recovered an interrupted landing");
    }
    let incoming = ctx
        .config
        .lake
        .quarantine_path
        .join(".incoming")
        .join(&ctx.run_id);
    land::private_dir(&incoming)?;
    let result = match kind {
        SourceKind::WideWeeks => ingest_wide_weeks(ctx, location, period, &incoming).await,
        SourceKind::Jobindsats => ingest_jobindsats(ctx, location, period, &incoming).await,
        SourceKind::Csv => ingest_csv(ctx, source, location, period, municipality, &incoming).await,
    };
    if incoming.exists() {
        let _ = std::fs::remove_dir_all(&incoming);
    }
    let records = result?;
    land::append_ledger(&lake, &ctx.run_id, &records)?;
    let report = IngestReport {
        source: source.to_string(),
        period: period.to_string(),
        records,
    };
    info!(rows = report.rows_landed(), "ingest done");
    Ok(report)
}

fn record(
    ctx: &Context,
    source: &str,
    p: &Pending,
    status: &str,
    rows: Option<i64>,
) -> FetchRecord {
    FetchRecord {
        run_id: ctx.run_id.clone(),
        source: source.into(),
        table: p.table.clone(),
        period: p.period.to_string(),
        municipality: p.municipality,
        location: p.fetched.location.clone(),
        sha256: Some(p.fetched.sha256.clone()),
        bytes: Some(p.fetched.bytes as i64),
        rows,
        etag: p.fetched.etag.clone(),
        last_modified: p.fetched.last_modified.clone(),
        status: status.into(),
        fetched_at: ctx.now,
    }
}

fn not_modified(
    ctx: &Context,
    source: &str,
    table: &str,
    period: Period,
    municipality: Option<i32>,
    location: &str,
    v: &Validators,
) -> FetchRecord {
    info!(location, table, "not modified (304): nothing to land");
    FetchRecord {
        run_id: ctx.run_id.clone(),
        source: source.into(),
        table: table.into(),
        period: period.to_string(),
        municipality,
        location: location.into(),
        sha256: None,
        bytes: None,
        rows: None,
        etag: v.etag.clone(),
        last_modified: v.last_modified.clone(),
        status: "not_modified".into(),
        fetched_at: ctx.now,
    }
}

/// True when every pending file has the hash of its partition's last landing and the
/// partition is still in the lake.
fn all_unchanged(
    ctx: &Context,
    ledger: &Ledger,
    pending: &[Pending],
    partition_dir: impl Fn(&Pending) -> PathBuf,
) -> bool {
    !pending.is_empty()
        && pending.iter().all(|p| {
            let same = ledger
                .partition(&p.table, &p.period.to_string(), p.municipality)
                .is_some_and(|l| l.sha256.as_deref() == Some(p.fetched.sha256.as_str()));
            same && ctx.lake().join(partition_dir(p)).exists()
        })
}

fn validators_for(ledger: &Ledger, location: &str) -> Validators {
    if is_url(location) {
        ledger
            .location(location)
            .map(|l| l.validators.clone())
            .unwrap_or_default()
    } else {
        Validators::default()
    }
}

fn http_for(
    ctx: &Context,
    auth_env: Option<&str>,
    location: &str,
    what: &'static str,
) -> Result<HttpFetcher, ExtractError> {
    if is_url(location) {
        HttpFetcher::new(&ctx.config.http, auth_env, what)
    } else {
        HttpFetcher::with_auth(&ctx.config.http, None)
    }
}

/// Parses staged data; on rejection moves the incoming files to quarantine.
fn finish_or_quarantine(
    ctx: &Context,
    source: &str,
    period: Period,
    incoming: &Path,
    staging: Staging,
    pending: &[Pending],
    parsed: Result<Vec<StagedPartition>, ParseError>,
) -> Result<(Staging, Vec<StagedPartition>), Error> {
    match parsed {
        Ok(parts) => Ok((staging, parts)),
        Err(ParseError::Rejected(rejection)) => {
            staging.abort();
            let name = format!("{}-{source}-{period}", ctx.run_id);
            let meta = serde_json::json!({
                "source": source,
                "period": period.to_string(),
                "run_id": ctx.run_id,
                "rejected_at": ctx.now.to_rfc3339(),
                "error": rejection.to_string(),
                "files": pending.iter().map(|p| serde_json::json!({
                    "location": p.fetched.location, "sha256": p.fetched.sha256, "bytes": p.fetched.bytes,
                    "file": p.fetched.local.file_name().map(|n| n.to_string_lossy().into_owned()),
                })).collect::<Vec<_>>(),
            });
            let quarantine = land::quarantine(
                &ctx.config.lake.quarantine_path,
                incoming,
                &name,
                &rejection.to_string(),
                &meta,
            )?;
            warn!(error = %rejection, path = %quarantine.display(), "extract rejected and quarantined");
            Err(Error::Rejected {
                rejection,
                quarantine,
            })
        }
        Err(other) => {
            staging.abort();
            Err(Error::Parse(other))
        }
    }
}

fn commit(ctx: &Context, staging: Staging, parts: &[StagedPartition]) -> Result<(), Error> {
    staging.commit(parts)?;
    for p in parts {
        debug!(path = %ctx.lake().join(&p.relative).display(), rows = p.rows, bytes = p.bytes, "landed partition");
    }
    Ok(())
}
