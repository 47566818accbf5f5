//! `maaltal send` and the report jobs' delivery: render, plan, mail once, record.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::info;

use crate::config::Config;
use crate::error::Error;
use crate::period::Period;

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
