//! RSS 2.0, Atom (and RSS 1.0 / JSON Feed, which the parser also reads)
//! through `feed-rs`. A feed is one document with no paging, so the cursor is
//! the set of entry ids already published (as short digests, bounded) plus
//! the document's validators: an unchanged feed costs a 304, and a changed
//! one publishes only the entries not seen before. Parsing runs on the
//! blocking pool, where even a parser panic becomes a clear error.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{
    Conditional, NewPost, Polling, check_positive, check_url, digest, push_post, read_cursor, unchanged,
    write_cursor,
};
use crate::html_text::html_to_text;
use crate::http::{HttpClient, HttpRequest, headers};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Longest text kept of an entry (full-content feeds carry whole articles).
const MAX_TEXT_CHARS: usize = 10_000;

/// Configuration of a feed source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Name of the source within its account; checkpoints and post ids use `feed:{name}`.
    pub name: String,
    /// The feed's URL.
    pub url: String,
    /// Entry ids remembered, to recognise entries already published.
    #[serde(default = "default_max_seen")]
    pub max_seen: usize,
    /// `interval_secs` (default 600) and `requests_per_minute`.
    #[serde(flatten)]
    pub polling: Polling<600>,
}

fn default_max_seen() -> usize {
    1000
}

impl Connector for FeedConfig {
    fn kind(&self) -> &'static str {
        "feed"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("url", &self.url)?;
        check_positive("max_seen", self.max_seen as u64)?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(FeedSource::new(account, self.clone(), http)?))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conditional: Option<Conditional>,
}

/// An RSS or Atom feed followed for one account.
#[derive(Debug)]
pub struct FeedSource {
    name: String,
    account: AccountId,
    config: FeedConfig,
    url: Url,
    http: Arc<HttpClient>,
}

impl FeedSource {
    /// The source for `account`, using `http`.
    pub fn new(account: AccountId, config: FeedConfig, http: Arc<HttpClient>) -> Result<Self, IngestError> {
        let name = format!("feed:{}", config.name);
        config.validate().map_err(IngestError::invalid_config(&name))?;
        let url = Url::parse(config.url.trim()).map_err(|e| IngestError::Config {
            source_name: name.clone(),
            key: "url".into(),
            reason: e.to_string(),
        })?;
        Ok(Self { name, account, config, url, http })
    }
}

/// Entries of a parsed feed, reduced to what becomes a post.
fn entries_of(feed: feed_rs::model::Feed, feed_url: &Url) -> Vec<(String, NewPost)> {
    let feed_title = feed.title.map(|t| html_to_text(&t.content)).filter(|t| !t.is_empty());
    let feed_author = feed.authors.first().and_then(|a| a.name.clone()).or(feed_title);
    let host = feed_url.host_str().unwrap_or("feed").to_owned();
    feed.entries
        .into_iter()
        .map(|entry| {
            let title = entry.title.map(|t| html_to_text(&t.content)).unwrap_or_default();
            let body = entry
                .summary
                .map(|s| s.content)
                .or_else(|| entry.content.and_then(|c| c.body))
                .map(|b| html_to_text(&b))
                .unwrap_or_default();
            let mut text =
                if body.is_empty() || body == title { title } else { format!("{title}\n\n{body}") };
            if text.chars().count() > MAX_TEXT_CHARS {
                text = text.chars().take(MAX_TEXT_CHARS).collect();
            }
            let link = entry.links.iter().find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"));
            let url = link.or(entry.links.first()).map(|l| l.href.clone());
            let id = if entry.id.trim().is_empty() {
                url.clone().unwrap_or_else(|| digest(&text))
            } else {
                entry.id.trim().to_owned()
            };
            let author = entry
                .authors
                .first()
                .and_then(|a| a.name.clone())
                .or_else(|| feed_author.clone())
                .unwrap_or_else(|| host.clone());
            let post = NewPost {
                native_id: id.clone(),
                text,
                author_id: author.clone(),
                author_handle: author,
                created_at: entry.published.or(entry.updated).or(feed.updated).or_else(|| Some(Utc::now())),
                url,
                ..NewPost::default()
            };
            (id, post)
        })
        .collect()
}

/// Entry ids are whatever the feed wrote (guid, link, a generated hash);
/// the parser's fallback is a random UUID, so give it something stable.
fn stable_id(
    links: &[feed_rs::model::Link],
    title: &Option<feed_rs::model::Text>,
    _uri: Option<&str>,
) -> String {
    links
        .first()
        .map(|l| l.href.clone())
        .or_else(|| title.as_ref().map(|t| t.content.clone()))
        .unwrap_or_default()
}

#[async_trait]
impl Source for FeedSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: Cursor = read_cursor(&self.name, cursor)?;
        let request = HttpRequest::get(self.url.clone())
            .header(
                "accept",
                "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
            )
            .rate(self.config.polling.rate())
            .validators(Conditional::for_url(state.conditional.as_ref(), &self.url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(unchanged(cursor));
        }
        if headers::looks_like_html(response.content_type.as_deref(), &response.body) {
            return Err(response.bad(
                &self.name,
                format!("expected a feed, got {}", headers::describe_body(Some("text/html"), &response.body)),
            ));
        }
        let body = response.body.clone();
        let feed_url = self.url.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            feed_rs::parser::Builder::new()
                .base_uri(Some(feed_url.as_str()))
                .id_generator(stable_id)
                .build()
                .parse(body.as_slice())
                .map(|feed| entries_of(feed, &feed_url))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|join| response.bad(&self.name, format!("the feed parser failed: {join}")))?
        .map_err(|e| {
            response.bad(
                &self.name,
                format!(
                    "malformed feed ({e}); {}",
                    headers::describe_body(response.content_type.as_deref(), &response.body)
                ),
            )
        })?;
        let mut batch = SourceBatch::default();
        let mut seen: Vec<String> = Vec::with_capacity(parsed.len() + state.seen.len());
        for (index, (id, post)) in parsed.into_iter().enumerate() {
            let key = digest(&id);
            if !seen.contains(&key) {
                seen.push(key.clone());
            }
            if state.seen.contains(&key) {
                continue;
            }
            let raw = serde_json::json!({ "id": id, "text": post.text, "url": post.url });
            push_post(
                &mut batch,
                post.build(&self.account, &self.name),
                format!("{} entry {index}", response.url),
                &raw,
            );
        }
        for key in state.seen {
            if seen.len() >= self.config.max_seen {
                break;
            }
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        let conditional = Conditional::of(&self.url, &response.validators);
        batch.next_cursor = Some(write_cursor(&Cursor { seen, conditional }));
        batch.exhausted = true;
        Ok(batch)
    }
}
