//! Connectors for public platforms, each a [`crate::Source`] speaking its
//! real API's format, plus what they share: building posts, cursors stored as
//! small JSON documents, and the *scan* cursor of newest-first APIs.
//!
//! Most platform APIs list newest first and page backwards (`after`,
//! `cursor`, `pageToken`, `page`). A [`ScanCursor`] pages back from the
//! newest item until it meets the *mark* (the newest item of the previous
//! completed scan), checkpointing the page token after every confirmed page,
//! then moves the mark up. A crash mid-scan resumes at the saved page token;
//! items shifted between pages by new arrivals are published twice at worst,
//! which is harmless because post ids are derived from the platform's ids.
//!
//! An item that cannot become a post is dead-lettered once: cursors keep a
//! bounded [`RejectMemory`] of what they rejected, because a bad item without
//! a readable timestamp never falls behind the mark and would otherwise be
//! dead-lettered again by every poll that finds it on the newest page.
//!
//! Posts get their `source` (and so their id) from the *platform namespace*
//! (`mastodon:{instance}`, `reddit`, `bluesky`, …) rather than from the
//! configured source, so a status seen by a hashtag source and a search
//! source of the same account is one post.

pub mod bluesky;
pub mod feed;
pub mod hackernews;
pub mod mastodon;
pub mod reddit;
mod settings;
pub mod youtube;

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use smo_proto::{AccountId, Author, Engagement, Post, PostId, SCHEMA_VERSION};
use smo_runtime::FieldError;

use crate::credentials::Secret;
use crate::http::{HttpRequest, Rate, Validators};
use crate::{IngestError, Rejected, SourceBatch};

pub use settings::{BearerToken, Polling, ScanLimits};

/// Longest raw input kept in a dead letter.
const MAX_RAW_BYTES: usize = 16 * 1024;
/// Ids kept in a mark (items sharing the mark's timestamp).
const MAX_MARK_IDS: usize = 200;
/// Rejected items a cursor remembers (the oldest are forgotten first).
const MAX_REJECTED: usize = 200;

/// Checks that `value` of `key` is an http(s) URL.
pub(crate) fn check_url(key: &str, value: &str) -> Result<(), FieldError> {
    match Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(()),
        _ => Err(FieldError::new(key, format!("{:?} is not an http(s) URL", crate::http::redact_str(value)))),
    }
}

/// Whether an optional setting is given (and not blank).
pub(crate) fn is_set(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|value| !value.trim().is_empty())
}

/// Checks that exactly one of two alternative keys is set; the error names
/// the first.
pub(crate) fn check_either(
    first: (&str, &Option<String>),
    second: (&str, &Option<String>),
) -> Result<(), FieldError> {
    match (is_set(first.1), is_set(second.1)) {
        (true, false) | (false, true) => Ok(()),
        _ => Err(FieldError::new(first.0, format!("set exactly one of {} or {}", first.0, second.0))),
    }
}

/// Checks that a page size lies between 1 and what the API allows.
pub(crate) fn check_page_size(key: &str, value: u32, max: u32) -> Result<(), FieldError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(FieldError::new(key, format!("must be between 1 and {max}")))
    }
}

/// Checks that a count or a duration is at least 1.
pub(crate) fn check_positive(key: &str, value: u64) -> Result<(), FieldError> {
    if value == 0 { Err(FieldError::new(key, "must be at least 1")) } else { Ok(()) }
}

/// A GET of a JSON API, with the source's token and host rate.
pub(crate) fn json_request(url: Url, token: Option<&Secret>, rate: Option<Rate>) -> HttpRequest {
    HttpRequest::get(url).header("accept", "application/json").bearer(token).rate(rate)
}

/// The batch of a 304: nothing new, the cursor unchanged.
pub(crate) fn unchanged(cursor: Option<&str>) -> SourceBatch {
    SourceBatch { next_cursor: cursor.map(str::to_owned), exhausted: true, ..SourceBatch::default() }
}

/// A post as a connector reads it, before it gets its derived ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewPost {
    pub native_id: String,
    pub text: String,
    pub author_id: String,
    pub author_handle: String,
    pub author_name: Option<String>,
    pub followers: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    pub url: Option<String>,
    pub in_reply_to: Option<String>,
    pub thread_id: Option<String>,
    pub likes: u64,
    pub reposts: u64,
    pub replies: u64,
}

