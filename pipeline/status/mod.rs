//! The operator's view: what the daemon did and will do, read from the config and the
//! lake's ledgers (never from the daemon's memory, so `maaltal status` in a shell and
//! the page `serve --http` shows say the same).
//!
//! ```text
//! config (jobs) ─┐
//! ledger_runs ───┤
//! ledger_fetches ┼─gather──► Status (plain data) ──► text (maaltal status)
//! quarantine/ ───┤                               ├─► JSON (--format json)
//! ledger_deliveries                              ├─► HTML (html.rs, GET /)
//! marts/ ────────┘                               └─► Prometheus text (metrics.rs)
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::render::marts;
use crate::schedule;

pub mod html;
pub mod http;
pub mod metrics;

/// Everything the status page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Programme name.
    pub programme: String,
    /// When this was gathered.
    pub at: String,
    /// One per configured job.
    pub jobs: Vec<JobStatus>,
    /// Every run, oldest first.
    pub runs: Vec<Run>,
    /// Source × period: what happened to each extract.
    pub sources: Vec<SourceCell>,
    /// The marts and the periods they hold.
    pub marts: Vec<MartStatus>,
    /// Deliveries per report and period.
    pub deliveries: Vec<DeliveryStatus>,
    /// Bytes under the lake folder.
    pub lake_bytes: u64,
}

/// A job: its schedule, last run and next.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    /// Name.
    pub name: String,
    /// Its steps, as written in the config.
    pub steps: String,
    /// The reports it sends (by name).
    pub sends: Vec<String>,
    /// Cron expression.
    pub schedule: String,
    /// Next firing, in the job's time zone.
    pub next: Option<String>,
    /// The last run.
    pub last: Option<Run>,
    /// Periods owed now.
    pub due: Vec<String>,
}

/// A row of `ledger_runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Job.
    pub job: String,
    /// Period.
    pub period: String,
    /// `done` or `failed`.
    pub state: String,
    /// Started (as the ledger prints it).
    pub started_at: String,
    /// Finished.
    pub finished_at: String,
    /// Seconds it took.
    #[serde(default)]
    pub seconds: f64,
    /// What it did, or the error.
    #[serde(default)]
    pub message: Option<String>,
}

/// What happened to one source's extract for one period.
#[derive(Debug, Clone, Serialize)]
pub struct SourceCell {
    /// The source's name in `[sources]`.
    pub source: String,
    /// Period.
    pub period: String,
    /// `landed`, `revised` (landed again with other bytes), `unchanged`, `quarantined`,
    /// `waiting` (owed, not there yet) or `late` (owed past its job's deadline).
    pub state: String,
    /// Rows landed (the latest landing).
    pub rows: i64,
    /// Why it was quarantined (the rejection: file, line, column, field).
    pub reason: Option<String>,
    /// When it last landed.
    #[serde(skip)]
    landed_at: Option<DateTime<Utc>>,
}

/// A mart and what it holds.
#[derive(Debug, Clone, Serialize)]
pub struct MartStatus {
    /// Table name.
    pub name: String,
    /// Rows.
    pub rows: usize,
    /// Periods (or months) it holds.
    pub periods: Vec<String>,
}

/// The mails of one report for one period.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryStatus {
    /// Report.
    pub report: String,
    /// Period.
    pub period: String,
    /// Versions issued (an "Opdateret version" is the second).
    pub versions: usize,
    /// Recipients whose latest outcome is `delivered`.
    pub sent: usize,
    /// Mails begun and not yet recorded (in flight, or interrupted).
    pub pending: usize,
    /// Recipients whose latest outcome is `failed`: (recipient, the server's answer).
    pub failed: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RunRow {
    job: String,
    period: String,
    state: String,
    started_at: String,
    finished_at: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Fetch {
    source: String,
    period: String,
    location: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    rows: Option<i64>,
    status: String,
    fetched_at: String,
}

#[derive(Deserialize)]
struct Outcome {
    report: String,
    period: String,
    recipient: String,
    #[serde(default)]
    data_sha256: Option<String>,
    state: String,
    #[serde(default)]
    last_reply: Option<String>,
}

fn rows<T: serde::de::DeserializeOwned>(lake: &Path, table: &str) -> Vec<T> {
    crate::lake::ledger_files(lake, table)
        .iter()
        .flat_map(|f| marts::read_file::<T>(f).unwrap_or_default())
        .collect()
}

/// A time as the ledgers (arrow's JSON) or the quarantine's `extract.json` write it.
fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc3339(&format!("{s}Z")))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn seconds(from: &str, to: &str) -> f64 {
    let p = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_rfc3339(&format!("{s}Z")))
            .ok()
    };
    match (p(from), p(to)) {
        (Some(a), Some(b)) => (b - a).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => dir_bytes(&e.path()),
                Ok(_) => e.metadata().map_or(0, |m| m.len()),
                Err(_) => 0,
            })
            .sum()
    })
}

