//! The one error type of the library.
//!
//! Parsers never fail on a *deviation* (that is a [`crate::findings::Finding`]); they fail only when
//! the input cannot be handled at all (not the format, truncated beyond use, over a limit) or when
//! writing is impossible. Every variant says what to do next in its message.

use std::path::PathBuf;

/// Everything that can go wrong in aigcmark.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The input is not a file of the expected format, or is damaged beyond use.
    #[error("malformed {format} data: {reason}")]
    Malformed {
        /// The format it was read as (`png`, `wav`, …).
        format: &'static str,
        /// What is wrong, for people.
        reason: String,
    },
    /// The file type is not one aigcmark handles.
    #[error("unsupported file type: {0}")]
    Unsupported(String),
    /// The input exceeds a configured resource limit (see [`crate::limits::Limits`]).
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// A value given for a label field does not fit GB 45438 Annex E.
    #[error("invalid label value: {0}")]
    InvalidLabel(String),
    /// A key file or trust store could not be used.
    #[error("key error: {0}")]
    Key(String),
    /// The operation is refused (for example relabeling a labeled file without `replace`).
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// Shorthand for [`Error::Malformed`].
    pub fn malformed(format: &'static str, reason: impl Into<String>) -> Self {
        Error::Malformed {
            format,
            reason: reason.into(),
        }
    }

    /// Attaches a path to an I/O error.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
