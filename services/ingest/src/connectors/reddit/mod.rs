//! Reddit: a subreddit's new posts (`/r/{sub}/new.json`), a search
//! (`/search.json?sort=new`, restricted to the subreddit when both are set),
//! or the comments of one thread (`/r/{sub}/comments/{article}.json`).
//!
//! Listings are `Listing`s of `t3` things, newest first, paged backwards by
//! `after` (a fullname); the scan cursor of [`super::ScanCursor`] keeps that
//! token and the newest `created_utc` taken.
//!
//! A thread answers with two Listings, the post and its comment tree:
//! `t1` comments whose `replies` is a Listing (or `""`), and `more` stubs
//! standing for comments left out. A stub that lists its `children` ids is
//! fetched through `/api/morechildren.json` (100 ids a request); a
//! "continue this thread" stub (no children, at the depth limit) by asking
//! for the thread focused on the stub's parent (`?comment=`). The tree is
//! flattened into posts: thread id the article, `in_reply_to` the parent.
//! Reddit ids are base-36 counters, so a comment's id tells whether it is
//! newer than another: the cursor keeps the highest comment id up to which
//! every comment was taken, comments up to it are not published again, and
//! stubs are only expanded for ids above it (the ids a stub lists include
//! the nested ones), so a poll of a quiet thread costs one request (plus one
//! per "continue this thread" stub, whose replies are not listed). A poll
//! makes at most `max_pages` requests; stubs left then are fetched by the
//! next poll (the cursor stays below their ids) and a warning says so.
//!
//! Anonymous access works on `www.reddit.com` at a low rate; with an OAuth
//! token use `base_url = "https://oauth.reddit.com"`.

mod listing;
mod things;
mod thread;
mod walk;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Url;
use serde::Deserialize;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{BearerToken, Polling, ScanLimits, check_page_size, check_url, json_request};
use crate::credentials::Secret;
use crate::http::{HttpClient, HttpRequest, join_url};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Configuration of a Reddit source: `subreddit`, `search`, or both; or a
/// `thread` of a `subreddit`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedditConfig {
    /// Name of the source within its account; checkpoints use `reddit:{name}`.
    pub name: String,
    /// Subreddit without `r/`.
    #[serde(default)]
    pub subreddit: Option<String>,
    /// Search query (Reddit's syntax).
    #[serde(default)]
    pub search: Option<String>,
    /// A thread of `subreddit` whose comments are followed: the article id
    /// (`1h0003`, as in `/comments/1h0003/…`) or its fullname (`t3_1h0003`).
    #[serde(default)]
    pub thread: Option<String>,
    /// API base URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `token` / `token_env`, an OAuth bearer token.
    #[serde(flatten)]
    pub auth: BearerToken,
    /// Posts per listing page (at most 100), or comments per thread request
    /// (at most 500).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// `initial_pages` (default 1; listings only, a thread is read whole)
    /// and `max_pages` (default 10; for a thread, the requests a poll makes
    /// at most: the thread and its `more` expansions).
    #[serde(flatten)]
    pub scan: ScanLimits,
    /// `interval_secs` (default 300) and `requests_per_minute` (anonymous
    /// access allows about 10).
    #[serde(flatten)]
    pub polling: Polling<300>,
}

fn default_base_url() -> String {
    "https://www.reddit.com".into()
}
fn default_limit() -> u32 {
    100
}
/// What a Reddit source follows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// `/r/{sub}/new.json`.
    New(String),
    /// `/search.json`, or `/r/{sub}/search.json` restricted to it.
    Search { subreddit: Option<String>, query: String },
    /// `/r/{sub}/comments/{article}.json` (article id in base 36).
    Thread { subreddit: String, article: String },
}

impl RedditConfig {
    fn mode(&self) -> Result<Mode, FieldError> {
        let set =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let subreddit = set(&self.subreddit).map(|s| s.trim_start_matches("r/").to_owned());
        if let Some(sub) = &subreddit
            && !sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+')
        {
            return Err(FieldError::new("subreddit", format!("{sub:?} is not a subreddit name")));
        }
        match (subreddit, set(&self.search), set(&self.thread)) {
            (_, Some(_), Some(_)) => Err(FieldError::new("thread", "set thread or search, not both")),
            (None, _, Some(_)) => Err(FieldError::new("subreddit", "a thread needs the subreddit it is in")),
            (Some(subreddit), None, Some(thread)) => {
                let article = thread.strip_prefix("t3_").unwrap_or(&thread).to_owned();
                if article.is_empty()
                    || !article.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
                {
                    return Err(FieldError::new(
                        "thread",
                        format!("{thread:?} is not a thread id like 1h0003"),
                    ));
                }
                Ok(Mode::Thread { subreddit, article })
            }
            (subreddit, Some(query), None) => Ok(Mode::Search { subreddit, query }),
            (Some(subreddit), None, None) => Ok(Mode::New(subreddit)),
            (None, None, None) => Err(FieldError::new("subreddit", "set subreddit, search, or both")),
        }
    }
}

impl Connector for RedditConfig {
    fn kind(&self) -> &'static str {
        "reddit"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("base_url", &self.base_url)?;
        let max_limit = match self.mode()? {
            Mode::Thread { .. } => 500,
            _ => 100,
        };
        check_page_size("limit", self.limit, max_limit)?;
        self.scan.validate()?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(RedditSource::new(account, self.clone(), http)?))
    }
}

/// A Reddit source of one account.
#[derive(Debug)]
pub struct RedditSource {
    name: String,
    account: AccountId,
    config: RedditConfig,
    mode: Mode,
    token: Option<Secret>,
    http: Arc<HttpClient>,
}

impl RedditSource {
    /// The source for `account`, using `http`.
    pub fn new(account: AccountId, config: RedditConfig, http: Arc<HttpClient>) -> Result<Self, IngestError> {
        let name = format!("reddit:{}", config.name);
        let invalid = IngestError::invalid_config(&name);
        config.validate().map_err(&invalid)?;
        let mode = config.mode().map_err(invalid)?;
        let token = config.auth.resolve(&name)?;
        Ok(Self { name, account, config, mode, token, http })
    }

    fn url(&self, path: &str) -> Result<Url, IngestError> {
        join_url(&self.name, "base_url", &self.config.base_url, path)
    }

    fn request(&self, url: Url) -> HttpRequest {
        json_request(url, self.token.as_ref(), self.config.polling.rate())
    }
}

#[async_trait]
impl Source for RedditSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        match self.mode {
            Mode::Thread { .. } => self.poll_thread(cursor).await,
            _ => self.poll_listing(cursor).await,
        }
    }
}