/// Gathers the status from the config and the lake at `now`.
#[must_use]
pub fn gather(config: &Config, now: DateTime<Utc>) -> Status {
    let lake = &config.lake.path;
    let runs: Vec<Run> = rows::<RunRow>(lake, "runs")
        .into_iter()
        .map(|r| Run {
            seconds: seconds(&r.started_at, &r.finished_at),
            job: r.job,
            period: r.period,
            state: r.state,
            started_at: r.started_at,
            finished_at: r.finished_at,
            message: r.message,
        })
        .collect();
    let mut sources = source_cells(config);
    let mut jobs = Vec::new();
    for job in config.jobs.values() {
        let due: Vec<String> = crate::serve::due_now(lake, job, now, job.catch_up)
            .iter()
            .map(ToString::to_string)
            .collect();
        for source in job.sources() {
            for period in &due {
                // Late: the firing this period belongs to is past the job's deadline.
                let overdue = schedule::firings(&job.cron, job.timezone, now - job.catch_up, now)
                    .iter()
                    .filter(|f| {
                        let day = f.with_timezone(&job.timezone).date_naive();
                        job.span.period_for(day).to_string() == *period
                    })
                    .any(|f| now - *f > job.deadline);
                if !sources
                    .iter()
                    .any(|c| c.source == source && &c.period == period)
                {
                    sources.push(SourceCell {
                        source: source.to_string(),
                        period: period.clone(),
                        state: if overdue { "late" } else { "waiting" }.to_string(),
                        rows: 0,
                        reason: None,
                        landed_at: None,
                    });
                }
            }
        }
        jobs.push(JobStatus {
            name: job.name.clone(),
            steps: job.describe(),
            sends: job.reports().iter().map(ToString::to_string).collect(),
            schedule: job.schedule.clone(),
            next: schedule::next_firing(&job.cron, job.timezone, now).map(|t| {
                t.with_timezone(&job.timezone)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string()
            }),
            last: runs.iter().rev().find(|r| r.job == job.name).cloned(),
            due,
        });
    }
    sources.sort_by(|a, b| (&a.source, &a.period).cmp(&(&b.source, &b.period)));
    Status {
        programme: config.program.name.clone(),
        at: now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        jobs,
        runs,
        sources,
        marts: mart_status(lake),
        deliveries: delivery_status(lake),
        lake_bytes: dir_bytes(lake),
    }
}

/// Landed, revised and unchanged from the fetch ledger; quarantined from the quarantine.
fn source_cells(config: &Config) -> Vec<SourceCell> {
    let mut cells: BTreeMap<(String, String), SourceCell> = BTreeMap::new();
    // A location that landed twice with other bytes is a revised extract.
    let mut hashes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in rows::<Fetch>(&config.lake.path, "fetches") {
        let key = (f.source.clone(), f.period.clone());
        let cell = cells.entry(key).or_insert_with(|| SourceCell {
            source: f.source.clone(),
            period: f.period.clone(),
            state: "unchanged".to_string(),
            rows: 0,
            reason: None,
            landed_at: None,
        });
        if f.status == "landed" {
            let seen = hashes.entry(f.location).or_default();
            if let Some(sha) = f.sha256 {
                seen.insert(sha);
            }
            if seen.len() > 1 {
                cell.state = "revised".to_string();
            } else if cell.state != "revised" {
                cell.state = "landed".to_string();
            }
            cell.rows = f.rows.unwrap_or(0);
            cell.landed_at = time(&f.fetched_at);
        }
    }
    if let Ok(rd) = std::fs::read_dir(&config.lake.quarantine_path) {
        for e in rd.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path().join("extract.json")) else {
                continue;
            };
            let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let field = |k: &str| meta[k].as_str().unwrap_or_default().to_string();
            let key = (field("source"), field("period"));
            // A quarantine after the last landing is what the grid shows.
            let cell = cells.entry(key.clone()).or_insert_with(|| SourceCell {
                source: key.0.clone(),
                period: key.1.clone(),
                state: String::new(),
                rows: 0,
                reason: None,
                landed_at: None,
            });
            // Rejected after its last landing (or never landed): the lake holds the
            // earlier landing, if any, and the cell says quarantined.
            let rejected = time(&field("rejected_at"));
            if cell.landed_at.is_none() || rejected > cell.landed_at {
                cell.state = "quarantined".to_string();
                cell.reason = Some(field("error"));
            }
        }
    }
    cells.into_values().collect()
}

