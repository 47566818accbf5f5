//! One delivery run, mail by mail: the ledger is read once, and each mail is sent and
//! its outcome recorded when the caller hands it over, so reports can be rendered,
//! mailed and let go one at a time.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::ledger::{Attempt, Outcome, record};
use super::{
    DeliverError, Delivery, IN_DOUBT, Mailer, Mode, Retry, Status, Summary, compose, intent,
    ledger, message_id, status,
};
use crate::config::MailConfig;

/// A delivery run in progress.
pub struct Sender<'a, M: Mailer> {
    lake: &'a Path,
    run_id: &'a str,
    mail: &'a MailConfig,
    mailer: &'a M,
    retry: Retry,
    mode: Mode,
    /// The ledger as the run began.
    past: Vec<Outcome>,
    /// What the run has done so far.
    pub summary: Summary,
}

impl<'a, M: Mailer> Sender<'a, M> {
    /// A run that records in `lake`'s ledger under `run_id`.
    #[must_use]
    pub fn new(
        lake: &'a Path,
        run_id: &'a str,
        mail: &'a MailConfig,
        mailer: &'a M,
        retry: Retry,
        mode: Mode,
    ) -> Self {
        Self {
            lake,
            run_id,
            mail,
            mailer,
            retry,
            mode,
            past: ledger(lake),
            summary: Summary::default(),
        }
    }

    /// How the ledger saw `d` when the run began.
    #[must_use]
    pub fn status(&self, d: &Delivery) -> Status {
        status(&self.past, d)
    }

    /// Sends `d` unless it was delivered before (per the mode), retrying transient
    /// failures, and records the outcome. A failed recipient is recorded in the
    /// summary; only a failure to record is an error.
    pub async fn send(
        &mut self,
        d: &Delivery,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Result<(), DeliverError> {
        crate::progress::advance(1);
        let skip = match (self.mode, status(&self.past, d)) {
            (Mode::Resend, _) | (_, Status::New) => false,
            (Mode::Updates, Status::Changed(_)) => d.update_note.is_none(),
            _ => true,
        };
        if skip {
            intent::end(self.lake, d); // an outcome recorded just before a kill
            self.summary
                .skipped
                .push((d.recipient.clone(), d.file_name.clone()));
            return Ok(());
        }
        let id = message_id(d, &self.mail.from);
        let doubt = intent::interrupted(self.lake, d);
        // A bad address (say, in a source's employee list) fails that recipient, not the run.
        let message = match compose(d, self.mail, now()) {
            Ok(m) => m,
            Err(e @ DeliverError::Setup { .. }) if e.to_string().starts_with("recipient:") => {
                let reply = e.to_string();
                let attempt = Attempt {
                    message_id: &id,
                    transport: self.mailer.kind(),
                    attempts: 0,
                    reply: &reply,
                    state: "failed",
                    at: now(),
                };
                record(self.lake, self.run_id, d, &attempt)?;
                tracing::error!(stage = "deliver", report = d.report, error = %reply, "not delivered: {}", d.file_name);
                self.summary.failed.push((d.recipient.clone(), reply));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if let Some(begun) = &doubt {
            tracing::warn!(stage = "deliver", report = d.report, period = %d.period, "sending {} again: an attempt begun {begun} was interrupted before its outcome was recorded, so it may arrive twice", d.file_name);
        }
        intent::begin(self.lake, d, &id, now())?;
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            match self.mailer.send(&message, d).await {
                Ok(reply) => break Ok(reply),
                Err(f) if f.transient && attempts <= self.retry.retries => {
                    let wait = self.retry.backoff * 2u32.saturating_pow(attempts - 1);
                    tracing::warn!(stage = "deliver", report = d.report, attempt = attempts, error = %f.reply, "transient failure; retrying in {} ms", wait.as_millis());
                    tokio::time::sleep(wait).await;
                }
                Err(f) => break Err(f.reply),
            }
        };
        match outcome {
            Ok(reply) => {
                let reply = match &doubt {
                    Some(begun) => {
                        self.summary
                            .in_doubt
                            .push((d.recipient.clone(), d.file_name.clone()));
                        format!(
                            "{reply} ({IN_DOUBT} {begun} was interrupted: it may have arrived twice)"
                        )
                    }
                    None => reply,
                };
                self.record(d, &id, attempts, &reply, "delivered", now())?;
                tracing::debug!(stage = "deliver", report = d.report, period = %d.period, attempts, "delivered {}", d.file_name);
                self.summary
                    .delivered
                    .push((d.recipient.clone(), d.file_name.clone()));
            }
            Err(reply) => {
                self.record(d, &id, attempts, &reply, "failed", now())?;
                tracing::error!(stage = "deliver", report = d.report, period = %d.period, attempts, error = %reply, "not delivered: {}", d.file_name);
                self.summary.failed.push((d.recipient.clone(), reply));
            }
        }
        Ok(())
    }

    /// Records the outcome of the attempts at `d` and ends its intent.
    fn record(
        &self,
        d: &Delivery,
        message_id: &str,
        attempts: u32,
        reply: &str,
        state: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DeliverError> {
        let attempt = Attempt {
            message_id,
            transport: self.mailer.kind(),
            attempts,
            reply,
            state,
            at,
        };
        record(self.lake, self.run_id, d, &attempt)?;
        intent::end(self.lake, d);
        Ok(())
    }
}
