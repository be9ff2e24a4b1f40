//! YouTube Data API v3 `commentThreads`: the comment threads of a channel's
//! videos (`allThreadsRelatedToChannelId`) or of one video (`videoId`), with
//! `order=time` (newest first) and `pageToken` paging. The API key comes from
//! the config or, preferably, the environment (`key_env`); it travels in the
//! query string as the API requires, so every URL printed is redacted.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Url;
use serde::Deserialize;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{
    Conditional, Keyed, NewPost, Polling, ScanCursor, ScanLimits, check_either, check_page_size, check_url,
    item, json_request, millis, parse_time, push_post, raw_str, read_cursor, unchanged, write_cursor,
};
use crate::credentials::Secret;
use crate::http::{HttpClient, join_url};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Configuration of a YouTube source: `channel_id` or `video_id`, and a key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YouTubeConfig {
    /// Name of the source within its account; checkpoints use `youtube:{name}`.
    pub name: String,
    /// Channel (`UC…`) whose videos' comment threads are followed.
    #[serde(default)]
    pub channel_id: Option<String>,
    /// A single video whose comment threads are followed.
    #[serde(default)]
    pub video_id: Option<String>,
    /// Only threads containing these words (`searchTerms`).
    #[serde(default)]
    pub search_terms: Option<String>,
    /// API key inline (prefer `key_env`).
    #[serde(default)]
    pub key: Option<Secret>,
    /// Environment variable holding the API key, e.g. `SMO_YT_KEY`.
    #[serde(default)]
    pub key_env: Option<String>,
    /// API base URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Threads per page (at most 100).
    #[serde(default = "default_max_results")]
    pub max_results: u32,
    /// `initial_pages` (default 1) and `max_pages` (default 5).
    #[serde(flatten)]
    pub scan: ScanLimits<5>,
    /// `interval_secs` (default 600) and `requests_per_minute`.
    #[serde(flatten)]
    pub polling: Polling<600>,
}

fn default_base_url() -> String {
    "https://www.googleapis.com".into()
}
fn default_max_results() -> u32 {
    100
}

impl Connector for YouTubeConfig {
    fn kind(&self) -> &'static str {
        "youtube"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("base_url", &self.base_url)?;
        check_either(("channel_id", &self.channel_id), ("video_id", &self.video_id))?;
        if !crate::credentials::is_configured(self.key.as_ref(), &self.key_env) {
            return Err(FieldError::new("key_env", "an API key is required: set key_env (or key)"));
        }
        check_page_size("max_results", self.max_results, 100)?;
        self.scan.validate()?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(YouTubeSource::new(account, self.clone(), http)?))
    }
}

/// A YouTube comments source of one account.
#[derive(Debug)]
pub struct YouTubeSource {
    name: String,
    account: AccountId,
    config: YouTubeConfig,
    key: Secret,
    http: Arc<HttpClient>,
}

impl YouTubeSource {
    /// The source for `account`, using `http`.
    pub fn new(
        account: AccountId,
        config: YouTubeConfig,
        http: Arc<HttpClient>,
    ) -> Result<Self, IngestError> {
        let name = format!("youtube:{}", config.name);
        config.validate().map_err(IngestError::invalid_config(&name))?;
        let key =
            crate::credentials::resolve(&name, config.key.as_ref(), "key_env", config.key_env.as_deref())?
                .ok_or_else(|| IngestError::Config {
                    source_name: name.clone(),
                    key: "key_env".into(),
                    reason: "no API key".into(),
                })?;
        Ok(Self { name, account, config, key, http })
    }

