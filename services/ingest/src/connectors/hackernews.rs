//! Hacker News through the Algolia search API by date
//! (`/api/v1/search_by_date`): stories and comments matching a query, newest
//! first, paged by `page` up to `nbPages`. Once a scan has completed, later
//! ones ask only for `numericFilters=created_at_i>=mark`, so a poll costs one
//! request when nothing is new. Comment text is HTML and becomes plain text.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::DateTime;
use reqwest::Url;
use serde::Deserialize;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{
    Conditional, Keyed, Lenient, NewPost, Polling, ScanCursor, ScanLimits, check_page_size, check_url, item,
    json_request, push_post, raw_str, read_cursor, unchanged, write_cursor,
};
use crate::html_text::html_to_text;
use crate::http::{HttpClient, join_url};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Configuration of a Hacker News source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HackerNewsConfig {
    /// Name of the source within its account; checkpoints use `hackernews:{name}`.
    pub name: String,
    /// Words to search for (empty: everything).
    #[serde(default)]
    pub query: String,
    /// Algolia tag filter: `story`, `comment`, or `(story,comment)`.
    #[serde(default = "default_tags")]
    pub tags: String,
    /// API base URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Hits per page (at most 1000).
    #[serde(default = "default_hits")]
    pub hits_per_page: u32,
    /// `initial_pages` (default 1) and `max_pages` (default 10).
    #[serde(flatten)]
    pub scan: ScanLimits,
    /// `interval_secs` (default 300) and `requests_per_minute`.
    #[serde(flatten)]
    pub polling: Polling<300>,
}

fn default_tags() -> String {
    "(story,comment)".into()
}
fn default_base_url() -> String {
    "https://hn.algolia.com".into()
}
fn default_hits() -> u32 {
    100
}

impl Connector for HackerNewsConfig {
    fn kind(&self) -> &'static str {
        "hackernews"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("base_url", &self.base_url)?;
        if self.tags.trim().is_empty() {
            return Err(FieldError::new("tags", "empty tag filter"));
        }
        check_page_size("hits_per_page", self.hits_per_page, 1000)?;
        self.scan.validate()?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(HackerNewsSource::new(account, self.clone(), http)?))
    }
}

/// A Hacker News source of one account.
#[derive(Debug)]
pub struct HackerNewsSource {
    name: String,
    account: AccountId,
    config: HackerNewsConfig,
    http: Arc<HttpClient>,
}

impl HackerNewsSource {
    /// The source for `account`, using `http`.
    pub fn new(
        account: AccountId,
        config: HackerNewsConfig,
        http: Arc<HttpClient>,
    ) -> Result<Self, IngestError> {
        let name = format!("hackernews:{}", config.name);
        config.validate().map_err(IngestError::invalid_config(&name))?;
        Ok(Self { name, account, config, http })
    }

    fn page_url(&self, state: &ScanCursor) -> Result<Url, IngestError> {
        let mut url = join_url(&self.name, "base_url", &self.config.base_url, "/api/v1/search_by_date")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("query", self.config.query.trim())
                .append_pair("tags", self.config.tags.trim())
                .append_pair("hitsPerPage", &self.config.hits_per_page.to_string());
            if let Some(mark) = &state.mark {
                query.append_pair("numericFilters", &format!("created_at_i>={}", mark.at.div_euclid(1000)));
            }
            if let Some(page) = state.page() {
                query.append_pair("page", page);
            }
        }
        Ok(url)
    }
}

/// The search response.
#[derive(Debug, Deserialize)]
struct SearchResponse {
    hits: Vec<serde_json::Value>,
    #[serde(default)]
    page: u32,
    #[serde(default, rename = "nbPages")]
    nb_pages: u32,
}

/// The parts of a hit used here (stories and comments share one shape).
#[derive(Debug, Deserialize)]
struct Hit {
    #[serde(rename = "objectID")]
    object_id: String,
    #[serde(default)]
    author: Option<String>,
    created_at_i: i64,
    #[serde(default, rename = "_tags")]
    tags: Vec<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    story_text: Option<String>,
    #[serde(default)]
    comment_text: Option<String>,
    #[serde(default)]
    story_id: Option<Lenient>,
    #[serde(default)]
    parent_id: Option<Lenient>,
    #[serde(default)]
    points: Option<Lenient>,
    #[serde(default)]
    num_comments: Option<Lenient>,
}

impl Hit {
    fn into_new_post(self) -> NewPost {
        let is_comment = self.tags.iter().any(|t| t == "comment") || self.comment_text.is_some();
        let text = if is_comment {
            html_to_text(self.comment_text.as_deref().unwrap_or_default())
        } else {
            let title = self.title.clone().unwrap_or_default();
            let body = html_to_text(self.story_text.as_deref().unwrap_or_default());
            let link = self.url.clone().unwrap_or_default();
            [title, body, link].into_iter().filter(|p| !p.trim().is_empty()).collect::<Vec<_>>().join("\n\n")
        };
        let author = self.author.unwrap_or_default();
        NewPost {
            url: Some(format!("https://news.ycombinator.com/item?id={}", self.object_id)),
            created_at: DateTime::from_timestamp(self.created_at_i, 0),
            in_reply_to: if is_comment { self.parent_id.map(|p| p.text()) } else { None },
            thread_id: if is_comment { self.story_id.map(|s| s.text()) } else { None },
            native_id: self.object_id,
            text,
            author_id: author.clone(),
            author_handle: author,
            likes: self.points.map_or(0, |p| p.count()),
            replies: self.num_comments.map_or(0, |n| n.count()),
            ..NewPost::default()
        }
    }
}

#[async_trait]
impl Source for HackerNewsSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ScanCursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(&state)?;
        let request = json_request(url.clone(), None, self.config.polling.rate())
            .validators(state.validators_for(&url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(unchanged(cursor));
        }
        let page: SearchResponse = response.json(&self.name)?;
        let mut batch = SourceBatch::default();
        let mut keyed = Vec::new();
        let mut memory = state.rejected.clone();
        for (index, raw) in page.hits.iter().enumerate() {
            let location = format!("{} hit {index}", response.url);
            match item::<Hit>(raw) {
                Ok(hit) => keyed.push(Keyed {
                    at: hit.created_at_i.saturating_mul(1000),
                    id: hit.object_id.clone(),
                    item: (location, raw, hit),
                }),
                Err(reason) => memory.reject(&mut batch, raw_str(raw, &["objectID"]), location, raw, reason),
            }
        }
        let next_page = (page.page + 1 < page.nb_pages).then(|| (page.page + 1).to_string());
        let limits = self.config.scan;
        let conditional =
            if state.page().is_none() { Conditional::of(&url, &response.validators) } else { None };
        let (kept, mut next, exhausted) = state.advance(&self.name, keyed, next_page, conditional, limits);
        next.rejected = memory;
        for (location, raw, hit) in kept {
            push_post(&mut batch, hit.into_new_post().build(&self.account, "hackernews"), location, raw);
        }
        batch.next_cursor = Some(write_cursor(&next));
        batch.exhausted = exhausted;
        Ok(batch)
    }
}
