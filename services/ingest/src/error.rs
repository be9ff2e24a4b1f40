use smo_bus::BusError;

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
    /// Reading or writing the checkpoint failed.
    #[error("checkpoint store: {0}")]
    Checkpoint(String),
}
