//! [`ResponseStore`](crate::ResponseStore) for both databases, written once
//! like the rest of the case store: [`impl_case_store!`](crate::backend_sql)
//! expands this inside its own block, so recording a reply uses the same
//! locked-case steps (routing lock, load, lifecycle decision, save, audit
//! log) as every other change to a case.

/// Expands `impl ResponseStore for $store`; only valid inside
/// `impl_case_store!`'s block, whose helpers it calls.
macro_rules! impl_response_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, TimeDelta, Utc};
            use ::smo_proto::{AccountId, CaseEventKind};
            use ::sqlx::AssertSqlSafe;

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::ops::outbox::insert_outbox;
            use $crate::lifecycle::{Journal, respond_with_reply};
            use $crate::records::{CannedRecord, NoteRecord, ReplyRecord, sql_text};
            use $crate::{
                CannedResponse, CaseNote, ClaimedMessage, DeliveryOutcome, NewReply, RecordedReply, ReplyRow,
                ResponseStore, StoreError,
            };

            const REPLY_COLUMNS: &str = "r.id, r.case_id, r.agent, r.body, r.language, r.canned, \
                 r.idempotency_key, r.in_reply_to_post, r.created_at, r.outbox_id, o.attempts, \
                 o.last_error, o.delivered_at, o.failed_at";

            async fn reply_by_key(
                conn: &mut Conn<$store>,
                account: &AccountId,
                key: &str,
            ) -> Result<Option<ReplyRow>, StoreError> {
                let sql = format!(
                    "SELECT {REPLY_COLUMNS} FROM case_replies r LEFT JOIN outbox o ON o.id = r.outbox_id
                     WHERE r.account_id = $1 AND r.idempotency_key = $2"
                );
                let record: Option<ReplyRecord> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.as_str())
                    .bind(sql_text(key))
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(record.map(ReplyRecord::into_row))
            }

            async fn latest_customer_post(
                conn: &mut Conn<$store>,
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

            #[async_trait]
            impl ResponseStore for $store {
                async fn record_reply(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                    reply: &NewReply,
                    now: DateTime<Utc>,
                ) -> Result<RecordedReply, StoreError> {
                    if reply.body.trim().is_empty() {
                        return Err(StoreError::InvalidInput("a reply needs a text".to_owned()));
                    }
                    if reply.idempotency_key.trim().is_empty() || reply.idempotency_key.len() > 200 {
                        return Err(StoreError::InvalidInput(
                            "an idempotency key is 1 to 200 characters".to_owned(),
                        ));
                    }
                    let mut tx = self.begin_write().await?;
                    Store::lock_routing(&mut tx, account).await?;
                    if let Some(earlier) = reply_by_key(&mut tx, account, &reply.idempotency_key).await? {
                        if earlier.case_id != case_id {
                            return Err(StoreError::Conflict(format!(
                                "idempotency key {:?} was used for case {}",
                                reply.idempotency_key, earlier.case_id
                            )));
                        }
                        let case = load_case_locked::<Store>(&mut tx, account, case_id).await?;
                        tx.commit().await?;
                        return Ok(RecordedReply { reply: earlier, case, duplicate: true });
                    }
                    let mut case = load_case_locked::<Store>(&mut tx, account, case_id).await?;
                    let in_reply_to = latest_customer_post(&mut tx, account, case_id).await?;
                    let body = sql_text(&reply.body);
                    // The reply id goes into the outbox payload, so the row
                    // comes first and learns its outbox message after.
                    let (reply_id,): (i64,) = sqlx::query_as(
                        "INSERT INTO case_replies (account_id, case_id, agent, body, language, canned,
                             idempotency_key, in_reply_to_post, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(sql_text(&reply.agent))
                    .bind(&body)
                    .bind(reply.language.as_deref().map(sql_text))
                    .bind(reply.canned.as_deref().map(sql_text))
                    .bind(sql_text(&reply.idempotency_key))
                    .bind(in_reply_to.clone())
                    .bind(<$store as BackendSql>::bind_time(now))
                    .fetch_one(&mut *tx)
                    .await?;
                    let mut journal = Journal::new(now);
                    let reason = match &reply.canned {
                        Some(name) => format!("replied with canned response {name}"),
                        None => "replied".to_owned(),
                    };
                    respond_with_reply(
                        &mut case,
                        &reply.agent,
                        reply.wait_on_customer,
                        Some(reply_id),
                        &reply.actor.replace('\0', ""),
                        reason,
                        &mut journal,
                    )?;
                    if let Some(destination) = &reply.destination {
                        let payload = ::serde_json::json!({
                            "event": "reply",
                            "account": account.as_str(),
                            "case_id": case_id,
                            "reply_id": reply_id,
                            "idempotency_key": reply.idempotency_key,
                            "agent": reply.agent,
                            "text": body,
                            "language": reply.language,
                            "canned": reply.canned,
                            "customer": case.author_handle,
                            "thread_id": case.thread_id.as_str(),
                            "in_reply_to_post": in_reply_to,
                            "created_at": now,
                        });
                        let outbox_id =
                            insert_outbox::<Store>(&mut tx, account, Some(case_id), "reply", destination, &payload, now)
                                .await?;
                        sqlx::query("UPDATE case_replies SET outbox_id = $1 WHERE account_id = $2 AND id = $3")
                            .bind(outbox_id)
                            .bind(account.as_str())
                            .bind(reply_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    save_all::<Store>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
                    <$store>::append_events(&mut tx, account, &journal.events).await?;
                    let recorded = reply_by_key(&mut tx, account, &reply.idempotency_key)
                        .await?
                        .ok_or_else(|| StoreError::Corrupt(format!("reply {reply_id} vanished")))?;
                    let case = load_case_locked::<Store>(&mut tx, account, case_id).await?;
                    tx.commit().await?;
                    Ok(RecordedReply { reply: recorded, case, duplicate: false })
                }

                async fn case_replies(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<ReplyRow>, StoreError> {
                    let sql = format!(
                        "SELECT {REPLY_COLUMNS} FROM case_replies r LEFT JOIN outbox o ON o.id = r.outbox_id
                         WHERE r.account_id = $1 AND r.case_id = $2 ORDER BY r.id"
                    );
                    let records: Vec<ReplyRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_all(self.pool())
                        .await?;
                    Ok(records.into_iter().map(ReplyRecord::into_row).collect())
                }

                async fn add_note(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                    author: &str,
                    body: &str,
                    now: DateTime<Utc>,
                ) -> Result<CaseNote, StoreError> {
                    if body.trim().is_empty() {
                        return Err(StoreError::InvalidInput("a note needs a text".to_owned()));
                    }
                    let mut tx = self.begin_write().await?;
                    Store::lock_routing(&mut tx, account).await?;
                    let mut case = load_case_locked::<Store>(&mut tx, account, case_id).await?;
                    let author = sql_text(author);
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO case_notes (account_id, case_id, author, body, created_at)
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(&author)
                    .bind(sql_text(body))
                    .bind(<$store as BackendSql>::bind_time(now))
                    .fetch_one(&mut *tx)
                    .await?;
                    let mut journal = Journal::new(now);
                    journal.record(case_id, CaseEventKind::NoteAdded { note_id: id }, &author, "note")?;
                    if case.assigned_agent.as_deref() == Some(author.as_str()) {
                        case.agent_acted_at = Some(now);
                        save_all::<Store>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
                    }
                    <$store>::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(CaseNote { id, case_id, author, body: sql_text(body), created_at: now })
                }

                async fn case_notes(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<CaseNote>, StoreError> {
                    let records: Vec<NoteRecord> = sqlx::query_as(
                        "SELECT id, case_id, author, body, created_at FROM case_notes
                         WHERE account_id = $1 AND case_id = $2 ORDER BY id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .fetch_all(self.pool())
                    .await?;
                    Ok(records.into_iter().map(NoteRecord::into_note).collect())
                }

                async fn put_canned(
                    &self,
                    account: &AccountId,
                    canned: &CannedResponse,
                ) -> Result<(), StoreError> {
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
                    .bind(<$store as BackendSql>::bind_time(canned.updated_at))
                    .execute(self.pool())
                    .await?;
                    Ok(())
                }

                async fn canned_responses(&self, account: &AccountId) -> Result<Vec<CannedResponse>, StoreError> {
                    let records: Vec<CannedRecord> = sqlx::query_as(
                        "SELECT name, language, body, updated_by, updated_at FROM canned_responses
                         WHERE account_id = $1 ORDER BY name, language",
                    )
                    .bind(account.as_str())
                    .fetch_all(self.pool())
                    .await?;
                    Ok(records.into_iter().map(CannedRecord::into_canned).collect())
                }

                async fn delete_canned(
                    &self,
                    account: &AccountId,
                    name: &str,
                    language: &str,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "DELETE FROM canned_responses WHERE account_id = $1 AND name = $2 AND language = $3",
                    )
                    .bind(account.as_str())
                    .bind(name)
                    .bind(language)
                    .execute(self.pool())
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn claim_outbox(
                    &self,
                    now: DateTime<Utc>,
                    lease: TimeDelta,
                    limit: u32,
                ) -> Result<Vec<ClaimedMessage>, StoreError> {
                    $crate::ops::outbox::claim_outbox(self, now, lease, limit).await
                }

                async fn finish_delivery(
                    &self,
                    account: &AccountId,
                    outbox_id: i64,
                    outcome: &DeliveryOutcome,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    $crate::ops::outbox::finish_delivery(self, account, outbox_id, outcome, now).await
                }
            }
        };
    };
}

pub(crate) use impl_response_store;
