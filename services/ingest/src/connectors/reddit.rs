//! Reddit: a subreddit's new posts (`/r/{sub}/new.json`), a search
//! (`/search.json?sort=new`, restricted to the subreddit when both are set).
//! Responses are `Listing`s of `t3` things, newest first, paged backwards by
//! `after` (a fullname); the scan cursor of [`super::ScanCursor`] keeps that
//! token and the newest `created_utc` taken. Anonymous access works on
//! `www.reddit.com` at a low rate; with an OAuth token use
//! `base_url = "https://oauth.reddit.com"`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;
use smo_proto::AccountId;

use super::{
    Conditional, Keyed, Lenient, NewPost, ScanCursor, ScanLimits, check_positive, check_rate, check_url,
    item, push_post, rate_of, read_cursor, rejected, write_cursor,
};
use crate::credentials::Secret;
use crate::html_text::decode_entities;
use crate::http::{HttpClient, HttpRequest, join_url};
use crate::{IngestError, Source, SourceBatch};

/// Configuration of a Reddit source: `subreddit`, `search`, or both.
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
    /// API base URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// OAuth bearer token inline (prefer `token_env`).
    #[serde(default)]
    pub token: Option<String>,
    /// Environment variable holding an OAuth bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Posts per page (at most 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Pages a new source reads back.
    #[serde(default = "default_initial_pages")]
    pub initial_pages: u32,
    /// Pages a poll reads back at most to catch up.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Seconds between polls.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Requests per minute to the host (anonymous access allows about 10).
    #[serde(default)]
    pub requests_per_minute: Option<f64>,
}

fn default_base_url() -> String {
    "https://www.reddit.com".into()
}
fn default_limit() -> u32 {
    100
}
fn default_initial_pages() -> u32 {
    1
}
fn default_max_pages() -> u32 {
    10
}
fn default_interval() -> u64 {
    300
}

impl RedditConfig {
    /// Checks the config; errors name the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        check_url("base_url", &self.base_url)?;
        let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        if !set(&self.subreddit) && !set(&self.search) {
            return Err(("subreddit".into(), "set subreddit, search, or both".into()));
        }
        if let Some(sub) = &self.subreddit
            && !sub
                .trim()
                .trim_start_matches("r/")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+')
        {
            return Err(("subreddit".into(), format!("{sub:?} is not a subreddit name")));
        }
        if !(1..=100).contains(&self.limit) {
            return Err(("limit".into(), "must be between 1 and 100".into()));
        }
        check_positive("initial_pages", self.initial_pages.into())?;
        check_positive("max_pages", self.max_pages.into())?;
        check_positive("interval_secs", self.interval_secs)?;
        check_rate(self.requests_per_minute)
    }
}

/// A Reddit source of one account.
#[derive(Debug)]
pub struct RedditSource {
    name: String,
    account: AccountId,
    config: RedditConfig,
    token: Option<Secret>,
    http: Arc<HttpClient>,
}

impl RedditSource {
    /// The source for `account`, using `http`.
    pub fn new(account: AccountId, config: RedditConfig, http: Arc<HttpClient>) -> Result<Self, IngestError> {
        let name = format!("reddit:{}", config.name);
        config.validate().map_err(|(key, reason)| IngestError::Config {
            source_name: name.clone(),
            key,
            reason,
        })?;
        let token =
            Secret::resolve(&name, config.token.as_deref(), "token_env", config.token_env.as_deref())?;
        Ok(Self { name, account, config, token, http })
    }

    fn page_url(&self, after: Option<&str>) -> Result<Url, IngestError> {
        let subreddit =
            self.config.subreddit.as_deref().map(|s| s.trim().trim_start_matches("r/").to_owned());
        let search = self.config.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let path = match (&subreddit, search) {
            (Some(sub), None) => format!("/r/{sub}/new.json"),
            (Some(sub), Some(_)) => format!("/r/{sub}/search.json"),
            (None, _) => "/search.json".to_owned(),
        };
        let mut url = join_url(&self.name, "base_url", &self.config.base_url, &path)?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(q) = search {
                query.append_pair("q", q).append_pair("sort", "new").append_pair("type", "link");
                if subreddit.is_some() {
                    query.append_pair("restrict_sr", "1");
                }
            }
            query.append_pair("limit", &self.config.limit.to_string()).append_pair("raw_json", "1");
            if let Some(after) = after {
                query.append_pair("after", after);
            }
        }
        Ok(url)
    }
}

