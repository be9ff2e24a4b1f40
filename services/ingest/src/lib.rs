//! Ingest: where posts enter smo. A [`Source`] turns some outside format (a
//! backfill file, an HTTP JSON API) into [`smo_proto::Post`]s one batch at a
//! time, resuming from a cursor; the [`Ingestor`] publishes each batch with
//! publisher confirms, sends what cannot be parsed to the dead-letter exchange
//! with the reason, and only then checkpoints the cursor. A crash at any point
//! therefore loses nothing, and re-publishing is harmless because post ids are
//! derived from the source and the source's own id.

mod error;
mod field_path;
pub mod file_source;
pub mod http_json;
mod ingestor;
mod record;

pub use error::IngestError;
pub use file_source::{FileFormat, FileSource, FileSourceConfig};
pub use http_json::{HttpJsonSource, HttpJsonSourceConfig};
pub use ingestor::{Checkpoints, IngestStats, Ingestor, MemoryCheckpoints};
pub use record::{PostRecord, RecordError};

use async_trait::async_trait;
use smo_proto::Post;

/// One input that failed to become a post, with why; it goes to the
/// dead-letter queue so an operator can see and replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Where it came from (e.g. `line 17`), for the operator.
    pub location: String,
    /// The raw input, as far as it could be read.
    pub raw: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What one poll of a source produced.
#[derive(Debug, Default)]
pub struct SourceBatch {
    /// Posts parsed from this batch.
    pub posts: Vec<Post>,
    /// Inputs that could not be parsed.
    pub rejected: Vec<Rejected>,
    /// Cursor to resume after this batch, once it is published.
    pub next_cursor: Option<String>,
    /// True when the source has nothing more right now.
    pub exhausted: bool,
}

/// A place posts come from. `poll` is called with the last checkpointed
/// cursor and returns the next batch; it must be repeatable: polling again from
/// the same cursor yields the same posts (or newer ones).
#[async_trait]
pub trait Source: Send {
    /// Stable name of the source within its account, used for checkpoints
    /// and as the `source` of its posts (`file:sample`, `http:status`).
    fn name(&self) -> &str;

    /// Fetches the batch after `cursor` (`None`: from the beginning).
    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError>;
}

/// A configured source of either kind, as found in an account's config
/// (`kind = "file"` or `kind = "http_json"`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceConfig {
    /// File backfill.
    File(FileSourceConfig),
    /// Generic HTTP JSON API (boxed: its field map is much larger).
    HttpJson(Box<HttpJsonSourceConfig>),
}

impl SourceConfig {
    /// The source's name within its account.
    pub fn name(&self) -> &str {
        match self {
            Self::File(config) => &config.name,
            Self::HttpJson(config) => &config.name,
        }
    }

    /// Builds the source for `account`.
    pub fn build(&self, account: &smo_proto::AccountId) -> Result<Box<dyn Source>, IngestError> {
        Ok(match self {
            Self::File(config) => Box::new(FileSource::new(account.clone(), config)),
            Self::HttpJson(config) => Box::new(HttpJsonSource::new(account.clone(), (**config).clone())?),
        })
    }
}
