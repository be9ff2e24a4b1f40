//! Replies, internal notes and canned responses.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{BackendSql, Conn};
use crate::records::{CannedRecord, NoteRecord, ReplyRecord};
use crate::{CannedResponse, NewReply, StoreError};

/// Reply, note and canned-response queries. Replies come joined with their
/// outbox message, which carries their delivery state.
pub(crate) trait ResponseSql: BackendSql {
    /// The reply recorded under an idempotency key.
    fn select_reply_by_key(
        conn: &mut Conn<Self>,
        account: &AccountId,
        key: &str,
    ) -> impl Future<Output = Result<Option<ReplyRecord>, StoreError>> + Send;

    /// A case's replies, oldest first.
    fn select_replies(
        &self,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Vec<ReplyRecord>, StoreError>> + Send;

    /// The post id of the case's latest customer post.
    fn select_latest_post(
        conn: &mut Conn<Self>,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Inserts a reply with the body `body` (cleaned); its id.
    fn insert_reply(
        conn: &mut Conn<Self>,
        account: &AccountId,
        case_id: i64,
        reply: &NewReply,
        body: &str,
        in_reply_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Links a reply to the outbox message that delivers it.
    fn update_reply_outbox(
        conn: &mut Conn<Self>,
        account: &AccountId,
        reply_id: i64,
        outbox_id: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts a note; its id.
    fn insert_note(
        conn: &mut Conn<Self>,
        account: &AccountId,
        case_id: i64,
        author: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// A case's notes, oldest first.
    fn select_notes(
        &self,
        account: &AccountId,
        case_id: i64,
    ) -> impl Future<Output = Result<Vec<NoteRecord>, StoreError>> + Send;

    /// Creates or replaces a canned response.
    fn upsert_canned(
        &self,
        account: &AccountId,
        canned: &CannedResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The account's canned responses by name and language.
    fn select_canned(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<CannedRecord>, StoreError>> + Send;

    /// Deletes one language version of a canned response; rows deleted.
    fn delete_canned_row(
        &self,
        account: &AccountId,
        name: &str,
        language: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

macro_rules! impl_response_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, Utc};
            use ::smo_proto::AccountId;
            use ::sqlx::AssertSqlSafe;

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::records::{CannedRecord, NoteRecord, ReplyRecord, sql_text};
            use $crate::sql::ResponseSql;
            use $crate::{CannedResponse, NewReply, StoreError};

            /// `SELECT` of the reply columns joined with their outbox message.
            const REPLIES: &str = "SELECT r.id, r.case_id, r.agent, r.body, r.language, r.canned, \
                 r.idempotency_key, r.in_reply_to_post, r.created_at, r.outbox_id, o.attempts, \
                 o.last_error, o.delivered_at, o.failed_at \
                 FROM case_replies r LEFT JOIN outbox o ON o.id = r.outbox_id";

            impl ResponseSql for $store {
                async fn select_reply_by_key(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    key: &str,
                ) -> Result<Option<ReplyRecord>, StoreError> {
                    let sql = format!("{REPLIES} WHERE r.account_id = $1 AND r.idempotency_key = $2");
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(sql_text(key))
                        .fetch_optional(&mut *conn)
                        .await?)
                }

                async fn select_replies(&self, account: &AccountId, case_id: i64) -> Result<Vec<ReplyRecord>, StoreError> {
                    let sql = format!("{REPLIES} WHERE r.account_id = $1 AND r.case_id = $2 ORDER BY r.id");
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_all(self.pool())
                        .await?)
                }

                async fn select_latest_post(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Option<String>, StoreError> {
                    let row: Option<(String,)> = sqlx::query_as(
                        "SELECT post_id FROM case_messages WHERE account_id = $1 AND case_id = $2
                         ORDER BY at DESC, id DESC LIMIT 1",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                    Ok(row.map(|(post,)| post))
                }

                async fn insert_reply(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    case_id: i64,
                    reply: &NewReply,
                    body: &str,
                    in_reply_to: Option<&str>,
                    now: DateTime<Utc>,
                ) -> Result<i64, StoreError> {
                    let (reply_id,): (i64,) = sqlx::query_as(
                        "INSERT INTO case_replies (account_id, case_id, agent, body, language, canned,
                             idempotency_key, in_reply_to_post, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(sql_text(&reply.agent))
                    .bind(body)
                    .bind(reply.language.as_deref().map(sql_text))
                    .bind(reply.canned.as_deref().map(sql_text))
                    .bind(sql_text(&reply.idempotency_key))
                    .bind(in_reply_to)
                    .bind(Self::bind_time(now))
                    .fetch_one(&mut *conn)
                    .await?;
                    Ok(reply_id)
                }

                async fn update_reply_outbox(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    reply_id: i64,
                    outbox_id: i64,
                ) -> Result<(), StoreError> {
                    sqlx::query("UPDATE case_replies SET outbox_id = $1 WHERE account_id = $2 AND id = $3")
                        .bind(outbox_id)
                        .bind(account.as_str())
                        .bind(reply_id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                }

                async fn insert_note(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    case_id: i64,
                    author: &str,
                    body: &str,
                    now: DateTime<Utc>,
                ) -> Result<i64, StoreError> {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO case_notes (account_id, case_id, author, body, created_at)
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(author)
                    .bind(body)
                    .bind(Self::bind_time(now))
                    .fetch_one(&mut *conn)
                    .await?;
                    Ok(id)
                }

                async fn select_notes(&self, account: &AccountId, case_id: i64) -> Result<Vec<NoteRecord>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT id, case_id, author, body, created_at FROM case_notes
                         WHERE account_id = $1 AND case_id = $2 ORDER BY id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn upsert_canned(&self, account: &AccountId, canned: &CannedResponse) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO canned_responses (account_id, name, language, body, updated_by, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (account_id, name, language)
                         DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,
                                       updated_at = excluded.updated_at",
                    )
                    .bind(account.as_str())
                    .bind(sql_text(&canned.name))
                    .bind(sql_text(&canned.language))
                    .bind(sql_text(&canned.body))
                    .bind(sql_text(&canned.updated_by))
                    .bind(Self::bind_time(canned.updated_at))
                    .execute(self.pool())
                    .await?;
                    Ok(())
                }

                async fn select_canned(&self, account: &AccountId) -> Result<Vec<CannedRecord>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT name, language, body, updated_by, updated_at FROM canned_responses
                         WHERE account_id = $1 ORDER BY name, language",
                    )
                    .bind(account.as_str())
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn delete_canned_row(&self, account: &AccountId, name: &str, language: &str) -> Result<u64, StoreError> {
                    Ok(sqlx::query("DELETE FROM canned_responses WHERE account_id = $1 AND name = $2 AND language = $3")
                        .bind(account.as_str())
                        .bind(name)
                        .bind(language)
                        .execute(self.pool())
                        .await?
                        .rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_response_sql;
