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

/// What happened to a case.
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
