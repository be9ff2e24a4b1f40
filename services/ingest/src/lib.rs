//! Ingest: where posts enter smo. A [`Source`] turns some outside format (a
//! backfill file, a platform API such as Mastodon, Reddit, Hacker News,
//! Bluesky, YouTube or an RSS/Atom feed, a generic HTTP JSON API) into
//! [`smo_proto::Post`]s one batch at a time, resuming from a cursor; all
//! HTTP goes through one shared [`http::HttpClient`] (rate limits, retries,
//! conditional requests, size caps); the [`Ingestor`] publishes each batch with
//! publisher confirms, sends what cannot be parsed to the dead-letter exchange
//! with the reason, and only then checkpoints the cursor. A crash at any point
//! therefore loses nothing, and re-publishing is harmless because post ids are
//! derived from the source and the source's own id.

pub mod connectors;
pub mod credentials;
mod error;
mod field_path;
pub mod file_source;
pub mod html_text;
pub mod http;
pub mod http_json;
mod ingestor;
pub mod metrics;
mod record;
pub mod scheduler;
mod source_config;
pub mod webhook;

pub use connectors::bluesky::{BlueskyConfig, BlueskySource};
pub use connectors::feed::{FeedConfig, FeedSource};
pub use connectors::hackernews::{HackerNewsConfig, HackerNewsSource};
pub use connectors::mastodon::{MastodonConfig, MastodonSource};
pub use connectors::reddit::{RedditConfig, RedditSource};
pub use connectors::youtube::{YouTubeConfig, YouTubeSource};
pub use connectors::{BearerToken, Polling, ScanLimits};
pub use error::IngestError;
pub use file_source::{FileFormat, FileSource, FileSourceConfig};
pub use http::{HttpClient, HttpOptions};
pub use http_json::{HttpJsonSource, HttpJsonSourceConfig};
pub use ingestor::{
    Checkpoints, DEFAULT_POLL_TIMEOUT, IngestProgress, IngestStats, Ingestor, MemoryCheckpoint,
    MemoryCheckpoints,
};
pub use record::{PostRecord, RecordError};
pub use source_config::{Connector, SourceConfig};
pub use webhook::{WebhookConfig, WebhookEndpoint};

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
    /// Stable name of the source within its account (`file:sample`,
    /// `mastodon:brand`), used for checkpoints, health and metrics. Posts
    /// of platform connectors carry the platform's namespace as their
    /// `source` instead (see [`connectors`]), so one post seen by two
    /// sources is one post.
    fn name(&self) -> &str;

    /// Fetches the batch after `cursor` (`None`: from the beginning).
    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError>;
}