impl NewPost {
    /// The post of `account` in platform namespace `namespace`, or why not.
    pub fn build(self, account: &AccountId, namespace: &str) -> Result<Post, String> {
        let native_id = self.native_id.trim().to_owned();
        if native_id.is_empty() {
            return Err("missing id".into());
        }
        let text = self.text.trim().to_owned();
        if text.is_empty() {
            return Err(NO_TEXT.into());
        }
        let handle = self.author_handle.trim().trim_start_matches('@').to_owned();
        if handle.is_empty() {
            return Err("missing author".into());
        }
        let created_at = self.created_at.ok_or("missing or unreadable creation time")?;
        let author_id = Some(self.author_id.trim().to_owned()).filter(|id| !id.is_empty());
        let derive = |id: String| PostId::derive(namespace, &id);
        Ok(Post {
            schema_version: SCHEMA_VERSION,
            id: PostId::derive(namespace, &native_id),
            account: account.clone(),
            source: namespace.to_owned(),
            native_id,
            author: Author {
                id: author_id.unwrap_or_else(|| handle.clone()),
                handle,
                display_name: self.author_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
                followers: self.followers,
            },
            text,
            url: self.url.filter(|u| !u.trim().is_empty()),
            created_at,
            in_reply_to: self.in_reply_to.filter(|id| !id.is_empty()).map(derive),
            thread_id: self.thread_id.filter(|id| !id.is_empty()).map(derive),
            engagement: Engagement { likes: self.likes, reposts: self.reposts, replies: self.replies },
        })
    }
}

/// Why [`NewPost::build`] refuses a post without words; such items (deleted
/// comments, media-only posts) are skipped rather than dead-lettered.
pub(crate) const NO_TEXT: &str = "no text";

/// Adds a built post to the batch, or its rejection (posts without text are
/// skipped: they are not malformed, just not material for monitoring).
pub(crate) fn push_post(
    batch: &mut SourceBatch,
    built: Result<Post, String>,
    location: String,
    raw: &serde_json::Value,
) {
    match built {
        Ok(post) => batch.posts.push(post),
        Err(reason) if reason == NO_TEXT => {}
        Err(reason) => batch.rejected.push(rejected(location, raw, reason)),
    }
}

/// A dead letter for an item of a response.
pub(crate) fn rejected(location: String, raw: &serde_json::Value, reason: impl Into<String>) -> Rejected {
    let mut raw = raw.to_string();
    if raw.len() > MAX_RAW_BYTES {
        let mut end = MAX_RAW_BYTES;
        while !raw.is_char_boundary(end) {
            end -= 1;
        }
        raw.truncate(end);
    }
    Rejected { location, raw, reason: reason.into() }
}

/// Parses one item of a response into its typed shape, naming the problem.
pub(crate) fn item<T: DeserializeOwned>(raw: &serde_json::Value) -> Result<T, String> {
    T::deserialize(raw).map_err(|e| format!("unexpected item shape: {e}"))
}

/// RFC 3339 time, as the APIs write it.
pub(crate) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// Milliseconds since the epoch of a time (the scan key).
pub(crate) fn millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A short stable digest (hex) of `text`, for URL keys and seen-sets in
/// cursors that must not store the text itself.
pub(crate) fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a JSON cursor written by the same kind of source; an empty or
/// absent cursor is the default.
pub(crate) fn read_cursor<T: DeserializeOwned + Default>(
    source_name: &str,
    raw: Option<&str>,
) -> Result<T, IngestError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(T::default()),
        Some(raw) => serde_json::from_str(raw).map_err(|_| IngestError::BadCursor {
            source_name: source_name.to_owned(),
            cursor: raw.chars().take(200).collect(),
        }),
    }
}

/// Writes a cursor (a JSON object; serialization of these shapes cannot fail).
pub(crate) fn write_cursor<T: Serialize>(cursor: &T) -> String {
    serde_json::to_string(cursor).unwrap_or_default()
}

