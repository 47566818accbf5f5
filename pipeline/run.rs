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

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::{debug, info, warn};

use crate::config::{Config, is_url};
use crate::error::Error;
use crate::extract::http::HttpFetcher;
use crate::extract::{self, ExtractError, FetchOutcome, Fetched, Validators, jobindsats as jx};
use crate::lake::Ledger;
use crate::land::{self, FetchRecord, StagedPartition, Staging};
use crate::parse::{self, Locus, ParseError, fagsystem};
use crate::period::Period;
use crate::pseudonym::{DEMO_KEY, Pseudonymizer};

/// The three extract kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum SourceKind {
    /// DREAM quarterly extract.
    Dream,
    /// Jobindsats tables.
    Jobindsats,
    /// The case system's monthly export.
    Fagsystem,
}

impl SourceKind {
    /// Lowercase name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Dream => "dream",
            Self::Jobindsats => "jobindsats",
            Self::Fagsystem => "fagsystem",
        }
    }
}

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
    /// Source.
    pub source: SourceKind,
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

/// Lands one extract. `location` overrides the configured one; `municipality` is
/// needed for the case system.
pub async fn ingest(
    ctx: &Context,
    source: SourceKind,
    location: Option<&str>,
    period: Period,
    municipality: Option<i32>,
) -> Result<IngestReport, Error> {
    let span = tracing::info_span!("ingest", source = source.name(), period = %period);
    let _g = span.enter();
    let lake = ctx.lake().to_path_buf();
    std::fs::create_dir_all(&lake).map_err(land::io_err(&lake, "create lake"))?;
    let what = match municipality {
        Some(m) => format!("ingest {} {period} kommune {m}", source.name()),
        None => format!("ingest {} {period}", source.name()),
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
    let result = match source {
        SourceKind::Dream => ingest_dream(ctx, location, period, &incoming).await,
        SourceKind::Jobindsats => ingest_jobindsats(ctx, location, period, &incoming).await,
        SourceKind::Fagsystem => {
            ingest_fagsystem(ctx, location, period, municipality, &incoming).await
        }
    };
    if incoming.exists() {
        let _ = std::fs::remove_dir_all(&incoming);
    }
    let records = result?;
    land::append_ledger(&lake, &ctx.run_id, &records)?;
    let report = IngestReport {
        source,
        period: period.to_string(),
        records,
    };
    info!(rows = report.rows_landed(), "ingest done");
    Ok(report)
}

fn record(
    ctx: &Context,
    source: SourceKind,
    p: &Pending,
    status: &str,
    rows: Option<i64>,
) -> FetchRecord {
    FetchRecord {
        run_id: ctx.run_id.clone(),
        source: source.name().into(),
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
    source: SourceKind,
    table: &str,
    period: Period,
    municipality: Option<i32>,
    location: &str,
    v: &Validators,
) -> FetchRecord {
    info!(location, table, "not modified (304): nothing to land");
    FetchRecord {
        run_id: ctx.run_id.clone(),
        source: source.name().into(),
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
    source: SourceKind,
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
            let name = format!("{}-{}-{}", ctx.run_id, source.name(), period);
            let meta = serde_json::json!({
                "source": source.name(),
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

async fn ingest_dream(
    ctx: &Context,
    location: Option<&str>,
    period: Period,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    if !period.is_quarter() {
        return Err(Error::Usage {
            message: format!(
                "DREAM extracts are quarterly: give a period like 2018Q4, not `{period}`"
            ),
        });
    }
    let cfg = &ctx.config.sources.dream;
    let location = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), None)
        },
        str::to_string,
    );
    let http = http_for(
        ctx,
        cfg.auth_env.as_deref(),
        &location,
        "DREAM authorization header",
    )?;
    let ledger = Ledger::load(ctx.lake());
    let validators = validators_for(&ledger, &location);
    let dest = incoming.join(format!("dream_{period}.csv"));
    let fetched = match extract::fetch(&location, &validators, &dest, &http).await? {
        FetchOutcome::NotModified {
            location,
            validators,
        } => {
            return Ok(vec![not_modified(
                ctx,
                SourceKind::Dream,
                "dream_persons",
                period,
                None,
                &location,
                &validators,
            )]);
        }
        FetchOutcome::Fetched(f) => f,
    };
    let pending: Vec<Pending> = ["dream_persons", "dream_weeks"]
        .iter()
        .map(|t| Pending {
            fetched: fetched.clone(),
            table: (*t).into(),
            period,
            municipality: None,
        })
        .collect();
    let part_dir = |p: &Pending| {
        PathBuf::from(format!(
            "raw/dream/{}/{}",
            p.table.trim_start_matches("dream_"),
            period.partition()
        ))
    };
    if all_unchanged(ctx, &ledger, &pending, part_dir) {
        info!(location = %location, "same content as the last landing: nothing to land");
        return Ok(pending
            .iter()
            .map(|p| record(ctx, SourceKind::Dream, p, "unchanged", None))
            .collect());
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let locus = Locus {
        extract: "dream",
        path: location.clone(),
    };
    let file = File::open(&fetched.local).map_err(land::io_err(&fetched.local, "open"))?;
    let parsed = parse::dream::parse(
        BufReader::with_capacity(1 << 20, file),
        locus,
        period,
        cfg,
        &ctx.pseudo,
        &staging,
    );
    let (staging, parts) = finish_or_quarantine(
        ctx,
        SourceKind::Dream,
        period,
        incoming,
        staging,
        &pending,
        parsed,
    )?;
    commit(ctx, staging, &parts)?;
    Ok(pending
        .iter()
        .zip(&parts)
        .map(|(p, part)| record(ctx, SourceKind::Dream, p, "landed", Some(part.rows as i64)))
        .collect())
}

async fn ingest_jobindsats(
    ctx: &Context,
    location: Option<&str>,
    period: Period,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    let cfg = &ctx.config.sources.jobindsats;
    let base = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), None)
        },
        str::to_string,
    );
    let http = http_for(ctx, cfg.api_key_env.as_deref(), &base, "Jobindsats API key")?;
    let key_env = cfg.api_key_env.clone().unwrap_or_default();
    let ledger = Ledger::load(ctx.lake());
    let mut records = Vec::new();
    let mut pending: Vec<(Pending, usize)> = Vec::new();
    for (ti, table) in cfg.tables.iter().enumerate() {
        // The period's kind picks the tables: a quarter lands the quarterly tables, a
        // month the monthly ones.
        if table.quarterly != period.is_quarter() {
            continue;
        }
        let periods = vec![period];
        let (meta_text, meta_loc) = jx::metadata_text(&base, &table.table_id, &http)
            .await
            .map_err(|e| match e {
                ExtractError::Auth {
                    location, message, ..
                } => ExtractError::Auth {
                    location,
                    key_env: key_env.clone(),
                    message,
                },
                other => other,
            })?;
        let meta_locus = Locus {
            extract: "jobindsats",
            path: meta_loc,
        };
        let meta =
            parse::jobindsats::parse_metadata(&meta_text, &meta_locus, &key_env).map_err(|e| {
                match e {
                    ParseError::Auth {
                        path,
                        key_env,
                        message,
                    } => Error::Extract(ExtractError::Auth {
                        location: path,
                        key_env,
                        message,
                    }),
                    other => Error::Parse(other),
                }
            })?;
        let lake_table = format!("jobindsats_{}", table.name);
        for p in periods {
            let code = p.jobindsats_code();
            if !meta.periods.contains(&code) {
                return Err(ExtractError::NotPublished {
                    table: table.table_id.clone(),
                    period: code,
                    latest: meta
                        .periods
                        .iter()
                        .max()
                        .cloned()
                        .unwrap_or_else(|| "none".into()),
                }
                .into());
            }
            let loc = jx::data_location(&base, &table.table_id, &code);
            let dest = incoming.join(format!("{}_{code}.json", table.table_id));
            match jx::fetch_data(
                &base,
                &table.table_id,
                &code,
                &validators_for(&ledger, &loc),
                &dest,
                &http,
            )
            .await?
            {
                FetchOutcome::NotModified {
                    location,
                    validators,
                } => {
                    records.push(not_modified(
                        ctx,
                        SourceKind::Jobindsats,
                        &lake_table,
                        p,
                        None,
                        &location,
                        &validators,
                    ));
                }
                FetchOutcome::Fetched(fetched) => {
                    pending.push((
                        Pending {
                            fetched,
                            table: lake_table.clone(),
                            period: p,
                            municipality: None,
                        },
                        ti,
                    ));
                }
            }
        }
    }
    let part_dir = |p: &Pending| {
        PathBuf::from(format!(
            "raw/jobindsats/{}/{}",
            p.table.trim_start_matches("jobindsats_"),
            p.period.partition()
        ))
    };
    let changed: Vec<(Pending, usize)> = pending
        .into_iter()
        .filter_map(|(p, ti)| {
            if all_unchanged(ctx, &ledger, std::slice::from_ref(&p), part_dir) {
                records.push(record(ctx, SourceKind::Jobindsats, &p, "unchanged", None));
                None
            } else {
                Some((p, ti))
            }
        })
        .collect();
    if records.is_empty() && changed.is_empty() {
        let kind = if period.is_quarter() {
            "quarterly"
        } else {
            "monthly"
        };
        return Err(Error::Usage {
            message: format!("no {kind} Jobindsats table is configured for period {period}"),
        });
    }
    if changed.is_empty() {
        return Ok(records);
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let parsed = (|| -> Result<Vec<StagedPartition>, ParseError> {
        let mut parts = Vec::new();
        for (p, ti) in &changed {
            let table = &cfg.tables[*ti];
            let text = std::fs::read_to_string(&p.fetched.local).map_err(|e| {
                Locus {
                    extract: "jobindsats",
                    path: p.fetched.location.clone(),
                }
                .file(format!("not valid UTF-8 text: {e}"))
            })?;
            let locus = Locus {
                extract: "jobindsats",
                path: p.fetched.location.clone(),
            };
            let mut w = staging.partition(part_dir(p), land::schema(parse::jobindsats::COLUMNS))?;
            parse::jobindsats::parse_data(&text, &locus, table, cfg, &[p.period], &mut w)?;
            parts.push(w.finish()?);
        }
        Ok(parts)
    })();
    let just_pending: Vec<Pending> = changed
        .iter()
        .map(|(p, _)| Pending {
            fetched: p.fetched.clone(),
            table: p.table.clone(),
            period: p.period,
            municipality: None,
        })
        .collect();
    let parsed = match parsed {
        Err(ParseError::Auth {
            path,
            key_env,
            message,
        }) => {
            staging.abort();
            return Err(ExtractError::Auth {
                location: path,
                key_env,
                message,
            }
            .into());
        }
        other => other,
    };
    let (staging, parts) = finish_or_quarantine(
        ctx,
        SourceKind::Jobindsats,
        period,
        incoming,
        staging,
        &just_pending,
        parsed,
    )?;
    commit(ctx, staging, &parts)?;
    for (p, part) in just_pending.iter().zip(&parts) {
        records.push(record(
            ctx,
            SourceKind::Jobindsats,
            p,
            "landed",
            Some(part.rows as i64),
        ));
    }
    Ok(records)
}

