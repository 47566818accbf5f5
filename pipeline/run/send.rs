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
    let settings = render::Settings::new(config, date)?;
    let preview = options.preview_as.as_deref();
    // Reports per municipality or programme are few and rendered at once. Staff books
    // are planned here, rendered a batch at a time (every core), and mailed and let go
    // one at a time below; a preview renders only that recipient's.
    let books = match &template {
        Template::StaffBook(spec) => Some(render::Books::load(
            config, spec, period, preview, &settings,
        )?),
        _ => None,
    };
    let few = match &template {
        Template::StaffBook(_) => Vec::new(),
        other => render::make(config, other, period, &settings)?,
    };
    let reports: Box<dyn Iterator<Item = Result<render::Rendered, render::RenderError>> + Send> =
        match &books {
            Some(b) => Box::new(b.each(&settings)),
            None => Box::new(few.into_iter().map(Ok)),
        };
    // From reading the delivery ledger to writing it, one sender at a time (lock.rs).
    let sending = preview.is_none() && !options.dry_run;
    let _lock = if sending {
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
    let mut out = SendReport::default();
    if let Some(who) = preview {
        let mut paths = Vec::new();
        for r in reports {
            let r = r?;
            let (deliveries, _) = deliver::plan(config, std::slice::from_ref(&r));
            if deliveries
                .iter()
                .any(|d| d.recipient.eq_ignore_ascii_case(who))
            {
                paths.extend(render::write_all(&options.preview_dir, &[r], false)?);
            }
        }
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
    let mailer = if sending {
        let m = deliver::mailer_from(config, options.smtp_url.clone())?;
        info!(stage = "deliver", "{}", m.describe());
        Some(m)
    } else {
        None
    };
    let mut sender = mailer
        .as_ref()
        .map(|m| deliver::Sender::new(lake, run_id, &config.mail, m, retry, mode));
    let done: HashSet<(String, String, String)> = if options.dry_run {
        deliver::ledger(lake)
            .into_iter()
            .filter(|o| o.state == "delivered")
            .map(|o| (o.report, o.period, o.recipient.to_lowercase()))
            .collect()
    } else {
        HashSet::new()
    };
    let mut unaddressed = Vec::new();
    let mut would = Vec::new();
    let mut total = 0;
    let mut note: Option<String> = None;
    let mut reissued = 0;
    for r in reports {
        let r = r?;
        let (deliveries, nobody) = deliver::plan(config, std::slice::from_ref(&r));
        unaddressed.extend(nobody);
        for mut d in deliveries {
            total += 1;
            if options.dry_run {
                let key = (
                    d.report.clone(),
                    d.period.clone(),
                    d.recipient.to_lowercase(),
                );
                let seen = if done.contains(&key) && !options.resend {
                    "  (delivered before: skipped)"
                } else {
                    ""
                };
                would.push(format!(
                    "would send {} ({} bytes) to {}{seen}",
                    d.file_name,
                    d.pdf.len(),
                    d.recipient
                ));
                continue;
            }
            let Some(sender) = sender.as_mut() else {
                continue;
            };
            if let (true, deliver::Status::Changed(at)) = (options.updates, sender.status(&d)) {
                // Figures changed since a delivery: render it again, marked as an update
                // (the note names what was landed since the first such delivery).
                let note = note
                    .get_or_insert_with(|| changes_since(config, lake, &at))
                    .clone();
                let marked = render::Settings {
                    update_note: Some(note.clone()),
                    ..settings.clone()
                };
                let again = match (&template, &books) {
                    (Template::StaffBook(_), Some(b)) => b
                        .planned
                        .iter()
                        .find(|p| p.file_name == r.file_name)
                        .map(|p| b.render(p, &marked))
                        .transpose()?,
                    (Template::Overview(spec), _) => {
                        Some(render::overview(config, spec, period, &marked)?)
                    }
                    (Template::Custom(spec), _) => {
                        render::custom(config, spec, period, r.municipality, &marked)?.pop()
                    }
                    (Template::Quarterly(spec), _) => {
                        render::quarterly(config, spec, period, r.municipality, &marked)?.pop()
                    }
                    (Template::StaffBook(_), None) => None,
                };
                let (fresh, _) = deliver::plan(config, again.as_slice());
                if let Some(new) = fresh
                    .into_iter()
                    .find(|n| n.file_name == d.file_name && n.recipient == d.recipient)
                {
                    d = new;
                    d.update_note = Some(note);
                    reissued += 1;
                }
            }
            sender.send(&d, &now).await?;
        }
    }
    for f in &unaddressed {
        out.lines.push(format!(
            "no recipient configured for {f} (see [recipients] in the configuration)"
        ));
    }
    if options.dry_run {
        out.lines.extend(would);
        out.lines
            .push(format!("dry run: {total} mails, nothing sent"));
        return Ok(out);
    }
    if reissued > 0 {
        info!(
            stage = "deliver",
            "{reissued} report(s) changed since delivery: re-issued as updated versions"
        );
    }
    let summary = sender.map(|s| s.summary).unwrap_or_default();
    out.lines.push(format!(
        "{total} {} for {period}: {} delivered, {} delivered before (skipped), {} failed",
        if total == 1 { "mail" } else { "mails" },
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
            total,
        }
        .into());
    }
    out.summary = Some(summary);
    Ok(out)
}

/// What was landed after `since` (as the ledger prints times), in Danish: the note an
/// updated report carries.
fn changes_since(config: &Config, lake: &Path, since: &str) -> String {
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
            let source = config.sources.title(s);
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
