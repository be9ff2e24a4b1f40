use smo_bus::BusError;
use smo_runtime::FieldError;

/// Why ingesting from a source failed. Per-record problems are not errors:
/// they become [`crate::Rejected`] entries and dead letters.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The source's file could not be read.
    #[error("source {source_name}: cannot read {path}: {error}")]
    Io {
        /// The source.
        source_name: String,
        /// The file.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The source's cursor is not one this source wrote.
    #[error("source {source_name}: invalid cursor {cursor:?}")]
    BadCursor {
        /// The source.
        source_name: String,
        /// The cursor found in the checkpoint store.
        cursor: String,
    },
    /// An HTTP request failed or returned an error status.
    #[error("source {source_name}: HTTP {url}: {reason}")]
    Http {
        /// The source.
        source_name: String,
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A response could not be understood as a whole (not one bad item).
    #[error("source {source_name}: bad response from {url}: {reason}")]
    BadResponse {
        /// The source.
        source_name: String,
        /// The URL requested.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The source is configured wrongly.
    #[error("source {source_name}: config `{key}`: {reason}")]
    Config {
        /// The source.
        source_name: String,
        /// The offending key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Publishing to the bus failed; the cursor was not advanced.
    #[error("publishing failed: {0}")]
    Bus(#[from] BusError),
    /// The server said to slow down (429, or 503 with `Retry-After`) for
    /// longer than a request may wait; the scheduler waits this long before
    /// polling the source again.
    #[error("source {source_name}: HTTP {url}: rate limited, retry after {retry_after_secs}s")]
    RateLimited {
        /// The source.
        source_name: String,
        /// The URL requested (secrets redacted).
        url: String,
        /// Seconds the server asked to wait.
        retry_after_secs: u64,
    },
    /// A poll took longer than the ingestor allows; the source is marked
    /// unhealthy instead of blocking its worker.
    #[error("source {source_name}: poll did not finish within {seconds}s")]
    Timeout {
        /// The source.
        source_name: String,
        /// The limit that was exceeded.
        seconds: u64,
    },
    /// Reading or writing the checkpoint failed.
    #[error("checkpoint store: {0}")]
    Checkpoint(String),
}

impl IngestError {
    /// Turns a config check's [`FieldError`] into the error of
    /// `source_name`, for `config.validate().map_err(…)`.
    pub fn invalid_config(source_name: &str) -> impl Fn(FieldError) -> IngestError + '_ {
        move |FieldError { key, reason }| IngestError::Config {
            source_name: source_name.to_owned(),
            key,
            reason,
        }
    }

    /// How long the server asked to wait before the next request, if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::RateLimited { retry_after_secs, .. } => {
                Some(std::time::Duration::from_secs(*retry_after_secs))
            }
            _ => None,
        }
    }

    /// A short, bounded label for metrics (`errors by source and kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::BadCursor { .. } => "bad_cursor",
            Self::Http { .. } => "http",
            Self::BadResponse { .. } => "bad_response",
            Self::Config { .. } => "config",
            Self::Bus(_) => "bus",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout { .. } => "timeout",
            Self::Checkpoint(_) => "checkpoint",
        }
    }
}
