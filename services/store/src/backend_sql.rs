//! What PostgreSQL and SQLite share, and what each writes its own way.
//!
//! [`BackendSql`] is the part each database implements itself: its dialect's
//! pieces of SQL (row locks, JSON as text), how it binds timestamps, how it
//! starts a write transaction and how a batch travels (arrays through
//! `UNNEST`, or one statement per row). [`impl_case_store!`] writes the rest
//! of [`CaseStore`] once — the common SQL with its binds and row mapping, and
//! the steps of every operation — and expands it for each store type, so
//! every expansion is plainly typed for one database. It is a macro rather
//! than generic code over `sqlx::Database` because that would need a trait
//! bound for every type the queries bind or decode.
//!
//! Every operation that changes cases follows one pattern: start a write
//! transaction, take the account's routing lock, load and lock the rows,
//! decide in plain Rust (`lifecycle`, `opening`, `routing`), save the rows,
//! route what is queued, append the audit log, commit. On PostgreSQL the
//! locks are taken in one order (routing lock, cases, agents, ticket
//! counter), so transactions wait for each other but never deadlock; pulling a
//! next case skips locked rows instead of taking the routing lock. SQLite's
//! `BEGIN IMMEDIATE` runs writers one at a time.
//!
//! [`CaseStore`]: crate::CaseStore

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

