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
pub mod webhook;

pub use connectors::bluesky::{BlueskyConfig, BlueskySource};
pub use connectors::feed::{FeedConfig, FeedSource};
pub use connectors::hackernews::{HackerNewsConfig, HackerNewsSource};
pub use connectors::mastodon::{MastodonConfig, MastodonSource};
pub use connectors::reddit::{RedditConfig, RedditSource};
pub use connectors::youtube::{YouTubeConfig, YouTubeSource};
pub use error::IngestError;
pub use file_source::{FileFormat, FileSource, FileSourceConfig};
pub use http::{HttpClient, HttpOptions};
pub use http_json::{HttpJsonSource, HttpJsonSourceConfig};
pub use ingestor::{
    Checkpoints, DEFAULT_POLL_TIMEOUT, IngestProgress, IngestStats, Ingestor, MemoryCheckpoint,
    MemoryCheckpoints,
};
pub use record::{PostRecord, RecordError};
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

/// A configured source, as found in an account's config, tagged by `kind`
/// (`file`, `http_json`, `mastodon`, `reddit`, `hackernews`, `bluesky`,
/// `feed` (also `rss`, `atom`), `youtube`, `webhook`). Large variants are
/// boxed to keep the enum small.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceConfig {
    /// File backfill.
    File(FileSourceConfig),
    /// Generic HTTP JSON API.
    HttpJson(Box<HttpJsonSourceConfig>),
    /// Mastodon timelines and search.
    Mastodon(Box<MastodonConfig>),
    /// Reddit subreddits, searches and the comments of a thread.
    Reddit(Box<RedditConfig>),
    /// Hacker News via Algolia.
    #[serde(rename = "hackernews")]
    HackerNews(Box<HackerNewsConfig>),
    /// Bluesky search and author feeds.
    Bluesky(Box<BlueskyConfig>),
    /// RSS or Atom feed.
    #[serde(alias = "rss", alias = "atom")]
    Feed(Box<FeedConfig>),
    /// YouTube comment threads.
    #[serde(rename = "youtube")]
    YouTube(Box<YouTubeConfig>),
    /// Webhook receiver.
    Webhook(Box<WebhookConfig>),
}

impl SourceConfig {
    /// The source's name within its account (as configured).
    pub fn name(&self) -> &str {
        match self {
            Self::File(config) => &config.name,
            Self::HttpJson(config) => &config.name,
            Self::Mastodon(config) => &config.name,
            Self::Reddit(config) => &config.name,
            Self::HackerNews(config) => &config.name,
            Self::Bluesky(config) => &config.name,
            Self::Feed(config) => &config.name,
            Self::YouTube(config) => &config.name,
            Self::Webhook(config) => &config.name,
        }
    }

    /// The `kind` as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::File(_) => "file",
            Self::HttpJson(_) => "http_json",
            Self::Mastodon(_) => "mastodon",
            Self::Reddit(_) => "reddit",
            Self::HackerNews(_) => "hackernews",
            Self::Bluesky(_) => "bluesky",
            Self::Feed(_) => "feed",
            Self::YouTube(_) => "youtube",
            Self::Webhook(_) => "webhook",
        }
    }

    /// The name its checkpoints, health and metrics go by (`mastodon:brand`),
    /// the same as the built source's [`Source::name`].
    pub fn source_name(&self) -> String {
        let prefix = match self {
            Self::HttpJson(_) => "http",
            other => other.kind(),
        };
        format!("{prefix}:{}", self.name())
    }

    /// How often the source is polled; `None` for sources that are not
    /// (file imports run to their end once, webhooks are pushed to).
    pub fn interval(&self) -> Option<std::time::Duration> {
        let secs = match self {
            Self::File(_) | Self::Webhook(_) => return None,
            Self::HttpJson(config) => config.interval_secs,
            Self::Mastodon(config) => config.interval_secs,
            Self::Reddit(config) => config.interval_secs,
            Self::HackerNews(config) => config.interval_secs,
            Self::Bluesky(config) => config.interval_secs,
            Self::Feed(config) => config.interval_secs,
            Self::YouTube(config) => config.interval_secs,
        };
        Some(std::time::Duration::from_secs(secs.max(1)))
    }

    /// Checks the source's settings; the error names the key (relative to
    /// the source) and says what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        match self {
            Self::File(config) => {
                if config.batch_size == 0 {
                    return Err(("batch_size".into(), "must be at least 1".into()));
                }
                Ok(())
            }
            Self::HttpJson(config) => config.validate(),
            Self::Mastodon(config) => config.validate(),
            Self::Reddit(config) => config.validate(),
            Self::HackerNews(config) => config.validate(),
            Self::Bluesky(config) => config.validate(),
            Self::Feed(config) => config.validate(),
            Self::YouTube(config) => config.validate(),
            Self::Webhook(config) => config.validate(),
        }
    }

    /// Builds the source for `account` with the process's shared HTTP client.
    pub fn build(&self, account: &smo_proto::AccountId) -> Result<Box<dyn Source>, IngestError> {
        self.build_with(account, HttpClient::shared()?)
    }

    /// Builds the source for `account` with `http` (tests pass their own).
    pub fn build_with(
        &self,
        account: &smo_proto::AccountId,
        http: std::sync::Arc<HttpClient>,
    ) -> Result<Box<dyn Source>, IngestError> {
        let account = account.clone();
        Ok(match self {
            Self::File(config) => Box::new(FileSource::new(account, config)),
            Self::HttpJson(config) => {
                Box::new(HttpJsonSource::with_client(account, (**config).clone(), http)?)
            }
            Self::Mastodon(config) => Box::new(MastodonSource::new(account, (**config).clone(), http)?),
            Self::Reddit(config) => Box::new(RedditSource::new(account, (**config).clone(), http)?),
            Self::HackerNews(config) => Box::new(HackerNewsSource::new(account, (**config).clone(), http)?),
            Self::Bluesky(config) => Box::new(BlueskySource::new(account, (**config).clone(), http)?),
            Self::Feed(config) => Box::new(FeedSource::new(account, (**config).clone(), http)?),
            Self::YouTube(config) => Box::new(YouTubeSource::new(account, (**config).clone(), http)?),
            Self::Webhook(_) => {
                return Err(IngestError::Config {
                    source_name: self.source_name(),
                    key: "kind".into(),
                    reason: "a webhook is served (smo run --roles ingest), not polled".into(),
                });
            }
        })
    }
}
