//! The outbox: messages written in the transaction that caused them and
//! delivered after commit, at least once.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{BackendSql, Conn};
use crate::records::OutboxRecord;
use crate::{DeliveryOutcome, StoreError};

/// Outbox queries.
pub(crate) trait OutboxSql: BackendSql {
    /// Writes a message (its payload as JSON text) due now; its id.
    fn insert_outbox(
        conn: &mut Conn<Self>,
        account: &AccountId,
        case_id: Option<i64>,
        kind: &str,
        destination: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The account's undelivered messages, oldest due first.
    fn select_pending_outbox(
        &self,
        account: &AccountId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRecord>, StoreError>> + Send;

    /// Up to `limit` messages of every account due at `now`, with their
    /// account, locked, skipping messages other workers hold.
    fn select_due_outbox_locked(
        conn: &mut Conn<Self>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxRecord>, StoreError>> + Send;

    /// Hides a claimed message from other workers until `until`.
    fn update_outbox_lease(
        conn: &mut Conn<Self>,
        id: i64,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a delivery attempt of an undelivered message; rows written.
    fn update_outbox_attempt(
        conn: &mut Conn<Self>,
        account: &AccountId,
        id: i64,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// (reply id, case id) of the reply a message delivers, if any.
    fn select_reply_of_outbox(
        conn: &mut Conn<Self>,
        account: &AccountId,
        id: i64,
    ) -> impl Future<Output = Result<Option<(i64, i64)>, StoreError>> + Send;
}

macro_rules! impl_outbox_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, Utc};
            use ::smo_proto::AccountId;
            use ::sqlx::AssertSqlSafe;

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::records::{OutboxRecord, sql_text};
            use $crate::sql::OutboxSql;
            use $crate::{DeliveryOutcome, StoreError};

            impl OutboxSql for $store {
                async fn insert_outbox(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    case_id: Option<i64>,
                    kind: &str,
                    destination: &str,
                    payload: &str,
                    now: DateTime<Utc>,
                ) -> Result<i64, StoreError> {
                    let sql = format!(
                        "INSERT INTO outbox (account_id, case_id, kind, destination, payload, created_at, next_attempt_at)
                         VALUES ($1, $2, $3, $4, {}, $6, $6) RETURNING id",
                        Self::json_param("$5")
                    );
                    let (id,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(case_id)
                        .bind(kind)
                        .bind(sql_text(destination))
                        .bind(sql_text(payload))
                        .bind(Self::bind_time(now))
                        .fetch_one(&mut *conn)
                        .await?;
                    Ok(id)
                }

                async fn select_pending_outbox(
                    &self,
                    account: &AccountId,
                    limit: u32,
                ) -> Result<Vec<OutboxRecord>, StoreError> {
                    let sql = format!(
                        "SELECT id, case_id, kind, destination, {} AS payload, created_at, attempts
                         FROM outbox
                         WHERE account_id = $1 AND delivered_at IS NULL
                         ORDER BY next_attempt_at, id
                         LIMIT $2",
                        Self::json_text("payload")
                    );
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await?)
                }

                async fn select_due_outbox_locked(
                    conn: &mut Conn<Self>,
                    now: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<OutboxRecord>, StoreError> {
                    let sql = format!(
                        "SELECT id, account_id, case_id, kind, destination, {} AS payload, created_at, attempts
                         FROM outbox
                         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                         ORDER BY next_attempt_at, id
                         LIMIT $2 {}",
                        Self::json_text("payload"),
                        Self::LOCK_SKIP_LOCKED,
                    );
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(Self::bind_time(now))
                        .bind(i64::from(limit))
                        .fetch_all(&mut *conn)
                        .await?)
                }

                async fn update_outbox_lease(conn: &mut Conn<Self>, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
                    sqlx::query("UPDATE outbox SET next_attempt_at = $1 WHERE id = $2")
                        .bind(Self::bind_time(until))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                }

                async fn update_outbox_attempt(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    id: i64,
                    outcome: &DeliveryOutcome,
                    now: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let stamp = Self::bind_time(now);
                    Ok(match outcome {
                        DeliveryOutcome::Delivered => sqlx::query(
                            "UPDATE outbox SET attempts = attempts + 1, delivered_at = $3, last_error = NULL
                             WHERE account_id = $1 AND id = $2 AND delivered_at IS NULL",
                        )
                        .bind(account.as_str())
                        .bind(id)
                        .bind(stamp),
                        DeliveryOutcome::Retry { at, error } => sqlx::query(
                            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4
                             WHERE account_id = $1 AND id = $2 AND delivered_at IS NULL",
                        )
                        .bind(account.as_str())
                        .bind(id)
                        .bind(Self::bind_time(*at))
                        .bind(sql_text(error)),
                        DeliveryOutcome::Failed { error } => sqlx::query(
                            "UPDATE outbox SET attempts = attempts + 1, failed_at = $3, last_error = $4
                             WHERE account_id = $1 AND id = $2 AND delivered_at IS NULL",
                        )
                        .bind(account.as_str())
                        .bind(id)
                        .bind(stamp)
                        .bind(sql_text(error)),
                    }
                    .execute(&mut *conn)
                    .await?
                    .rows_affected())
                }

                async fn select_reply_of_outbox(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    id: i64,
                ) -> Result<Option<(i64, i64)>, StoreError> {
                    Ok(sqlx::query_as("SELECT id, case_id FROM case_replies WHERE account_id = $1 AND outbox_id = $2")
                        .bind(account.as_str())
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?)
                }
            }
        };
    };
}

pub(crate) use impl_outbox_sql;
