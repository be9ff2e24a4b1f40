//! The outbox's two sides: operations write messages in their transaction
//! ([`insert_outbox`]); the delivery worker claims due messages under a
//! lease and records how each attempt ended.

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::{AccountId, CaseEventKind};

use crate::backend_sql::Conn;
use crate::lifecycle::Journal;
use crate::records::{OutboxRecord, sql_text};
use crate::sql::Sql;
use crate::{ClaimedMessage, DeliveryOutcome, OutboxMessage, SYSTEM_ACTOR, StoreError};

/// Writes a message for delivery after commit; its id.
pub(crate) async fn insert_outbox<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    case_id: Option<i64>,
    kind: &str,
    destination: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let text = serde_json::to_string(payload)
        .map_err(|error| StoreError::InvalidInput(format!("unencodable payload: {error}")))?;
    S::insert_outbox(conn, account, case_id, kind, destination, &text, now).await
}

/// See [`ResponseStore::pending_outbox`](crate::ResponseStore::pending_outbox).
pub(crate) async fn pending_outbox<S: Sql>(
    store: &S,
    account: &AccountId,
    limit: u32,
) -> Result<Vec<OutboxMessage>, StoreError> {
    store.select_pending_outbox(account, limit).await?.into_iter().map(OutboxRecord::into_message).collect()
}

/// See [`ResponseStore::claim_outbox`](crate::ResponseStore::claim_outbox).
pub(crate) async fn claim_outbox<S: Sql>(
    store: &S,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: u32,
) -> Result<Vec<ClaimedMessage>, StoreError> {
    let mut tx = store.begin_write().await?;
    let records = S::select_due_outbox_locked(&mut tx, now, limit).await?;
    let until = now + lease;
    let mut claimed = Vec::with_capacity(records.len());
    for record in records {
        let account = record.account_id.clone().unwrap_or_default();
        S::update_outbox_lease(&mut tx, record.id, until).await?;
        let account = AccountId::new(&account).map_err(|error| {
            StoreError::Corrupt(format!("outbox {} has account {account:?}: {error}", record.id))
        })?;
        claimed.push(ClaimedMessage { account, message: record.into_message()? });
    }
    tx.commit().await?;
    Ok(claimed)
}

/// See [`ResponseStore::finish_delivery`](crate::ResponseStore::finish_delivery).
pub(crate) async fn finish_delivery<S: Sql>(
    store: &S,
    account: &AccountId,
    outbox_id: i64,
    outcome: &DeliveryOutcome,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    let updated = S::update_outbox_attempt(&mut tx, account, outbox_id, outcome, now).await?;
    if updated == 0 {
        // Delivered already (by a worker whose lease ran out while sending)
        // or unknown: nothing to record.
        tx.commit().await?;
        return Ok(());
    }
    if let Some((reply_id, case_id)) = S::select_reply_of_outbox(&mut tx, account, outbox_id).await? {
        let mut journal = Journal::new(now);
        match outcome {
            DeliveryOutcome::Delivered => journal.record(
                case_id,
                CaseEventKind::ReplyDelivered { reply_id },
                SYSTEM_ACTOR,
                "the client's system accepted the reply",
            )?,
            DeliveryOutcome::Failed { error } => journal.record(
                case_id,
                CaseEventKind::ReplyFailed { reply_id, error: sql_text(error) },
                SYSTEM_ACTOR,
                "the reply could not be delivered; send it again or answer elsewhere",
            )?,
            DeliveryOutcome::Retry { .. } => {}
        }
        S::append_events(&mut tx, account, &journal.events).await?;
    }
    tx.commit().await?;
    Ok(())
}
