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

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smo_proto::AccountId;
use smo_runtime::FieldError;

use super::{
    Conditional, Keyed, Lenient, NewPost, RejectMemory, ScanCursor, ScanLimits, check_scan, check_url,
    id_after, item, json_request, push_post, raw_str, read_cursor, unchanged, write_cursor,
};
use crate::credentials::Secret;
use crate::html_text::decode_entities;
use crate::http::{HttpClient, HttpRequest, HttpResponse, join_url};
use crate::{Connector, IngestError, Source, SourceBatch};

/// Ids `/api/morechildren` takes per request.
const MORE_CHILDREN_PER_REQUEST: usize = 100;

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
    /// OAuth bearer token inline (prefer `token_env`).
    #[serde(default)]
    pub token: Option<Secret>,
    /// Environment variable holding an OAuth bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Posts per listing page (at most 100), or comments per thread request
    /// (at most 500).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Pages a new source reads back (listings only: a thread is read whole).
    #[serde(default = "super::default_initial_pages")]
    pub initial_pages: u32,
    /// Pages a poll reads back at most to catch up; for a thread, requests a
    /// poll makes at most (the thread and its `more` expansions).
    #[serde(default = "super::default_max_pages")]
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
fn default_interval() -> u64 {
    300
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

    /// Checks the config; errors name the key.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_url("base_url", &self.base_url)?;
        let max_limit = match self.mode()? {
            Mode::Thread { .. } => 500,
            _ => 100,
        };
        if !(1..=max_limit).contains(&self.limit) {
            return Err(FieldError::new("limit", format!("must be between 1 and {max_limit}")));
        }
        check_scan(self.initial_pages, self.max_pages, self.interval_secs, self.requests_per_minute)
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
        Some(self.interval_secs)
    }
    fn validate(&self) -> Result<(), FieldError> {
        RedditConfig::validate(self)
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
        let token = crate::credentials::resolve(
            &name,
            config.token.as_ref(),
            "token_env",
            config.token_env.as_deref(),
        )?;
        Ok(Self { name, account, config, mode, token, http })
    }

    fn url(&self, path: &str) -> Result<Url, IngestError> {
        join_url(&self.name, "base_url", &self.config.base_url, path)
    }

    fn request(&self, url: Url) -> HttpRequest {
        json_request(url, self.token.as_ref(), self.config.requests_per_minute)
    }

    fn page_url(&self, after: Option<&str>) -> Result<Url, IngestError> {
        let (mut url, search) = match &self.mode {
            Mode::New(sub) => (self.url(&format!("/r/{sub}/new.json"))?, None),
            Mode::Search { subreddit: Some(sub), query } => {
                (self.url(&format!("/r/{sub}/search.json"))?, Some((query, true)))
            }
            Mode::Search { subreddit: None, query } => (self.url("/search.json")?, Some((query, false))),
            Mode::Thread { .. } => return self.thread_url(None),
        };
        {
            let mut query = url.query_pairs_mut();
            if let Some((q, restrict)) = search {
                query.append_pair("q", q).append_pair("sort", "new").append_pair("type", "link");
                if restrict {
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

    /// The thread's comments, newest first, or (`focus`) the subtree of one
    /// comment, for "continue this thread" stubs.
    fn thread_url(&self, focus: Option<&str>) -> Result<Url, IngestError> {
        let Mode::Thread { subreddit, article } = &self.mode else {
            return Err(IngestError::Config {
                source_name: self.name.clone(),
                key: "thread".into(),
                reason: "not a thread source".into(),
            });
        };
        let mut url = self.url(&format!("/r/{subreddit}/comments/{article}.json"))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("sort", "new")
                .append_pair("limit", &self.config.limit.to_string())
                .append_pair("raw_json", "1");
            if let Some(comment) = focus {
                query.append_pair("comment", comment);
            }
        }
        Ok(url)
    }

    fn more_children_url(&self, article: &str, ids: &[String]) -> Result<Url, IngestError> {
        let mut url = self.url("/api/morechildren.json")?;
        url.query_pairs_mut()
            .append_pair("api_type", "json")
            .append_pair("link_id", &format!("t3_{article}"))
            .append_pair("children", &ids.join(","))
            .append_pair("sort", "new")
            .append_pair("limit_children", "false")
            .append_pair("raw_json", "1");
        Ok(url)
    }

    /// One page of a listing (new posts or search), scanned back to the mark.
    async fn poll_listing(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ScanCursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(state.page())?;
        let request = self.request(url.clone()).validators(state.validators_for(&url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(unchanged(cursor));
        }
        let listing: Listing = response.json(&self.name)?;
        if listing.kind != "Listing" {
            return Err(response.bad(&self.name, format!("expected a Listing, got kind {:?}", listing.kind)));
        }
        let mut batch = SourceBatch::default();
        let mut memory = state.rejected.clone();
        let mut keyed = Vec::new();
        for (index, raw) in listing.data.children.iter().enumerate() {
            let location = format!("{} child {index}", response.url);
            let thing: Thing<Link> = match item(raw) {
                Ok(thing) => thing,
                Err(reason) => {
                    memory.reject(&mut batch, raw_str(raw, &["data", "name"]), location, raw, reason);
                    continue;
                }
            };
            if thing.kind != "t3" {
                continue;
            }
            let Some(created) = thing.data.created() else {
                let id = Some(thing.data.name.as_str());
                memory.reject(&mut batch, id, location, raw, "missing or unreadable created_utc");
                continue;
            };
            let id = thing.data.name.clone();
            keyed.push(Keyed { at: created.timestamp_millis(), id, item: (location, raw, thing.data) });
        }
        let limits =
            ScanLimits { initial_pages: self.config.initial_pages, max_pages: self.config.max_pages };
        let first = state.page().is_none();
        let conditional = if first { Conditional::of(&url, &response.validators) } else { None };
        let (kept, mut next, exhausted) =
            state.advance(&self.name, keyed, listing.data.after, conditional, limits);
        next.rejected = memory;
        for (location, raw, link) in kept {
            push_post(&mut batch, link.into_new_post().build(&self.account, "reddit"), location, raw);
        }
        batch.next_cursor = Some(write_cursor(&next));
        batch.exhausted = exhausted;
        Ok(batch)
    }

    /// The whole thread: its post (on the first poll), the comment tree and
    /// the `more` stubs above the cursor, in at most `max_pages` requests.
    async fn poll_thread(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ThreadCursor = read_cursor(&self.name, cursor)?;
        let Mode::Thread { article, .. } = self.mode.clone() else {
            return self.poll_listing(cursor).await;
        };
        let mut walk = ThreadWalk::new(&article, &state);
        let response = self.http.get(&self.name, &self.request(self.thread_url(None)?)).await?;
        let (post, comments) = thread_listings(&self.name, &response)?;
        if !state.post_taken {
            for (index, raw) in post.data.children.iter().enumerate() {
                walk.post(&self.account, format!("{} post {index}", response.url), raw);
            }
        }
        walk.walk(&response.url, comments.data.children);
        let mut requests = 1;
        while let Some(expansion) = walk.pending.pop_front() {
            if requests >= self.config.max_pages {
                walk.pending.push_front(expansion);
                break;
            }
            requests += 1;
            match expansion {
                Expansion::More(ids) => {
                    let url = self.more_children_url(&article, &ids)?;
                    let response = self.http.get(&self.name, &self.request(url)).await?;
                    let things = more_children(&self.name, &response)?;
                    walk.walk(&response.url, things);
                }
                Expansion::Continue(parent) => {
                    let url = self.thread_url(Some(&parent))?;
                    let response = self.http.get(&self.name, &self.request(url)).await?;
                    let (_, comments) = thread_listings(&self.name, &response)?;
                    walk.walk(&response.url, comments.data.children);
                }
            }
        }
        if !walk.pending.is_empty() {
            tracing::warn!(
                source = %self.name,
                requests,
                left = walk.pending.len(),
                "thread has more comments than max_pages requests fetch; the next poll fetches the rest (raise max_pages or poll more often)"
            );
        }
        Ok(walk.finish(&self.account, state))
    }
}

/// The two Listings of a thread response: the post and the comments.
fn thread_listings(source_name: &str, response: &HttpResponse) -> Result<(Listing, Listing), IngestError> {
    let document: Value = response.json(source_name)?;
    let shape = |what: &str| {
        response.bad(source_name, format!("expected [post Listing, comment Listing], got {what}"))
    };
    let Value::Array(mut parts) = document else {
        return Err(shape(&format!("a JSON {}", json_kind(&document))));
    };
    if parts.len() != 2 {
        return Err(shape(&format!("an array of {}", parts.len())));
    }
    let comments = parts.pop().unwrap_or_default();
    let post = parts.pop().unwrap_or_default();
    let listing = |value: Value| match Listing::deserialize(value) {
        Ok(listing) if listing.kind == "Listing" => Ok(listing),
        Ok(listing) => Err(shape(&format!("kind {:?}", listing.kind))),
        Err(error) => Err(shape(&format!("an unreadable Listing ({error})"))),
    };
    Ok((listing(post)?, listing(comments)?))
}

/// The things of a `/api/morechildren` answer
/// (`{"json": {"errors": [], "data": {"things": [...]}}}`).
fn more_children(source_name: &str, response: &HttpResponse) -> Result<Vec<Value>, IngestError> {
    #[derive(Deserialize)]
    struct Answer {
        json: AnswerJson,
    }
    #[derive(Deserialize)]
    struct AnswerJson {
        #[serde(default)]
        errors: Vec<Value>,
        #[serde(default)]
        data: Option<AnswerData>,
    }
    #[derive(Deserialize)]
    struct AnswerData {
        things: Vec<Value>,
    }
    let answer: Answer = response.json(source_name)?;
    if !answer.json.errors.is_empty() {
        let errors = Value::Array(answer.json.errors).to_string();
        return Err(response.bad(
            source_name,
            format!("morechildren refused: {}", errors.chars().take(300).collect::<String>()),
        ));
    }
    answer
        .json
        .data
        .map(|data| data.things)
        .ok_or_else(|| response.bad(source_name, "morechildren answer without data.things"))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Cursor of a thread source.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ThreadCursor {
    /// Highest comment id (base 36) up to which every comment was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    through: Option<String>,
    /// Whether the thread's own post was taken (by the first poll).
    #[serde(default, skip_serializing_if = "is_false")]
    post_taken: bool,
    /// Items dead-lettered lately.
    #[serde(default, skip_serializing_if = "RejectMemory::is_empty")]
    rejected: RejectMemory,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// Comments still to fetch.
#[derive(Debug)]
enum Expansion {
    /// Ids listed by a `more` stub (at most [`MORE_CHILDREN_PER_REQUEST`]).
    More(Vec<String>),
    /// The replies below a comment at the depth limit ("continue this thread").
    Continue(String),
}

impl Expansion {
    /// An id at or below every comment it stands for: the cursor must stay
    /// under it until the expansion is fetched.
    fn lowest_id(&self) -> Option<&str> {
        match self {
            Self::More(ids) => {
                ids.iter().map(String::as_str).reduce(|a, b| if id_after(a, b) { b } else { a })
            }
            Self::Continue(parent) => Some(parent),
        }
    }
}

/// A comment found, not yet a post.
struct Found {
    location: String,
    raw: Value,
    comment: Comment,
}

/// One poll's walk over a thread.
struct ThreadWalk {
    article: String,
    through: Option<String>,
    /// Comment ids met in this poll (each is taken once per poll).
    seen: HashSet<String>,
    found: Vec<Found>,
    pending: VecDeque<Expansion>,
    memory: RejectMemory,
    batch: SourceBatch,
    located: usize,
}

impl ThreadWalk {
    fn new(article: &str, state: &ThreadCursor) -> Self {
        Self {
            article: article.to_owned(),
            through: state.through.clone(),
            seen: HashSet::new(),
            found: Vec::new(),
            pending: VecDeque::new(),
            memory: state.rejected.clone(),
            batch: SourceBatch::default(),
            located: 0,
        }
    }

    /// Whether comment `id` was taken by an earlier poll.
    fn taken_before(&self, id: &str) -> bool {
        self.through.as_deref().is_some_and(|through| !id_after(id, through))
    }

    /// The thread's own post (a `t3`).
    fn post(&mut self, account: &AccountId, location: String, raw: &Value) {
        let link = match item::<Thing<Link>>(raw) {
            Ok(thing) if thing.kind == "t3" => thing.data,
            Ok(_) => return,
            Err(reason) => {
                let id = raw_str(raw, &["data", "name"]);
                return self.memory.reject(&mut self.batch, id, location, raw, reason);
            }
        };
        if link.created().is_none() {
            let id = Some(link.name.as_str());
            return self.memory.reject(
                &mut self.batch,
                id,
                location,
                raw,
                "missing or unreadable created_utc",
            );
        }
        push_post(&mut self.batch, link.into_new_post().build(account, "reddit"), location, raw);
    }

    /// Takes `children` (comments and stubs, nested replies included).
    fn walk(&mut self, url: &str, children: Vec<Value>) {
        let mut stack: Vec<Value> = children;
        stack.reverse();
        while let Some(mut child) = stack.pop() {
            self.located += 1;
            let location = format!("{url} comment {}", self.located);
            match child.get("kind").and_then(Value::as_str) {
                Some("t1") => {
                    let replies = child.get_mut("data").and_then(|d| d.get_mut("replies")).map(Value::take);
                    if let Some(Value::Array(mut nested)) = replies.and_then(|mut r| {
                        r.get_mut("data").and_then(|d| d.get_mut("children")).map(Value::take)
                    }) {
                        nested.reverse();
                        stack.extend(nested);
                    }
                    self.comment(location, child);
                }
                Some("more") => self.stub(location, &child),
                _ => {} // Not a comment (Reddit sends nothing else here).
            }
        }
    }

    fn comment(&mut self, location: String, raw: Value) {
        let id = raw_str(&raw, &["data", "name"])
            .or_else(|| raw_str(&raw, &["data", "id"]))
            .map(|id| id.strip_prefix("t1_").unwrap_or(id).to_owned());
        if let Some(id) = &id
            && (!self.seen.insert(id.clone()) || self.taken_before(id))
        {
            return;
        }
        match item::<Thing<Comment>>(&raw) {
            Ok(thing) if thing.data.created().is_some() => {
                self.found.push(Found { location, raw, comment: thing.data })
            }
            Ok(thing) => {
                let id = Some(thing.data.name.as_str());
                self.memory.reject(&mut self.batch, id, location, &raw, "missing or unreadable created_utc")
            }
            Err(reason) => self.memory.reject(&mut self.batch, id.as_deref(), location, &raw, reason),
        }
    }

    fn stub(&mut self, location: String, raw: &Value) {
        let more = match item::<Thing<More>>(raw) {
            Ok(thing) => thing.data,
            Err(reason) => {
                let id = raw_str(raw, &["data", "name"]);
                return self.memory.reject(
                    &mut self.batch,
                    id,
                    location,
                    raw,
                    format!("unreadable `more` stub: {reason}"),
                );
            }
        };
        if more.children.is_empty() {
            // "Continue this thread": the parent's replies are one level
            // too deep to be listed; ask for the thread focused on it.
            if let Some(parent) = more.parent_id.strip_prefix("t1_").filter(|p| !p.is_empty()) {
                self.pending.push_back(Expansion::Continue(parent.to_owned()));
            }
            return;
        }
        let unseen: Vec<String> = more
            .children
            .into_iter()
            .map(|id| id.strip_prefix("t1_").map(str::to_owned).unwrap_or(id))
            .filter(|id| !id.is_empty() && !self.seen.contains(id) && !self.taken_before(id))
            .collect();
        // Listed ids go before "continue this thread" stubs: those are
        // fetched by every poll, listed ids only until the cursor passes
        // them, so this order lets a thread with more stubs than a poll's
        // requests still make progress.
        let at = self
            .pending
            .iter()
            .position(|e| matches!(e, Expansion::Continue(_)))
            .unwrap_or(self.pending.len());
        for (n, ids) in unseen.chunks(MORE_CHILDREN_PER_REQUEST).enumerate() {
            self.pending.insert(at + n, Expansion::More(ids.to_vec()));
        }
    }

    /// The batch: new comments as posts, and the cursor past them (but below
    /// any comment still behind an unfetched stub).
    fn finish(mut self, account: &AccountId, state: ThreadCursor) -> SourceBatch {
        let thread = format!("t3_{}", self.article);
        let found = std::mem::take(&mut self.found);
        for Found { location, raw, comment } in found {
            let post = comment.into_new_post(&thread).build(account, "reddit");
            push_post(&mut self.batch, post, location, &raw);
        }
        let cap = self
            .pending
            .iter()
            .filter_map(Expansion::lowest_id)
            .reduce(|a, b| if id_after(a, b) { b } else { a });
        let through = self
            .seen
            .iter()
            .map(String::as_str)
            .filter(|id| cap.is_none_or(|cap| id_after(cap, id)))
            .chain(state.through.as_deref())
            .reduce(|a, b| if id_after(a, b) { a } else { b })
            .map(str::to_owned);
        let cursor = ThreadCursor { through, post_taken: true, rejected: self.memory };
        self.batch.next_cursor = Some(write_cursor(&cursor));
        self.batch.exhausted = true;
        self.batch
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
    children: Vec<Value>,
}

/// `{"kind": "t3", "data": {…}}` (or `t1`, `more`).
#[derive(Debug, Deserialize)]
struct Thing<T> {
    kind: String,
    data: T,
}

/// `created_utc`: seconds since the epoch, as Reddit writes them
/// (`1793613780.0`; some clients and archives write integers or strings).
fn time_of(created_utc: Option<&Lenient>) -> Option<DateTime<Utc>> {
    let seconds = match created_utc? {
        Lenient::Text(text) => text.trim().parse().ok()?,
        Lenient::Int(n) => *n as f64,
        Lenient::Float(n) => *n,
    };
    if !seconds.is_finite() {
        return None;
    }
    DateTime::from_timestamp_millis((seconds * 1000.0) as i64)
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
    #[serde(default)]
    created_utc: Option<Lenient>,
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
        time_of(self.created_utc.as_ref())
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

/// The parts of a `t1` (comment) used here.
#[derive(Debug, Deserialize)]
struct Comment {
    name: String,
    #[serde(default)]
    body: String,
    author: String,
    #[serde(default)]
    author_fullname: Option<String>,
    #[serde(default)]
    created_utc: Option<Lenient>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    link_id: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    score: Option<Lenient>,
}

impl Comment {
    fn created(&self) -> Option<DateTime<Utc>> {
        time_of(self.created_utc.as_ref())
    }

    fn into_new_post(self, thread: &str) -> NewPost {
        let body = decode_entities(self.body.trim());
        let gone = self.author == "[deleted]" || matches!(body.as_str(), "[deleted]" | "[removed]");
        NewPost {
            created_at: self.created(),
            native_id: self.name,
            // Deleted or removed comments are skipped (no text); their
            // replies are still taken.
            text: if gone { String::new() } else { body },
            author_id: self.author_fullname.unwrap_or_default(),
            author_handle: self.author,
            url: self.permalink.map(|p| format!("https://www.reddit.com{p}")),
            in_reply_to: self.parent_id,
            thread_id: Some(
                self.link_id.filter(|l| l.starts_with("t3_")).unwrap_or_else(|| thread.to_owned()),
            ),
            likes: self.score.map_or(0, |s| s.count()),
            ..NewPost::default()
        }
    }
}

/// The parts of a `more` stub used here.
#[derive(Debug, Deserialize)]
struct More {
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    children: Vec<String>,
}
