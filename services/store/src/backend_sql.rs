//! What each database writes its own way.
//!
//! [`BackendSql`] is the part each database implements itself: its dialect's
//! pieces of SQL (row locks, JSON as text), how it binds timestamps, how it
//! starts a write transaction and how a batch travels (arrays through
//! `UNNEST`, or one statement per row). The queries whose text is the same on
//! both databases are the primitives of [`crate::sql`]; the operations built
//! from both are the generic functions of [`crate::ops`].
//!
//! Every operation that changes cases follows one pattern: start a write
//! transaction, take the account's routing lock, load and lock the rows,
//! decide in plain Rust (`lifecycle`, `opening`, `routing`), save the rows,
//! route what is queued, append the audit log, commit. On PostgreSQL the
//! locks are taken in one order (routing lock, cases, agents, ticket
//! counter), so transactions wait for each other but never deadlock; pulling a
//! next case skips locked rows instead of taking the routing lock. SQLite's
//! `BEGIN IMMEDIATE` runs writers one at a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use smo_proto::AccountId;
use sqlx::Transaction;
use sqlx::pool::PoolConnection;

use crate::opening::{MessageRow, NewCaseRow};
use crate::records::{CaseRecord, PendingEvent};
use crate::{Backend, CaseRow, Roster, StoreError};

/// A connection of the backend's database, as a transaction dereferences to.
pub(crate) type Conn<S> = <<S as BackendSql>::Database as sqlx::Database>::Connection;

/// Queued cases one routing pass considers at most, most urgent first.
pub(crate) const ROUTE_SCAN_LIMIT: i64 = 1000;

/// The statements a backend runs its own way. Its futures are `Send` so the
/// generic operations built on it are too (the store traits need that).
pub(crate) trait BackendSql: Send + Sync + std::fmt::Debug + 'static {
    /// The sqlx driver.
    type Database: sqlx::Database;
    /// How a timestamp is bound as a parameter.
    type Time;

    /// Which database this is.
    const BACKEND: Backend;
    /// Suffix that locks the selected rows until commit.
    const LOCK_ROWS: &'static str;
    /// Suffix that locks the selected rows, skipping rows others hold.
    const LOCK_SKIP_LOCKED: &'static str;
    /// Suffix that locks the selected `agents a` rows only.
    const LOCK_AGENTS: &'static str;
    /// `case_events`: `$1` account, `$2` case id; the columns of
    /// `EventRecord`, oldest first.
    const CASE_EVENTS_SQL: &'static str;
    /// `cases_opened_per_day`: `$1` account, `$2`/`$3` the time range; rows
    /// of (UTC date, count) in date order.
    const CASES_PER_DAY_SQL: &'static str;

    /// `column` (a JSON column) read as JSON text.
    fn json_text(column: &str) -> String;
    /// Parameter `param` (JSON text) as a value for a JSON column.
    fn json_param(param: &str) -> String;
    /// `list_cases`: `$1` account, `$2` status or NULL, `$3` agent or NULL,
    /// `$4` row limit or NULL for all; case columns, most urgent first.
    fn list_cases_sql() -> String;

    /// `at` as this database stores timestamps.
    fn bind_time(at: DateTime<Utc>) -> Self::Time;

    /// Applies the embedded migrations (see `StoreBackend::migrate`).
    fn run_migrations(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A pooled connection, for reads that take more than one query.
    fn acquire(&self) -> impl Future<Output = Result<PoolConnection<Self::Database>, StoreError>> + Send;

    /// Closes the pool (see `StoreBackend::close`).
    fn close_pool(&self) -> impl Future<Output = ()> + Send;

    /// Starts a transaction that will write.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Database>, StoreError>> + Send;

    /// Makes the validated `names` the account's active agents, in order,
    /// keeping the skills and capacity of agents it already has.
    fn replace_agents(
        conn: &mut Conn<Self>,
        account: &AccountId,
        names: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes the validated `roster` the account's agents (with skills and
    /// capacity) and teams.
    fn apply_roster(
        conn: &mut Conn<Self>,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts `rows` as queued cases, in order; returns their ids in order.
    fn insert_cases(
        conn: &mut Conn<Self>,
        account: &AccountId,
        rows: &[NewCaseRow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// Records posts in their cases.
    fn insert_messages(
        conn: &mut Conn<Self>,
        account: &AccountId,
        rows: &[MessageRow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Post id → case id for posts that already belong to a case.
    fn find_messages(
        conn: &mut Conn<Self>,
        account: &AccountId,
        post_ids: &[&str],
    ) -> impl Future<Output = Result<HashMap<String, i64>, StoreError>> + Send;

    /// The open or resolved (not closed) cases of the given (thread, author)
    /// conversations, locked.
    fn load_conversations(
        conn: &mut Conn<Self>,
        account: &AccountId,
        pairs: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// Writes back the mutable columns of `cases`, each only if still at its
    /// version; returns how many rows were written.
    fn save_cases(
        conn: &mut Conn<Self>,
        account: &AccountId,
        cases: &[CaseRow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records each agent's last assignment ticket.
    fn save_agent_tickets(
        conn: &mut Conn<Self>,
        account: &AccountId,
        tickets: &[(String, i64)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The most urgent queued case an agent with these teams and skills
    /// (lowercase; empty: any) can take, locked, skipping cases others hold.
    fn next_case_candidate(
        conn: &mut Conn<Self>,
        account: &AccountId,
        teams: &[String],
        languages: &[String],
        topics: &[String],
    ) -> impl Future<Output = Result<Option<CaseRecord>, StoreError>> + Send;

    /// Appends `events` to the audit log, in order.
    fn append_events(
        conn: &mut Conn<Self>,
        account: &AccountId,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
