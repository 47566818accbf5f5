//! `/metrics`: the Prometheus text format (prometheus-client), computed from the
//! ledgers at every scrape. The ledgers are append-only, so the counters only grow, and
//! they match what `maaltal sql` counts in `ledger_runs`, `ledger_fetches` and
//! `ledger_deliveries`, across restarts.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::Status;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOutcome {
    job: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Job {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

/// What the ledgers add to the status: rows landed and files quarantined per source,
/// mails by outcome.
#[derive(Debug, Default)]
pub struct Landed {
    /// Rows landed, per source (every landing, as `ledger_fetches` has them).
    pub rows: BTreeMap<String, i64>,
    /// Extracts in quarantine, per source.
    pub quarantined: BTreeMap<String, u64>,
    /// Rows of `ledger_deliveries` by state: `delivered` (each a mail a server took, or
    /// an `.eml` written) and `failed`.
    pub mails: BTreeMap<String, u64>,
}

/// Rows landed per source from the fetch ledger, quarantined extracts from the
/// quarantine folder.
#[must_use]
pub fn landed(config: &crate::config::Config) -> Landed {
    #[derive(serde::Deserialize)]
    struct Delivery {
        state: String,
    }
    #[derive(serde::Deserialize)]
    struct Fetch {
        source: String,
        status: String,
        #[serde(default)]
        rows: Option<i64>,
    }
    let mut out = Landed::default();
    for f in super::rows::<Fetch>(&config.lake.path, "fetches") {
        if f.status == "landed" {
            *out.rows.entry(f.source).or_default() += f.rows.unwrap_or(0);
        }
    }
    for d in super::rows::<Delivery>(&config.lake.path, "deliveries") {
        *out.mails.entry(d.state).or_default() += 1;
    }
    if let Ok(rd) = std::fs::read_dir(&config.lake.quarantine_path) {
        for e in rd.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path().join("extract.json")) else {
                continue;
            };
            if let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) {
                let source = meta["source"].as_str().unwrap_or_default().to_string();
                *out.quarantined.entry(source).or_default() += 1;
            }
        }
    }
    out
}

/// The metrics in the Prometheus text format.
#[must_use]
pub fn render(status: &Status, landed: &Landed) -> String {
    let mut registry = Registry::with_prefix("maaltal");
    let runs = Family::<JobOutcome, Counter>::default();
    registry.register(
        "runs",
        "Job runs, by job and outcome (done or failed)",
        runs.clone(),
    );
    let durations = Family::<Job, Histogram>::new_with_constructor(|| {
        Histogram::new(exponential_buckets(0.5, 2.0, 12))
    });
    registry.register(
        "run_duration_seconds",
        "How long job runs took",
        durations.clone(),
    );
    let last_success = Family::<Job, Gauge<f64, AtomicU64>>::default();
    registry.register(
        "last_success_timestamp_seconds",
        "When each job last finished a run successfully (Unix time)",
        last_success.clone(),
    );
    for r in &status.runs {
        runs.get_or_create(&JobOutcome {
            job: r.job.clone(),
            outcome: r.state.clone(),
        })
        .inc();
        let job = Job { job: r.job.clone() };
        durations.get_or_create(&job).observe(r.seconds.max(0.0));
        if r.state == "done"
            && let Ok(t) = chrono::DateTime::parse_from_rfc3339(&r.finished_at)
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(&format!("{}Z", r.finished_at)))
        {
            let g = last_success.get_or_create(&job);
            let secs = t.timestamp_millis() as f64 / 1000.0;
            if secs > g.get() {
                g.set(secs);
            }
        }
    }
    let rows = Family::<Source, Counter>::default();
    registry.register("rows_landed", "Rows landed, by source", rows.clone());
    for (source, n) in &landed.rows {
        rows.get_or_create(&Source {
            source: source.clone(),
        })
        .inc_by(u64::try_from(*n).unwrap_or(0));
    }
    let quarantined = Family::<Source, Counter>::default();
    registry.register(
        "files_quarantined",
        "Extracts rejected and kept in quarantine, by source",
        quarantined.clone(),
    );
    for (source, n) in &landed.quarantined {
        quarantined
            .get_or_create(&Source {
                source: source.clone(),
            })
            .inc_by(*n);
    }
    let mails = Family::<Outcome, Counter>::default();
    registry.register(
        "mails",
        "Mails: sent (the server took it, or the .eml was written) and failed attempts",
        mails.clone(),
    );
    for (state, outcome) in [("delivered", "sent"), ("failed", "failed")] {
        mails
            .get_or_create(&Outcome {
                outcome: outcome.to_string(),
            })
            .inc_by(landed.mails.get(state).copied().unwrap_or(0));
    }
    let lake = Gauge::<i64>::default();
    registry.register("lake_bytes", "Bytes under the lake folder", lake.clone());
    lake.set(i64::try_from(status.lake_bytes).unwrap_or(i64::MAX));
    let mut out = String::new();
    let _ = encode(&mut out, &registry);
    out
}
