//! Rows as the drivers decode them, and their conversion into the public
//! types. Both backends select the same column names and plain types, so this
//! conversion (and its checks) is shared.

use chrono::{DateTime, SecondsFormat, Utc};
use smo_proto::{
    AccountId, CaseEvent, CaseEventKind, CasePriority, CaseStatus, Intent, PostId, SCHEMA_VERSION, SlaTarget,
};

use crate::{
    AgentRow, CannedResponse, CaseMessage, CaseNote, CaseRow, DeliveryState, OutboxMessage, Presence,
    ReplyRow, SourceCursor, StoreError,
};

/// A `cases` row with its columns decoded as plain values.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseRecord {
    pub(crate) id: i64,
    pub(crate) post_id: String,
    pub(crate) thread_id: String,
    pub(crate) intent: String,
    pub(crate) status: String,
    pub(crate) priority: f32,
    pub(crate) level: i64,
    pub(crate) team: Option<String>,
    pub(crate) assigned_agent: Option<String>,
    pub(crate) author_handle: String,
    pub(crate) lang: String,
    pub(crate) tags: String,
    pub(crate) text_excerpt: String,
    pub(crate) opened_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) last_message_at: Option<DateTime<Utc>>,
    pub(crate) message_count: i64,
    pub(crate) assigned_at: Option<DateTime<Utc>>,
    pub(crate) agent_acted_at: Option<DateTime<Utc>>,
    pub(crate) resolved_at: Option<DateTime<Utc>>,
    pub(crate) closed_at: Option<DateTime<Utc>>,
    pub(crate) first_response_at: Option<DateTime<Utc>>,
    pub(crate) sla_target: Option<String>,
    pub(crate) sla_due_at: Option<DateTime<Utc>>,
    pub(crate) sla_paused_secs: Option<i64>,
    pub(crate) sla_round: i64,
    pub(crate) sla_breached_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

/// The `cases` columns every case query selects, in [`CaseRecord`]'s names;
/// `{tags}` is the backend's way to read the JSON column as text.
pub(crate) fn case_columns(tags: &str) -> String {
    format!(
        "id, post_id, thread_id, intent, status, priority, level, team, assigned_agent,
         author_handle, lang, {tags} AS tags, text_excerpt, opened_at, updated_at,
         last_message_at, message_count, assigned_at, agent_acted_at, resolved_at, closed_at,
         first_response_at, sla_target, sla_due_at, sla_paused_secs, sla_round, sla_breached_at,
         version"
    )
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
            level: CasePriority::from_rank(self.level),
            team: self.team,
            assigned_agent: self.assigned_agent,
            author_handle: self.author_handle,
            lang: self.lang,
            tags: tags_from_json(&self.tags)?,
            text_excerpt: self.text_excerpt,
            last_message_at: self.last_message_at.unwrap_or(self.opened_at),
            opened_at: self.opened_at,
            updated_at: self.updated_at,
            message_count: count_from_sql(self.message_count),
            assigned_at: self.assigned_at,
            agent_acted_at: self.agent_acted_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            first_response_at: self.first_response_at,
            sla_target: match self.sla_target.as_deref() {
                None => None,
                Some(text) => Some(
                    SlaTarget::parse(text)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown SLA target {text:?}")))?,
                ),
            },
            sla_due_at: self.sla_due_at,
            sla_paused_secs: self.sla_paused_secs,
            sla_round: self.sla_round,
            sla_breached_at: self.sla_breached_at,
            version: self.version,
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

/// A `case_messages` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRecord {
    pub(crate) case_id: i64,
    pub(crate) post_id: String,
    pub(crate) author_handle: String,
    pub(crate) intent: String,
    pub(crate) text_excerpt: String,
    pub(crate) at: DateTime<Utc>,
    pub(crate) received_at: DateTime<Utc>,
}

impl MessageRecord {
    pub(crate) fn into_message(self) -> Result<CaseMessage, StoreError> {
        Ok(CaseMessage {
            case_id: self.case_id,
            post_id: PostId(self.post_id),
            author_handle: self.author_handle,
            intent: intent_from_sql(&self.intent)?,
            text_excerpt: self.text_excerpt,
            at: self.at,
            received_at: self.received_at,
        })
    }
}

/// An `agents` row with its current load (cases held).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AgentRecord {
    pub(crate) name: String,
    pub(crate) active: bool,
    pub(crate) position: i64,
    pub(crate) capacity: Option<i64>,
    pub(crate) languages: String,
    pub(crate) topics: String,
    pub(crate) presence: String,
    pub(crate) last_assigned_seq: Option<i64>,
    pub(crate) last_assigned_at: Option<DateTime<Utc>>,
    pub(crate) open_cases: i64,
}

/// The `agents` columns agent queries select, in [`AgentRecord`]'s names,
/// from table alias `a`; `{json}` turns a JSON column into text.
pub(crate) fn agent_columns(json: fn(&str) -> String) -> String {
    format!(
        "a.name, a.active, a.position, a.capacity, {languages} AS languages, {topics} AS topics,
         a.presence, a.last_assigned_seq, a.last_assigned_at,
         (SELECT COUNT(*) FROM cases c
          WHERE c.account_id = a.account_id AND c.assigned_agent = a.name
            AND c.status IN ('assigned', 'waiting_on_customer')) AS open_cases",
        languages = json("a.languages"),
        topics = json("a.topics"),
    )
}

