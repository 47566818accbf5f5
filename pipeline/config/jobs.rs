//! `[jobs.<name>]`: a scheduled job is data. It names the period a firing stands for
//! (`period = "quarter"` or `"month"`) and its steps, in stage order:
//!
//! ```text
//! ingest <source> [quarter]  ─►  transform [backfill]  ─►  send <report>
//! ```
//!
//! `ingest` pulls and lands the period's extract from a configured source (`quarter`:
//! also the quarter a month closes, in March, June, September and December);
//! `transform` builds the period's marts (`backfill`: also every landed quarter that has
//! none yet); `send` renders a report for the period and mails it. The Rust knows these
//! three kinds of step; which sources a programme pulls and which reports it mails are
//! its config's.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::problems::Problems;
use super::{JobConfig, SourcesConfig};
use crate::schedule::Span;

/// `[jobs.<name>]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    /// The period a firing stands for: `quarter` (the quarter before it) or `month`.
    #[serde(default)]
    pub period: String,
    /// What the job does, in stage order: `ingest <source> [quarter]`,
    /// `transform [backfill]`, `send <report>`.
    #[serde(default)]
    pub steps: Vec<String>,
    /// Cron expression: five fields (minute hour day month weekday) or six with seconds
    /// first, evaluated in `timezone`.
    pub schedule: String,
    /// Time zone of the schedule (default `Europe/Copenhagen`).
    pub timezone: Option<String>,
    /// How far back `serve` looks for firings whose period was never done (default 100 days).
    pub catch_up_days: Option<u32>,
    /// Seconds between tries while an extract is not published yet (default 3600).
    pub retry_secs: Option<u64>,
    /// Hours after the firing after which missing data fails the job loudly (default 336).
    pub deadline_hours: Option<u64>,
    /// Before 2026-12-06 a job named one of four built-in kinds; refused with a hint.
    pub kind: Option<String>,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Pull and land the period's extract from a source; `with_quarter`: also the
    /// quarter the (monthly) period closes, when it closes one.
    Ingest {
        /// The source's name in `[sources]`.
        source: String,
        /// Also the closed quarter.
        with_quarter: bool,
    },
    /// Build the period's marts; `backfill`: also every landed quarter without marts.
    Transform {
        /// Also the landed quarters that have no marts yet.
        backfill: bool,
    },
    /// Render a report for the period and mail it.
    Send(crate::render::Template),
}

impl Step {
    /// The stage's place in the order pull → transform → render and deliver.
    fn stage(&self) -> u8 {
        match self {
            Self::Ingest { .. } => 0,
            Self::Transform { .. } => 1,
            Self::Send(_) => 2,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ingest {
                source,
                with_quarter,
            } => write!(
                f,
                "ingest {source}{}",
                if *with_quarter { " quarter" } else { "" }
            ),
            Self::Transform { backfill } => {
                write!(f, "transform{}", if *backfill { " backfill" } else { "" })
            }
            Self::Send(t) => write!(f, "send {}", t.name()),
        }
    }
}