fn mart_status(lake: &Path) -> Vec<MartStatus> {
    #[derive(Deserialize)]
    struct Keys {
        #[serde(default)]
        period: Option<String>,
        #[serde(default)]
        month: Option<String>,
    }
    crate::lake::tables(lake)
        .into_iter()
        .filter(|t| t.dir.starts_with(lake.join("marts")))
        .map(|t| {
            let keys: Vec<Keys> =
                marts::read_file(&t.dir.join("part-0.parquet")).unwrap_or_default();
            let periods: BTreeSet<String> = keys
                .iter()
                .filter_map(|k| k.period.clone().or_else(|| k.month.clone()))
                .collect();
            MartStatus {
                name: t.name,
                rows: keys.len(),
                periods: periods.into_iter().collect(),
            }
        })
        .collect()
}

fn delivery_status(lake: &Path) -> Vec<DeliveryStatus> {
    // Per report and period: each recipient's delivered versions, and latest outcome.
    type Versions = BTreeMap<String, BTreeSet<String>>;
    let mut by: BTreeMap<(String, String), (Versions, BTreeMap<String, Outcome>)> = BTreeMap::new();
    for o in rows::<Outcome>(lake, "deliveries") {
        let entry = by.entry((o.report.clone(), o.period.clone())).or_default();
        let who = o.recipient.to_lowercase();
        if o.state == "delivered" {
            entry
                .0
                .entry(who.clone())
                .or_default()
                .insert(o.data_sha256.clone().unwrap_or_default());
        }
        entry.1.insert(who, o);
    }
    // Mails begun and not recorded (deliver/intent.rs).
    let mut pending: BTreeMap<(String, String), usize> = BTreeMap::new();
    for key in crate::deliver::intent::pending(lake) {
        by.entry(key.clone()).or_default();
        *pending.entry(key).or_default() += 1;
    }
    by.into_iter()
        .map(|((report, period), (versions, latest))| DeliveryStatus {
            pending: pending
                .get(&(report.clone(), period.clone()))
                .copied()
                .unwrap_or(0),
            report,
            period,
            versions: versions.values().map(BTreeSet::len).max().unwrap_or(0),
            sent: latest.values().filter(|o| o.state == "delivered").count(),
            failed: latest
                .values()
                .filter(|o| o.state == "failed")
                .map(|o| {
                    (
                        o.recipient.clone(),
                        o.last_reply.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The summary `maaltal status` prints.
#[must_use]
pub fn text(s: &Status) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{} at {}", s.programme, s.at);
    let _ = writeln!(out, "\njobs:");
    for j in &s.jobs {
        let last = j.last.as_ref().map_or("never run".to_string(), |r| {
            format!(
                "{} {} at {} ({:.1} s)",
                r.period, r.state, r.finished_at, r.seconds
            )
        });
        let _ = writeln!(
            out,
            "  {:<12} next {:<24} last: {last}{}",
            j.name,
            j.next.as_deref().unwrap_or("never"),
            if j.due.is_empty() {
                String::new()
            } else {
                format!("; due: {}", j.due.join(", "))
            }
        );
    }
    let count = |state: &str| s.sources.iter().filter(|c| c.state == state).count();
    let _ = writeln!(
        out,
        "\nextracts: {} landed, {} revised, {} unchanged, {} quarantined, {} waiting, {} late",
        count("landed"),
        count("revised"),
        count("unchanged"),
        count("quarantined"),
        count("waiting"),
        count("late")
    );
    for c in s.sources.iter().filter(|c| c.reason.is_some()) {
        let _ = writeln!(
            out,
            "  quarantined {} {}: {}",
            c.source,
            c.period,
            c.reason.as_deref().unwrap_or_default()
        );
    }
    let sent: usize = s.deliveries.iter().map(|d| d.sent).sum();
    let failed: usize = s.deliveries.iter().map(|d| d.failed.len()).sum();
    let pending: usize = s.deliveries.iter().map(|d| d.pending).sum();
    let _ = writeln!(
        out,
        "\nmails: {sent} sent, {pending} pending, {failed} failed"
    );
    for d in &s.deliveries {
        for (who, why) in &d.failed {
            let _ = writeln!(out, "  failed {} {} to {who}: {why}", d.report, d.period);
        }
    }
    let _ = writeln!(out, "\nmarts:");
    for m in &s.marts {
        let _ = writeln!(
            out,
            "  {:<22} {:>7} rows, {} periods{}",
            m.name,
            m.rows,
            m.periods.len(),
            m.periods
                .last()
                .map_or(String::new(), |p| format!(" (latest {p})"))
        );
    }
    let _ = writeln!(out, "\nlake: {:.1} MB", s.lake_bytes as f64 / 1e6);
    out
}
