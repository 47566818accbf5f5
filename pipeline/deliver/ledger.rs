//! The delivery ledger (`ledger_deliveries`): one row per outcome, appended as its own
//! file right after the server's reply; what has been delivered, with which figures.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::Delivery;
use crate::land::{self, BatchBuilder, ColumnSpec, Kind, LandError};
use crate::render::marts;

/// Columns of `ledger_deliveries`.
pub const LEDGER_DELIVERIES: &[ColumnSpec] = &[
    ("run_id", Kind::Text, false),
    ("report", Kind::Text, false),
    ("period", Kind::Text, false),
    ("municipality", Kind::Int32, true),
    ("recipient", Kind::Text, false),
    ("file_name", Kind::Text, false),
    ("pdf_sha256", Kind::Text, false),
    ("data_sha256", Kind::Text, true),
    ("updated", Kind::Bool, true),
    ("message_id", Kind::Text, false),
    ("transport", Kind::Text, false),
    ("attempts", Kind::Int32, false),
    ("last_reply", Kind::Text, true),
    ("state", Kind::Text, false),
    ("at", Kind::Timestamp, false),
];

/// One outcome, as the ledger keeps it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Outcome {
    /// Report.
    pub report: String,
    /// Period.
    pub period: String,
    /// Recipient.
    pub recipient: String,
    /// `delivered` or `failed`.
    pub state: String,
    /// The server's last reply (or what went wrong).
    #[serde(default)]
    pub last_reply: Option<String>,
    /// PDF hash.
    pub pdf_sha256: String,
    /// Data fingerprint (none in ledgers written before it was kept).
    #[serde(default)]
    pub data_sha256: String,
    /// When (as arrow prints it).
    pub at: String,
}

/// Has a delivery been made before, and with these figures?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Never delivered.
    New,
    /// Delivered with the same figures.
    Same,
    /// Delivered, but the figures have changed since: the time of the first delivery.
    Changed(String),
}

/// The status of `d` against the ledger's outcomes.
#[must_use]
pub fn status(ledger: &[Outcome], d: &Delivery) -> Status {
    let mine: Vec<&Outcome> = ledger
        .iter()
        .filter(|o| {
            o.state == "delivered"
                && o.report == d.report
                && o.period == d.period
                && o.recipient.eq_ignore_ascii_case(&d.recipient)
        })
        .collect();
    match mine.first() {
        None => Status::New,
        Some(_) if mine.iter().any(|o| o.data_sha256 == d.data_sha256) => Status::Same,
        Some(first) => Status::Changed(first.at.clone()),
    }
}

/// Every outcome in the delivery ledger, oldest first.
#[must_use]
pub fn ledger(lake: &Path) -> Vec<Outcome> {
    crate::lake::ledger_files(lake, "deliveries")
        .iter()
        .flat_map(|f| marts::read_file::<Outcome>(f).unwrap_or_default())
        .collect()
}

/// The outcome of one delivery, as recorded.
pub(super) struct Attempt<'a> {
    pub(super) message_id: &'a str,
    pub(super) transport: &'a str,
    pub(super) attempts: u32,
    pub(super) reply: &'a str,
    pub(super) state: &'a str,
    pub(super) at: DateTime<Utc>,
}

pub(super) fn record(
    lake: &Path,
    run_id: &str,
    d: &Delivery,
    a: &Attempt<'_>,
) -> Result<(), LandError> {
    let schema = land::schema(LEDGER_DELIVERIES);
    let mut b = BatchBuilder::new(schema.clone());
    b.text(Some(run_id))
        .text(Some(&d.report))
        .text(Some(&d.period))
        .i32(d.municipality)
        .text(Some(&d.recipient));
    b.text(Some(&d.file_name))
        .text(Some(&d.pdf_sha256))
        .text(Some(&d.data_sha256))
        .bool(Some(d.update_note.is_some()))
        .text(Some(a.message_id))
        .text(Some(a.transport))
        .i32(Some(a.attempts as i32));
    b.text(Some(a.reply))
        .text(Some(a.state))
        .timestamp(Some(a.at));
    b.end_row();
    let stamp = a.at.format("%Y%m%dT%H%M%S%3f").to_string();
    land::append_ledger_rows(lake, "deliveries", run_id, &stamp, &schema, &mut b)
}
