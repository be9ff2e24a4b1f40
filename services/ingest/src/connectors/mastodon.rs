//! Mastodon (and compatible servers): a hashtag timeline
//! (`/api/v1/timelines/tag/:hashtag`), an account's statuses
//! (`/api/v1/accounts/:id/statuses`, the handle looked up once), a list
//! timeline (`/api/v1/timelines/list/:id`, needs a token) or a public search
//! (`/api/v2/search?type=statuses`).
//!
//! Mastodon pages forward without gaps with `min_id`: the page of statuses
//! immediately newer than it, whose `Link: <…?min_id=…>; rel="prev"` names
//! the next one (servers before 3.3 name it with `since_id`, read the same
//! way). The cursor is that `min_id`, so every confirmed page moves it
//! forward. A new source starts at the newest page instead of the beginning
//! of time. Status content is HTML and becomes plain text. The token (list
//! timelines need one, search often does) goes only into the
//! `Authorization` header, marked sensitive, and is a [`Secret`] from the
//! moment the config is read, so neither a log line nor a printed config can
//! show it.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{
    BearerToken, Conditional, Lenient, NewPost, Polling, check_page_size, check_url, id_after, item,
    json_request, parse_time, push_post, read_cursor, rejected, write_cursor,
};
use crate::credentials::Secret;
use crate::html_text::html_to_text;
use crate::http::{HttpClient, HttpRequest, headers, join_url};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Configuration of a Mastodon source: the instance and exactly one of
/// `hashtag`, `account`, `list_id` or `search`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonConfig {
    /// Name of the source within its account; checkpoints use `mastodon:{name}`.
    pub name: String,
    /// The instance's base URL, e.g. `https://mastodon.social`.
    pub instance: String,
    /// A hashtag (without `#`) whose public timeline is followed.
    #[serde(default)]
    pub hashtag: Option<String>,
    /// An account (`user` or `user@domain`) whose statuses are followed.
    #[serde(default)]
    pub account: Option<String>,
    /// A list id (the token's owner's list).
    #[serde(default)]
    pub list_id: Option<String>,
    /// A full-text search (instances often require a token for it).
    #[serde(default)]
    pub search: Option<String>,
    /// `token` / `token_env`: list timelines need one, search often does.
    #[serde(flatten)]
    pub auth: BearerToken,
    /// Statuses per page (Mastodon allows up to 40).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// `interval_secs` (default 120) and `requests_per_minute`.
    #[serde(flatten)]
    pub polling: Polling<120>,
}

fn default_limit() -> u32 {
    40
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Timeline {
    Tag(String),
    Account(String),
    List(String),
    Search(String),
}

impl MastodonConfig {
    fn timeline(&self) -> Result<Timeline, FieldError> {
        let set =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let chosen: Vec<Timeline> = [
            set(&self.hashtag).map(|t| Timeline::Tag(t.trim_start_matches('#').to_owned())),
            set(&self.account).map(|a| Timeline::Account(a.trim_start_matches('@').to_owned())),
            set(&self.list_id).map(Timeline::List),
            set(&self.search).map(Timeline::Search),
        ]
        .into_iter()
        .flatten()
        .collect();
        match chosen.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(FieldError::new("hashtag", "set one of hashtag, account, list_id or search")),
            _ => Err(FieldError::new("hashtag", "set only one of hashtag, account, list_id or search")),
        }
    }
}

impl Connector for MastodonConfig {
    fn kind(&self) -> &'static str {
        "mastodon"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        Some(self.polling.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        check_url("instance", &self.instance)?;
        if let Timeline::List(_) = self.timeline()?
            && !self.auth.is_configured()
        {
            return Err(FieldError::new(
                "token_env",
                "a list timeline needs an access token: set token_env (or token)",
            ));
        }
        check_page_size("limit", self.limit, 80)?;
        self.polling.validate()
    }
    fn build(&self, account: AccountId, http: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Ok(Box::new(MastodonSource::new(account, self.clone(), http)?))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conditional: Option<Conditional>,
}

/// A Mastodon source of one account.
#[derive(Debug)]
pub struct MastodonSource {
    name: String,
    namespace: String,
    account: AccountId,
    config: MastodonConfig,
    timeline: Timeline,
    token: Option<Secret>,
    account_id: Option<String>,
    http: Arc<HttpClient>,
}

impl MastodonSource {
    /// The source for `account`, using `http`.
    pub fn new(
        account: AccountId,
        config: MastodonConfig,
        http: Arc<HttpClient>,
    ) -> Result<Self, IngestError> {
        let name = format!("mastodon:{}", config.name);
        let invalid = IngestError::invalid_config(&name);
        config.validate().map_err(&invalid)?;
        let timeline = config.timeline().map_err(invalid)?;
        let token = config.auth.resolve(&name)?;
        let host =
            join_url(&name, "instance", &config.instance, "")?.host_str().unwrap_or_default().to_owned();
        Ok(Self {
            namespace: format!("mastodon:{host}"),
            name,
            account,
            config,
            timeline,
            token,
            account_id: None,
            http,
        })
    }

