//! The typed rows the store reads and writes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use smo_proto::{AccountId, CaseStatus, Intent, PostId};

/// A case to open for a post that needs a human answer. Built by community
/// management from an enriched post; the store assigns the id, status and agent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// The post that needs an answer; at most one case per (account, post).
    pub post_id: PostId,
    /// The conversation the post belongs to, so agents see threads together.
    pub thread_id: PostId,
    /// Why the post needs an answer.
    pub intent: Intent,
    /// Urgency in `[0, 1]`; queues are ordered by it. Non-finite values are
    /// stored as 0.
    pub priority: f32,
    /// The author's handle, shown in the agent's queue.
    pub author_handle: String,
    /// Language code of the post, so it can be routed to agents who read it.
    pub lang: String,
    /// The account's topic tags that matched the post.
    pub tags: Vec<String>,
    /// The start of the post's text, for the queue view.
    pub text_excerpt: String,
    /// When the case counts as opened (usually the post's creation time, so
    /// SLA clocks start when the customer spoke).
    pub opened_at: DateTime<Utc>,
}

/// What [`crate::CaseStore::open_cases`] did with one input, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpenedCase {
    /// A new case was opened, and given to `agent` unless the account has none.
    Created {
        /// The new case.
        case_id: i64,
        /// The agent it was assigned to; `None` means it waits in the queue.
        agent: Option<String>,
    },
    /// The post already had a case (redelivery, or twice in one batch).
    Duplicate {
        /// The existing case.
        case_id: i64,
    },
}

impl OpenedCase {
    /// The case the input ended up in, new or existing.
    pub fn case_id(&self) -> i64 {
        match self {
            Self::Created { case_id, .. } | Self::Duplicate { case_id } => *case_id,
        }
    }

    /// Whether this input opened a new case.
    pub fn is_created(&self) -> bool {
        matches!(self, Self::Created { .. })
    }
}

/// Which cases [`crate::CaseStore::list_cases`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Only cases in this status.
    pub status: Option<CaseStatus>,
    /// Only cases held by this agent.
    pub agent: Option<String>,
    /// At most this many rows; `None` returns all.
    pub limit: Option<u32>,
}

/// A case as stored: what an agent's queue shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRow {
    /// The case's id, unique within the database.
    pub id: i64,
    /// The account the case belongs to.
    pub account: AccountId,
    /// The post that opened the case.
    pub post_id: PostId,
    /// The conversation the post belongs to.
    pub thread_id: PostId,
    /// Why the post needed an answer.
    pub intent: Intent,
    /// Where the case stands.
    pub status: CaseStatus,
    /// Urgency in `[0, 1]`.
    pub priority: f32,
    /// The agent holding the case, if any.
    pub assigned_agent: Option<String>,
    /// The author's handle.
    pub author_handle: String,
    /// Language code of the post.
    pub lang: String,
    /// Matched topic tags.
    pub tags: Vec<String>,
    /// The start of the post's text.
    pub text_excerpt: String,
    /// When the case was opened.
    pub opened_at: DateTime<Utc>,
    /// When the case last changed.
    pub updated_at: DateTime<Utc>,
}

/// An ingest checkpoint: where a source of an account resumes after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCursor {
    /// The source's name, e.g. `http:status-feed`.
    pub source: String,
    /// Opaque resume token; `None` until the first successful poll.
    pub cursor: Option<String>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// Posts fetched from this source so far.
    pub posts_fetched: u64,
    /// The last poll's error, cleared by the next successful save.
    pub last_error: Option<String>,
}
