//! Rows as the drivers decode them, and their conversion into the public
//! types. Both backends select the same column names and plain types, so this
//! conversion (and its checks) is shared.

use chrono::{DateTime, SecondsFormat, Utc};
use smo_proto::{AccountId, CaseEvent, CaseEventKind, CaseStatus, Intent, PostId, SCHEMA_VERSION};

use crate::{CaseRow, SourceCursor, StoreError};

/// A `cases` row with its columns decoded as plain values.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseRecord {
    pub(crate) id: i64,
    pub(crate) post_id: String,
    pub(crate) thread_id: String,
    pub(crate) intent: String,
    pub(crate) status: String,
    pub(crate) priority: f32,
    pub(crate) assigned_agent: Option<String>,
    pub(crate) author_handle: String,
    pub(crate) lang: String,
    pub(crate) tags: String,
    pub(crate) text_excerpt: String,
    pub(crate) opened_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl CaseRecord {
    pub(crate) fn into_case_row(self, account: &AccountId) -> Result<CaseRow, StoreError> {
        Ok(CaseRow {
            id: self.id,
            account: account.clone(),
            post_id: PostId(self.post_id),
            thread_id: PostId(self.thread_id),
            intent: intent_from_sql(&self.intent)?,
            status: status_from_sql(&self.status)?,
            priority: self.priority,
            assigned_agent: self.assigned_agent,
            author_handle: self.author_handle,
            lang: self.lang,
            tags: tags_from_json(&self.tags)?,
            text_excerpt: self.text_excerpt,
            opened_at: self.opened_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `case_events` row with its payload as JSON text.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRecord {
    pub(crate) case_id: i64,
    pub(crate) payload: String,
    pub(crate) actor: String,
    pub(crate) reason: String,
    pub(crate) at: DateTime<Utc>,
}

impl EventRecord {
    pub(crate) fn into_case_event(self, account: &AccountId) -> Result<CaseEvent, StoreError> {
        let event: CaseEventKind = serde_json::from_str(&self.payload).map_err(|error| {
            StoreError::Corrupt(format!(
                "event payload of case {} is not a case event: {error}",
                self.case_id
            ))
        })?;
        Ok(CaseEvent {
            schema_version: SCHEMA_VERSION,
            account: account.clone(),
            case_id: self.case_id,
            event,
            actor: self.actor,
            reason: self.reason,
            at: self.at,
        })
    }
}

/// A `source_cursors` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CursorRecord {
    pub(crate) source: String,
    pub(crate) cursor: Option<String>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) posts_fetched: i64,
    pub(crate) last_error: Option<String>,
}

impl From<CursorRecord> for SourceCursor {
    fn from(record: CursorRecord) -> Self {
        Self {
            source: record.source,
            cursor: record.cursor,
            updated_at: record.updated_at,
            posts_fetched: count_from_sql(record.posts_fetched),
            last_error: record.last_error,
        }
    }
}

/// One audit entry about to be written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingEvent {
    pub(crate) case_id: i64,
    pub(crate) kind: &'static str,
    pub(crate) payload: String,
    pub(crate) actor: String,
    pub(crate) reason: String,
    pub(crate) at: DateTime<Utc>,
}

impl PendingEvent {
    pub(crate) fn new(
        case_id: i64,
        event: &CaseEventKind,
        actor: &str,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let kind = match event {
            CaseEventKind::Opened { .. } => "opened",
            CaseEventKind::Assigned { .. } => "assigned",
            CaseEventKind::StatusChanged { .. } => "status_changed",
        };
        let payload = serde_json::to_string(event)
            .map_err(|error| StoreError::InvalidInput(format!("unencodable case event: {error}")))?;
        Ok(Self { case_id, kind, payload, actor: actor.to_owned(), reason, at })
    }
}

pub(crate) fn intent_from_sql(value: &str) -> Result<Intent, StoreError> {
    match value {
        "complaint" => Ok(Intent::Complaint),
        "question" => Ok(Intent::Question),
        "praise" => Ok(Intent::Praise),
        "other" => Ok(Intent::Other),
        _ => Err(StoreError::Corrupt(format!("unknown intent {value:?}"))),
    }
}

pub(crate) fn status_from_sql(value: &str) -> Result<CaseStatus, StoreError> {
    CaseStatus::parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown status {value:?}")))
}

/// Counts per status in lifecycle order, from `(status, count)` rows.
pub(crate) fn status_counts(rows: Vec<(String, i64)>) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
    const LIFECYCLE: [CaseStatus; 6] = [
        CaseStatus::New,
        CaseStatus::Queued,
        CaseStatus::Assigned,
        CaseStatus::WaitingOnCustomer,
        CaseStatus::Resolved,
        CaseStatus::Closed,
    ];
    let mut counts = rows
        .into_iter()
        .map(|(status, count)| Ok((status_from_sql(&status)?, count_from_sql(count))))
        .collect::<Result<Vec<_>, StoreError>>()?;
    counts.sort_by_key(|(status, _)| LIFECYCLE.iter().position(|s| s == status));
    Ok(counts)
}

/// Text without NUL characters, which PostgreSQL refuses in `text` values;
/// applied to free text from outside (error messages, cursors) on both
/// backends so they store the same thing.
pub(crate) fn sql_text(value: &str) -> String {
    value.replace('\0', "")
}

/// SQL counts are never negative; a negative value would be a driver bug, read as 0.
pub(crate) fn count_from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// Neither database has an unsigned 64-bit integer.
pub(crate) fn i64_from_u64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::InvalidInput(format!("{what} {value} exceeds the SQL range")))
}

pub(crate) fn tags_to_json(tags: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(tags)
        .map_err(|error| StoreError::InvalidInput(format!("unencodable tags: {error}")))
}

pub(crate) fn tags_from_json(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("tags {text:?} are not a JSON list: {error}")))
}

/// The SQLite text form of a timestamp: fixed width and UTC, so text order is
/// time order; microseconds, like PostgreSQL's `timestamptz`, so both backends
/// return the same values.
pub(crate) fn sqlite_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn sqlite_times_sort_as_text() {
        let whole = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single();
        let whole = whole.map(sqlite_time);
        assert_eq!(whole.as_deref(), Some("2024-05-01T12:00:00.000000Z"));
    }

    #[test]
    fn unknown_sql_values_are_errors_not_panics() {
        assert!(intent_from_sql("rant").is_err());
        assert!(status_from_sql("lost").is_err());
        assert!(tags_from_json("not json").is_err());
        assert_eq!(count_from_sql(-1), 0);
        assert!(i64_from_u64(u64::MAX, "delta").is_err());
    }
}
