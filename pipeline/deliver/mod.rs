//! Delivery: rendered reports → one mail per recipient (lettre over SMTP, or `.eml`
//! files in an outbox), recorded in the delivery ledger so that nothing is sent twice.
//!
//! ```text
//! Rendered ──plan──► Delivery (report, period, recipient, PDF) ──compose──► Message
//!          ──Mailer (SMTP | outbox), retries with backoff──► ledger/deliveries (one file per outcome)
//! ```
//! A delivered (report, period, recipient) is never sent again unless `--resend`. Each
//! outcome is written to the ledger right after the server's reply, so a run that is
//! killed resumes with only the unsent ones. A permanent failure for one recipient is
//! recorded and the others still go out; the run then fails naming who got no mail.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncTransport, Message};
use sha2::{Digest, Sha256};

use crate::config::reports::Scope;
use crate::config::{Config, MailConfig};
use crate::extract::Blame;
use crate::land::LandError;
use crate::period::Period;
use crate::render::{Rendered, format};

pub(crate) mod intent;
mod ledger;
mod mailer;
mod sender;

pub use ledger::{LEDGER_DELIVERIES, Outcome, Status, ledger, status};
pub use mailer::{Either, Mailer, OutboxMailer, SendFailure, SmtpMailer, mailer_from};
pub use sender::Sender;

/// Errors of the delivery stage.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// Some recipients got no mail; the others did.
    #[error("{} of {total} mails not delivered: {}", failed.len(), failed.iter().map(|(r, why)| format!("{r} ({why})")).collect::<Vec<_>>().join("; "))]
    Failed {
        /// Recipient and the last reply.
        failed: Vec<(String, String)>,
        /// Mails attempted.
        total: usize,
    },
    /// The mail setup is wrong (bad address, URL, missing password).
    #[error("{field}: {message}")]
    Setup {
        /// Config key or env var.
        field: String,
        /// What.
        message: String,
    },
    /// Writing the ledger, the outbox or a preview failed.
    #[error("{0}")]
    Land(#[from] LandError),
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl DeliverError {
    /// Whose problem it is.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            Self::Setup { .. } => Blame::User,
            Self::Failed { .. } | Self::Io { .. } => Blame::External,
            Self::Land(_) => Blame::Internal,
        }
    }
}

/// One mail to send: a report for one recipient.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The report's name (`[[reports.report]] name`).
    pub report: String,
    /// `2018Q4`, `2018-11`.
    pub period: String,
    /// Municipality (none for the overview).
    pub municipality: Option<i32>,
    /// The recipient's address.
    pub recipient: String,
    /// Attachment file name.
    pub file_name: String,
    /// The PDF.
    pub pdf: Vec<u8>,
    /// Its sha256, hex.
    pub pdf_sha256: String,
    /// The report data's fingerprint (figures, not the date).
    pub data_sha256: String,
    /// Set when this is a re-issue after the data changed: what changed (Danish).
    pub update_note: Option<String>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// 32 hex digits naming one mail of a delivery: its report, period and recipient, and
/// `content` (the PDF's hash for the Message-ID, the figures' for the intent file).
pub(crate) fn mail_key(d: &Delivery, content: &str) -> String {
    let key = format!(
        "{}\n{}\n{}\n{content}",
        d.report,
        d.period,
        d.recipient.to_lowercase()
    );
    sha256_hex(key.as_bytes())[..32].to_string()
}

/// Who gets which rendered report, by its scope: project leads their municipality's,
/// the secretariat the programme's, each staff book its own recipient. Returns the
/// deliveries and the reports nobody is configured to get.
#[must_use]
pub fn plan(config: &Config, reports: &[Rendered]) -> (Vec<Delivery>, Vec<String>) {
    let mut out = Vec::new();
    let mut unaddressed = Vec::new();
    for r in reports {
        let spec = r.template.spec();
        let to: Vec<String> = match spec.scope {
            Scope::Municipality => r
                .municipality
                .and_then(|m| config.recipients.project_leads.get(&m))
                .cloned()
                .unwrap_or_default(),
            Scope::Programme => config.recipients.secretariat.clone(),
            Scope::Employee => r.recipient.iter().cloned().collect(),
        };
        if to.is_empty() {
            unaddressed.push(r.file_name.clone());
        }
        let mut seen = BTreeSet::new();
        for recipient in to {
            if !seen.insert(recipient.to_lowercase()) {
                continue;
            }
            let (subject, body) = texts(config, r);
            out.push(Delivery {
                report: r.template.name().to_string(),
                period: r.period.clone(),
                municipality: r.municipality,
                recipient,
                file_name: r.file_name.clone(),
                pdf_sha256: sha256_hex(&r.pdf),
                data_sha256: r.data_sha256.clone(),
                update_note: None,
                pdf: r.pdf.clone(),
                subject,
                body,
            });
        }
    }
    (out, unaddressed)
}

fn period_text(p: &str) -> String {
    p.parse::<Period>()
        .map_or_else(|_| p.to_string(), format::period_label)
}

/// The Danish subject and body of a report's mail.
fn texts(config: &Config, r: &Rendered) -> (String, String) {
    let program = &config.program.name;
    let period = period_text(&r.period);
    let kommune = r
        .municipality
        .and_then(crate::municipality::name)
        .unwrap_or("kommunen");
    let spec = r.template.spec();
    let fill = |t: &str| {
        t.replace("{kommune}", kommune)
            .replace("{period_label}", &period)
            .replace("{period}", &r.period)
            .replace("{program}", program)
            .replace("{file}", &r.file_name)
    };
    (fill(&spec.subject), fill(&spec.body))
}

