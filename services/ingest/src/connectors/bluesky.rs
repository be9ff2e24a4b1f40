//! Bluesky through the AppView's XRPC: `app.bsky.feed.searchPosts`
//! (`sort=latest`) or an author's feed (`app.bsky.feed.getAuthorFeed`), both
//! newest first and paged by an opaque `cursor`. Reposts and pinned posts in
//! author feeds are skipped (they are someone else's, or old). Posts are
//! keyed by `indexedAt`, which the AppView sets, rather than the client's
//! `createdAt`.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Url;
use serde::Deserialize;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{
    BearerToken, Conditional, Keyed, NewPost, Polling, ScanCursor, ScanLimits, check_either, check_page_size,
    check_url, item, json_request, millis, parse_time, push_post, raw_str, read_cursor, unchanged,
    write_cursor,
};
use crate::credentials::Secret;
use crate::http::{HttpClient, join_url};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Configuration of a Bluesky source: `search` or `author`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyConfig {
    /// Name of the source within its account; checkpoints use `bluesky:{name}`.
    pub name: String,
    /// Search query (Lucene-like syntax of searchPosts).
    #[serde(default)]
    pub search: Option<String>,
    /// Handle or DID whose posts are followed.
    #[serde(default)]
    pub author: Option<String>,
    /// Language filter for search (ISO 639-1).
    #[serde(default)]
    pub lang: Option<String>,
    /// AppView base URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `token` / `token_env`, the bearer token.
    #[serde(flatten)]
    pub auth: BearerToken,
    /// Posts per page (at most 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// `initial_pages` (default 1) and `max_pages` (default 10).
    #[serde(flatten)]
    pub scan: ScanLimits,
    /// `interval_secs` (default 120) and `requests_per_minute`.
    #[serde(flatten)]
    pub polling: Polling<120>,
}

fn default_base_url() -> String {
    "https://public.api.bsky.app".into()
}
fn default_limit() -> u32 {
    100
}

impl Connector for BlueskyConfig {
    fn kind(&self) -> &'static str {
        "bluesky"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("base_url", &self.base_url)?;
        check_either(("search", &self.search), ("author", &self.author))?;
        check_page_size("limit", self.limit, 100)?;
        self.scan.validate()?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(BlueskySource::new(account, self.clone(), http)?))
    }
}

/// A Bluesky source of one account.
#[derive(Debug)]
pub struct BlueskySource {
    name: String,
    account: AccountId,
    config: BlueskyConfig,
    token: Option<Secret>,
    http: Arc<HttpClient>,
}

impl BlueskySource {
    /// The source for `account`, using `http`.
    pub fn new(
        account: AccountId,
        config: BlueskyConfig,
        http: Arc<HttpClient>,
    ) -> Result<Self, IngestError> {
        let name = format!("bluesky:{}", config.name);
        config.validate().map_err(IngestError::invalid_config(&name))?;
        let token = config.auth.resolve(&name)?;
        Ok(Self { name, account, config, token, http })
    }

    fn page_url(&self, page: Option<&str>) -> Result<Url, IngestError> {
        let search = self.config.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let method =
            if search.is_some() { "app.bsky.feed.searchPosts" } else { "app.bsky.feed.getAuthorFeed" };
        let mut url = join_url(&self.name, "base_url", &self.config.base_url, &format!("/xrpc/{method}"))?;
        {
            let mut query = url.query_pairs_mut();
            match search {
                Some(q) => {
                    query.append_pair("q", q).append_pair("sort", "latest");
                    if let Some(lang) = self.config.lang.as_deref().filter(|l| !l.trim().is_empty()) {
                        query.append_pair("lang", lang.trim());
                    }
                }
                None => {
                    let actor =
                        self.config.author.as_deref().unwrap_or_default().trim().trim_start_matches('@');
                    query.append_pair("actor", actor).append_pair("filter", "posts_with_replies");
                }
            }
            query.append_pair("limit", &self.config.limit.to_string());
            if let Some(page) = page {
                query.append_pair("cursor", page);
            }
        }
        Ok(url)
    }
}

/// `searchPosts` output.
#[derive(Debug, Deserialize)]
struct SearchOutput {
    #[serde(default)]
    cursor: Option<String>,
    posts: Vec<serde_json::Value>,
}

/// `getAuthorFeed` output.
#[derive(Debug, Deserialize)]
struct FeedOutput {
    #[serde(default)]
    cursor: Option<String>,
    feed: Vec<serde_json::Value>,
}

/// A `FeedViewPost`: the post, and why it is in the feed (repost, pin).
#[derive(Debug, Deserialize)]
struct FeedViewPost {
    post: serde_json::Value,
    #[serde(default)]
    reason: Option<serde_json::Value>,
}