/// Whether platform id `a` is newer than `b`, for ids that are counters
/// written as digits (Mastodon's decimal snowflakes, Reddit's base 36): a
/// longer id is newer, ids of one length compare as text.
pub(crate) fn id_after(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// Digests of the items a source dead-lettered lately, kept in its cursor so
/// that an item which keeps coming back (a post without a readable timestamp
/// on the newest page, a malformed comment in a thread read whole every poll)
/// is dead-lettered once rather than on every poll. Items are known by their
/// platform id when one can be read, else by a digest of the whole item.
/// Bounded: the oldest are forgotten first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct RejectMemory(Vec<String>);

impl RejectMemory {
    /// True when nothing is remembered (so cursors can omit it).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Dead-letters `raw` into `batch` unless an earlier poll already did
    /// (`id`: the item's platform id, if it could be read), and remembers it.
    pub fn reject(
        &mut self,
        batch: &mut SourceBatch,
        id: Option<&str>,
        location: String,
        raw: &serde_json::Value,
        reason: impl Into<String>,
    ) {
        let key = match id.map(str::trim).filter(|id| !id.is_empty()) {
            Some(id) => digest(&format!("id:{id}")),
            None => digest(&format!("raw:{raw}")),
        };
        if self.0.contains(&key) {
            return;
        }
        batch.rejected.push(rejected(location, raw, reason));
        self.0.push(key);
        if self.0.len() > MAX_REJECTED {
            self.0.remove(0);
        }
    }
}

/// The text at `path` (object keys) in `raw`, for reading an item's id even
/// when the item as a whole cannot be parsed.
pub(crate) fn raw_str<'a>(raw: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(raw, |value, key| value.get(key))?.as_str()
}

/// Validators remembered for one URL (by digest, since URLs may hold keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Conditional {
    /// [`digest`] of the URL they belong to.
    pub url: String,
    /// The validators.
    #[serde(flatten)]
    pub validators: Validators,
}

impl Conditional {
    /// Validators of a response to `url`, if it sent any.
    pub fn of(url: &Url, validators: &Validators) -> Option<Self> {
        (!validators.is_empty()).then(|| Self { url: digest(url.as_str()), validators: validators.clone() })
    }

    /// The validators to send with a request to `url`.
    pub fn for_url(conditional: Option<&Self>, url: &Url) -> Validators {
        conditional
            .filter(|c| c.url == digest(url.as_str()))
            .map(|c| c.validators.clone())
            .unwrap_or_default()
    }
}

/// A position in a newest-first listing: a time (ms) and the ids at exactly
/// that time already taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Mark {
    /// Milliseconds since the epoch.
    pub at: i64,
    /// Ids of items at `at` already taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
}

/// A backward scan in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Scan {
    /// The newest item of the scan, the next mark.
    pub top: Mark,
    /// Token of the next (older) page.
    pub page: String,
    /// Pages fetched so far.
    pub pages: u32,
    /// Validators of the scan's first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<Conditional>,
}

/// Cursor of a newest-first source; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScanCursor {
    /// Newest position fully ingested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<Mark>,
    /// Scan in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<Scan>,
    /// Validators of the first page of the last completed scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<Conditional>,
    /// Items dead-lettered lately (see [`RejectMemory`]).
    #[serde(default, skip_serializing_if = "RejectMemory::is_empty")]
    pub rejected: RejectMemory,
}

/// An item of a page with its scan key.
pub(crate) struct Keyed<T> {
    /// Milliseconds since the epoch.
    pub at: i64,
    /// The platform's id.
    pub id: String,
    /// The item.
    pub item: T,
}

impl ScanCursor {
    /// The page token to fetch (`None`: the first, newest page).
    pub fn page(&self) -> Option<&str> {
        self.scan.as_ref().map(|s| s.page.as_str())
    }

    /// Validators to send with the first page (only when a mark exists, so
    /// that a 304 truly means "nothing newer").
    pub fn validators_for(&self, url: &Url) -> Validators {
        if self.scan.is_some() || self.mark.is_none() {
            return Validators::default();
        }
        Conditional::for_url(self.conditional.as_ref(), url)
    }