/// Parses one step as written; the error says what was expected.
fn parse_step(
    text: &str,
    span: Span,
    config: Option<&SourcesConfig>,
    reports: Option<&super::ReportsConfig>,
) -> Result<Step, String> {
    use crate::render::Template;
    let all: Vec<Template> = reports
        .map(|r| r.reports.clone())
        .unwrap_or_default()
        .into_iter()
        .map(Template::new)
        .collect();
    let words: Vec<&str> = text.split_whitespace().collect();
    let sources = || {
        config
            .map(SourcesConfig::names)
            .unwrap_or_default()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let reports = || {
        all.iter()
            .map(|t| format!("`{}`", t.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match words.as_slice() {
        ["ingest", name, rest @ ..] => {
            // With `[sources]` broken, the names cannot be checked (its own errors say why).
            let Some(config) = config else {
                return Ok(Step::Ingest {
                    source: (*name).to_string(),
                    with_quarter: rest == ["quarter"],
                });
            };
            if config.kind(name).is_none() {
                return Err(format!(
                    "`{text}`: unknown source `{name}`; valid: {}",
                    sources()
                ));
            }
            let with_quarter = match rest {
                [] => false,
                ["quarter"] => true,
                _ => {
                    return Err(format!(
                        "`{text}`: after the source only `quarter` may follow (also the quarter a month closes)"
                    ));
                }
            };
            if !config.takes(name, span) {
                return Err(format!(
                    "`{text}`: the {name} source has no {} extracts; this job's `period` is `{}`",
                    span.name(),
                    span.name()
                ));
            }
            if with_quarter && (span == Span::Quarter || !config.takes(name, Span::Quarter)) {
                return Err(format!(
                    "`{text}`: `quarter` needs a monthly job and a source with quarterly extracts"
                ));
            }
            Ok(Step::Ingest {
                source: (*name).to_string(),
                with_quarter,
            })
        }
        ["transform"] => Ok(Step::Transform { backfill: false }),
        ["transform", "backfill"] => Ok(Step::Transform { backfill: true }),
        ["send", name] => {
            let report = all
                .iter()
                .find(|t| t.name() == *name)
                .cloned()
                .ok_or_else(|| {
                    format!("`{text}`: unknown report `{name}`; valid: {}", reports())
                })?;
            if report.quarterly() != (span == Span::Quarter) {
                return Err(format!(
                    "`{text}`: the {name} report is made for a {}; this job's `period` is `{}`",
                    if report.quarterly() {
                        "quarter"
                    } else {
                        "month"
                    },
                    span.name()
                ));
            }
            Ok(Step::Send(report))
        }
        _ => Err(format!(
            "`{text}`: give `ingest <source> [quarter]`, `transform [backfill]` or `send <report>`"
        )),
    }
}

pub(super) fn validate_jobs(
    p: &mut Problems<'_>,
    raw: BTreeMap<String, RawJob>,
    sources: Option<&SourcesConfig>,
    reports: Option<&super::ReportsConfig>,
) -> BTreeMap<String, JobConfig> {
    let mut out = BTreeMap::new();
    for (name, r) in raw {
        let field = |k: &str| format!("jobs.{name}.{k}");
        if let Some(kind) = &r.kind {
            p.at(
                &field("kind"),
                format!("`kind = \"{kind}\"` is gone: a job now says what it does with `period` and `steps` (docs/configuration.md, `[jobs.<name>]`)"),
            );
            continue;
        }
        let span = match r.period.as_str() {
            "quarter" => Some(Span::Quarter),
            "month" => Some(Span::Month),
            "" => {
                p.at(
                    &field("period"),
                    "missing: give `quarter` or `month` (the period a firing stands for)",
                );
                None
            }
            other => {
                p.at(
                    &field("period"),
                    format!(
                        "`{other}`: give `quarter` or `month` (the period a firing stands for)"
                    ),
                );
                None
            }
        };
        let mut steps: Vec<Step> = Vec::new();
        if let Some(span) = span {
            if r.steps.is_empty() {
                p.at(
                    &field("steps"),
                    "no steps: give at least one (e.g. `\"transform\"`)",
                );
            }
            for (i, text) in r.steps.iter().enumerate() {
                match parse_step(text, span, sources, reports) {
                    Ok(step) => {
                        if let Some(last) = steps.last()
                            && last.stage() > step.stage()
                        {
                            p.at(
                                &format!("jobs.{name}.steps.{i}"),
                                format!("`{step}` after `{last}`: steps run in stage order, ingest → transform → send"),
                            );
                        }
                        if steps.contains(&step) {
                            p.at(
                                &format!("jobs.{name}.steps.{i}"),
                                format!("`{step}` is listed twice"),
                            );
                        }
                        steps.push(step);
                    }
                    Err(m) => p.at(&format!("jobs.{name}.steps.{i}"), m),
                }
            }
        }
        let cron = match crate::schedule::parse_cron(&r.schedule) {
            Ok(c) => Some(c),
            Err(e) => {
                p.at(&field("schedule"), e);
                None
            }
        };
        let tz_name = r.timezone.as_deref().unwrap_or("Europe/Copenhagen");
        let timezone = tz_name.parse::<chrono_tz::Tz>().ok();
        if timezone.is_none() {
            p.at(
                &field("timezone"),
                format!("unknown time zone `{tz_name}` (e.g. `Europe/Copenhagen`)"),
            );
        }
        if r.retry_secs == Some(0) {
            p.at(&field("retry_secs"), "`0`: must be at least 1 (seconds)");
        }
        if let (Some(span), Some(cron), Some(timezone)) = (span, cron, timezone) {
            out.insert(
                name.clone(),
                JobConfig {
                    name,
                    span,
                    steps,
                    schedule: r.schedule,
                    cron,
                    timezone,
                    catch_up: chrono::Duration::days(i64::from(r.catch_up_days.unwrap_or(100))),
                    retry_every: Duration::from_secs(r.retry_secs.unwrap_or(3600)),
                    deadline: chrono::Duration::hours(r.deadline_hours.unwrap_or(336) as i64),
                },
            );
        }
    }
    out
}

impl JobConfig {
    /// Its steps as written, joined by commas (`ingest <source>, transform, send <report>`).
    #[must_use]
    pub fn describe(&self) -> String {
        self.steps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The sources it ingests, by name.
    pub fn sources(&self) -> impl Iterator<Item = &str> + '_ {
        self.steps.iter().filter_map(|s| match s {
            Step::Ingest { source, .. } => Some(source.as_str()),
            _ => None,
        })
    }

    /// The reports it sends, by name.
    #[must_use]
    pub fn reports(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Send(t) => Some(t.name()),
                _ => None,
            })
            .collect()
    }
}
