//! The small trait each database implements, so callers have one code path
//! and each backend keeps its own typed SQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use smo_proto::{AccountId, CaseEvent, CaseStatus, Intent};

use crate::{
    AgentRow, Backend, CaseCommand, CaseFilter, CaseMessage, CaseRow, Escalation, NewCase, NewToken,
    NextCase, OpenOptions, OpenedCase, OutboxMessage, Presence, PresenceChange, Requeued, ResponseStore,
    Roster, Routed, SourceCursor, StoreError, TokenRow,
};

/// Every query the services need, scoped by account: each method takes the
/// account and its SQL filters by it, so tenancy does not depend on callers
/// remembering a `WHERE`. PostgreSQL and SQLite implementations pass the same
/// conformance tests.
#[async_trait]
pub trait CaseStore: ResponseStore + Send + Sync + std::fmt::Debug {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies the embedded migrations that have not run yet; safe to call at
    /// every start, from several processes at once.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Makes `agents`, in order, the account's active agents: new names are
    /// added (generalists without a capacity limit, online), missing ones
    /// deactivated (kept for the history of their cases), and each name's
    /// rotation position becomes its index in the list. Skills, capacity and
    /// teams set by [`CaseStore::sync_roster`] are kept. Queued cases are
    /// routed to the agents that now have room.
    async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), StoreError>;

    /// Makes `roster` the account's agents (with skills and capacity, in
    /// rotation order) and teams; agents missing from it are deactivated and
    /// teams missing from it removed. Queued cases are then routed.
    async fn sync_roster(
        &self,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The account's active agents in rotation order.
    async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError>;

    /// Every agent of the account (active first) with teams, skills,
    /// presence and the cases they hold.
    async fn agents(&self, account: &AccountId) -> Result<Vec<AgentRow>, StoreError>;

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

    /// Sets an agent's presence. Going away or offline returns the cases
    /// they hold in `assigned` to the queue (routed to others when possible);
    /// coming online routes queued cases to them.
    async fn set_presence(
        &self,
        account: &AccountId,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<PresenceChange, StoreError>;

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

    /// Outbox messages not yet delivered, oldest due first.
    async fn pending_outbox(&self, account: &AccountId, limit: u32)
    -> Result<Vec<OutboxMessage>, StoreError>;

    /// Stores the account's community settings document (routing rules,
    /// SLA policies, windows), as community management defines it.
    async fn put_community_settings(
        &self,
        account: &AccountId,
        settings: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Stores an API token (its hash); refuses an admin token bound to an
    /// account, another role without one, and an agent token without an
    /// active agent of the account.
    async fn create_token(&self, token: &NewToken, now: DateTime<Utc>) -> Result<TokenRow, StoreError>;

    /// The unrevoked token with this hash: how a request is authenticated.
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError>;

    /// Tokens of `account` (with `None`: every token), newest first.
    async fn list_tokens(&self, account: Option<&AccountId>) -> Result<Vec<TokenRow>, StoreError>;

    /// Revokes a token; false if there is no such unrevoked token.
    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// The account's community settings document, if stored.
    async fn community_settings(&self, account: &AccountId) -> Result<Option<serde_json::Value>, StoreError>;

    /// The account's cases matching `filter`, most urgent first (priority
    /// descending, then oldest first).
    async fn list_cases(&self, account: &AccountId, filter: CaseFilter) -> Result<Vec<CaseRow>, StoreError>;

    /// The audit log of one case, oldest first; empty if the account has no
    /// such case.
    async fn case_events(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseEvent>, StoreError>;

    /// How many cases the account has.
    async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError>;

    /// Cases opened in `[from, to)` per intent (complaint, question), for
    /// intents with at least one; feeds the reports' "complaints opened".
    async fn cases_opened_by_intent(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Intent, u64)>, StoreError>;

    /// How many cases were opened in `[from, to)`; feeds reports.
    async fn cases_opened_between(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Cases opened in `[from, to)` per UTC day, for days with at least one,
    /// in date order.
    async fn cases_opened_per_day(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(NaiveDate, u64)>, StoreError>;

    /// How many of the account's cases are in each status, for statuses with
    /// at least one case, in lifecycle order.
    async fn cases_by_status(&self, account: &AccountId) -> Result<Vec<(CaseStatus, u64)>, StoreError>;

    /// Where `source` of the account resumes, if it ever saved a cursor or
    /// an error.
    async fn get_cursor(&self, account: &AccountId, source: &str)
    -> Result<Option<SourceCursor>, StoreError>;

    /// Checkpoints `source` at `cursor` after `posts_fetched_delta` more posts
    /// were published, and clears its last error. Call it only once those
    /// posts are confirmed by the bus (checkpoint, then ack).
    async fn save_cursor(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        posts_fetched_delta: u64,
    ) -> Result<(), StoreError>;

    /// Records why the last poll of `source` failed, keeping its cursor, so
    /// ops can see failing sources.
    async fn record_source_error(
        &self,
        account: &AccountId,
        source: &str,
        error: &str,
    ) -> Result<(), StoreError>;

    /// Closes the pool, waiting for checked-out connections to return.
    async fn close(&self);
}
