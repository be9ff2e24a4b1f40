//! The [`CaseStore`] trait, implemented for every backend by the generic
//! operations of [`crate::ops`].

use async_trait::async_trait;

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::{AccountId, CaseEvent};

use crate::sql::Sql;
use crate::{
    CaseCommand, CaseFilter, CaseMessage, CaseRow, Escalation, NewCase, NextCase, OpenOptions, OpenedCase,
    Requeued, Routed, StoreError,
};

/// Cases and routing: what community management, agents and the API work cases with. Every method takes the account and its SQL filters
/// by it, so tenancy does not depend on callers remembering a `WHERE`.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// [`CaseStore::open_cases_with`] with the default reopen window, now.
    async fn open_cases(
        &self,
        account: &AccountId,
        cases: &[NewCase],
    ) -> Result<Vec<OpenedCase>, StoreError> {
        self.open_cases_with(account, cases, &OpenOptions::at(Utc::now())).await
    }

    /// Records posts that need an answer, in one transaction. Each post goes
    /// to its conversation (same thread, same author): it joins the active
    /// case, reopens the case resolved at most `reopen_window` before the
    /// post, or opens a new case in its team's queue. Then the hold queue is
    /// routed (most urgent first, each case to the eligible online agent
    /// with the most free capacity, ties to the longest idle). Returns one
    /// outcome per input, in input order; a post already recorded (or twice
    /// in the batch) is `Duplicate`. Safe to run concurrently from several
    /// processes.
    async fn open_cases_with(
        &self,
        account: &AccountId,
        cases: &[NewCase],
        options: &OpenOptions,
    ) -> Result<Vec<OpenedCase>, StoreError>;

    /// One case of the account, if it has it.
    async fn get_case(&self, account: &AccountId, case_id: i64) -> Result<Option<CaseRow>, StoreError>;

    /// The customer posts of one case, oldest first; empty if the account
    /// has no such case.
    async fn case_messages(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseMessage>, StoreError>;

    /// Applies `command` to one case, validated against the lifecycle, with
    /// its audit event; capacity it frees is routed at once. Returns the case
    /// as saved. `NotFound` if the account has no such case,
    /// `InvalidTransition` or `Conflict` if the case is not in a state for it.
    async fn update_case(
        &self,
        account: &AccountId,
        case_id: i64,
        command: CaseCommand,
        now: DateTime<Utc>,
    ) -> Result<CaseRow, StoreError>;

    /// Gives `agent` the most urgent queued case they can take (their teams
    /// or the general queue, their skills), unless they are at capacity. Two
    /// agents asking at once never get the same case: PostgreSQL skips rows
    /// another transaction holds (`FOR UPDATE SKIP LOCKED`), SQLite runs one
    /// writer at a time (`BEGIN IMMEDIATE`).
    async fn next_case(
        &self,
        account: &AccountId,
        agent: &str,
        now: DateTime<Utc>,
    ) -> Result<NextCase, StoreError>;

    /// Returns to the queue every assigned case whose agent has not acted on
    /// it within `timeout` of getting it, and routes it to another agent.
    async fn requeue_inactive(
        &self,
        account: &AccountId,
        timeout: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Vec<Requeued>, StoreError>;

    /// Routes the hold queue now (what every change that frees capacity
    /// does; also a periodic safety net).
    async fn route_queued(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Vec<Routed>, StoreError>;

    /// Active cases whose running SLA clock is due before `due_before`,
    /// soonest first, at most `limit`: what escalation looks at.
    async fn sla_watchlist(
        &self,
        account: &AccountId,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError>;

    /// Fires an escalation rule on a case: once per case, SLA round and
    /// rule; returns whether it fired now (false if it had fired already, or
    /// the case moved on to another SLA round or is done).
    async fn escalate(
        &self,
        account: &AccountId,
        case_id: i64,
        escalation: &Escalation,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The account's cases matching `filter`, most urgent first (priority
    /// descending, then oldest first).
    async fn list_cases(&self, account: &AccountId, filter: CaseFilter) -> Result<Vec<CaseRow>, StoreError>;

    /// The audit log of one case, oldest first; empty if the account has no
    /// such case.
    async fn case_events(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseEvent>, StoreError>;

    /// Stores the account's community settings document (routing rules,
    /// SLA policies, windows), as community management defines it.
    async fn put_community_settings(
        &self,
        account: &AccountId,
        settings: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The account's community settings document, if stored.
    async fn community_settings(&self, account: &AccountId) -> Result<Option<serde_json::Value>, StoreError>;
}

#[async_trait]
impl<S: Sql> CaseStore for S {
    async fn open_cases_with(
        &self,
        account: &AccountId,
        cases: &[NewCase],
        options: &OpenOptions,
    ) -> Result<Vec<OpenedCase>, StoreError> {
        crate::ops::open::open_cases_with(self, account, cases, options).await
    }

    async fn get_case(&self, account: &AccountId, case_id: i64) -> Result<Option<CaseRow>, StoreError> {
        crate::ops::cases::get_case(self, account, case_id).await
    }

    async fn case_messages(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseMessage>, StoreError> {
        crate::ops::cases::case_messages(self, account, case_id).await
    }

    async fn update_case(
        &self,
        account: &AccountId,
        case_id: i64,
        command: CaseCommand,
        now: DateTime<Utc>,
    ) -> Result<CaseRow, StoreError> {
        crate::ops::update::update_case(self, account, case_id, command, now).await
    }

    async fn next_case(
        &self,
        account: &AccountId,
        agent: &str,
        now: DateTime<Utc>,
    ) -> Result<NextCase, StoreError> {
        crate::ops::next::next_case(self, account, agent, now).await
    }

    async fn requeue_inactive(
        &self,
        account: &AccountId,
        timeout: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Vec<Requeued>, StoreError> {
        crate::ops::requeue::requeue_inactive(self, account, timeout, now).await
    }

    async fn route_queued(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Vec<Routed>, StoreError> {
        crate::ops::route::route_queued(self, account, now).await
    }

    async fn sla_watchlist(
        &self,
        account: &AccountId,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError> {
        crate::ops::cases::sla_watchlist(self, account, due_before, limit).await
    }

    async fn escalate(
        &self,
        account: &AccountId,
        case_id: i64,
        escalation: &Escalation,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        crate::ops::escalate::escalate(self, account, case_id, escalation, now).await
    }

    async fn list_cases(&self, account: &AccountId, filter: CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        crate::ops::cases::list_cases(self, account, filter).await
    }

    async fn case_events(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseEvent>, StoreError> {
        crate::ops::cases::case_events(self, account, case_id).await
    }

    async fn put_community_settings(
        &self,
        account: &AccountId,
        settings: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        crate::ops::settings::put_community_settings(self, account, settings, now).await
    }

    async fn community_settings(&self, account: &AccountId) -> Result<Option<serde_json::Value>, StoreError> {
        crate::ops::settings::community_settings(self, account).await
    }
}
