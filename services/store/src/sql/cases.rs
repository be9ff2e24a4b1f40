//! Case rows, their posts and audit log, and the account's routing lock and
//! ticket counter.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{BackendSql, Conn};
use crate::records::{CaseRecord, EventRecord, MessageRecord};
use crate::{CaseFilter, StoreError};

/// Case queries. `_locked` ones lock the rows they return until commit
/// (PostgreSQL; SQLite's one writer needs no row locks).
pub(crate) trait CaseSql: BackendSql {
    /// Takes the account's routing lock for the rest of the transaction.
    fn lock_routing(
        conn: &mut Conn<Self>,
        account: &AccountId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The account's next assignment ticket, its counter row locked until
    /// commit; [`CaseSql::set_tickets`] moves it on.
    fn take_tickets(
        conn: &mut Conn<Self>,
        account: &AccountId,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Sets the account's next assignment ticket.
    fn set_tickets(
        conn: &mut Conn<Self>,
        account: &AccountId,
        next: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One case.
    fn select_case(
        &self,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Option<CaseRecord>, StoreError>> + Send;

    /// One case, locked.
    fn select_case_locked(
        conn: &mut Conn<Self>,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Option<CaseRecord>, StoreError>> + Send;

    /// The cases `agent` holds in `assigned`, locked, by id.
    fn select_held_locked(
        conn: &mut Conn<Self>,
        account: &AccountId,
        agent: &str,
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// Assigned cases given at or before `before` whose agent has not acted
    /// since, locked, by id.
    fn select_stale_locked(
        conn: &mut Conn<Self>,
        account: &AccountId,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// Up to `limit` queued cases, most urgent first, locked, skipping cases
    /// other transactions hold.
    fn select_queued_locked(
        conn: &mut Conn<Self>,
        account: &AccountId,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// Active cases whose SLA clock is due before `due_before`, soonest first.
    fn select_sla_due(
        &self,
        account: &AccountId,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// Cases matching `filter`, most urgent first.
    fn select_cases(
        &self,
        account: &AccountId,
        filter: &CaseFilter,
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// A case's customer posts, oldest first.
    fn select_messages(
        &self,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Vec<MessageRecord>, StoreError>> + Send;

    /// A case's audit log, oldest first.
    fn select_events(
        &self,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Vec<EventRecord>, StoreError>> + Send;

    /// Records that escalation `rule` fired on a case in `sla_round`; rows
    /// written (0: it had fired already).
    fn insert_escalation(
        conn: &mut Conn<Self>,
        account: &AccountId,
        case_id: i64,
        sla_round: i64,
        rule: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

macro_rules! impl_case_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, Utc};
            use ::smo_proto::{AccountId, CaseStatus};
            use ::sqlx::AssertSqlSafe;

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::records::{CaseRecord, EventRecord, MessageRecord, case_columns};
            use $crate::sql::CaseSql;
            use $crate::{CaseFilter, StoreError};

            /// `SELECT` of the case columns from `cases` with `rest` after it.
            fn cases_where(rest: &str) -> String {
                format!("SELECT {} FROM cases {rest}", case_columns(&<$store>::json_text("tags")))
            }

            impl CaseSql for $store {
                async fn lock_routing(conn: &mut Conn<Self>, account: &AccountId) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO routing_locks (account_id) VALUES ($1)
                         ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id",
                    )
                    .bind(account.as_str())
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                }

                async fn take_tickets(conn: &mut Conn<Self>, account: &AccountId) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar(
                        "INSERT INTO round_robin (account_id, next_position) VALUES ($1, 0)
                         ON CONFLICT (account_id)
                         DO UPDATE SET next_position = round_robin.next_position
                         RETURNING next_position",
                    )
                    .bind(account.as_str())
                    .fetch_one(&mut *conn)
                    .await?)
                }

                async fn set_tickets(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    next: i64,
                ) -> Result<(), StoreError> {
                    sqlx::query("UPDATE round_robin SET next_position = $2 WHERE account_id = $1")
                        .bind(account.as_str())
                        .bind(next)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                }

                async fn select_case(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Option<CaseRecord>, StoreError> {
                    let sql = cases_where("WHERE account_id = $1 AND id = $2");
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_optional(self.pool())
                        .await?)
                }

                async fn select_case_locked(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Option<CaseRecord>, StoreError> {
                    let sql = cases_where(&format!("WHERE account_id = $1 AND id = $2 {}", Self::LOCK_ROWS));
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_optional(&mut *conn)
                        .await?)
                }

                async fn select_held_locked(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    agent: &str,
                ) -> Result<Vec<CaseRecord>, StoreError> {
                    let sql = cases_where(&format!(
                        "WHERE account_id = $1 AND assigned_agent = $2 AND status = 'assigned'
                         ORDER BY id {}",
                        Self::LOCK_ROWS
                    ));
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(agent)
                        .fetch_all(&mut *conn)
                        .await?)
                }

                async fn select_stale_locked(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    before: DateTime<Utc>,
                ) -> Result<Vec<CaseRecord>, StoreError> {
                    let sql = cases_where(&format!(
                        "WHERE account_id = $1 AND status = 'assigned' AND assigned_at <= $2
                           AND (agent_acted_at IS NULL OR agent_acted_at < assigned_at)
                         ORDER BY id {}",
                        Self::LOCK_ROWS
                    ));
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(Self::bind_time(before))
                        .fetch_all(&mut *conn)
                        .await?)
                }

                async fn select_queued_locked(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    limit: i64,
                ) -> Result<Vec<CaseRecord>, StoreError> {
                    let sql = cases_where(&format!(
                        "WHERE account_id = $1 AND status = 'queued'
                         ORDER BY level DESC, sla_due_at ASC NULLS LAST, priority DESC, opened_at, id
                         LIMIT $2 {}",
                        Self::LOCK_SKIP_LOCKED
                    ));
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(limit)
                        .fetch_all(&mut *conn)
                        .await?)
                }

                async fn select_sla_due(
                    &self,
                    account: &AccountId,
                    due_before: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<CaseRecord>, StoreError> {
                    let sql = cases_where(
                        "WHERE account_id = $1 AND sla_due_at IS NOT NULL AND sla_due_at < $2
                           AND status IN ('new', 'queued', 'assigned')
                         ORDER BY sla_due_at, id
                         LIMIT $3",
                    );
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(Self::bind_time(due_before))
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await?)
                }

                async fn select_cases(
                    &self,
                    account: &AccountId,
                    filter: &CaseFilter,
                ) -> Result<Vec<CaseRecord>, StoreError> {
                    Ok(sqlx::query_as(AssertSqlSafe(Self::list_cases_sql()))
                        .bind(account.as_str())
                        .bind(filter.status.map(CaseStatus::as_str))
                        .bind(filter.agent.as_deref())
                        .bind(filter.limit.map(i64::from))
                        .fetch_all(self.pool())
                        .await?)
                }

                async fn select_messages(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<MessageRecord>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT case_id, post_id, author_handle, intent, text_excerpt, at, received_at
                         FROM case_messages
                         WHERE account_id = $1 AND case_id = $2
                         ORDER BY at, id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn select_events(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<EventRecord>, StoreError> {
                    Ok(sqlx::query_as(Self::CASE_EVENTS_SQL)
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_all(self.pool())
                        .await?)
                }

                async fn insert_escalation(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    case_id: i64,
                    sla_round: i64,
                    rule: &str,
                    now: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    Ok(sqlx::query(
                        "INSERT INTO case_escalations (account_id, case_id, sla_round, rule, fired_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(sla_round)
                    .bind(rule)
                    .bind(Self::bind_time(now))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_case_sql;
