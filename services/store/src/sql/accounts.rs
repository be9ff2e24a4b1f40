//! Account-level rows outside cases: API tokens.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{BackendSql, Conn};
use crate::records::TokenRecord;
use crate::{NewToken, StoreError};

/// Token queries.
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
}

macro_rules! impl_account_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, Utc};
            use ::smo_proto::AccountId;

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::records::{TokenRecord, sql_text};
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
            }
        };
    };
}

pub(crate) use impl_account_sql;
