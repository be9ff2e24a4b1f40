//! A generic HTTP JSON source: any API that returns a JSON document with an
//! array of items, configured by dotted field paths instead of code. Paging is
//! by a cursor sent as a query parameter, taken either from a field of the
//! response (`next_cursor`) or from the id of the last item.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use crate::Connector;
use crate::connectors::{Polling, check_positive, check_url};
use crate::field_path::{lookup, lookup_string};
use crate::http::{HttpClient, HttpRequest};
use crate::record::PostRecord;
use crate::{IngestError, Rejected, Source, SourceBatch};

/// Configuration of an HTTP JSON source: where the items are and which field
/// holds what.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpJsonSourceConfig {
    /// Name of the source within its account; posts get source `http:{name}`.
    pub name: String,
    /// The endpoint.
    pub url: String,
    /// Path to the array of items (empty: the document is the array).
    #[serde(default)]
    pub items: String,
    /// Path in an item to its id.
    pub id: String,
    /// Path in an item to its text.
    pub text: String,
    /// Path in an item to the author's handle.
    pub author_handle: String,
    /// Path in an item to the author's id (default: the handle).
    #[serde(default)]
    pub author_id: Option<String>,
    /// Path in an item to the follower count.
    #[serde(default)]
    pub followers: Option<String>,
    /// Path in an item to its publication time.
    pub created_at: String,
    /// Path in an item to its link.
    #[serde(default)]
    pub link: Option<String>,
    /// Path in an item to the id of the post it answers.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// Query parameter carrying the cursor (e.g. `since_id`, `after`).
    #[serde(default)]
    pub cursor_param: Option<String>,
    /// Path in the document to the next cursor; without it the last item's
    /// id is the cursor.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// `interval_secs` (default 60) and `requests_per_minute`.
    #[serde(flatten)]
    pub polling: Polling<60>,
}

impl Connector for HttpJsonSourceConfig {
    fn kind(&self) -> &'static str {
        "http_json"
    }
    fn name_prefix(&self) -> &'static str {
        "http"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("url", &self.url)?;
        for (key, path) in [
            ("id", &self.id),
            ("text", &self.text),
            ("author_handle", &self.author_handle),
            ("created_at", &self.created_at),
        ] {
            if path.trim().is_empty() {
                return Err(FieldError::new(key, "empty field path"));
            }
        }
        check_positive("timeout_secs", self.timeout_secs)?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(HttpJsonSource::with_client(account, self.clone(), http)?))
    }
}

fn default_timeout_secs() -> u64 {
    15
}

/// An HTTP JSON endpoint polled for one account.
#[derive(Debug)]
pub struct HttpJsonSource {
    name: String,
    account: AccountId,
    config: HttpJsonSourceConfig,
    url: reqwest::Url,
    http: Arc<HttpClient>,
}

impl HttpJsonSource {
    /// A source polling `config.url` for `account` with the shared client.
    pub fn new(account: AccountId, config: HttpJsonSourceConfig) -> Result<Self, IngestError> {
        Self::with_client(account, config, HttpClient::shared()?)
    }

    /// A source polling `config.url` for `account` with `http`.
    pub fn with_client(
        account: AccountId,
        config: HttpJsonSourceConfig,
        http: Arc<HttpClient>,
    ) -> Result<Self, IngestError> {
        let source_name = format!("http:{}", config.name);
        config.validate().map_err(IngestError::invalid_config(&source_name))?;
        let url = reqwest::Url::parse(config.url.trim()).map_err(|e| IngestError::Config {
            source_name: source_name.clone(),
            key: "url".into(),
            reason: e.to_string(),
        })?;
        Ok(Self { name: source_name, account, config, url, http })
    }

    fn bad_response(&self, reason: impl Into<String>) -> IngestError {
        IngestError::BadResponse {
            source_name: self.name.clone(),
            url: crate::http::redact_url(&self.url),
            reason: reason.into(),
        }
    }

    async fn fetch(&self, cursor: Option<&str>) -> Result<Value, IngestError> {
        let mut url = self.url.clone();
        if let (Some(param), Some(cursor)) = (&self.config.cursor_param, cursor) {
            url.query_pairs_mut().append_pair(param, cursor);
        }
        let request = HttpRequest::get(url)
            .header("accept", "application/json")
            .rate(self.config.polling.rate())
            .timeout(Duration::from_secs(self.config.timeout_secs.max(1)));
        self.http.get(&self.name, &request).await?.json(&self.name)
    }

    fn record_of(&self, item: &Value) -> PostRecord {
        let field = |path: &Option<String>| path.as_deref().and_then(|p| lookup_string(item, p));
        PostRecord {
            id: lookup_string(item, &self.config.id),
            text: lookup_string(item, &self.config.text),
            author_handle: lookup_string(item, &self.config.author_handle),
            author_id: field(&self.config.author_id),
            followers: field(&self.config.followers).and_then(|f| f.parse().ok()),
            created_at: lookup_string(item, &self.config.created_at),
            url: field(&self.config.link),
            in_reply_to: field(&self.config.in_reply_to),
            ..PostRecord::default()
        }
    }
}

#[async_trait]
impl Source for HttpJsonSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let document = self.fetch(cursor).await?;
        let items = lookup(&document, &self.config.items)
            .and_then(Value::as_array)
            .ok_or_else(|| self.bad_response(format!("no array at `{}`", self.config.items)))?;
        let mut batch = SourceBatch::default();
        let mut last_id = None;
        for (index, item) in items.iter().enumerate() {
            let record = self.record_of(item);
            last_id = record.id.clone().or(last_id);
            match record.into_post(&self.account, &self.name) {
                Ok(post) => batch.posts.push(post),
                Err(error) => batch.rejected.push(Rejected {
                    location: format!("{} item {index}", self.config.url),
                    raw: item.to_string(),
                    reason: error.to_string(),
                }),
            }
        }
        let next = match &self.config.next_cursor {
            Some(path) => lookup_string(&document, path),
            None => last_id,
        };
        batch.exhausted = items.is_empty() || next.is_none() || next.as_deref() == cursor;
        batch.next_cursor = next.or_else(|| cursor.map(str::to_owned));
        Ok(batch)
    }
}