    /// Takes a fetched page: keeps the items newer than the mark, and says
    /// where the next poll goes and whether the source is drained for now.
    pub fn advance<T, const DEFAULT_MAX_PAGES: u32>(
        &self,
        source_name: &str,
        items: Vec<Keyed<T>>,
        next_page: Option<String>,
        first_page_conditional: Option<Conditional>,
        limits: ScanLimits<DEFAULT_MAX_PAGES>,
    ) -> (Vec<T>, ScanCursor, bool) {
        let mark = self.mark.clone();
        let is_new = |at: i64, id: &str| match &mark {
            None => true,
            Some(m) => at > m.at || (at == m.at && !m.ids.iter().any(|seen| seen == id)),
        };
        let reached_mark = mark.is_some() && items.iter().any(|k| !is_new(k.at, &k.id));
        let (top, pages, conditional) = match &self.scan {
            Some(scan) => (Some(scan.top.clone()), scan.pages + 1, scan.conditional.clone()),
            None => (newest(&items), 1, first_page_conditional),
        };
        let kept: Vec<T> = items.into_iter().filter(|k| is_new(k.at, &k.id)).map(|k| k.item).collect();
        let Some(top) = top else {
            // An empty first page: nothing at all to take.
            let mut next = self.clone();
            next.conditional = conditional.or_else(|| self.conditional.clone());
            return (kept, next, true);
        };
        let limit = limits.pages(mark.is_none());
        match next_page {
            Some(page) if !reached_mark && pages < limit.max(1) => {
                let scan = Scan { top, page, pages, conditional };
                let next = ScanCursor {
                    mark,
                    scan: Some(scan),
                    conditional: self.conditional.clone(),
                    rejected: self.rejected.clone(),
                };
                (kept, next, false)
            }
            more => {
                if mark.is_some() && !reached_mark && more.is_some() {
                    tracing::warn!(
                        source = source_name,
                        pages,
                        "scan stopped at its page limit before reaching the last position; raise max_pages or poll more often"
                    );
                }
                let mark = Some(merge(mark, top));
                (kept, ScanCursor { mark, scan: None, conditional, rejected: self.rejected.clone() }, true)
            }
        }
    }
}

/// The newest key of a page (with every id sharing it).
fn newest<T>(items: &[Keyed<T>]) -> Option<Mark> {
    let at = items.iter().map(|k| k.at).max()?;
    let ids = items.iter().filter(|k| k.at == at).map(|k| k.id.clone()).take(MAX_MARK_IDS).collect();
    Some(Mark { at, ids })
}

fn merge(old: Option<Mark>, top: Mark) -> Mark {
    match old {
        Some(old) if old.at > top.at => old,
        Some(old) if old.at == top.at => {
            let mut ids = old.ids;
            for id in top.ids {
                if !ids.contains(&id) && ids.len() < MAX_MARK_IDS {
                    ids.push(id);
                }
            }
            Mark { at: old.at, ids }
        }
        _ => top,
    }
}

