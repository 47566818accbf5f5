//! The Jobindsats v2 API (or a folder with its answers): metadata to find the periods
//! a table has, then the data per table and period.
//!
//! HTTP: `{base}/v2/tables/{TABLE}/json` and
//! `{base}/v2/data/{TABLE}/json?area=*&period={P}&_dim=*`.
//! Folder: `{dir}/{TABLE}/metadata.json` and `{dir}/{TABLE}/{P}.json`.

use std::path::Path;

use super::http::HttpFetcher;
use super::{ExtractError, FetchOutcome, Validators, file, io_err};
use crate::config::is_url;

/// Where a table's metadata is.
#[must_use]
pub fn metadata_location(base: &str, table_id: &str) -> String {
    if is_url(base) {
        format!("{}/v2/tables/{table_id}/json", base.trim_end_matches('/'))
    } else {
        Path::new(base)
            .join(table_id)
            .join("metadata.json")
            .to_string_lossy()
            .into_owned()
    }
}

/// Where a table's data for one period code is.
#[must_use]
pub fn data_location(base: &str, table_id: &str, period_code: &str) -> String {
    if is_url(base) {
        format!(
            "{}/v2/data/{table_id}/json?area=*&period={period_code}&_dim=*",
            base.trim_end_matches('/')
        )
    } else {
        Path::new(base)
            .join(table_id)
            .join(format!("{period_code}.json"))
            .to_string_lossy()
            .into_owned()
    }
}

/// Reads a table's metadata text.
pub async fn metadata_text(
    base: &str,
    table_id: &str,
    http: &HttpFetcher,
) -> Result<(String, String), ExtractError> {
    let loc = metadata_location(base, table_id);
    if is_url(&loc) {
        Ok((http.get_text(&loc).await?, loc))
    } else {
        let p = Path::new(&loc);
        let text = std::fs::read_to_string(p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ExtractError::NotFound {
                    location: loc.clone(),
                }
            } else {
                ExtractError::Io {
                    path: loc.clone(),
                    op: "read",
                    error: e,
                }
            }
        })?;
        Ok((text, loc))
    }
}

/// Fetches one period's data into `dest`.
pub async fn fetch_data(
    base: &str,
    table_id: &str,
    period_code: &str,
    validators: &Validators,
    dest: &Path,
    http: &HttpFetcher,
) -> Result<FetchOutcome, ExtractError> {
    let loc = data_location(base, table_id, period_code);
    if is_url(&loc) {
        http.get_to_file(&loc, validators, dest).await
    } else {
        std::fs::metadata(&loc).map_err(|_| ExtractError::NotFound {
            location: loc.clone(),
        })?;
        file::copy(Path::new(&loc), dest)
            .map(FetchOutcome::Fetched)
            .map_err(|e| match e {
                ExtractError::Io { error, .. } => io_err(dest, "copy")(error),
                other => other,
            })
    }
}
