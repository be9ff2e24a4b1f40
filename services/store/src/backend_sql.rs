//! What PostgreSQL and SQLite share, and what each writes its own way.
//!
//! [`BackendSql`] is the part each database implements itself: its dialect's
//! form of three queries, how it binds timestamps, how it starts a write
//! transaction and how a batch travels (arrays through `UNNEST`, or one
//! statement per row). [`impl_case_store!`] writes the rest of [`CaseStore`]
//! once — the common SQL with its binds and row mapping, and the steps of
//! `open_cases` — and expands it for each store type, so every expansion is
//! plainly typed for one database. It is a macro rather than generic code over
//! `sqlx::Database` because that would need a trait bound for every type the
//! queries bind or decode.
//!
//! [`CaseStore`]: crate::CaseStore

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseStatus};
use sqlx::Transaction;

use crate::opening::Assignment;
use crate::records::PendingEvent;
use crate::{Backend, NewCase, StoreError};

/// A connection of the backend's database, as a transaction dereferences to.
pub(crate) type Conn<S> = <<S as BackendSql>::Database as sqlx::Database>::Connection;

/// The statements a backend runs its own way; [`impl_case_store!`] builds
/// [`CaseStore`](crate::CaseStore) from them and the shared queries.
pub(crate) trait BackendSql {
    /// The sqlx driver.
    type Database: sqlx::Database;
    /// How a timestamp is bound as a parameter.
    type Time;

    /// Which database this is.
    const BACKEND: Backend;
    /// `list_cases`: `$1` account, `$2` status or NULL, `$3` agent or NULL,
    /// `$4` row limit or NULL for all; the columns of `CaseRecord`, most
    /// urgent first.
    const LIST_CASES_SQL: &'static str;
    /// `case_events`: `$1` account, `$2` case id; the columns of
    /// `EventRecord`, oldest first.
    const CASE_EVENTS_SQL: &'static str;
    /// `cases_opened_per_day`: `$1` account, `$2`/`$3` the time range; rows
    /// of (UTC date, count) in date order.
    const CASES_PER_DAY_SQL: &'static str;

    /// `at` as this database stores timestamps.
    fn bind_time(at: DateTime<Utc>) -> Self::Time;

    /// Applies the embedded migrations (see `CaseStore::migrate`).
    async fn run_migrations(&self) -> Result<(), StoreError>;

    /// Makes the validated `roster` the account's active agents, in order
    /// (see `CaseStore::sync_agents`).
    async fn replace_agents(&self, account: &AccountId, roster: &[String]) -> Result<(), StoreError>;

    /// Starts a transaction that will write.
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Database>, StoreError>;

