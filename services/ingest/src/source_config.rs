//! The `[[accounts.sources]]` entries of the config: one [`Connector`] per
//! kind, each implemented in its connector's own file, and [`SourceConfig`],
//! the enum serde reads by its `kind` tag. Adding a connector is its file,
//! one variant here and one arm in [`SourceConfig::connector`]; everything
//! else (names, schedules, validation, building) goes through the trait.

use std::sync::Arc;
use std::time::Duration;

use smo_proto::AccountId;
use smo_runtime::FieldError;

use crate::http::HttpClient;
use crate::{
    BlueskyConfig, FeedConfig, FileSourceConfig, HackerNewsConfig, HttpJsonSourceConfig, IngestError,
    MastodonConfig, RedditConfig, Source, WebhookConfig, YouTubeConfig,
};

/// What the pipeline needs of one configured source, whatever its kind.
pub trait Connector: std::fmt::Debug + Send + Sync {
    /// The `kind` as written in the config.
    fn kind(&self) -> &'static str;
    /// The source's name within its account (as configured).
    fn name(&self) -> &str;
    /// What its checkpoint, health and metrics names start with; the kind
    /// unless the connector says otherwise.
    fn name_prefix(&self) -> &'static str {
        self.kind()
    }
    /// Seconds between polls; `None` for sources that are not polled (file
    /// imports run to their end once, webhooks are pushed to).
    fn interval_secs(&self) -> Option<u64>;
    /// Checks the settings; the error names the key relative to the source.
    fn validate(&self) -> Result<(), FieldError>;
    /// The running source for `account`, fetching through `http`.
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError>;
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
    /// The connector behind this entry: the one place that lists the kinds.
    pub fn connector(&self) -> &dyn Connector {
        match self {
            Self::File(config) => config,
            Self::HttpJson(config) => config.as_ref(),
            Self::Mastodon(config) => config.as_ref(),
            Self::Reddit(config) => config.as_ref(),
            Self::HackerNews(config) => config.as_ref(),
            Self::Bluesky(config) => config.as_ref(),
            Self::Feed(config) => config.as_ref(),
            Self::YouTube(config) => config.as_ref(),
            Self::Webhook(config) => config.as_ref(),
        }
    }

    /// The source's name within its account (as configured).
    pub fn name(&self) -> &str {
        self.connector().name()
    }

    /// The `kind` as written in the config.
    pub fn kind(&self) -> &'static str {
        self.connector().kind()
    }

    /// The name its checkpoints, health and metrics go by (`mastodon:brand`),
    /// the same as the built source's [`Source::name`].
    pub fn source_name(&self) -> String {
        let connector = self.connector();
        format!("{}:{}", connector.name_prefix(), connector.name())
    }

    /// How often the source is polled; `None` for sources that are not.
    pub fn interval(&self) -> Option<Duration> {
        self.connector().interval_secs().map(|secs| Duration::from_secs(secs.max(1)))
    }

    /// Checks the source's settings; the error names the key (relative to
    /// the source) and says what is wrong.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.connector().validate()
    }

    /// Builds the source for `account` with the process's shared HTTP client.
    pub fn build(&self, account: &AccountId) -> Result<Box<dyn Source>, IngestError> {
        self.build_with(account, HttpClient::shared()?)
    }

    /// Builds the source for `account` with `http` (tests pass their own).
    pub fn build_with(
        &self,
        account: &AccountId,
        http: Arc<HttpClient>,
    ) -> Result<Box<dyn Source>, IngestError> {
        self.connector().build(account.clone(), http)
    }
}