/// A string or number as a string (ids are either, depending on the API).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Lenient {
    /// A string.
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Lenient {
    /// As text.
    pub fn text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Int(n) => n.to_string(),
            Self::Float(n) => n.to_string(),
        }
    }

    /// As a count (negative and unreadable counts are zero).
    pub fn count(&self) -> u64 {
        match self {
            Self::Text(s) => s.trim().parse().unwrap_or(0),
            Self::Int(n) => (*n).max(0) as u64,
            Self::Float(n) => n.max(0.0) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(at: i64, id: &str) -> Keyed<String> {
        Keyed { at, id: id.into(), item: id.into() }
    }

    const LIMITS: ScanLimits = ScanLimits { initial_pages: 1, max_pages: 3 };

    #[test]
    fn a_first_scan_takes_the_initial_pages_then_later_scans_stop_at_the_mark() {
        let cursor = ScanCursor::default();
        let (kept, cursor, exhausted) =
            cursor.advance("s", vec![keyed(30, "c"), keyed(20, "b")], Some("p2".into()), None, LIMITS);
        assert_eq!(kept, ["c", "b"]);
        assert!(exhausted, "a new source starts with one page of history");
        assert_eq!(cursor.mark, Some(Mark { at: 30, ids: vec!["c".into()] }));

        // New items: d, e, f (newest first) over two pages, then the mark.
        let (kept, cursor, exhausted) =
            cursor.advance("s", vec![keyed(60, "f"), keyed(50, "e")], Some("p2".into()), None, LIMITS);
        assert_eq!(kept, ["f", "e"]);
        assert!(!exhausted);
        assert_eq!(cursor.page(), Some("p2"));
        assert_eq!(cursor.mark.as_ref().map(|m| m.at), Some(30), "the mark moves only when the scan ends");
        let (kept, cursor, exhausted) =
            cursor.advance("s", vec![keyed(40, "d"), keyed(30, "c")], Some("p3".into()), None, LIMITS);
        assert_eq!(kept, ["d"]);
        assert!(exhausted, "the mark was reached");
        assert_eq!(cursor.mark, Some(Mark { at: 60, ids: vec!["f".into()] }));
        assert!(cursor.scan.is_none());

        // Nothing new.
        let (kept, same, exhausted) = cursor.advance("s", vec![keyed(60, "f")], None, None, LIMITS);
        assert!(kept.is_empty() && exhausted);
        assert_eq!(same.mark, cursor.mark);
        // A late item with the mark's timestamp is still taken.
        let (kept, _, _) = cursor.advance("s", vec![keyed(60, "g"), keyed(60, "f")], None, None, LIMITS);
        assert_eq!(kept, ["g"]);
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_errors() {
        let cursor = ScanCursor {
            mark: Some(Mark { at: 5, ids: vec!["x".into()] }),
            scan: Some(Scan { top: Mark::default(), page: "t".into(), pages: 2, conditional: None }),
            conditional: None,
            rejected: RejectMemory(vec!["0123456789abcdef".into()]),
        };
        let text = write_cursor(&cursor);
        assert_eq!(read_cursor::<ScanCursor>("s", Some(&text)).expect("valid"), cursor);
        assert!(matches!(read_cursor::<ScanCursor>("s", Some("1234")), Err(IngestError::BadCursor { .. })));
        assert_eq!(read_cursor::<ScanCursor>("s", None).expect("valid"), ScanCursor::default());
    }

    #[test]
    fn a_rejected_item_is_dead_lettered_once_and_the_memory_is_bounded() {
        let bad = serde_json::json!({"id": "7", "created_at": "soon"});
        let mut memory = RejectMemory::default();
        let mut batch = SourceBatch::default();
        memory.reject(&mut batch, Some("7"), "item 0".into(), &bad, "unreadable time");
        memory.reject(&mut batch, Some(" 7 "), "item 3".into(), &bad, "unreadable time");
        assert_eq!(batch.rejected.len(), 1, "the same id again is not dead-lettered again");
        let anonymous = serde_json::json!({"text": "no id at all"});
        memory.reject(&mut batch, None, "item 1".into(), &anonymous, "missing id");
        memory.reject(&mut batch, Some(""), "item 1".into(), &anonymous, "missing id");
        assert_eq!(batch.rejected.len(), 2, "an item without id is known by its digest");

        // The memory survives the cursor's round trip and forgets the oldest.
        let cursor = ScanCursor { rejected: memory, ..ScanCursor::default() };
        let mut memory =
            read_cursor::<ScanCursor>("s", Some(&write_cursor(&cursor))).expect("valid").rejected;
        for n in 0..MAX_REJECTED {
            memory.reject(&mut SourceBatch::default(), Some(&format!("other-{n}")), "x".into(), &bad, "r");
        }
        assert_eq!(memory.0.len(), MAX_REJECTED);
        let mut again = SourceBatch::default();
        memory.reject(&mut again, Some("7"), "item 0".into(), &bad, "unreadable time");
        assert_eq!(again.rejected.len(), 1, "forgotten after {MAX_REJECTED} newer rejects");
        assert!(id_after("110", "99") && id_after("lx0a010", "lx0a00z") && !id_after("1", "1"));
        assert_eq!(raw_str(&serde_json::json!({"data": {"name": "t3_x"}}), &["data", "name"]), Some("t3_x"));
    }

    #[test]
    fn posts_need_an_id_text_author_and_time() {
        let account = AccountId::new("acme").expect("valid");
        let post = NewPost {
            native_id: "1".into(),
            text: " hi ".into(),
            author_handle: "@jo".into(),
            created_at: parse_time("2026-11-01T10:00:00Z"),
            in_reply_to: Some("0".into()),
            ..NewPost::default()
        }
        .build(&account, "reddit")
        .expect("valid");
        assert_eq!(
            (post.text.as_str(), post.author.handle.as_str(), post.author.id.as_str()),
            ("hi", "jo", "jo")
        );
        assert_eq!(post.id, PostId::derive("reddit", "1"));
        assert_eq!(post.in_reply_to, Some(PostId::derive("reddit", "0")));
        let no_text = NewPost { native_id: "1".into(), author_handle: "a".into(), ..NewPost::default() };
        assert_eq!(no_text.build(&account, "x").expect_err("invalid"), "no text");
    }
}
