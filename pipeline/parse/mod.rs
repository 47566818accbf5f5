//! Parsing and validation of the three extracts: bytes in, typed rows out to a
//! [`crate::land::PartitionWriter`], or a [`Rejection`] that names source, file, line,
//! column, field and value (never a CPR value: values pass through [`crate::redact`]).
//!
//! Parsers stream: memory is bounded by one batch (plus, for a wide-weeks register, one 16-byte
//! entry per person to find duplicate CPR numbers).

pub mod bundle;
pub mod checks;
pub mod csv_input;
pub mod jobindsats;
pub mod wide_weeks;

use std::fmt;

use crate::land::LandError;

/// Why an extract was rejected: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// The source's name in `[sources]`.
    pub extract: String,
    /// File (as given: path or URL).
    pub path: String,
    /// 1-based line, when the problem has one.
    pub line: Option<u64>,
    /// 1-based column, when the problem has one.
    pub column: Option<u64>,
    /// Field (column header or JSON key), when the problem has one.
    pub field: Option<String>,
    /// What is wrong, with the offending value (redacted).
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.extract, self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Errors of the parse stage.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The extract breaks its contract.
    #[error("{0}")]
    Rejected(Box<Rejection>),
    /// The Jobindsats API refused the key.
    #[error(
        "jobindsats: {path}: authentication failed (check the API key in `{key_env}`): {message}"
    )]
    Auth {
        /// URL or file.
        path: String,
        /// The env var that holds the key.
        key_env: String,
        /// The API's own message.
        message: String,
    },
    /// A check across rows (`[[sources.<name>.files.checks]]`) does not run: the
    /// config's SQL is wrong, not the extract.
    #[error("{extract}: check `{check}` does not run (fix its SQL in the config): {message}")]
    Check {
        /// The source's name.
        extract: String,
        /// The check's name.
        check: String,
        /// The SQL engine's message.
        message: String,
    },
    /// Reading the input or writing the output failed.
    #[error(transparent)]
    Land(#[from] LandError),
}

impl ParseError {
    /// The rejection, if this is one.
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::Rejected(r) => Some(r),
            _ => None,
        }
    }
}

/// Builds rejections for one file.
#[derive(Debug, Clone)]
pub struct Locus {
    /// The source's name.
    pub extract: String,
    /// Path or URL shown.
    pub path: String,
}

impl Locus {
    /// A problem at line:column in a field.
    #[must_use]
    pub fn field(
        &self,
        line: u64,
        column: u64,
        field: &str,
        message: impl Into<String>,
    ) -> ParseError {
        self.reject(Some(line), Some(column), Some(field), message)
    }

    /// A problem with a whole line.
    #[must_use]
    pub fn line(&self, line: u64, message: impl Into<String>) -> ParseError {
        self.reject(Some(line), None, None, message)
    }

    /// A problem with the whole file.
    #[must_use]
    pub fn file(&self, message: impl Into<String>) -> ParseError {
        self.reject(None, None, None, message)
    }

    /// Any rejection.
    #[must_use]
    pub fn reject(
        &self,
        line: Option<u64>,
        column: Option<u64>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> ParseError {
        ParseError::Rejected(Box::new(Rejection {
            extract: self.extract.clone(),
            path: self.path.clone(),
            line,
            column,
            field: field.map(str::to_string),
            message: message.into(),
        }))
    }
}

/// Parses `YYYY-MM-DD` strictly.
#[must_use]
pub fn date(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // By hand: chrono's format parser was 5 % of landing a register's quarter.
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// JSON text of extra columns (`{"name": "value"}`), CPR-like runs masked; `None` when empty.
#[must_use]
pub fn extras_json(pairs: &[(&str, &str)]) -> Option<String> {
    if pairs.is_empty() {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_string(),
                serde_json::Value::String(crate::redact::mask_cpr(v)),
            )
        })
        .collect();
    Some(serde_json::Value::Object(map).to_string())
}