/// `{"kind": "Listing", "data": {"after": …, "children": [...]}}`.
#[derive(Debug, Deserialize)]
struct Listing {
    kind: String,
    data: ListingData,
}

#[derive(Debug, Deserialize)]
struct ListingData {
    #[serde(default)]
    after: Option<String>,
    children: Vec<serde_json::Value>,
}

/// `{"kind": "t3", "data": {…}}`.
#[derive(Debug, Deserialize)]
struct Thing {
    kind: String,
    data: Link,
}

/// The parts of a `t3` (link) used here.
#[derive(Debug, Deserialize)]
struct Link {
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    selftext: String,
    author: String,
    #[serde(default)]
    author_fullname: Option<String>,
    created_utc: f64,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    score: Option<Lenient>,
    #[serde(default)]
    num_comments: Option<Lenient>,
    #[serde(default)]
    num_crossposts: Option<Lenient>,
}

impl Link {
    fn created(&self) -> Option<DateTime<Utc>> {
        if !self.created_utc.is_finite() {
            return None;
        }
        DateTime::from_timestamp_millis((self.created_utc * 1000.0) as i64)
    }

    fn into_new_post(self) -> NewPost {
        let title = decode_entities(self.title.trim());
        let body = decode_entities(self.selftext.trim());
        let text = if self.author == "[deleted]" {
            // Deleted or removed: nothing left to read or answer.
            String::new()
        } else if body.is_empty() {
            title
        } else {
            format!("{title}\n\n{body}")
        };
        NewPost {
            created_at: self.created(),
            native_id: self.name,
            text,
            author_id: self.author_fullname.unwrap_or_default(),
            author_handle: self.author,
            url: self.permalink.map(|p| format!("https://www.reddit.com{p}")),
            likes: self.score.map_or(0, |s| s.count()),
            replies: self.num_comments.map_or(0, |c| c.count()),
            reposts: self.num_crossposts.map_or(0, |c| c.count()),
            ..NewPost::default()
        }
    }
}

#[async_trait]
impl Source for RedditSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ScanCursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(state.page())?;
        let request = HttpRequest::get(url.clone())
            .header("accept", "application/json")
            .bearer(self.token.as_ref())
            .rate(rate_of(self.config.requests_per_minute))
            .validators(state.validators_for(&url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(SourceBatch {
                next_cursor: cursor.map(str::to_owned),
                exhausted: true,
                ..Default::default()
            });
        }
        let listing: Listing = response.json(&self.name)?;
        if listing.kind != "Listing" {
            return Err(response.bad(&self.name, format!("expected a Listing, got kind {:?}", listing.kind)));
        }
        let mut batch = SourceBatch::default();
        let mut keyed = Vec::new();
        for (index, raw) in listing.data.children.iter().enumerate() {
            let location = format!("{} child {index}", response.url);
            let thing: Thing = match item(raw) {
                Ok(thing) => thing,
                Err(reason) => {
                    batch.rejected.push(rejected(location, raw, reason));
                    continue;
                }
            };
            if thing.kind != "t3" {
                continue;
            }
            let Some(created) = thing.data.created() else {
                batch.rejected.push(rejected(location, raw, "unreadable created_utc"));
                continue;
            };
            let id = thing.data.name.clone();
            keyed.push(Keyed { at: created.timestamp_millis(), id, item: (location, raw, thing.data) });
        }
        let limits =
            ScanLimits { initial_pages: self.config.initial_pages, max_pages: self.config.max_pages };
        let first = state.page().is_none();
        let conditional = if first { Conditional::of(&url, &response.validators) } else { None };
        let (kept, next, exhausted) =
            state.advance(&self.name, keyed, listing.data.after, conditional, limits);
        for (location, raw, link) in kept {
            push_post(&mut batch, link.into_new_post().build(&self.account, "reddit"), location, raw);
        }
        batch.next_cursor = Some(write_cursor(&next));
        batch.exhausted = exhausted;
        Ok(batch)
    }
}
