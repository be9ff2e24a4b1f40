use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{AccountId, PostId, default_schema_version};

/// Where a case stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Just opened, not yet routed.
    New,
    /// Waiting in a queue for an agent.
    Queued,
    /// Held by an agent.
    Assigned,
    /// Answered; the next move is the customer's.
    WaitingOnCustomer,
    /// The agent considers it solved.
    Resolved,
    /// Final; a new message opens a new case.
    Closed,
}

impl CaseStatus {
    /// Lowercase name, as stored in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Queued => "queued",
            Self::Assigned => "assigned",
            Self::WaitingOnCustomer => "waiting_on_customer",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    /// Parses the SQL name back.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "new" => Self::New,
            "queued" => Self::Queued,
            "assigned" => Self::Assigned,
            "waiting_on_customer" => Self::WaitingOnCustomer,
            "resolved" => Self::Resolved,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

/// How urgent a case is, in the few levels that SLA policies and queues use.
/// Queues serve higher levels first; escalation raises the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CasePriority {
    /// Can wait.
    Low,
    /// The default.
    Normal,
    /// Served before normal cases.
    High,
    /// Served first.
    Urgent,
}

impl CasePriority {
    /// Every level, lowest first.
    pub const ALL: [Self; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    /// Lowercase name, as in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    /// Parses the lowercase name back.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == value)
    }

    /// The level as stored in SQL: 0 (low) to 3 (urgent), so that SQL can
    /// order by it.
    pub fn rank(self) -> i64 {
        match self {
            Self::Low => 0,
            Self::Normal => 1,
            Self::High => 2,
            Self::Urgent => 3,
        }
    }

    /// The level of a stored rank; out-of-range ranks are clamped.
    pub fn from_rank(rank: i64) -> Self {
        match rank {
            i64::MIN..=0 => Self::Low,
            1 => Self::Normal,
            2 => Self::High,
            _ => Self::Urgent,
        }
    }

    /// One level up, or the same at `Urgent`; what escalation does.
    pub fn raised(self) -> Self {
        Self::from_rank(self.rank() + 1)
    }
}

/// Which response an SLA clock is counting towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    /// The first answer to a new case.
    FirstResponse,
    /// The answer to a customer's follow-up after an agent responded.
    NextResponse,
}

impl SlaTarget {
    /// Lowercase name, as stored in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::NextResponse => "next_response",
        }
    }

    /// Parses the SQL name back.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "first_response" => Some(Self::FirstResponse),
            "next_response" => Some(Self::NextResponse),
            _ => None,
        }
    }
}

/// What happened to a case. New kinds are only ever added, so older events
/// keep their meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseEventKind {
    /// A complaint or question opened the case.
    Opened {
        /// The post that opened it.
        post_id: PostId,
    },
    /// The case was given to an agent.
    Assigned {
        /// The agent now holding it.
        agent: String,
    },
    /// The case moved to another status.
    StatusChanged {
        /// Status before.
        from: CaseStatus,
        /// Status after.
        to: CaseStatus,
    },
    /// A follow-up of the same customer in the same thread joined the case.
    MessageAdded {
        /// The follow-up post.
        post_id: PostId,
    },
    /// A follow-up reopened a resolved case within the reopen window.
    Reopened {
        /// The follow-up post.
        post_id: PostId,
    },
    /// The case was taken from an agent and returned to its team's queue
    /// (the agent went away, did not act in time, or a supervisor moved it).
    Unassigned {
        /// The agent who held it.
        agent: String,
    },
    /// The case moved to another team's queue.
    TeamChanged {
        /// Team before; `None` is the account's general queue.
        from: Option<String>,
        /// Team after.
        to: Option<String>,
    },
    /// The case's priority level changed.
    PriorityChanged {
        /// Level before.
        from: CasePriority,
        /// Level after.
        to: CasePriority,
    },
    /// An agent answered the customer; the running SLA clock stops.
    Responded {
        /// The agent who answered.
        agent: String,
        /// The recorded reply, when the answer went through smo (not when an
        /// agent only marked the case as answered elsewhere).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_id: Option<i64>,
    },
    /// The client's system confirmed it received a reply.
    ReplyDelivered {
        /// The reply.
        reply_id: i64,
    },
    /// Sending a reply failed for good (rejected, or retries exhausted): the
    /// customer has not got it, so an agent must act.
    ReplyFailed {
        /// The reply.
        reply_id: i64,
        /// The last error.
        error: String,
    },
    /// An internal note was written on the case (never sent to the customer).
    NoteAdded {
        /// The note.
        note_id: i64,
    },
    /// An SLA target was missed.
    SlaBreached {
        /// The target missed.
        target: SlaTarget,
    },
    /// An escalation rule fired; its actions follow as their own events.
    Escalated {
        /// The rule's name.
        rule: String,
    },
}

/// One audit entry of a case: who did what, when and why. Published so other
/// systems can follow cases without reading the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseEvent {
    /// Shape version of this message; see [`crate::SCHEMA_VERSION`].
    #[serde(default = "default_schema_version")]
    pub schema_version: u32,
    /// The account the case belongs to.
    pub account: AccountId,
    /// The case's id, unique within the account.
    pub case_id: i64,
    /// What happened.
    pub event: CaseEventKind,
    /// Who did it: an agent's name, or `system` for the router.
    pub actor: String,
    /// Why, in words an auditor can read.
    pub reason: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}
