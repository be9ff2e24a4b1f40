//! The flat record shape shared by file backfill (NDJSON and CSV) and turned
//! into a [`Post`]. Flat so that CSV and NDJSON use the same column names, and
//! lenient about types (numbers or strings for ids and counts, several date
//! formats) because backfill files come from many exporters.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use smo_proto::{AccountId, Author, Engagement, Post, PostId, SCHEMA_VERSION};

/// One post as found in a backfill file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PostRecord {
    /// The source's id for the post (required).
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    /// The text (required, non-empty).
    #[serde(default)]
    pub text: Option<String>,
    /// Author handle (required).
    #[serde(default, alias = "author", alias = "screen_name", alias = "user")]
    pub author_handle: Option<String>,
    /// Author id; defaults to the handle.
    #[serde(default, deserialize_with = "lenient_string")]
    pub author_id: Option<String>,
    /// Author display name.
    #[serde(default)]
    pub author_name: Option<String>,
    /// Author follower count.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub followers: Option<u64>,
    /// Publication time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC), or Twitter's
    /// `Tue Oct 31 22:10:47 +0000 2017`.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Link to the post.
    #[serde(default)]
    pub url: Option<String>,
    /// Native id of the post this one replies to.
    #[serde(default, deserialize_with = "lenient_string")]
    pub in_reply_to: Option<String>,
    /// Native id of the conversation's first post.
    #[serde(default, deserialize_with = "lenient_string")]
    pub thread_id: Option<String>,
    /// Likes.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub likes: Option<u64>,
    /// Reposts.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub reposts: Option<u64>,
    /// Replies.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub replies: Option<u64>,
}

/// Why a record is not a post.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A required field is absent or empty.
    #[error("missing required field `{0}`")]
    Missing(&'static str),
    /// The date could not be read.
    #[error("unreadable created_at {0:?} (expected RFC 3339, `YYYY-MM-DD HH:MM:SS` or Twitter's format)")]
    BadDate(String),
}

impl PostRecord {
    /// Builds the post for `account` from `source`.
    pub fn into_post(self, account: &AccountId, source: &str) -> Result<Post, RecordError> {
        let native_id = non_empty(self.id).ok_or(RecordError::Missing("id"))?;
        let text = non_empty(self.text).ok_or(RecordError::Missing("text"))?;
        let handle = non_empty(self.author_handle).ok_or(RecordError::Missing("author_handle"))?;
        let raw_date = non_empty(self.created_at).ok_or(RecordError::Missing("created_at"))?;
        let created_at = parse_date(&raw_date).ok_or(RecordError::BadDate(raw_date))?;
        let handle = handle.trim_start_matches('@').to_owned();
        Ok(Post {
            schema_version: SCHEMA_VERSION,
            id: PostId::derive(source, &native_id),
            account: account.clone(),
            source: source.to_owned(),
            native_id,
            author: Author {
                id: non_empty(self.author_id).unwrap_or_else(|| handle.clone()),
                handle,
                display_name: non_empty(self.author_name),
                followers: self.followers,
            },
            text,
            url: non_empty(self.url),
            created_at,
            in_reply_to: non_empty(self.in_reply_to).map(|id| PostId::derive(source, &id)),
            thread_id: non_empty(self.thread_id).map(|id| PostId::derive(source, &id)),
            engagement: Engagement {
                likes: self.likes.unwrap_or(0),
                reposts: self.reposts.unwrap_or(0),
                replies: self.replies.unwrap_or(0),
            },
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Reads the date formats found in exports.
pub(crate) fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(raw) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_str(raw, "%a %b %d %H:%M:%S %z %Y") {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%:z") {
        return Some(date.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").ok().map(|naive| naive.and_utc())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    String(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<StringOrNumber>::deserialize(deserializer)?.map(|value| match value {
        StringOrNumber::String(s) => s,
        StringOrNumber::Unsigned(n) => n.to_string(),
        StringOrNumber::Signed(n) => n.to_string(),
        StringOrNumber::Float(n) => n.to_string(),
    }))
}

fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match Option::<StringOrNumber>::deserialize(deserializer)? {
        None => Ok(None),
        Some(StringOrNumber::Unsigned(n)) => Ok(Some(n)),
        Some(StringOrNumber::Signed(n)) => Ok(Some(n.max(0) as u64)),
        Some(StringOrNumber::Float(n)) => Ok(Some(n.max(0.0) as u64)),
        Some(StringOrNumber::String(s)) if s.trim().is_empty() => Ok(None),
        Some(StringOrNumber::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| D::Error::custom(format!("not a count: {s:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::new("acme").expect("valid")
    }

    #[test]
    fn builds_a_post_with_derived_ids() {
        let record: PostRecord = serde_json::from_str(
            r#"{"id": 17, "text": "hello", "author_handle": "@jo", "created_at": "Tue Oct 31 22:10:47 +0000 2017", "in_reply_to": "16", "likes": "3"}"#,
        )
        .expect("parse");
        let post = record.into_post(&account(), "file:t").expect("valid");
        assert_eq!(post.native_id, "17");
        assert_eq!(post.id, PostId::derive("file:t", "17"));
        assert_eq!(post.in_reply_to, Some(PostId::derive("file:t", "16")));
        assert_eq!(post.author.handle, "jo");
        assert_eq!(post.engagement.likes, 3);
        assert_eq!(post.created_at.to_rfc3339(), "2017-10-31T22:10:47+00:00");
    }

    #[test]
    fn missing_fields_and_bad_dates_are_named() {
        let record = PostRecord { id: Some("1".into()), text: Some(" ".into()), ..Default::default() };
        assert_eq!(record.into_post(&account(), "s"), Err(RecordError::Missing("text")));
        let record = PostRecord {
            id: Some("1".into()),
            text: Some("x".into()),
            author_handle: Some("a".into()),
            created_at: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(matches!(record.into_post(&account(), "s"), Err(RecordError::BadDate(_))));
    }

    #[test]
    fn reads_common_date_formats() {
        for raw in [
            "2017-10-23T22:55:01Z",
            "2017-10-23 22:55:01+00:00",
            "2017-10-23 22:55:01",
            "Mon Oct 23 22:55:01 +0000 2017",
        ] {
            assert!(parse_date(raw).is_some(), "{raw}");
        }
    }
}
