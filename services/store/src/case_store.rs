//! The small trait each database implements, so callers have one code path
//! and each backend keeps its own typed SQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use smo_proto::{AccountId, CaseEvent, CaseStatus, Intent};

use crate::{Backend, CaseFilter, CaseRow, NewCase, OpenedCase, SourceCursor, StoreError};

/// Every query the services need, scoped by account: each method takes the
/// account and its SQL filters by it, so tenancy does not depend on callers
/// remembering a `WHERE`. PostgreSQL and SQLite implementations pass the same
/// conformance tests.
#[async_trait]
pub trait CaseStore: Send + Sync + std::fmt::Debug {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies the embedded migrations that have not run yet; safe to call at
    /// every start, from several processes at once.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Makes `agents`, in order, the account's active agents: new names are
    /// added, missing ones deactivated (kept for the history of their cases),
    /// and each name's rotation position becomes its index in the list.
    async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), StoreError>;

    /// The account's active agents in rotation order.
    async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError>;

    /// Opens a case per post that has none yet, in one transaction: assigns
    /// each new case round-robin over the active agents (or queues it when
    /// there are none) and writes `Opened` / `Assigned` audit events. Returns
    /// one outcome per input, in input order; repeats of a post are
    /// `Duplicate`. Safe to run concurrently from several processes.
    async fn open_cases(&self, account: &AccountId, cases: &[NewCase])
    -> Result<Vec<OpenedCase>, StoreError>;

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
