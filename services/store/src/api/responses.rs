//! The [`ResponseStore`] trait, implemented for every backend by the generic
//! operations of [`crate::ops`].

use async_trait::async_trait;

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::AccountId;

use crate::sql::Sql;
use crate::{
    CannedResponse, CaseNote, ClaimedMessage, DeliveryOutcome, NewReply, OutboxMessage, RecordedReply,
    ReplyRow, StoreError,
};

/// Replies, notes, canned responses and outbox delivery; every query scoped
/// by account except the outbox claim, which serves the delivery worker of
/// all accounts and returns each message's account.
#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// Records `reply` on a held case in one transaction with its response
    /// (first response time, the SLA clock stops, optionally waiting on the
    /// customer) and, with a destination, its outbox message. A repeated
    /// idempotency key returns the reply already recorded (`duplicate`).
    async fn record_reply(
        &self,
        account: &AccountId,
        case_id: i64,
        reply: &NewReply,
        now: DateTime<Utc>,
    ) -> Result<RecordedReply, StoreError>;

    /// The case's replies, oldest first, with their delivery state.
    async fn case_replies(&self, account: &AccountId, case_id: i64) -> Result<Vec<ReplyRow>, StoreError>;

    /// Adds an internal note; when `author` holds the case it counts as
    /// acting on it (the inactivity timer restarts).
    async fn add_note(
        &self,
        account: &AccountId,
        case_id: i64,
        author: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<CaseNote, StoreError>;

    /// The case's notes, oldest first.
    async fn case_notes(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseNote>, StoreError>;

    /// Creates or replaces a canned response.
    async fn put_canned(&self, account: &AccountId, canned: &CannedResponse) -> Result<(), StoreError>;

    /// The account's canned responses by name and language.
    async fn canned_responses(&self, account: &AccountId) -> Result<Vec<CannedResponse>, StoreError>;

    /// Deletes one language version of a canned response; whether it existed.
    async fn delete_canned(
        &self,
        account: &AccountId,
        name: &str,
        language: &str,
    ) -> Result<bool, StoreError>;

    /// Outbox messages not yet delivered, oldest due first.
    async fn pending_outbox(&self, account: &AccountId, limit: u32)
    -> Result<Vec<OutboxMessage>, StoreError>;

    /// Claims up to `limit` due outbox messages of every account, oldest due
    /// first, for `lease`: another worker does not see them until the lease
    /// ends, so a crashed worker's messages are retried, not lost.
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        limit: u32,
    ) -> Result<Vec<ClaimedMessage>, StoreError>;

    /// Records how a delivery attempt ended; a reply's case gets an audit
    /// event when it is delivered or fails for good.
    async fn finish_delivery(
        &self,
        account: &AccountId,
        outbox_id: i64,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Sql> ResponseStore for S {
    async fn record_reply(
        &self,
        account: &AccountId,
        case_id: i64,
        reply: &NewReply,
        now: DateTime<Utc>,
    ) -> Result<RecordedReply, StoreError> {
        crate::ops::replies::record_reply(self, account, case_id, reply, now).await
    }

    async fn case_replies(&self, account: &AccountId, case_id: i64) -> Result<Vec<ReplyRow>, StoreError> {
        crate::ops::replies::case_replies(self, account, case_id).await
    }

    async fn add_note(
        &self,
        account: &AccountId,
        case_id: i64,
        author: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<CaseNote, StoreError> {
        crate::ops::notes::add_note(self, account, case_id, author, body, now).await
    }

    async fn case_notes(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseNote>, StoreError> {
        crate::ops::notes::case_notes(self, account, case_id).await
    }

    async fn put_canned(&self, account: &AccountId, canned: &CannedResponse) -> Result<(), StoreError> {
        crate::ops::canned::put_canned(self, account, canned).await
    }

    async fn canned_responses(&self, account: &AccountId) -> Result<Vec<CannedResponse>, StoreError> {
        crate::ops::canned::canned_responses(self, account).await
    }

    async fn delete_canned(
        &self,
        account: &AccountId,
        name: &str,
        language: &str,
    ) -> Result<bool, StoreError> {
        crate::ops::canned::delete_canned(self, account, name, language).await
    }

    async fn pending_outbox(
        &self,
        account: &AccountId,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        crate::ops::outbox::pending_outbox(self, account, limit).await
    }

    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        limit: u32,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        crate::ops::outbox::claim_outbox(self, now, lease, limit).await
    }

    async fn finish_delivery(
        &self,
        account: &AccountId,
        outbox_id: i64,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        crate::ops::outbox::finish_delivery(self, account, outbox_id, outcome, now).await
    }
}