impl AgentRecord {
    pub(crate) fn into_agent_row(self, teams: Vec<String>) -> Result<AgentRow, StoreError> {
        Ok(AgentRow {
            name: self.name,
            active: self.active,
            languages: tags_from_json(&self.languages)?,
            topics: tags_from_json(&self.topics)?,
            capacity: self.capacity.map(|c| u32::try_from(c.max(0)).unwrap_or(u32::MAX)),
            presence: presence_from_sql(&self.presence)?,
            teams,
            open_cases: count_from_sql(self.open_cases),
            last_assigned_at: self.last_assigned_at,
        })
    }
}

/// An `outbox` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OutboxRecord {
    pub(crate) id: i64,
    /// Selected only where messages of several accounts are read.
    #[sqlx(default)]
    pub(crate) account_id: Option<String>,
    pub(crate) case_id: Option<i64>,
    pub(crate) kind: String,
    pub(crate) destination: String,
    pub(crate) payload: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) attempts: i64,
}

impl OutboxRecord {
    pub(crate) fn into_message(self) -> Result<OutboxMessage, StoreError> {
        Ok(OutboxMessage {
            payload: serde_json::from_str(&self.payload).map_err(|error| {
                StoreError::Corrupt(format!("outbox payload {} is not JSON: {error}", self.id))
            })?,
            id: self.id,
            case_id: self.case_id,
            kind: self.kind,
            destination: self.destination,
            created_at: self.created_at,
            attempts: count_from_sql(self.attempts),
        })
    }
}

/// A `case_replies` row joined with its outbox message.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReplyRecord {
    pub(crate) id: i64,
    pub(crate) case_id: i64,
    pub(crate) agent: String,
    pub(crate) body: String,
    pub(crate) language: Option<String>,
    pub(crate) canned: Option<String>,
    pub(crate) idempotency_key: String,
    pub(crate) in_reply_to_post: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) outbox_id: Option<i64>,
    pub(crate) attempts: Option<i64>,
    pub(crate) last_error: Option<String>,
    pub(crate) delivered_at: Option<DateTime<Utc>>,
    pub(crate) failed_at: Option<DateTime<Utc>>,
}

impl ReplyRecord {
    pub(crate) fn into_row(self) -> ReplyRow {
        let attempts = count_from_sql(self.attempts.unwrap_or_default());
        let delivery = match (self.outbox_id, self.delivered_at, self.failed_at) {
            (None, _, _) => DeliveryState::NotSent,
            (Some(_), Some(_), _) => DeliveryState::Delivered,
            (Some(_), None, Some(_)) => DeliveryState::Failed,
            (Some(_), None, None) if attempts > 0 => DeliveryState::Retrying,
            (Some(_), None, None) => DeliveryState::Pending,
        };
        ReplyRow {
            id: self.id,
            case_id: self.case_id,
            agent: self.agent,
            body: self.body,
            language: self.language,
            canned: self.canned,
            idempotency_key: self.idempotency_key,
            in_reply_to_post: self.in_reply_to_post,
            created_at: self.created_at,
            delivery,
            attempts,
            last_error: self.last_error,
            delivered_at: self.delivered_at,
        }
    }
}

/// A `case_notes` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NoteRecord {
    pub(crate) id: i64,
    pub(crate) case_id: i64,
    pub(crate) author: String,
    pub(crate) body: String,
    pub(crate) created_at: DateTime<Utc>,
}

impl NoteRecord {
    pub(crate) fn into_note(self) -> CaseNote {
        CaseNote {
            id: self.id,
            case_id: self.case_id,
            author: self.author,
            body: self.body,
            created_at: self.created_at,
        }
    }
}

/// A `canned_responses` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CannedRecord {
    pub(crate) name: String,
    pub(crate) language: String,
    pub(crate) body: String,
    pub(crate) updated_by: String,
    pub(crate) updated_at: DateTime<Utc>,
}

impl CannedRecord {
    pub(crate) fn into_canned(self) -> CannedResponse {
        CannedResponse {
            name: self.name,
            language: self.language,
            body: self.body,
            updated_by: self.updated_by,
            updated_at: self.updated_at,
        }
    }
}

/// An `api_tokens` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TokenRecord {
    pub(crate) id: i64,
    pub(crate) account_id: Option<String>,
    pub(crate) role: String,
    pub(crate) agent: Option<String>,
    pub(crate) name: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    pub(crate) fn into_token(self) -> Result<crate::TokenRow, StoreError> {
        Ok(crate::TokenRow {
            id: self.id,
            account: self
                .account_id
                .map(|a| AccountId::new(a).map_err(|e| StoreError::Corrupt(format!("token account: {e}"))))
                .transpose()?,
            role: crate::ApiRole::parse(&self.role)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown token role {:?}", self.role)))?,
            agent: self.agent,
            name: self.name,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub(crate) fn presence_from_sql(value: &str) -> Result<Presence, StoreError> {
    Presence::parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown presence {value:?}")))
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
            CaseEventKind::MessageAdded { .. } => "message_added",
            CaseEventKind::Reopened { .. } => "reopened",
            CaseEventKind::Unassigned { .. } => "unassigned",
            CaseEventKind::TeamChanged { .. } => "team_changed",
            CaseEventKind::PriorityChanged { .. } => "priority_changed",
            CaseEventKind::Responded { .. } => "responded",
            CaseEventKind::SlaBreached { .. } => "sla_breached",
            CaseEventKind::Escalated { .. } => "escalated",
            CaseEventKind::ReplyDelivered { .. } => "reply_delivered",
            CaseEventKind::ReplyFailed { .. } => "reply_failed",
            CaseEventKind::NoteAdded { .. } => "note_added",
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
