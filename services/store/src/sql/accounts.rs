//! Account-level rows outside cases: API tokens, community settings and
//! ingest cursors.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{BackendSql, Conn};
use crate::records::{CursorRecord, TokenRecord};
use crate::{NewToken, StoreError};

/// Token, settings and cursor queries.
pub(crate) trait AccountSql: BackendSql {
    /// Inserts a validated token; its id.
    fn insert_token(
        conn: &mut Conn<Self>,
        token: &NewToken,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The unrevoked token with this (lowercase) hash.
    fn select_token_by_hash(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;

    /// Tokens of `account` (`None`: all), newest first.
    fn select_tokens(
        &self,
        account: Option<&AccountId>,
    ) -> impl Future<Output = Result<Vec<TokenRecord>, StoreError>> + Send;

    /// Stamps an unrevoked token revoked; rows written.
    fn update_token_revoked(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores the settings document (JSON text).
    fn upsert_settings(
        &self,
        account: &AccountId,
        settings: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The settings document as JSON text.
    fn select_settings(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// One source's cursor row.
    fn select_cursor(
        &self,
        account: &AccountId,
        source: &str,
    ) -> impl Future<Output = Result<Option<CursorRecord>, StoreError>> + Send;

    /// Moves a source's cursor on, adds `delta` posts and clears its error.
    fn upsert_cursor(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        delta: i64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a source's last error, keeping its cursor.
    fn upsert_source_error(
        &self,
        account: &AccountId,
        source: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

macro_rules! impl_account_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, Utc};
            use ::smo_proto::AccountId;

            use ::sqlx::AssertSqlSafe;
            use $crate::backend_sql::{BackendSql, Conn};

            use $crate::records::{CursorRecord, TokenRecord, sql_text};
            use $crate::sql::AccountSql;
            use $crate::{NewToken, StoreError};

            impl AccountSql for $store {
                async fn insert_token(
                    conn: &mut Conn<Self>,
                    token: &NewToken,
                    now: DateTime<Utc>,
                ) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar(
                        "INSERT INTO api_tokens (token_hash, account_id, role, agent, name, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         RETURNING id",
                    )
                    .bind(token.token_hash.to_ascii_lowercase())
                    .bind(token.account.as_ref().map(AccountId::as_str))
                    .bind(token.role.as_str())
                    .bind(token.agent.as_deref())
                    .bind(sql_text(&token.name))
                    .bind(Self::bind_time(now))
                    .fetch_one(&mut *conn)
                    .await?)
                }

                async fn select_token_by_hash(
                    &self,
                    token_hash: &str,
                ) -> Result<Option<TokenRecord>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT id, account_id, role, agent, name, created_at, revoked_at
                         FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                    )
                    .bind(token_hash)
                    .fetch_optional(self.pool())
                    .await?)
                }

                async fn select_tokens(
                    &self,
                    account: Option<&AccountId>,
                ) -> Result<Vec<TokenRecord>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT id, account_id, role, agent, name, created_at, revoked_at
                         FROM api_tokens WHERE $1 IS NULL OR account_id = $1
                         ORDER BY id DESC",
                    )
                    .bind(account.map(AccountId::as_str))
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn update_token_revoked(&self, id: i64, now: DateTime<Utc>) -> Result<u64, StoreError> {
                    Ok(sqlx::query(
                        "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .bind(Self::bind_time(now))
                    .execute(self.pool())
                    .await?
                    .rows_affected())
                }
                async fn upsert_settings(
                    &self,
                    account: &AccountId,
                    settings: &str,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let sql = format!(
                        "INSERT INTO community_settings (account_id, settings, updated_at)
                         VALUES ($1, {}, $3)
                         ON CONFLICT (account_id) DO UPDATE SET
                             settings = excluded.settings, updated_at = excluded.updated_at",
                        Self::json_param("$2")
                    );
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(sql_text(settings))
                        .bind(Self::bind_time(now))
                        .execute(self.pool())
                        .await?;
                    Ok(())
                }

                async fn select_settings(&self, account: &AccountId) -> Result<Option<String>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM community_settings WHERE account_id = $1",
                        Self::json_text("settings")
                    );
                    Ok(sqlx::query_scalar(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .fetch_optional(self.pool())
                        .await?)
                }

                async fn select_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                ) -> Result<Option<CursorRecord>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT source, cursor, updated_at, posts_fetched, last_error
                         FROM source_cursors
                         WHERE account_id = $1 AND source = $2",
                    )
                    .bind(account.as_str())
                    .bind(sql_text(source))
                    .fetch_optional(self.pool())
                    .await?)
                }

                async fn upsert_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                    cursor: &str,
                    delta: i64,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
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
                    .bind(Self::bind_time(now))
                    .bind(delta)
                    .execute(self.pool())
                    .await?;
                    Ok(())
                }

                async fn upsert_source_error(
                    &self,
                    account: &AccountId,
                    source: &str,
                    error: &str,
                    now: DateTime<Utc>,
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
                    .bind(Self::bind_time(now))
                    .bind(sql_text(error))
                    .execute(self.pool())
                    .await?;
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use impl_account_sql;