/// The Message-ID of a delivery: the same report, period, recipient and PDF always get
/// the same id, so a mail client can tell a repeat from a new version.
#[must_use]
pub fn message_id(d: &Delivery, from: &str) -> String {
    let domain = from.parse::<Mailbox>().map_or_else(
        |_| "maaltal.invalid".to_string(),
        |m| m.email.domain().to_string(),
    );
    format!("<{}@{domain}>", mail_key(d, &d.pdf_sha256))
}

/// The mail of a delivery: one recipient in To, the PDF attached.
pub fn compose(
    d: &Delivery,
    mail: &MailConfig,
    now: DateTime<Utc>,
) -> Result<Message, DeliverError> {
    let setup = |field: &str, message: String| DeliverError::Setup {
        field: field.into(),
        message,
    };
    let from: Mailbox = mail
        .from
        .parse()
        .map_err(|e| setup("mail.from", format!("{e}")))?;
    let reply_to: Mailbox = mail
        .reply_to
        .parse()
        .map_err(|e| setup("mail.reply_to", format!("{e}")))?;
    let to: Mailbox = d
        .recipient
        .parse()
        .map_err(|e| setup("recipient", format!("`{}`: {e}", d.recipient)))?;
    let pdf =
        ContentType::parse("application/pdf").map_err(|e| setup("content-type", e.to_string()))?;
    Message::builder()
        .from(from)
        .reply_to(reply_to)
        .to(to)
        .subject(match &d.update_note {
            Some(_) => format!("Opdateret version: {}", d.subject),
            None => d.subject.clone(),
        })
        .date(now.into())
        .message_id(Some(message_id(d, &mail.from)))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(match &d.update_note {
                    Some(note) => format!(
                        "Opdateret version. {note} Den vedhæftede rapport erstatter den, du fik tidligere.\n\n{}",
                        d.body
                    ),
                    None => d.body.clone(),
                }))
                .singlepart(Attachment::new(d.file_name.clone()).body(d.pdf.clone(), pdf)),
        )
        .map_err(|e| setup("message", e.to_string()))
}

/// Which deliveries a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Those never delivered (`maaltal send`).
    Once,
    /// All (`--resend`).
    Resend,
    /// Those never delivered, and those whose figures changed since (scheduled jobs):
    /// the latter go out once, marked "Opdateret version".
    Updates,
}

/// What a delivery run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Sent now: (recipient, file).
    pub delivered: Vec<(String, String)>,
    /// Already delivered earlier: (recipient, file).
    pub skipped: Vec<(String, String)>,
    /// Not delivered: (recipient, last reply).
    pub failed: Vec<(String, String)>,
    /// Sent again after an interrupted attempt, so possibly twice: (recipient, file).
    pub in_doubt: Vec<(String, String)>,
}

/// How the ledger's `last_reply` marks a mail sent again after an interrupted attempt.
pub const IN_DOUBT: &str = "sent again: an attempt begun";

/// Retry policy.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubles.
    pub backoff: Duration,
}

/// Sends every delivery not yet delivered (all with `resend`), recording each outcome.
#[allow(
    clippy::too_many_arguments,
    reason = "the run's inputs, passed in plainly"
)]
pub async fn deliver(
    lake: &Path,
    run_id: &str,
    mail: &MailConfig,
    mailer: &impl Mailer,
    deliveries: &[Delivery],
    retry: Retry,
    mode: Mode,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<Summary, DeliverError> {
    let mut sender = Sender::new(lake, run_id, mail, mailer, retry, mode);
    for d in deliveries {
        sender.send(d, &now).await?;
    }
    Ok(sender.summary)
}

/// Tells the operator (`[recipients] operator`) that something failed: a plain mail
/// over the configured transport. Nothing happens when no operator is configured.
pub async fn notify_operator(
    config: &Config,
    smtp_url: Option<String>,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), DeliverError> {
    let Some(to) = &config.recipients.operator else {
        return Ok(());
    };
    let setup = |field: &str, message: String| DeliverError::Setup {
        field: field.into(),
        message,
    };
    let from: Mailbox = config
        .mail
        .from
        .parse()
        .map_err(|e| setup("mail.from", format!("{e}")))?;
    let to_box: Mailbox = to
        .parse()
        .map_err(|e| setup("recipients.operator", format!("{e}")))?;
    let message = Message::builder()
        .from(from)
        .to(to_box)
        .subject(subject)
        .date(now.into())
        .body(body.to_string())
        .map_err(|e| setup("message", e.to_string()))?;
    match mailer_from(config, smtp_url)? {
        Either::Smtp(m, _) => match tokio::time::timeout(m.timeout, m.pool().send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(setup("recipients.operator", e.to_string())),
            Err(_) => Err(setup(
                "recipients.operator",
                "no reply from the SMTP server".into(),
            )),
        },
        Either::Outbox(m) => {
            let io = |e: std::io::Error| DeliverError::Io {
                path: m.dir.display().to_string(),
                source: e,
            };
            std::fs::create_dir_all(&m.dir).map_err(io)?;
            let path = m
                .dir
                .join(format!("operator-{}.eml", now.format("%Y%m%dT%H%M%S%3f")));
            std::fs::write(&path, message.formatted()).map_err(io)
        }
    }
}

#[cfg(test)]
mod tests;