/// The statements a backend runs its own way; [`impl_case_store!`] builds
/// [`CaseStore`](crate::CaseStore) from them and the shared queries.
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

    /// Applies the embedded migrations (see `CaseStore::migrate`).
    fn run_migrations(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A pooled connection, for reads that take more than one query.
    fn acquire(&self) -> impl Future<Output = Result<PoolConnection<Self::Database>, StoreError>> + Send;

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

/// Implements [`CaseStore`](crate::CaseStore) for `$store`, which implements
/// [`BackendSql`] and has an inherent `pool()`. The queries here are the same
/// text on both databases; the expansion types them for `$store`'s one.
macro_rules! impl_case_store {
    ($store:ty) => {
        // A block of its own, so that these imports do not meet the module's.
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, NaiveDate, TimeDelta, Utc};
            use ::smo_proto::{AccountId, CaseEvent, CaseStatus, Intent};

            use $crate::backend_sql::BackendSql;
            use $crate::ops::cases::{load_case_locked, save_all};
            use $crate::sql::CaseSql;
            use $crate::{
                AgentRow, Backend, CaseCommand, CaseFilter, CaseMessage, CaseRow, CaseStore, Escalation,
                NewCase, NewToken, NextCase, OpenOptions, OpenedCase, OutboxMessage, Presence,
                PresenceChange, Requeued, Roster, Routed, SourceCursor, StoreError, TokenRow,
            };

            type Store = $store;

            #[async_trait]
            impl CaseStore for $store {
                fn backend(&self) -> Backend {
                    Self::BACKEND
                }

                async fn migrate(&self) -> Result<(), StoreError> {
                    self.run_migrations().await
                }

                async fn sync_agents(
                    &self,
                    account: &AccountId,
                    agents: &[String],
                ) -> Result<(), StoreError> {
                    $crate::ops::roster::sync_agents(self, account, agents).await
                }

                async fn sync_roster(
                    &self,
                    account: &AccountId,
                    roster: &Roster,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    $crate::ops::roster::sync_roster(self, account, roster, now).await
                }

                async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
                    $crate::ops::roster::active_agents(self, account).await
                }

                async fn agents(&self, account: &AccountId) -> Result<Vec<AgentRow>, StoreError> {
                    $crate::ops::roster::agents(self, account).await
                }

                async fn open_cases_with(
                    &self,
                    account: &AccountId,
                    cases: &[NewCase],
                    options: &OpenOptions,
                ) -> Result<Vec<OpenedCase>, StoreError> {
                    $crate::ops::open::open_cases_with(self, account, cases, options).await
                }

                async fn get_case(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Option<CaseRow>, StoreError> {
                    $crate::ops::cases::get_case(self, account, case_id).await
                }

                async fn case_messages(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<CaseMessage>, StoreError> {
                    $crate::ops::cases::case_messages(self, account, case_id).await
                }

                async fn update_case(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                    command: CaseCommand,
                    now: DateTime<Utc>,
                ) -> Result<CaseRow, StoreError> {
                    $crate::ops::update::update_case(self, account, case_id, command, now).await
                }

                async fn set_presence(
                    &self,
                    account: &AccountId,
                    agent: &str,
                    presence: Presence,
                    now: DateTime<Utc>,
                ) -> Result<PresenceChange, StoreError> {
                    $crate::ops::presence::set_presence(self, account, agent, presence, now).await
                }

                async fn next_case(
                    &self,
                    account: &AccountId,
                    agent: &str,
                    now: DateTime<Utc>,
                ) -> Result<NextCase, StoreError> {
                    $crate::ops::next::next_case(self, account, agent, now).await
                }

                async fn requeue_inactive(
                    &self,
                    account: &AccountId,
                    timeout: TimeDelta,
                    now: DateTime<Utc>,
                ) -> Result<Vec<Requeued>, StoreError> {
                    $crate::ops::requeue::requeue_inactive(self, account, timeout, now).await
                }

                async fn route_queued(
                    &self,
                    account: &AccountId,
                    now: DateTime<Utc>,
                ) -> Result<Vec<Routed>, StoreError> {
                    $crate::ops::route::route_queued(self, account, now).await
                }

                async fn sla_watchlist(
                    &self,
                    account: &AccountId,
                    due_before: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<CaseRow>, StoreError> {
                    $crate::ops::cases::sla_watchlist(self, account, due_before, limit).await
                }

                async fn escalate(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                    escalation: &Escalation,
                    now: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    $crate::ops::escalate::escalate(self, account, case_id, escalation, now).await
                }

                async fn pending_outbox(
                    &self,
                    account: &AccountId,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>, StoreError> {
                    $crate::ops::outbox::pending_outbox(self, account, limit).await
                }

                async fn put_community_settings(
                    &self,
                    account: &AccountId,
                    settings: &::serde_json::Value,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    $crate::ops::settings::put_community_settings(self, account, settings, now).await
                }

                async fn create_token(
                    &self,
                    token: &NewToken,
                    now: DateTime<Utc>,
                ) -> Result<TokenRow, StoreError> {
                    $crate::ops::tokens::create_token(self, token, now).await
                }

                async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
                    $crate::ops::tokens::token_by_hash(self, token_hash).await
                }

                async fn list_tokens(
                    &self,
                    account: Option<&AccountId>,
                ) -> Result<Vec<TokenRow>, StoreError> {
                    $crate::ops::tokens::list_tokens(self, account).await
                }

                async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
                    $crate::ops::tokens::revoke_token(self, id, now).await
                }

                async fn community_settings(
                    &self,
                    account: &AccountId,
                ) -> Result<Option<::serde_json::Value>, StoreError> {
                    $crate::ops::settings::community_settings(self, account).await
                }

                async fn list_cases(
                    &self,
                    account: &AccountId,
                    filter: CaseFilter,
                ) -> Result<Vec<CaseRow>, StoreError> {
                    $crate::ops::cases::list_cases(self, account, filter).await
                }

                async fn case_events(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<CaseEvent>, StoreError> {
                    $crate::ops::cases::case_events(self, account, case_id).await
                }

                async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError> {
                    $crate::ops::reports::count_cases(self, account).await
                }

                async fn cases_opened_between(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    $crate::ops::reports::cases_opened_between(self, account, from, to).await
                }

                async fn cases_opened_by_intent(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(Intent, u64)>, StoreError> {
                    $crate::ops::reports::cases_opened_by_intent(self, account, from, to).await
                }

                async fn cases_opened_per_day(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
                    $crate::ops::reports::cases_opened_per_day(self, account, from, to).await
                }

                async fn cases_by_status(
                    &self,
                    account: &AccountId,
                ) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
                    $crate::ops::reports::cases_by_status(self, account).await
                }

                async fn get_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                ) -> Result<Option<SourceCursor>, StoreError> {
                    $crate::ops::cursors::get_cursor(self, account, source).await
                }

                async fn save_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                    cursor: &str,
                    posts_fetched_delta: u64,
                ) -> Result<(), StoreError> {
                    $crate::ops::cursors::save_cursor(self, account, source, cursor, posts_fetched_delta)
                        .await
                }

                async fn record_source_error(
                    &self,
                    account: &AccountId,
                    source: &str,
                    error: &str,
                ) -> Result<(), StoreError> {
                    $crate::ops::cursors::record_source_error(self, account, source, error).await
                }

                async fn close(&self) {
                    self.pool().close().await;
                }
            }

            $crate::backend_responses::impl_response_store!($store);
        };
    };
}

pub(crate) use impl_case_store;