async fn ingest_fagsystem(
    ctx: &Context,
    location: Option<&str>,
    period: Period,
    municipality: Option<i32>,
    incoming: &Path,
) -> Result<Vec<FetchRecord>, Error> {
    if period.is_quarter() {
        return Err(Error::Usage {
            message: format!(
                "fagsystem exports are monthly: give a period like 2018-11, not `{period}`"
            ),
        });
    }
    let cfg = &ctx.config.sources.fagsystem;
    let municipality = match municipality {
        Some(m) => m,
        None if cfg.municipalities.len() == 1 => cfg.municipalities[0],
        None => {
            return Err(Error::Usage {
                message: format!(
                    "give `--municipality` for a fagsystem export (configured: {:?})",
                    cfg.municipalities
                ),
            });
        }
    };
    if crate::municipality::name(municipality).is_none() {
        return Err(Error::Usage {
            message: format!(
                "`{municipality}` is not a DST municipality code (98 codes, e.g. 350 for Lejre, 316 for Holbæk)"
            ),
        });
    }
    let base = location.map_or_else(
        || {
            ctx.config
                .resolve_location(&cfg.location, &period.to_string(), Some(municipality))
        },
        str::to_string,
    );
    let http = http_for(
        ctx,
        cfg.auth_env.as_deref(),
        &base,
        "fagsystem authorization header",
    )?;
    let ledger = Ledger::load(ctx.lake());
    let file_loc = |entity: &str| {
        if is_url(&base) {
            format!("{}/{entity}.csv", base.trim_end_matches('/'))
        } else {
            Path::new(&base)
                .join(format!("{entity}.csv"))
                .to_string_lossy()
                .into_owned()
        }
    };
    let mut fetched: Vec<Option<Fetched>> = Vec::new();
    let mut not_mod = Vec::new();
    for entity in fagsystem::ENTITIES {
        let loc = file_loc(entity.name);
        let dest = incoming.join(format!("{}.csv", entity.name));
        match extract::fetch(&loc, &validators_for(&ledger, &loc), &dest, &http).await? {
            FetchOutcome::Fetched(f) => fetched.push(Some(f)),
            FetchOutcome::NotModified {
                location,
                validators,
            } => {
                not_mod.push(not_modified(
                    ctx,
                    SourceKind::Fagsystem,
                    &format!("fagsystem_{}", entity.name),
                    period,
                    Some(municipality),
                    &location,
                    &validators,
                ));
                fetched.push(None);
            }
        }
    }
    if fetched.iter().all(Option::is_none) {
        return Ok(not_mod);
    }
    // Some files changed: the export is landed as a whole, so fetch the rest plainly.
    for (entity, slot) in fagsystem::ENTITIES.iter().zip(fetched.iter_mut()) {
        if slot.is_none() {
            let loc = file_loc(entity.name);
            let dest = incoming.join(format!("{}.csv", entity.name));
            if let FetchOutcome::Fetched(f) =
                extract::fetch(&loc, &Validators::default(), &dest, &http).await?
            {
                *slot = Some(f);
            }
        }
    }
    let pending: Vec<Pending> = fagsystem::ENTITIES
        .iter()
        .zip(fetched)
        .filter_map(|(e, f)| {
            f.map(|fetched| Pending {
                fetched,
                table: format!("fagsystem_{}", e.name),
                period,
                municipality: Some(municipality),
            })
        })
        .collect();
    let part_dir = |p: &Pending| {
        PathBuf::from(format!(
            "raw/fagsystem/{}/kommune={municipality}/{}",
            p.table.trim_start_matches("fagsystem_"),
            period.partition()
        ))
    };
    if pending.len() == fagsystem::ENTITIES.len() && all_unchanged(ctx, &ledger, &pending, part_dir)
    {
        info!(location = %base, "same content as the last landing: nothing to land");
        return Ok(pending
            .iter()
            .map(|p| record(ctx, SourceKind::Fagsystem, p, "unchanged", None))
            .collect());
    }
    let staging = Staging::new(ctx.lake(), &ctx.run_id)?;
    let parsed = (|| -> Result<Vec<StagedPartition>, ParseError> {
        let mut employees = HashSet::new();
        let mut parts = Vec::new();
        for (entity, p) in fagsystem::ENTITIES.iter().zip(&pending) {
            let locus = Locus {
                extract: "fagsystem",
                path: p.fetched.location.clone(),
            };
            let file =
                File::open(&p.fetched.local).map_err(land::io_err(&p.fetched.local, "open"))?;
            let mut w = fagsystem::writer(&staging, entity, municipality, period)?;
            fagsystem::parse_entity(
                BufReader::new(file),
                locus,
                cfg.encoding,
                entity,
                &mut employees,
                &ctx.pseudo,
                &mut w,
            )?;
            parts.push(w.finish()?);
        }
        Ok(parts)
    })();
    let (staging, parts) = finish_or_quarantine(
        ctx,
        SourceKind::Fagsystem,
        period,
        incoming,
        staging,
        &pending,
        parsed,
    )?;
    commit(ctx, staging, &parts)?;
    Ok(pending
        .iter()
        .zip(&parts)
        .map(|(p, part)| {
            record(
                ctx,
                SourceKind::Fagsystem,
                p,
                "landed",
                Some(part.rows as i64),
            )
        })
        .collect())
}