    /// Inserts the cases of `planned` whose posts have none yet, in order,
    /// with `status`; returns post id → case id for the rows it created.
    async fn insert_cases(
        conn: &mut Conn<Self>,
        account: &AccountId,
        planned: &[NewCase],
        status: CaseStatus,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>, StoreError>;

    /// Post id → case id for posts that already have a case.
    async fn existing_case_ids(
        conn: &mut Conn<Self>,
        account: &AccountId,
        post_ids: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError>;

    /// Records each assignment's agent on its case.
    async fn assign_agents(
        conn: &mut Conn<Self>,
        account: &AccountId,
        assignments: &[Assignment],
    ) -> Result<(), StoreError>;

    /// Appends `events` to the audit log, in order.
    async fn append_events(
        conn: &mut Conn<Self>,
        account: &AccountId,
        events: &[PendingEvent],
    ) -> Result<(), StoreError>;
}

/// Implements [`CaseStore`](crate::CaseStore) for `$store`, which implements
/// [`BackendSql`] and has an inherent `pool()`. The queries here are the same
/// text on both databases; the expansion types them for `$store`'s one.
macro_rules! impl_case_store {
    ($store:ty) => {
        // A block of its own, so that these imports do not meet the module's.
        const _: () = {
            use std::collections::HashSet;

            use ::async_trait::async_trait;
            use ::chrono::{DateTime, NaiveDate, Utc};
            use ::smo_proto::{AccountId, CaseEvent, CaseStatus, Intent};

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::opening::{
                assign_round_robin, created_in_input_order, initial_status, insert_order, opening_events,
                outcomes,
            };
            use $crate::records::{
                CaseRecord, CursorRecord, EventRecord, count_from_sql, i64_from_u64, intent_from_sql,
                sql_text, status_counts,
            };
            use $crate::roster::agent_roster;
            use $crate::{
                Backend, CaseFilter, CaseRow, CaseStore, NewCase, OpenedCase, SourceCursor, StoreError,
            };

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
                    let roster = agent_roster(agents)?;
                    self.replace_agents(account, &roster).await
                }

                async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
                    select_active_agents(self.pool(), account).await
                }

                async fn open_cases(
                    &self,
                    account: &AccountId,
                    cases: &[NewCase],
                ) -> Result<Vec<OpenedCase>, StoreError> {
                    let planned = insert_order(cases);
                    if planned.is_empty() {
                        return Ok(Vec::new());
                    }
                    let now = Utc::now();
                    let mut tx = self.begin_write().await?;
                    let agents = select_active_agents(&mut *tx, account).await?;
                    let status = initial_status(agents.len());
                    let created_ids = Self::insert_cases(&mut tx, account, &planned, status, now).await?;

                    let mut case_ids = created_ids.clone();
                    let existing: Vec<&str> = planned
                        .iter()
                        .map(|case| case.post_id.as_str())
                        .filter(|post_id| !created_ids.contains_key(*post_id))
                        .collect();
                    if !existing.is_empty() {
                        case_ids.extend(Self::existing_case_ids(&mut tx, account, &existing).await?);
                    }

                    let created = created_in_input_order(cases, &created_ids);
                    let assignments = if created.is_empty() || agents.is_empty() {
                        Vec::new()
                    } else {
                        let first_ticket = take_tickets(&mut tx, account, created.len()).await?;
                        let assignments = assign_round_robin(&created, &agents, first_ticket);
                        Self::assign_agents(&mut tx, account, &assignments).await?;
                        assignments
                    };
                    let events = opening_events(&created, &assignments, agents.len(), now)?;
                    Self::append_events(&mut tx, account, &events).await?;
                    let created_set: HashSet<i64> = created.iter().map(|(id, _)| *id).collect();
                    let result = outcomes(cases, &case_ids, &created_set, &assignments)?;
                    tx.commit().await?;
                    Ok(result)
                }

                async fn list_cases(
                    &self,
                    account: &AccountId,
                    filter: CaseFilter,
                ) -> Result<Vec<CaseRow>, StoreError> {
                    let records: Vec<CaseRecord> = sqlx::query_as(Self::LIST_CASES_SQL)
                        .bind(account.as_str())
                        .bind(filter.status.map(CaseStatus::as_str))
                        .bind(filter.agent.as_deref())
                        .bind(filter.limit.map(i64::from))
                        .fetch_all(self.pool())
                        .await?;
                    records.into_iter().map(|record| record.into_case_row(account)).collect()
                }

                async fn case_events(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<CaseEvent>, StoreError> {
                    let records: Vec<EventRecord> = sqlx::query_as(Self::CASE_EVENTS_SQL)
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_all(self.pool())
                        .await?;
                    records.into_iter().map(|record| record.into_case_event(account)).collect()
                }

                async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError> {
                    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE account_id = $1")
                        .bind(account.as_str())
                        .fetch_one(self.pool())
                        .await?;
                    Ok(count_from_sql(count))
                }

                async fn cases_opened_between(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let count: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM cases
                         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3",
                    )
                    .bind(account.as_str())
                    .bind(Self::bind_time(from))
                    .bind(Self::bind_time(to))
                    .fetch_one(self.pool())
                    .await?;
                    Ok(count_from_sql(count))
                }

                async fn cases_opened_by_intent(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(Intent, u64)>, StoreError> {
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT intent, COUNT(*) FROM cases
                         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
                         GROUP BY intent ORDER BY intent",
                    )
                    .bind(account.as_str())
                    .bind(Self::bind_time(from))
                    .bind(Self::bind_time(to))
                    .fetch_all(self.pool())
                    .await?;
                    rows.into_iter()
                        .map(|(intent, count)| Ok((intent_from_sql(&intent)?, count_from_sql(count))))
                        .collect()
                }

                async fn cases_opened_per_day(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
                    let rows: Vec<(NaiveDate, i64)> = sqlx::query_as(Self::CASES_PER_DAY_SQL)
                        .bind(account.as_str())
                        .bind(Self::bind_time(from))
                        .bind(Self::bind_time(to))
                        .fetch_all(self.pool())
                        .await?;
                    Ok(rows.into_iter().map(|(day, count)| (day, count_from_sql(count))).collect())
                }

                async fn cases_by_status(
                    &self,
                    account: &AccountId,
                ) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT status, COUNT(*) FROM cases WHERE account_id = $1 GROUP BY status",
                    )
                    .bind(account.as_str())
                    .fetch_all(self.pool())
                    .await?;
                    status_counts(rows)
                }