    fn url(&self, path: &str) -> Result<Url, IngestError> {
        join_url(&self.name, "instance", &self.config.instance, path)
    }

    fn request(&self, url: Url) -> HttpRequest {
        json_request(url, self.token.as_ref(), self.config.polling.rate())
    }

    /// The id of the followed account, looked up once by handle.
    async fn account_id(&mut self, acct: &str) -> Result<String, IngestError> {
        if let Some(id) = &self.account_id {
            return Ok(id.clone());
        }
        let mut url = self.url("/api/v1/accounts/lookup")?;
        url.query_pairs_mut().append_pair("acct", acct);
        let response = self.http.get(&self.name, &self.request(url)).await?;
        #[derive(Deserialize)]
        struct Account {
            id: Lenient,
        }
        let found: Account = response.json(&self.name)?;
        let id = found.id.text();
        self.account_id = Some(id.clone());
        Ok(id)
    }

    async fn page_url(&mut self, min_id: Option<&str>) -> Result<Url, IngestError> {
        let mut url = match self.timeline.clone() {
            Timeline::Tag(tag) => self.url(&format!("/api/v1/timelines/tag/{}", path_segment(&tag)))?,
            Timeline::List(id) => self.url(&format!("/api/v1/timelines/list/{}", path_segment(&id)))?,
            Timeline::Account(acct) => {
                let id = self.account_id(&acct).await?;
                let mut url = self.url(&format!("/api/v1/accounts/{}/statuses", path_segment(&id)))?;
                url.query_pairs_mut().append_pair("exclude_reblogs", "true");
                url
            }
            Timeline::Search(query) => {
                let mut url = self.url("/api/v2/search")?;
                url.query_pairs_mut()
                    .append_pair("q", &query)
                    .append_pair("type", "statuses")
                    .append_pair("resolve", "false");
                url
            }
        };
        url.query_pairs_mut().append_pair("limit", &self.config.limit.to_string());
        if let Some(min_id) = min_id {
            url.query_pairs_mut().append_pair("min_id", min_id);
        }
        Ok(url)
    }
}

fn path_segment(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~') {
                vec![c.to_string()]
            } else {
                let mut buffer = [0u8; 4];
                c.encode_utf8(&mut buffer).bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}

/// The parts of a Mastodon `Status` used here.
#[derive(Debug, Deserialize)]
struct Status {
    id: Lenient,
    created_at: String,
    #[serde(default)]
    in_reply_to_id: Option<Lenient>,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    replies_count: Option<Lenient>,
    #[serde(default)]
    reblogs_count: Option<Lenient>,
    #[serde(default)]
    favourites_count: Option<Lenient>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    reblog: Option<serde_json::Value>,
    account: StatusAccount,
    #[serde(default)]
    media_attachments: Vec<Media>,
}

#[derive(Debug, Deserialize)]
struct StatusAccount {
    id: Lenient,
    #[serde(default)]
    acct: Option<String>,
    username: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    followers_count: Option<Lenient>,
}

#[derive(Debug, Deserialize)]
struct Media {
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SearchResults {
    statuses: Vec<serde_json::Value>,
}

impl Status {
    fn into_new_post(self) -> NewPost {
        let mut text = html_to_text(&self.content);
        if !self.spoiler_text.trim().is_empty() {
            text = format!("{}\n\n{text}", self.spoiler_text.trim());
        }
        if text.trim().is_empty() {
            // Media-only statuses: their descriptions are the words there are.
            text = self
                .media_attachments
                .iter()
                .filter_map(|m| m.description.clone())
                .collect::<Vec<_>>()
                .join("\n");
        }
        NewPost {
            native_id: self.id.text(),
            text,
            author_id: self.account.id.text(),
            author_handle: self.account.acct.clone().unwrap_or_else(|| self.account.username.clone()),
            author_name: self.account.display_name,
            followers: self.account.followers_count.map(|c| c.count()),
            created_at: parse_time(&self.created_at),
            url: self.url.or(self.uri),
            in_reply_to: self.in_reply_to_id.map(|id| id.text()),
            thread_id: None,
            likes: self.favourites_count.map_or(0, |c| c.count()),
            reposts: self.reblogs_count.map_or(0, |c| c.count()),
            replies: self.replies_count.map_or(0, |c| c.count()),
        }
    }
}

/// The `min_id` of the page a `Link` header names `prev` (`since_id` from
/// servers older than Mastodon 3.3).
fn prev_min_id(link: &str) -> Option<String> {
    let target = Url::parse(headers::link_target(link, "prev")?).ok()?;
    let param = |name: &str| target.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    param("min_id").or_else(|| param("since_id"))
}

#[async_trait]
impl Source for MastodonSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: Cursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(state.min_id.as_deref()).await?;
        let validators = Conditional::for_url(state.conditional.as_ref(), &url);
        let response = self.http.get(&self.name, &self.request(url.clone()).validators(validators)).await?;
        let unchanged = cursor.map(str::to_owned);
        if response.not_modified() {
            return Ok(SourceBatch { next_cursor: unchanged, exhausted: true, ..SourceBatch::default() });
        }
        let items: Vec<serde_json::Value> = match self.timeline {
            Timeline::Search(_) => response.json::<SearchResults>(&self.name)?.statuses,
            _ => response.json(&self.name)?,
        };
        let mut batch = SourceBatch::default();
        let mut newest: Option<String> = None;
        for (index, raw) in items.iter().enumerate() {
            let location = format!("{} status {index}", response.url);
            // An unreadable status still moves the cursor past itself (by
            // its id, when that can be read), so it is dead-lettered once.
            let id = raw.get("id").and_then(|id| Lenient::deserialize(id).ok()).map(|id| id.text());
            if let Some(id) = id.filter(|id| newest.as_deref().is_none_or(|n| id_after(id, n))) {
                newest = Some(id);
            }
            let status: Status = match item(raw) {
                Ok(status) => status,
                Err(reason) => {
                    batch.rejected.push(rejected(location, raw, reason));
                    continue;
                }
            };
            if status.reblog.as_ref().is_some_and(|r| !r.is_null()) {
                continue; // A boost: the original is someone else's post.
            }
            push_post(
                &mut batch,
                status.into_new_post().build(&self.account, &self.namespace),
                location,
                raw,
            );
        }
        // The next page is named by `Link: …; rel="prev"` (its `min_id`, or
        // `since_id` from servers older than Mastodon 3.3), or follows the
        // newest status seen.
        let from_link = response.link.as_deref().and_then(prev_min_id);
        let next_min_id = match (from_link, newest) {
            (Some(link), Some(newest)) => Some(if id_after(&newest, &link) { newest } else { link }),
            (link, newest) => link.or(newest).or(state.min_id.clone()),
        };
        let first_run = state.min_id.is_none();
        batch.exhausted = first_run || items.len() < self.config.limit as usize;
        let conditional = if items.is_empty() { Conditional::of(&url, &response.validators) } else { None };
        batch.next_cursor = Some(write_cursor(&Cursor { min_id: next_min_id, conditional }));
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_timeline_is_required() {
        let config = |hashtag: Option<&str>, search: Option<&str>| MastodonConfig {
            name: "m".into(),
            instance: "https://m.example".into(),
            hashtag: hashtag.map(str::to_owned),
            account: None,
            list_id: None,
            search: search.map(str::to_owned),
            auth: BearerToken::default(),
            limit: 40,
            polling: Polling::every(60),
        };
        assert_eq!(config(Some("#rust"), None).timeline(), Ok(Timeline::Tag("rust".into())));
        assert!(config(None, None).validate().is_err());
        assert!(config(Some("a"), Some("b")).validate().is_err());
        assert_eq!(path_segment("café tag"), "caf%C3%A9%20tag");
        let link = |prev: &str| {
            format!(
                "<https://m.example/api/v1/timelines/list/7?max_id=5>; rel=\"next\", <https://m.example/api/v1/timelines/list/7?{prev}>; rel=\"prev\""
            )
        };
        assert_eq!(prev_min_id(&link("min_id=9")).as_deref(), Some("9"));
        assert_eq!(prev_min_id(&link("since_id=9")).as_deref(), Some("9"), "before Mastodon 3.3");
        assert_eq!(prev_min_id(&link("limit=40")), None);
        assert_eq!(prev_min_id("<https://m.example/x?max_id=5>; rel=\"next\""), None);
    }
}
