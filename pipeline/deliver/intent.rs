//! Mails in doubt. SMTP cannot say exactly once: a process killed after the server took
//! a mail but before the ledger recorded it cannot know, when it runs again, whether the
//! mail went out. So before a mail's dialogue starts, an intent file is written and
//! fsynced under `<lake>/.deliveries/`, and removed once the outcome is in the ledger.
//!
//! ```text
//!  intent written ─► SMTP dialogue ─► server: 250 ─► ledger: delivered ─► intent removed
//!       kill here: never sent, resent ──┘   kill here: IN DOUBT ──┘   kill here: stale, removed
//! ```
//! A rerun that finds an intent without an outcome sends the mail again (a mail is never
//! lost) and records it as in doubt: it may have arrived twice. The window is the time
//! between the server's reply and the ledger's fsync, a few milliseconds per mail.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::Delivery;
use crate::land::{self, LandError};

fn path(lake: &Path, d: &Delivery) -> PathBuf {
    let key = super::mail_key(d, &d.data_sha256);
    lake.join(".deliveries").join(format!("{key}.intent"))
}

/// When an earlier attempt at `d` began, if it was interrupted before its outcome was
/// recorded.
#[must_use]
pub(super) fn interrupted(lake: &Path, d: &Delivery) -> Option<String> {
    fs::read_to_string(path(lake, d))
        .ok()
        .map(|t| t.lines().nth(1).unwrap_or_default().to_string())
}

/// Records that `d` is about to be sent (fsynced before the first byte goes out).
pub(super) fn begin(
    lake: &Path,
    d: &Delivery,
    message_id: &str,
    at: DateTime<Utc>,
) -> Result<(), LandError> {
    let p = path(lake, d);
    if let Some(dir) = p.parent() {
        fs::create_dir_all(dir).map_err(land::io_err(dir, "create intent folder"))?;
    }
    let text = format!(
        "{message_id}\n{}\n{} {} {}\n",
        at.format("%Y-%m-%d %H:%M:%S UTC"),
        d.report,
        d.period,
        d.file_name
    );
    land::write_synced(&p, text.as_bytes())
}

/// The outcome of `d` is in the ledger: its intent is done with.
pub(super) fn end(lake: &Path, d: &Delivery) {
    let _ = fs::remove_file(path(lake, d));
}

/// (report, period) of every mail begun and not yet recorded.
#[must_use]
pub(crate) fn pending(lake: &Path) -> Vec<(String, String)> {
    let Ok(rd) = fs::read_dir(lake.join(".deliveries")) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let text = fs::read_to_string(e.path()).ok()?;
            let mut what = text.lines().nth(2)?.split(' ');
            Some((what.next()?.to_string(), what.next()?.to_string()))
        })
        .collect()
}