    /// The page URL without the key (for conditional-request bookkeeping).
    fn page_url(&self, page: Option<&str>) -> Result<Url, IngestError> {
        let mut url = join_url(&self.name, "base_url", &self.config.base_url, "/youtube/v3/commentThreads")?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("part", "snippet");
            match (&self.config.channel_id, &self.config.video_id) {
                (Some(channel), _) if !channel.trim().is_empty() => {
                    query.append_pair("allThreadsRelatedToChannelId", channel.trim())
                }
                (_, video) => query.append_pair("videoId", video.as_deref().unwrap_or_default().trim()),
            };
            if let Some(terms) = self.config.search_terms.as_deref().filter(|t| !t.trim().is_empty()) {
                query.append_pair("searchTerms", terms.trim());
            }
            query
                .append_pair("maxResults", &self.config.max_results.to_string())
                .append_pair("order", "time")
                .append_pair("textFormat", "plainText");
            if let Some(page) = page {
                query.append_pair("pageToken", page);
            }
        }
        Ok(url)
    }
}

/// `youtube#commentThreadListResponse`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadList {
    #[serde(default)]
    next_page_token: Option<String>,
    items: Vec<serde_json::Value>,
}

/// `youtube#commentThread`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Thread {
    id: String,
    snippet: ThreadSnippet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadSnippet {
    #[serde(default)]
    video_id: Option<String>,
    top_level_comment: Comment,
    #[serde(default)]
    total_reply_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: String,
    snippet: CommentSnippet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentSnippet {
    #[serde(default)]
    text_display: String,
    #[serde(default)]
    text_original: Option<String>,
    author_display_name: String,
    #[serde(default)]
    author_channel_id: Option<ChannelRef>,
    #[serde(default)]
    like_count: Option<u64>,
    published_at: String,
}

#[derive(Debug, Deserialize)]
struct ChannelRef {
    value: String,
}

impl Thread {
    fn into_new_post(self) -> NewPost {
        let comment = self.snippet.top_level_comment;
        let url = self
            .snippet
            .video_id
            .map(|video| format!("https://www.youtube.com/watch?v={video}&lc={}", comment.id));
        let snippet = comment.snippet;
        let text = snippet.text_original.filter(|t| !t.trim().is_empty()).unwrap_or(snippet.text_display);
        NewPost {
            native_id: self.id,
            text,
            author_id: snippet.author_channel_id.map(|c| c.value).unwrap_or_default(),
            author_handle: snippet.author_display_name.clone(),
            author_name: Some(snippet.author_display_name),
            created_at: parse_time(&snippet.published_at),
            url,
            likes: snippet.like_count.unwrap_or(0),
            replies: self.snippet.total_reply_count.unwrap_or(0),
            ..NewPost::default()
        }
    }
}

#[async_trait]
impl Source for YouTubeSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ScanCursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(state.page())?;
        let mut keyed_url = url.clone();
        keyed_url.query_pairs_mut().append_pair("key", self.key.expose());
        let request =
            json_request(keyed_url, None, self.config.polling.rate()).validators(state.validators_for(&url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(unchanged(cursor));
        }
        let list: ThreadList = response.json(&self.name)?;
        let mut batch = SourceBatch::default();
        let mut keyed = Vec::new();
        let mut memory = state.rejected.clone();
        for (index, raw) in list.items.iter().enumerate() {
            let location = format!("{} item {index}", response.url);
            match item::<Thread>(raw) {
                Ok(thread) => match parse_time(&thread.snippet.top_level_comment.snippet.published_at) {
                    Some(at) => keyed.push(Keyed {
                        at: millis(at),
                        id: thread.id.clone(),
                        item: (location, raw, thread),
                    }),
                    None => {
                        memory.reject(&mut batch, Some(&thread.id), location, raw, "unreadable publishedAt")
                    }
                },
                Err(reason) => memory.reject(&mut batch, raw_str(raw, &["id"]), location, raw, reason),
            }
        }
        let limits = self.config.scan;
        let conditional =
            if state.page().is_none() { Conditional::of(&url, &response.validators) } else { None };
        let next_page = list.next_page_token.filter(|t| !t.is_empty());
        let (kept, mut next, exhausted) = state.advance(&self.name, keyed, next_page, conditional, limits);
        next.rejected = memory;
        for (location, raw, thread) in kept {
            push_post(&mut batch, thread.into_new_post().build(&self.account, "youtube"), location, raw);
        }
        batch.next_cursor = Some(write_cursor(&next));
        batch.exhausted = exhausted;
        Ok(batch)
    }
}
