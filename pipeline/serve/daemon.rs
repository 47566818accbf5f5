//! The daemon's loop (`maaltal serve`): the status page if asked, the catch-up, then the
//! scheduler's tick until SIGTERM; and `maaltal jobs`' one line per job.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use super::{Clock, catch_up, due_now, history, run_job};
use crate::config::Config;
use crate::error::Error;
use crate::schedule;

/// `maaltal serve`: catch up, then run each job of the config and of its other
/// programmes (`others`) when its schedule fires, one run at a time, until SIGTERM or
/// Ctrl-C; the running stage finishes first. The status page shows and re-runs every
/// programme's jobs.
pub async fn serve(
    config: Config,
    others: Vec<Config>,
    clock: Clock,
    smtp_url: Option<String>,
    http: Option<std::net::SocketAddr>,
) -> Result<(), Error> {
    use tokio_cron_scheduler::{Job, JobScheduler};
    let stop = Arc::new(AtomicBool::new(false));
    let programmes: Arc<Vec<Config>> = Arc::new(std::iter::once(config).chain(others).collect());
    let page = Arc::new(jobs_of_all(&programmes)?);
    for job in programmes.iter().flat_map(|c| c.jobs.values()) {
        info!(job = %job.name, schedule = %job.schedule, timezone = %job.timezone, next = ?schedule::next_firing(&job.cron, job.timezone, clock.now()), "scheduled");
    }
    let busy = Arc::new(tokio::sync::Mutex::new(()));
    let ready = Arc::new(AtomicBool::new(false));
    if let Some(addr) = http {
        // The status page answers from the start; its actions wait for the running job.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<crate::status::http::Action>();
        let state = crate::status::http::AppState {
            config: page,
            clock,
            ready: ready.clone(),
            actions: tx,
        };
        crate::status::http::spawn(addr, state).await?;
        let (cfgs, b, url, st) = (
            programmes.clone(),
            busy.clone(),
            smtp_url.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            while let Some(a) = rx.recv().await {
                let _g = b.lock().await;
                if st.load(Ordering::SeqCst) {
                    return;
                }
                // The job's own programme runs it.
                let owner = cfgs.iter().find_map(|c| c.jobs.get(&a.job).map(|j| (c, j)));
                if let Some((cfg, job)) = owner {
                    info!(job = %a.job, period = %a.period, action = a.what, "running an action from the status page");
                    let now = clock.now();
                    let _ = run_job(cfg, job, a.period, now, clock, url.clone(), &st).await;
                }
            }
        });
    }
    let sched_err = |e: tokio_cron_scheduler::JobSchedulerError| Error::Usage {
        message: format!("scheduler: {e}"),
    };
    // Catch-up first, then the timer.
    {
        let _g = busy.lock().await;
        let mut n = 0;
        for c in programmes.iter() {
            n += catch_up(c, clock, smtp_url.clone(), &stop).await;
        }
        info!("catch-up done: {n} run(s)");
    }
    let mut sched = JobScheduler::new().await.map_err(sched_err)?;
    let last_check = Arc::new(std::sync::Mutex::new(clock.now()));
    let (cfgs, st, b, url, lc) = (
        programmes.clone(),
        stop.clone(),
        busy.clone(),
        smtp_url.clone(),
        last_check.clone(),
    );
    let tick = Job::new_async("* * * * * *", move |_, _| {
        let (cfgs, st, b, url, lc) = (cfgs.clone(), st.clone(), b.clone(), url.clone(), lc.clone());
        Box::pin(async move {
            // One run at a time; a tick that finds a run going does nothing.
            let Ok(_g) = b.try_lock() else { return };
            let now = clock.now();
            let since = {
                let mut l = lc.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                std::mem::replace(&mut *l, now)
            };
            let jobs: Vec<(usize, String)> = cfgs
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.jobs.keys().map(move |k| (i, k.clone())))
                .collect();
            for (i, name) in jobs {
                let (cfg, Some(job)) = (&cfgs[i], cfgs[i].jobs.get(&name)) else {
                    continue;
                };
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let fired = !schedule::firings(&job.cron, job.timezone, since, now).is_empty();
                if !fired {
                    continue;
                }
                let due = due_now(
                    &cfg.lake.path,
                    job,
                    now,
                    job.catch_up.max(Duration::days(1)),
                );
                if due.is_empty() {
                    info!(job = %job.name, "fired; nothing due (the period is done)");
                }
                for period in due {
                    let _ = run_job(cfg, job, period, now, clock, url.clone(), &st).await;
                }
            }
        })
    })
    .map_err(sched_err)?;
    sched.add(tick).await.map_err(sched_err)?;
    sched.start().await.map_err(sched_err)?;
    ready.store(true, Ordering::SeqCst);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Usage {
            message: format!("signal handler: {e}"),
        })?;
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: finishing the running stage"),
        _ = tokio::signal::ctrl_c() => info!("interrupted: finishing the running stage"),
    }
    stop.store(true, Ordering::SeqCst);
    sched.shutdown().await.map_err(sched_err)?;
    let _g = busy.lock().await;
    info!("stopped");
    Ok(())
}

/// The main programme's configuration with every programme's jobs: what the status
/// page shows (one lake, one ledger). Two programmes' jobs of one name are refused:
/// the page and the ledger name a job by its name.
pub fn jobs_of_all(programmes: &[Config]) -> Result<Config, Error> {
    let mut all = programmes.first().cloned().ok_or_else(|| Error::Usage {
        message: "no programme to serve".into(),
    })?;
    for other in &programmes[1..] {
        for (name, job) in &other.jobs {
            if all.jobs.insert(name.clone(), job.clone()).is_some() {
                return Err(Error::Usage {
                    message: format!(
                        "job `{name}` of programme `{}` has the name of another programme's job: give it a name of its own (`[jobs.<name>]`), as the status page and the run ledger name jobs by name",
                        other.program.id
                    ),
                });
            }
        }
        all.program.name = format!("{}, {}", all.program.name, other.program.name);
    }
    Ok(all)
}

/// Two lines per job for `maaltal jobs`: period, schedule, next run, last result; steps.
#[must_use]
pub fn describe(config: &Config, now: DateTime<Utc>) -> Vec<String> {
    let hist = history(&config.lake.path);
    config
        .jobs
        .values()
        .map(|job| {
            let next = schedule::next_firing(&job.cron, job.timezone, now).map_or_else(
                || "never".to_string(),
                |t| {
                    t.with_timezone(&job.timezone)
                        .format("%Y-%m-%d %H:%M %Z")
                        .to_string()
                },
            );
            let last = hist.iter().rev().find(|r| r.job == job.name).map_or_else(
                || "never run".to_string(),
                |r| format!("{} {} at {}", r.period, r.state, r.finished_at),
            );
            let due = due_now(&config.lake.path, job, now, job.catch_up);
            format!(
                "{:<12} {:<8} {:<22} next {next:<24} last: {last}{}\n{:<12} steps: {}",
                job.name,
                job.span.name(),
                format!("\"{}\"", job.schedule),
                if due.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; due: {}",
                        due.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                "",
                job.describe()
            )
        })
        .collect()
}
