//! The daemon and its jobs: `maaltal serve`, `maaltal run <job>`, `maaltal jobs`.
//!
//! ```text
//! serve ─► catch-up: every due period (schedule::due over the run history), oldest first
//!       └► tokio-cron-scheduler ticks each second ─► a job whose next firing (croner,
//!          Europe/Copenhagen) has passed runs its due periods ─► run_job:
//!          lock ─► pull + land (waiting for late data) ─► transform ─► render ─► deliver ─► ledger/runs
//! ```
//! The scheduler is the timer; which firing stands for which period, and whether it is
//! done, is decided by the pure functions in `schedule.rs` from the run history, so a
//! restart, a machine that was off, or a day the clocks change never loses or doubles a
//! period. A job never runs twice at once (a lock file a dead holder does not keep);
//! SIGTERM lets the running stage finish and stops before the next.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use tracing::{error, info, warn};

use crate::config::{Config, JobConfig, Step};
use crate::error::Error;
use crate::land::{self, BatchBuilder, ColumnSpec, Kind};
use crate::period::Period;
use crate::render::marts;
use crate::run::{self, Context, SendOptions};
use crate::schedule;

mod daemon;
pub use daemon::{describe, jobs_of_all, serve};

/// The time: the machine's clock, shifted by a fixed offset (`MAALTAL_NOW` sets where
/// the clock starts, for tests and rehearsals; it then runs on in real time).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Added to the machine's time.
    pub offset: Duration,
}

impl Clock {
    /// Now.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// Columns of `ledger_runs`: the run history.
pub const LEDGER_RUNS: &[ColumnSpec] = &[
    ("run_id", Kind::Text, false),
    ("job", Kind::Text, false),
    ("kind", Kind::Text, false),
    ("period", Kind::Text, false),
    ("state", Kind::Text, false),
    ("started_at", Kind::Timestamp, false),
    ("finished_at", Kind::Timestamp, false),
    ("message", Kind::Text, true),
];

/// A row of the run history.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RunRow {
    /// Job.
    pub job: String,
    /// Period.
    pub period: String,
    /// `done` or `failed`.
    pub state: String,
    /// When it finished.
    pub finished_at: String,
    /// What happened.
    #[serde(default)]
    pub message: Option<String>,
}

/// The run history, oldest first.
#[must_use]
pub fn history(lake: &Path) -> Vec<RunRow> {
    crate::lake::ledger_files(lake, "runs")
        .iter()
        .flat_map(|f| marts::read_file::<RunRow>(f).unwrap_or_default())
        .collect()
}

/// The periods a job has done.
#[must_use]
pub fn done(lake: &Path, job: &str) -> BTreeSet<Period> {
    history(lake)
        .into_iter()
        .filter(|r| r.job == job && r.state == "done")
        .filter_map(|r| r.period.parse().ok())
        .collect()
}

#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, passed plainly"
)]
fn record_run(
    lake: &Path,
    run_id: &str,
    job: &JobConfig,
    period: Period,
    state: &str,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    message: &str,
) -> Result<(), Error> {
    let schema = land::schema(LEDGER_RUNS);
    let mut b = BatchBuilder::new(schema.clone());
    b.text(Some(run_id))
        .text(Some(&job.name))
        .text(Some(&job.describe()))
        .text(Some(&period.to_string()))
        .text(Some(state));
    b.timestamp(Some(started))
        .timestamp(Some(finished))
        .text(Some(message));
    b.end_row();
    let stamp = finished.format("%Y%m%dT%H%M%S%3f").to_string();
    land::append_ledger_rows(lake, "runs", run_id, &stamp, &schema, &mut b)?;
    Ok(())
}

