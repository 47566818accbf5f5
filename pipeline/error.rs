//! The top-level error: one variant per stage, each keeping its source.

use std::path::PathBuf;

use crate::config::ConfigErrors;
use crate::deliver::DeliverError;
use crate::extract::{Blame, ExtractError};
use crate::land::LandError;
use crate::parse::{ParseError, Rejection};
use crate::query::QueryError;
use crate::render::RenderError;

/// Anything a maaltal command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// Getting an extract failed.
    #[error("extract: {0}")]
    Extract(#[from] ExtractError),
    /// An extract broke its contract; it is in quarantine.
    #[error("rejected {rejection}\n  the extract is kept in quarantine: {}\n  the lake is unchanged", quarantine.display())]
    Rejected {
        /// Why.
        rejection: Box<Rejection>,
        /// Where the files are now.
        quarantine: PathBuf,
    },
    /// Parsing failed for another reason (authentication, I/O).
    #[error("{0}")]
    Parse(ParseError),
    /// Writing the lake failed.
    #[error("lake: {0}")]
    Land(#[from] LandError),
    /// Syncing the lake with its bucket failed (`[lake.remote]`).
    #[error("lake on object storage: {0}")]
    Remote(#[from] crate::remote::RemoteError),
    /// A query failed.
    #[error("{0}")]
    Query(#[from] QueryError),
    /// Rendering a report failed.
    #[error("{0}")]
    Render(#[from] RenderError),
    /// Delivering reports failed (for some recipients, or the setup).
    #[error("{0}")]
    Deliver(#[from] DeliverError),
    /// A scheduled job could not finish: data still missing at its deadline, stopped,
    /// or already running elsewhere.
    #[error("job `{job}`: {message}")]
    Job {
        /// Job name.
        job: String,
        /// What happened.
        message: String,
    },
    /// Another process held the lake's lock for longer than a writer waits.
    #[error(
        "the lake {} is busy: {holder} holds its lock, waited {waited_secs} s; try again when it is done",
        lake.display()
    )]
    Busy {
        /// The lake.
        lake: PathBuf,
        /// Who holds the lock (process, what it does, since when).
        holder: String,
        /// How long this one waited.
        waited_secs: u64,
    },
    /// The command line asked for something impossible.
    #[error("{message}")]
    Usage {
        /// What.
        message: String,
    },
}

impl Error {
    /// Whose problem it is.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            Self::Config(_)
            | Self::Rejected { .. }
            | Self::Usage { .. }
            | Self::Parse(ParseError::Auth { .. }) => Blame::User,
            Self::Extract(e) => e.blame(),
            Self::Query(q) => q.blame(),
            Self::Render(r) => r.blame(),
            Self::Deliver(d) => d.blame(),
            Self::Job { .. } | Self::Busy { .. } | Self::Remote(_) => Blame::External,
            Self::Parse(_) | Self::Land(_) => Blame::Internal,
        }
    }

    /// Would running again later help?
    #[must_use]
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Extract(e) if e.retryable())
    }
}
