//! Replies to the customer: recorded with the case's response in one
//! transaction and, with a destination, handed to the outbox.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::Conn;
use crate::lifecycle::{Journal, respond_with_reply};
use crate::ops::cases::{load_case_locked, save_all};
use crate::ops::outbox::insert_outbox;
use crate::records::{ReplyRecord, sql_text};
use crate::sql::Sql;
use crate::{NewReply, RecordedReply, ReplyRow, StoreError};

/// See [`ResponseStore::record_reply`](crate::ResponseStore::record_reply).
pub(crate) async fn record_reply<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
    reply: &NewReply,
    now: DateTime<Utc>,
) -> Result<RecordedReply, StoreError> {
    if reply.body.trim().is_empty() {
        return Err(StoreError::InvalidInput("a reply needs a text".to_owned()));
    }
    if reply.idempotency_key.trim().is_empty() || reply.idempotency_key.len() > 200 {
        return Err(StoreError::InvalidInput("an idempotency key is 1 to 200 characters".to_owned()));
    }
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    if let Some(earlier) = reply_by_key::<S>(&mut tx, account, &reply.idempotency_key).await? {
        if earlier.case_id != case_id {
            return Err(StoreError::Conflict(format!(
                "idempotency key {:?} was used for case {}",
                reply.idempotency_key, earlier.case_id
            )));
        }
        let case = load_case_locked::<S>(&mut tx, account, case_id).await?;
        tx.commit().await?;
        return Ok(RecordedReply { reply: earlier, case, duplicate: true });
    }
    let mut case = load_case_locked::<S>(&mut tx, account, case_id).await?;
    let in_reply_to = S::select_latest_post(&mut tx, account, case_id).await?;
    let body = sql_text(&reply.body);
    // The reply id goes into the outbox payload, so the row
    // comes first and learns its outbox message after.
    let reply_id =
        S::insert_reply(&mut tx, account, case_id, reply, &body, in_reply_to.as_deref(), now).await?;
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
        let payload = serde_json::json!({
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
            insert_outbox::<S>(&mut tx, account, Some(case_id), "reply", destination, &payload, now).await?;
        S::update_reply_outbox(&mut tx, account, reply_id, outbox_id).await?;
    }
    save_all::<S>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
    let recorded = reply_by_key::<S>(&mut tx, account, &reply.idempotency_key)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("reply {reply_id} vanished")))?;
    let case = load_case_locked::<S>(&mut tx, account, case_id).await?;
    tx.commit().await?;
    Ok(RecordedReply { reply: recorded, case, duplicate: false })
}

/// See [`ResponseStore::case_replies`](crate::ResponseStore::case_replies).
pub(crate) async fn case_replies<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
) -> Result<Vec<ReplyRow>, StoreError> {
    Ok(store.select_replies(account, case_id).await?.into_iter().map(ReplyRecord::into_row).collect())
}

/// The reply recorded under an idempotency key, with its delivery state.
async fn reply_by_key<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    key: &str,
) -> Result<Option<ReplyRow>, StoreError> {
    Ok(S::select_reply_by_key(conn, account, key).await?.map(ReplyRecord::into_row))
}