/// The parts of an `app.bsky.feed.defs#postView` used here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    author: ProfileView,
    record: PostRecord,
    #[serde(default)]
    indexed_at: Option<String>,
    #[serde(default)]
    reply_count: Option<u64>,
    #[serde(default)]
    repost_count: Option<u64>,
    #[serde(default)]
    quote_count: Option<u64>,
    #[serde(default)]
    like_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    did: String,
    handle: String,
    #[serde(default)]
    display_name: Option<String>,
}

/// The `app.bsky.feed.post` record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostRecord {
    #[serde(default)]
    text: String,
    created_at: String,
    #[serde(default)]
    reply: Option<ReplyRef>,
}

#[derive(Debug, Deserialize)]
struct ReplyRef {
    root: StrongRef,
    parent: StrongRef,
}

#[derive(Debug, Deserialize)]
struct StrongRef {
    uri: String,
}

impl PostView {
    fn into_new_post(self) -> NewPost {
        let rkey = self.uri.rsplit('/').next().unwrap_or_default().to_owned();
        NewPost {
            url: Some(format!("https://bsky.app/profile/{}/post/{rkey}", self.author.handle)),
            created_at: parse_time(&self.record.created_at)
                .or_else(|| self.indexed_at.as_deref().and_then(parse_time)),
            in_reply_to: self.record.reply.as_ref().map(|r| r.parent.uri.clone()),
            thread_id: self.record.reply.map(|r| r.root.uri),
            native_id: self.uri,
            text: self.record.text,
            author_id: self.author.did,
            author_handle: self.author.handle,
            author_name: self.author.display_name,
            likes: self.like_count.unwrap_or(0),
            reposts: self.repost_count.unwrap_or(0) + self.quote_count.unwrap_or(0),
            replies: self.reply_count.unwrap_or(0),
            ..NewPost::default()
        }
    }

    /// The scan key: when the AppView indexed it, else the record's time.
    fn key(&self) -> Option<i64> {
        self.indexed_at
            .as_deref()
            .and_then(parse_time)
            .or_else(|| parse_time(&self.record.created_at))
            .map(millis)
    }
}

#[async_trait]
impl Source for BlueskySource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ScanCursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(state.page())?;
        let request = json_request(url.clone(), self.token.as_ref(), self.config.polling.rate())
            .validators(state.validators_for(&url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(unchanged(cursor));
        }
        let mut batch = SourceBatch::default();
        let mut memory = state.rejected.clone();
        let (views, next_page): (Vec<(String, serde_json::Value)>, Option<String>) =
            if self.config.search.is_some() {
                let output: SearchOutput = response.json(&self.name)?;
                let views = output
                    .posts
                    .into_iter()
                    .enumerate()
                    .map(|(i, post)| (format!("{} post {i}", response.url), post))
                    .collect();
                (views, output.cursor)
            } else {
                let output: FeedOutput = response.json(&self.name)?;
                let mut views = Vec::new();
                for (i, raw) in output.feed.iter().enumerate() {
                    let location = format!("{} feed item {i}", response.url);
                    match item::<FeedViewPost>(raw) {
                        Ok(entry) if entry.reason.is_some() => {} // repost or pin
                        Ok(entry) => views.push((location, entry.post)),
                        Err(reason) => {
                            memory.reject(&mut batch, raw_str(raw, &["post", "uri"]), location, raw, reason)
                        }
                    }
                }
                (views, output.cursor)
            };
        let mut keyed = Vec::new();
        for (location, raw) in &views {
            match item::<PostView>(raw) {
                Ok(view) => match view.key() {
                    Some(at) => keyed.push(Keyed { at, id: view.uri.clone(), item: (location, raw, view) }),
                    None => memory.reject(
                        &mut batch,
                        Some(&view.uri),
                        location.clone(),
                        raw,
                        "unreadable indexedAt and createdAt",
                    ),
                },
                Err(reason) => {
                    memory.reject(&mut batch, raw_str(raw, &["uri"]), location.clone(), raw, reason)
                }
            }
        }
        // An empty page may still carry a cursor; stop there.
        let next_page = next_page.filter(|c| !c.is_empty() && !views.is_empty());
        let limits = self.config.scan;
        let conditional =
            if state.page().is_none() { Conditional::of(&url, &response.validators) } else { None };
        let (kept, mut next, exhausted) = state.advance(&self.name, keyed, next_page, conditional, limits);
        next.rejected = memory;
        for (location, raw, view) in kept {
            push_post(
                &mut batch,
                view.into_new_post().build(&self.account, "bluesky"),
                location.clone(),
                raw,
            );
        }
        batch.next_cursor = Some(write_cursor(&next));
        batch.exhausted = exhausted;
        Ok(batch)
    }
}
