//! Reddit's JSON things as read here (Listing, `t3` links, `t1` comments,
//! `more` stubs) and their conversion to posts; shared by both modes.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::connectors::{Lenient, NewPost};
use crate::html_text::decode_entities;

/// `{"kind": "Listing", "data": {"after": …, "children": [...]}}`.
#[derive(Debug, Deserialize)]
pub(super) struct Listing {
    pub(super) kind: String,
    pub(super) data: ListingData,
}

#[derive(Debug, Deserialize)]
pub(super) struct ListingData {
    #[serde(default)]
    pub(super) after: Option<String>,
    pub(super) children: Vec<Value>,
}

/// `{"kind": "t3", "data": {…}}` (or `t1`, `more`).
#[derive(Debug, Deserialize)]
pub(super) struct Thing<T> {
    pub(super) kind: String,
    pub(super) data: T,
}

/// `created_utc`: seconds since the epoch, as Reddit writes them
/// (`1793613780.0`; some clients and archives write integers or strings).
pub(super) fn time_of(created_utc: Option<&Lenient>) -> Option<DateTime<Utc>> {
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
pub(super) struct Link {
    pub(super) name: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) selftext: String,
    pub(super) author: String,
    #[serde(default)]
    pub(super) author_fullname: Option<String>,
    #[serde(default)]
    pub(super) created_utc: Option<Lenient>,
    #[serde(default)]
    pub(super) permalink: Option<String>,
    #[serde(default)]
    pub(super) score: Option<Lenient>,
    #[serde(default)]
    pub(super) num_comments: Option<Lenient>,
    #[serde(default)]
    pub(super) num_crossposts: Option<Lenient>,
}

impl Link {
    pub(super) fn created(&self) -> Option<DateTime<Utc>> {
        time_of(self.created_utc.as_ref())
    }

    pub(super) fn into_new_post(self) -> NewPost {
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
pub(super) struct Comment {
    pub(super) name: String,
    #[serde(default)]
    pub(super) body: String,
    pub(super) author: String,
    #[serde(default)]
    pub(super) author_fullname: Option<String>,
    #[serde(default)]
    pub(super) created_utc: Option<Lenient>,
    #[serde(default)]
    pub(super) parent_id: Option<String>,
    #[serde(default)]
    pub(super) link_id: Option<String>,
    #[serde(default)]
    pub(super) permalink: Option<String>,
    #[serde(default)]
    pub(super) score: Option<Lenient>,
}

impl Comment {
    pub(super) fn created(&self) -> Option<DateTime<Utc>> {
        time_of(self.created_utc.as_ref())
    }

    pub(super) fn into_new_post(self, thread: &str) -> NewPost {
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
pub(super) struct More {
    #[serde(default)]
    pub(super) parent_id: String,
    #[serde(default)]
    pub(super) children: Vec<String>,
}
