//! Extraction: get an extract's bytes from where it lives into a private incoming
//! folder, with its sha256, size and HTTP validators. Nothing here parses.
//!
//! ```text
//! location ─┬─ http(s)://…  ──► http::HttpFetcher (timeouts, retries, ETag/Last-Modified, size limit)
//!           └─ path         ──► file::copy
//!                                   └──► incoming/<run>/<name>  (sha256, bytes)
//! ```

pub mod file;
pub mod http;
pub mod jobindsats;

use std::path::{Path, PathBuf};

use crate::config::is_url;

/// Conditional-request validators remembered from the last landing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// One file fetched into the incoming folder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fetched {
    /// URL or path it came from.
    pub location: String,
    /// Where it is now.
    pub local: PathBuf,
    /// sha256 of its bytes, hex.
    pub sha256: String,
    /// Size.
    pub bytes: u64,
    /// `ETag` the server sent.
    pub etag: Option<String>,
    /// `Last-Modified` the server sent.
    pub last_modified: Option<String>,
}

/// What a fetch gave.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// New bytes.
    Fetched(Fetched),
    /// The server said 304: nothing new.
    NotModified {
        /// URL.
        location: String,
        /// Validators that still hold.
        validators: Validators,
    },
}

/// Who is to blame for an error (STYLE §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The user's input or config.
    User,
    /// A server or the network.
    External,
    /// A bug or the local machine.
    Internal,
}

/// Errors of the extract stage.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The server answered with an error status (after retries, for 429/5xx).
    #[error("{url}: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// URL.
        url: String,
        /// Status code.
        status: u16,
        /// Start of the body.
        body: String,
    },
    /// No connection could be made (after retries).
    #[error("{url}: {message}")]
    Connect {
        /// URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// The extract does not exist (yet).
    #[error("{location}: not found")]
    NotFound {
        /// URL or path.
        location: String,
    },
    /// The download passed the size limit.
    #[error("{location}: larger than the limit of {limit} bytes (`http.max_bytes`)")]
    TooLarge {
        /// URL.
        location: String,
        /// Limit.
        limit: u64,
    },
    /// The server refused the credentials.
    #[error("{location}: authentication failed (check the key in `{key_env}`): {message}")]
    Auth {
        /// URL.
        location: String,
        /// Env var of the key.
        key_env: String,
        /// The server's message.
        message: String,
    },
    /// A secret's environment variable is unset.
    #[error("environment variable `{env}` is not set (it holds the {what})")]
    MissingSecret {
        /// Variable.
        env: String,
        /// What it holds.
        what: &'static str,
    },
    /// The Jobindsats table does not list the period yet.
    #[error("jobindsats table `{table}` does not list period {period} yet (latest: {latest})")]
    NotPublished {
        /// Table id.
        table: String,
        /// Period asked for.
        period: String,
        /// Latest period listed.
        latest: String,
    },
    /// A local file operation failed.
    #[error("{path}: {op}: {error}")]
    Io {
        /// Path.
        path: String,
        /// Operation.
        op: &'static str,
        /// OS error.
        error: std::io::Error,
    },
}

impl ExtractError {
    /// Is the extract simply not published yet (404, or a period the Jobindsats
    /// metadata does not list)? The scheduler waits for such data until a deadline.
    #[must_use]
    pub fn not_published_yet(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. } | Self::NotPublished { .. } | Self::Status { status: 404, .. }
        )
    }

    /// Is a later retry likely to help?
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Connect { .. } | Self::NotFound { .. } | Self::NotPublished { .. } => true,
            _ => false,
        }
    }

    /// Whose problem it is.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            Self::Status { .. }
            | Self::Connect { .. }
            | Self::NotFound { .. }
            | Self::NotPublished { .. } => Blame::External,
            Self::TooLarge { .. } | Self::Auth { .. } | Self::MissingSecret { .. } => Blame::User,
            Self::Io { .. } => Blame::Internal,
        }
    }
}

pub(crate) fn io_err<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl FnOnce(std::io::Error) -> ExtractError + 'a {
    move |error| ExtractError::Io {
        path: path.display().to_string(),
        op,
        error,
    }
}

/// Fetches one location (URL or path) into `dest`.
pub async fn fetch(
    location: &str,
    validators: &Validators,
    dest: &Path,
    http: &http::HttpFetcher,
) -> Result<FetchOutcome, ExtractError> {
    if is_url(location) {
        http.get_to_file(location, validators, dest).await
    } else {
        file::copy(Path::new(location), dest).map(FetchOutcome::Fetched)
    }
}
