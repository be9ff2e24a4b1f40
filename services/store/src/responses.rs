//! What agents write on cases besides status changes: replies to the
//! customer (recorded with the case's response and delivered through the
//! outbox), internal notes, and the account's canned responses; and the
//! outbox's delivery side, which a worker drains at least once.

use chrono::{DateTime, Utc};
use serde::Serialize;
use smo_proto::AccountId;

use crate::{CaseRow, OutboxMessage};

/// The language of a canned response that serves every case whose language
/// has no version of its own.
pub const ANY_LANGUAGE: &str = "any";

/// A reply an agent sends to the customer of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReply {
    /// The agent answering (must hold the case, or be named by a supervisor).
    pub agent: String,
    /// Who asked, for the audit log (the agent, or a supervisor's token).
    pub actor: String,
    /// The text, final (canned variables already filled in).
    pub body: String,
    /// Its language, when known (the canned response's, or the case's).
    pub language: Option<String>,
    /// The canned response it came from, if any.
    pub canned: Option<String>,
    /// Unique per account: the same key again returns the reply already
    /// recorded instead of sending a second one.
    pub idempotency_key: String,
    /// Move the case to waiting on the customer afterwards (pauses the SLA).
    pub wait_on_customer: bool,
    /// Where the outbound connector delivers it (the account's signed
    /// webhook); `None`: recorded only, sent by the agent elsewhere.
    pub destination: Option<String>,
}

/// Where a reply stands with the client's system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// No outbound connector: recorded only.
    NotSent,
    /// Waiting for its first attempt.
    Pending,
    /// An attempt failed; it will be tried again.
    Retrying,
    /// The client's system accepted it.
    Delivered,
    /// Given up (rejected, or out of attempts): an agent must act.
    Failed,
}

/// A recorded reply with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyRow {
    /// Its id within the account.
    pub id: i64,
    /// The case answered.
    pub case_id: i64,
    /// The agent who answered.
    pub agent: String,
    /// The text sent.
    pub body: String,
    /// Its language, when known.
    pub language: Option<String>,
    /// The canned response used, if any.
    pub canned: Option<String>,
    /// The key that makes a retried request harmless.
    pub idempotency_key: String,
    /// The customer's latest post when the reply was written.
    pub in_reply_to_post: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Delivery state.
    pub delivery: DeliveryState,
    /// Delivery attempts so far.
    pub attempts: u64,
    /// The last delivery error, if any.
    pub last_error: Option<String>,
    /// When the client's system accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What recording a reply did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedReply {
    /// The reply (the earlier one for a repeated idempotency key).
    pub reply: ReplyRow,
    /// The case afterwards.
    pub case: CaseRow,
    /// The key had been used already: nothing new was recorded or sent.
    pub duplicate: bool,
}

/// An internal note on a case: seen by agents and supervisors, never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseNote {
    /// Its id within the account.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Who wrote it.
    pub author: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A canned response: a reply template with `{{variables}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CannedResponse {
    /// Its name, e.g. `refund-delay`; unique per account and language.
    pub name: String,
    /// An ISO 639-1 code, or [`ANY_LANGUAGE`].
    pub language: String,
    /// The template.
    pub body: String,
    /// Who last changed it.
    #[serde(default)]
    pub updated_by: String,
    /// When it last changed.
    #[serde(default = "Utc::now")]
    pub updated_at: DateTime<Utc>,
}

/// An outbox message claimed for delivery, with its account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimedMessage {
    /// The account it belongs to (whose credentials sign it).
    pub account: AccountId,
    /// The message.
    pub message: OutboxMessage,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the receiver.
    Delivered,
    /// Failed; try again at `at`.
    Retry {
        /// When to try again.
        at: DateTime<Utc>,
        /// What went wrong.
        error: String,
    },
    /// Failed for good.
    Failed {
        /// What went wrong.
        error: String,
    },
}