/// What `send` is asked to do besides sending.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Render and list who would get what; send nothing.
    pub dry_run: bool,
    /// Write the PDFs this recipient would get into `preview_dir`; send nothing.
    pub preview_as: Option<String>,
    /// Where previews go.
    pub preview_dir: PathBuf,
    /// Send again what was delivered before.
    pub resend: bool,
    /// The date printed on the reports (default: from the data).
    pub date: Option<chrono::NaiveDate>,
    /// `MAALTAL_SMTP_URL`, read by the caller.
    pub smtp_url: Option<String>,
    /// Scheduled jobs: re-issue, once and marked, reports whose figures changed since
    /// they were delivered.
    pub updates: bool,
}

/// What `send` did.
#[derive(Debug, Default)]
pub struct SendReport {
    /// Lines for the operator.
    pub lines: Vec<String>,
    /// Delivery outcome (none for a dry run or preview).
    pub summary: Option<crate::deliver::Summary>,
}

/// Renders a report kind for a period and delivers it to its recipients: the code the
/// `send` command and the scheduled jobs share.
pub async fn send_reports(
    config: &Config,
    template: crate::render::Template,
    period: Period,
    options: &SendOptions,
    run_id: &str,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<SendReport, Error> {
    use crate::deliver;
    use crate::render::{self, Template};
    let lake = &config.lake.path;
    let date = options
        .date
        .or_else(|| render::data_date(lake))
        .ok_or_else(|| Error::Usage {
            message: format!(
                "nothing has been landed in {} yet: no data to report",
                lake.display()
            ),
        })?;
    let settings = render::Settings::new(config, date);
    let preview = options.preview_as.as_deref();
    let reports = match template {
        Template::Quarterly => render::quarterly(config, period, None, &settings)?,
        Template::Overview => vec![render::overview(config, period, &settings)?],
        // A preview of a månedsbog renders only that recipient's.
        Template::Maanedsbog => render::maanedsbog(config, period, preview, &settings)?,
    };
    // From reading the delivery ledger to writing it, one sender at a time (lock.rs).
    let _lock = if preview.is_none() && !options.dry_run {
        Some(
            crate::lock::acquire(
                lake,
                &format!("send {} {period}", template.name()),
                crate::lock::WAIT_LIMIT,
            )
            .await?,
        )
    } else {
        None
    };
    let (mut deliveries, unaddressed) = deliver::plan(config, &reports);
    if options.updates && preview.is_none() && !options.dry_run {
        // Figures changed since a delivery: render those again, marked as an update.
        let past = deliver::ledger(lake);
        let changed: Vec<(usize, String)> = deliveries
            .iter()
            .enumerate()
            .filter_map(|(i, d)| match deliver::status(&past, d) {
                deliver::Status::Changed(at) => Some((i, at)),
                _ => None,
            })
            .collect();
        if let Some((_, first_at)) = changed.first() {
            let note = changes_since(lake, first_at);
            let marked = render::Settings {
                update_note: Some(note.clone()),
                ..settings.clone()
            };
            let again = match template {
                Template::Quarterly => render::quarterly(config, period, None, &marked)?,
                Template::Overview => vec![render::overview(config, period, &marked)?],
                Template::Maanedsbog => render::maanedsbog(config, period, None, &marked)?,
            };
            let (fresh, _) = deliver::plan(config, &again);
            for (i, _) in &changed {
                let old = &deliveries[*i];
                if let Some(new) = fresh
                    .iter()
                    .find(|n| n.file_name == old.file_name && n.recipient == old.recipient)
                {
                    let mut new = new.clone();
                    new.update_note = Some(note.clone());
                    deliveries[*i] = new;
                }
            }
            info!(
                stage = "deliver",
                "{} report(s) changed since delivery: re-issued as updated versions",
                changed.len()
            );
        }
    }
    let mut out = SendReport::default();
    for f in &unaddressed {
        out.lines.push(format!(
            "no recipient configured for {f} (see [recipients] in the configuration)"
        ));
    }
    if let Some(who) = preview {
        let mine: Vec<render::Rendered> = reports
            .iter()
            .filter(|r| {
                deliveries
                    .iter()
                    .any(|d| d.file_name == r.file_name && d.recipient.eq_ignore_ascii_case(who))
            })
            .cloned()
            .collect();
        let paths = render::write_all(&options.preview_dir, &mine, false)?;
        if paths.is_empty() {
            out.lines.push(format!(
                "{who} gets no {} report for {period}",
                template.name()
            ));
        }
        for p in paths {
            out.lines
                .push(format!("preview for {who}: {}", p.display()));
        }
        return Ok(out);
    }
    if options.dry_run {
        let done: HashSet<(String, String, String)> = deliver::ledger(lake)
            .into_iter()
            .filter(|o| o.state == "delivered")
            .map(|o| (o.report, o.period, o.recipient.to_lowercase()))
            .collect();
        for d in &deliveries {
            let key = (
                d.report.to_string(),
                d.period.clone(),
                d.recipient.to_lowercase(),
            );
            let note = if done.contains(&key) && !options.resend {
                "  (delivered before: skipped)"
            } else {
                ""
            };
            out.lines.push(format!(
                "would send {} ({} bytes) to {}{note}",
                d.file_name,
                d.pdf.len(),
                d.recipient
            ));
        }
        out.lines
            .push(format!("dry run: {} mails, nothing sent", deliveries.len()));
        return Ok(out);
    }
    let retry = deliver::Retry {
        retries: config.mail.retries,
        backoff: config.mail.backoff,
    };
    let mode = if options.resend {
        deliver::Mode::Resend
    } else if options.updates {
        deliver::Mode::Updates
    } else {
        deliver::Mode::Once
    };
    let mailer = deliver::mailer_from(config, options.smtp_url.clone())?;
    info!(stage = "deliver", "{}", mailer.describe());
    let summary = deliver::deliver(
        lake,
        run_id,
        &config.mail,
        &mailer,
        &deliveries,
        retry,
        mode,
        &now,
    )
    .await?;
    out.lines.push(format!(
        "{} {} for {period}: {} delivered, {} delivered before (skipped), {} failed",
        deliveries.len(),
        if deliveries.len() == 1 {
            "mail"
        } else {
            "mails"
        },
        summary.delivered.len(),
        summary.skipped.len(),
        summary.failed.len()
    ));
    if !summary.in_doubt.is_empty() {
        out.lines.push(format!(
            "{} sent again after an interrupted run, so they may have arrived twice: {}",
            summary.in_doubt.len(),
            summary
                .in_doubt
                .iter()
                .map(|(_, f)| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !summary.failed.is_empty() {
        return Err(deliver::DeliverError::Failed {
            failed: summary.failed,
            total: deliveries.len(),
        }
        .into());
    }
    out.summary = Some(summary);
    Ok(out)
}

/// What was landed after `since` (as the ledger prints times), in Danish: the note an
/// updated report carries.
fn changes_since(lake: &Path, since: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Fetch {
        source: String,
        period: String,
        status: String,
        fetched_at: String,
    }
    let mut changed: std::collections::BTreeSet<(String, String)> =
        std::collections::BTreeSet::new();
    for path in crate::lake::ledger_files(lake, "fetches") {
        let rows: Vec<Fetch> = crate::render::marts::read_file(&path).unwrap_or_default();
        for r in rows {
            if r.status == "landed" && r.fetched_at.as_str() > since {
                changed.insert((r.source, r.period));
            }
        }
    }
    let what: Vec<String> = changed
        .iter()
        .map(|(s, p)| {
            let source = match s.as_str() {
                "dream" => "DREAM",
                "jobindsats" => "Jobindsats",
                _ => "fagsystemet",
            };
            let period = p
                .parse::<Period>()
                .map_or_else(|_| p.clone(), crate::render::format::period_label);
            format!("{source} ({period})")
        })
        .collect();
    if what.is_empty() {
        "Tallene er beregnet igen.".to_string()
    } else {
        format!(
            "Tallene er beregnet igen, fordi der er kommet nye eller rettede data fra {}.",
            what.join(", ")
        )
    }
}