/// A job's lock: a file holding the holder's process id; removed when dropped. A lock
/// whose process is gone (a crash, a kill) is taken over.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Takes job `name`'s lock; `None` when a live process holds it.
pub fn lock(lake: &Path, name: &str) -> Result<Option<Lock>, Error> {
    let dir = lake.join(".locks");
    std::fs::create_dir_all(&dir).map_err(land::io_err(&dir, "create lock folder"))?;
    let path = dir.join(format!("{name}.lock"));
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write as _;
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(Some(Lock { path }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                match holder {
                    Some(pid) if alive(pid) => return Ok(None),
                    _ => {
                        warn!(job = name, "taking over the lock of a process that is gone");
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(e) => return Err(land::io_err(&path, "create lock")(e).into()),
        }
    }
    Ok(None)
}

/// Ingest that waits for late data: an extract not published yet is tried again every
/// `retry_every` until the job's deadline after the firing, then the job fails.
#[allow(
    clippy::too_many_arguments,
    reason = "the run's inputs and one extract's address"
)]
async fn ingest_waiting(
    ctx: &Context,
    job: &JobConfig,
    fired_at: DateTime<Utc>,
    clock: Clock,
    stop: &AtomicBool,
    source: &str,
    period: Period,
    municipality: Option<i32>,
) -> Result<(), Error> {
    loop {
        match run::ingest(ctx, source, None, period, municipality).await {
            Ok(_) => return Ok(()),
            Err(Error::Extract(e)) if e.not_published_yet() => {
                let deadline = fired_at + job.deadline;
                if clock.now() >= deadline || stop.load(Ordering::SeqCst) {
                    return Err(Error::Job {
                        job: job.name.clone(),
                        message: format!(
                            "the {source} extract for {period} was still not published at the deadline ({deadline}): {e}"
                        ),
                    });
                }
                warn!(job = %job.name, stage = "pull", period = %period, error = %e, "not published yet; trying again in {} s", job.retry_every.as_secs());
                tokio::time::sleep(job.retry_every).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The periods `job` owes at `now` looking back `window`, from the run history.
pub(crate) fn due_now(
    lake: &Path,
    job: &JobConfig,
    now: DateTime<Utc>,
    window: Duration,
) -> Vec<Period> {
    schedule::due(
        job.span,
        &job.cron,
        job.timezone,
        &done(lake, &job.name),
        now,
        window,
    )
}

/// Runs one job for one period now: its stages in order, the outcome recorded in the
/// run history (and mailed to the operator when it fails).
pub async fn run_job(
    config: &Config,
    job: &JobConfig,
    period: Period,
    fired_at: DateTime<Utc>,
    clock: Clock,
    smtp_url: Option<String>,
    stop: &AtomicBool,
) -> Result<String, Error> {
    let lake = config.lake.path.clone();
    std::fs::create_dir_all(&lake).map_err(land::io_err(&lake, "create lake"))?;
    let Some(_lock) = lock(&lake, &job.name)? else {
        return Err(Error::Job {
            job: job.name.clone(),
            message: "already running (another process holds its lock)".into(),
        });
    };
    let started = clock.now();
    let run_id = format!(
        "{}-{}-{}",
        started.format("%Y%m%dT%H%M%S%3fZ"),
        job.name,
        std::process::id()
    );
    info!(job = %job.name, period = %period, "run started");
    // With `[lake.remote]`: what other machines published first, and this run's work
    // published after it (a failed run's committed steps too).
    crate::remote::pull_lake(&config.lake).await?;
    let result = stages(
        config,
        job,
        period,
        fired_at,
        clock,
        smtp_url.clone(),
        stop,
        &run_id,
    )
    .await;
    let finished = clock.now();
    match &result {
        Ok(summary) => {
            record_run(
                &lake, &run_id, job, period, "done", started, finished, summary,
            )?;
            info!(job = %job.name, period = %period, "run done: {summary}");
        }
        Err(e) => {
            let message = e.to_string();
            record_run(
                &lake, &run_id, job, period, "failed", started, finished, &message,
            )?;
            error!(job = %job.name, period = %period, error = %message, "run failed");
            if let Err(m) = crate::deliver::notify_operator(
                config,
                smtp_url,
                &format!("maaltal: jobbet {} fejlede for {period}", job.name),
                &format!("Jobbet {} ({}) fejlede for perioden {period}.\n\nFejl: {message}\n\nKør det igen med: maaltal run {} --period {period}\n", job.name, job.describe(), job.name),
                finished,
            )
            .await
            {
                error!(job = %job.name, error = %m, "the operator could not be told");
            }
        }
    }
    // Published after the run's own record, so the bucket holds that too.
    match (result, crate::remote::publish_lake(&config.lake).await) {
        (Ok(_), Err(e)) => {
            error!(job = %job.name, period = %period, error = %e, "publishing the lake failed");
            Err(e)
        }
        (r, _) => r,
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the run's inputs, passed in plainly"
)]
async fn stages(
    config: &Config,
    job: &JobConfig,
    period: Period,
    fired_at: DateTime<Utc>,
    clock: Clock,
    smtp_url: Option<String>,
    stop: &AtomicBool,
    run_id: &str,
) -> Result<String, Error> {
    let stopped = || -> Result<(), Error> {
        if stop.load(Ordering::SeqCst) {
            Err(Error::Job {
                job: job.name.clone(),
                message: "stopped (SIGTERM) between stages; the period runs again next time".into(),
            })
        } else {
            Ok(())
        }
    };
    let ctx = Context::new(config.clone(), clock.now(), run_id.to_string())?;
    let wait = |source, p, m| ingest_waiting(&ctx, job, fired_at, clock, stop, source, p, m);
    let send = |template| {
        let options = SendOptions {
            smtp_url: smtp_url.clone(),
            updates: true,
            ..SendOptions::default()
        };
        async move {
            run::send_reports(config, template, period, &options, run_id, || clock.now()).await
        }
    };
    // The steps in the order written (validated: stage order, ingest → transform → send).
    let mut lines = Vec::new();
    for step in &job.steps {
        stopped()?;
        match step {
            Step::Ingest {
                source,
                with_quarter,
            } => {
                let mut periods = vec![period];
                if *with_quarter
                    && let Period::Month { year, month } = period
                    && month % 3 == 0
                {
                    periods.push(Period::Quarter {
                        year,
                        quarter: month / 3,
                    });
                }
                for p in periods {
                    for unit in config.sources.units(source) {
                        stopped()?;
                        wait(source, p, unit).await?;
                    }
                }
            }
            Step::Transform { backfill } => {
                // A job recomputes its own period's marts; with `backfill` also any
                // landed quarter that has none yet (landed by hand), so its reports
                // have every baseline.
                let mut periods = vec![period];
                if *backfill {
                    periods.extend(crate::transform::unmarted_quarters(config));
                }
                crate::transform::transform_periods(config, run_id, Some(&periods)).await?;
                lines.push("marts built".to_string());
            }
            Step::Send(template) => lines.extend(send(template.clone()).await?.lines),
        }
    }
    Ok(lines.join("; "))
}

/// Runs every due period of every job, oldest first; failures are logged and recorded,
/// and the others still run. Returns how many runs were made.
pub async fn catch_up(
    config: &Config,
    clock: Clock,
    smtp_url: Option<String>,
    stop: &AtomicBool,
) -> usize {
    let mut runs = 0;
    for job in config.jobs.values() {
        let now = clock.now();
        let due = due_now(&config.lake.path, job, now, job.catch_up);
        for period in due {
            if stop.load(Ordering::SeqCst) {
                return runs;
            }
            runs += 1;
            let _ = run_job(config, job, period, now, clock, smtp_url.clone(), stop).await;
        }
    }
    runs
}