                async fn get_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                ) -> Result<Option<SourceCursor>, StoreError> {
                    let record: Option<CursorRecord> = sqlx::query_as(
                        "SELECT source, cursor, updated_at, posts_fetched, last_error
                         FROM source_cursors
                         WHERE account_id = $1 AND source = $2",
                    )
                    .bind(account.as_str())
                    .bind(sql_text(source))
                    .fetch_optional(self.pool())
                    .await?;
                    Ok(record.map(SourceCursor::from))
                }

                async fn save_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                    cursor: &str,
                    posts_fetched_delta: u64,
                ) -> Result<(), StoreError> {
                    let delta = i64_from_u64(posts_fetched_delta, "posts_fetched_delta")?;
                    sqlx::query(
                        "INSERT INTO source_cursors
                             (account_id, source, cursor, updated_at, posts_fetched, last_error)
                         VALUES ($1, $2, $3, $4, $5, NULL)
                         ON CONFLICT (account_id, source) DO UPDATE SET
                             cursor = excluded.cursor,
                             updated_at = excluded.updated_at,
                             posts_fetched = source_cursors.posts_fetched + excluded.posts_fetched,
                             last_error = NULL",
                    )
                    .bind(account.as_str())
                    .bind(sql_text(source))
                    .bind(sql_text(cursor))
                    .bind(Self::bind_time(Utc::now()))
                    .bind(delta)
                    .execute(self.pool())
                    .await?;
                    Ok(())
                }

                async fn record_source_error(
                    &self,
                    account: &AccountId,
                    source: &str,
                    error: &str,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO source_cursors
                             (account_id, source, cursor, updated_at, posts_fetched, last_error)
                         VALUES ($1, $2, NULL, $3, 0, $4)
                         ON CONFLICT (account_id, source) DO UPDATE SET
                             updated_at = excluded.updated_at,
                             last_error = excluded.last_error",
                    )
                    .bind(account.as_str())
                    .bind(sql_text(source))
                    .bind(Self::bind_time(Utc::now()))
                    .bind(sql_text(error))
                    .execute(self.pool())
                    .await?;
                    Ok(())
                }

                async fn close(&self) {
                    self.pool().close().await;
                }
            }

            /// The account's active agents in rotation order, through the pool
            /// or inside a transaction.
            async fn select_active_agents<'c>(
                executor: impl sqlx::Executor<'c, Database = <$store as BackendSql>::Database>,
                account: &AccountId,
            ) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT name FROM agents WHERE account_id = $1 AND active ORDER BY position, name",
                )
                .bind(account.as_str())
                .fetch_all(executor)
                .await?)
            }

            /// Reserves `count` consecutive round-robin tickets and returns the
            /// first. The upsert takes the account's counter row lock, so
            /// concurrent batches get disjoint ticket ranges.
            async fn take_tickets(
                conn: &mut Conn<$store>,
                account: &AccountId,
                count: usize,
            ) -> Result<i64, StoreError> {
                let count = i64::try_from(count)
                    .map_err(|_| StoreError::InvalidInput("batch too large".to_owned()))?;
                let next: i64 = sqlx::query_scalar(
                    "INSERT INTO round_robin (account_id, next_position) VALUES ($1, $2)
                     ON CONFLICT (account_id)
                     DO UPDATE SET next_position = round_robin.next_position + excluded.next_position
                     RETURNING next_position",
                )
                .bind(account.as_str())
                .bind(count)
                .fetch_one(&mut *conn)
                .await?;
                Ok(next - count)
            }
        };
    };
}

pub(crate) use impl_case_store;
