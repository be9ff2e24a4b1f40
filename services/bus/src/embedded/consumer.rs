//! The embedded consumer: claiming ready messages and settling them (ack,
//! requeue, dead letter) only while this very delivery is still held.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use sqlx::Row;
use tokio::task::JoinHandle;
use tracing::warn;

use super::{Inner, db_error, decode_headers, now_ms};
use crate::{BusError, Consumer, Delivery};

/// Most messages one claim takes when the prefetch is unlimited (0).
const MAX_CLAIM: usize = 1000;

/// A message row as the consumer gets it.
pub(super) struct ClaimedRow {
    id: i64,
    deliveries: i64,
    exchange: String,
    routing_key: String,
    payload: Vec<u8>,
    headers: String,
    redelivered: bool,
}

pub(super) enum Claim {
    Rows {
        rows: Vec<ClaimedRow>,
        /// The consumer had lost its lease and registered again: every tag
        /// it handed out before is stale.
        reregistered: bool,
    },
    QueueGone,
}

impl Inner {
    /// Claims up to `limit` ready messages of `queue` for `consumer`.
    async fn claim(&self, consumer: &str, queue: &str, limit: usize) -> Result<Claim, BusError> {
        // Cheap read first: idle polls (and standbys of a single-active-
        // consumer queue) must not take the write lock.
        let Some(probe) = sqlx::query(
            "SELECT q.single_active_consumer,
                    EXISTS(SELECT 1 FROM bus_messages WHERE queue = ?1 AND consumer IS NULL),
                    (SELECT id FROM bus_consumers WHERE queue = ?1 AND heartbeat_ms + lease_ms >= ?2
                     ORDER BY seq LIMIT 1)
             FROM bus_queues q WHERE q.name = ?1",
        )
        .bind(queue)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        else {
            return Ok(Claim::QueueGone);
        };
        let single_active: bool = probe.try_get(0).map_err(db_error)?;
        let any_ready: bool = probe.try_get(1).map_err(db_error)?;
        let active: Option<String> = probe.try_get(2).map_err(db_error)?;
        if !any_ready || limit == 0 || (single_active && active.as_deref() != Some(consumer)) {
            return Ok(Claim::Rows { rows: Vec::new(), reregistered: false });
        }

        let now = now_ms();
        let (_gate, mut tx) = self.write().await?;
        let renewed = sqlx::query("UPDATE bus_consumers SET heartbeat_ms = ?1 WHERE id = ?2")
            .bind(now)
            .bind(consumer)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        let reregistered = renewed == 0;
        if reregistered {
            warn!(consumer, queue, "consumer lease had expired; registering again");
            self.register_in(&mut tx, consumer, queue, now).await?;
        }
        let Some(queue_row) = sqlx::query("SELECT single_active_consumer FROM bus_queues WHERE name = ?1")
            .bind(queue)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
        else {
            tx.commit().await.map_err(db_error)?;
            return Ok(Claim::QueueGone);
        };
        let single_active: bool = queue_row.try_get(0).map_err(db_error)?;
        if single_active {
            let active: Option<String> = sqlx::query(
                "SELECT id FROM bus_consumers WHERE queue = ?1 AND heartbeat_ms + lease_ms >= ?2
                 ORDER BY seq LIMIT 1",
            )
            .bind(queue)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(db_error)?;
            if active.as_deref() != Some(consumer) {
                tx.commit().await.map_err(db_error)?;
                return Ok(Claim::Rows { rows: Vec::new(), reregistered });
            }
        }
        let rows = sqlx::query(
            "UPDATE bus_messages SET consumer = ?1, deliveries = deliveries + 1
             WHERE id IN (SELECT id FROM bus_messages WHERE queue = ?2 AND consumer IS NULL
                          ORDER BY id LIMIT ?3)
             RETURNING id, deliveries, exchange, routing_key, payload, headers, redelivered",
        )
        .bind(consumer)
        .bind(queue)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            claimed.push(ClaimedRow {
                id: row.try_get(0).map_err(db_error)?,
                deliveries: row.try_get(1).map_err(db_error)?,
                exchange: row.try_get(2).map_err(db_error)?,
                routing_key: row.try_get(3).map_err(db_error)?,
                payload: row.try_get(4).map_err(db_error)?,
                headers: row.try_get(5).map_err(db_error)?,
                redelivered: row.try_get(6).map_err(db_error)?,
            });
        }
        claimed.sort_by_key(|row| row.id);
        Ok(Claim::Rows { rows: claimed, reregistered })
    }
}

/// A consumer of the embedded bus.
pub(super) struct EmbeddedConsumer {
    pub(super) inner: Arc<Inner>,
    pub(super) id: String,
    pub(super) queue: String,
    pub(super) max_in_flight: usize,
    pub(super) next_tag: u64,
    /// Our tag → (message id, its delivery count when we claimed it).
    pub(super) in_flight: BTreeMap<u64, (i64, i64)>,
    /// Claimed deliveries not yet handed out by `next`.
    pub(super) buffer: VecDeque<Delivery>,
    /// A claim under way; kept across cancelled `next` calls so a claim that
    /// committed is never lost.
    pub(super) pending: Option<JoinHandle<Result<Claim, BusError>>>,
    pub(super) heartbeat: JoinHandle<()>,
    pub(super) lease_lost: Arc<AtomicBool>,
    pub(super) cancelled: bool,
}

impl EmbeddedConsumer {
    fn forget_everything(&mut self) {
        self.in_flight.clear();
        self.buffer.clear();
    }

    fn unknown(tag: u64) -> BusError {
        BusError::Settle {
            tag,
            reason: "unknown delivery tag (already settled or never delivered)".to_owned(),
        }
    }

    fn not_held(tag: u64) -> BusError {
        BusError::Settle {
            tag,
            reason: "the message is no longer held by this consumer (its lease expired); it \
                     is redelivered"
                .to_owned(),
        }
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn next(&mut self) -> Result<Option<Delivery>, BusError> {
        loop {
            if self.lease_lost.swap(false, Ordering::SeqCst) {
                self.forget_everything();
            }
            if let Some(delivery) = self.buffer.pop_front() {
                return Ok(Some(delivery));
            }
            if self.cancelled {
                return Ok(None);
            }
            let inner = Arc::clone(&self.inner);
            let notified = inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let capacity = self.max_in_flight.saturating_sub(self.in_flight.len()).min(MAX_CLAIM);
            if capacity > 0 || self.pending.is_some() {
                let handle = self.pending.get_or_insert_with(|| {
                    let inner = Arc::clone(&self.inner);
                    let id = self.id.clone();
                    let queue = self.queue.clone();
                    tokio::spawn(async move { inner.claim(&id, &queue, capacity).await })
                });
                let result = handle.await;
                self.pending = None;
                match result {
                    Err(join_error) => {
                        return Err(BusError::Backend(format!("claim task failed: {join_error}")));
                    }
                    Ok(Err(error)) => return Err(error),
                    Ok(Ok(Claim::QueueGone)) => {
                        self.cancelled = true;
                        continue;
                    }
                    Ok(Ok(Claim::Rows { rows, reregistered })) => {
                        if reregistered {
                            self.forget_everything();
                        }
                        if !rows.is_empty() {
                            for row in rows {
                                let tag = self.next_tag;
                                self.next_tag += 1;
                                self.in_flight.insert(tag, (row.id, row.deliveries));
                                self.buffer.push_back(Delivery {
                                    tag,
                                    exchange: row.exchange,
                                    routing_key: row.routing_key,
                                    payload: row.payload,
                                    headers: decode_headers(&row.headers),
                                    redelivered: row.redelivered,
                                });
                            }
                            continue;
                        }
                    }
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.inner.options.poll_interval) => {}
            }
        }
    }

    async fn ack(&mut self, tag: u64, multiple: bool) -> Result<(), BusError> {
        if !self.in_flight.contains_key(&tag) {
            return Err(Self::unknown(tag));
        }
        let targets: Vec<(u64, (i64, i64))> = if multiple {
            self.in_flight.range(..=tag).map(|(tag, row)| (*tag, *row)).collect()
        } else {
            self.in_flight.get(&tag).map(|row| vec![(tag, *row)]).unwrap_or_default()
        };
        let (gate, mut tx) = self.inner.write().await?;
        let mut missing = 0usize;
        for (_, (id, deliveries)) in &targets {
            let deleted =
                sqlx::query("DELETE FROM bus_messages WHERE id = ?1 AND consumer = ?2 AND deliveries = ?3")
                    .bind(*id)
                    .bind(&self.id)
                    .bind(*deliveries)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
            if deleted == 0 {
                missing += 1;
            }
        }
        tx.commit().await.map_err(db_error)?;
        drop(gate);
        for (settled, _) in &targets {
            self.in_flight.remove(settled);
        }
        if missing > 0 {
            return Err(BusError::Settle {
                tag,
                reason: format!(
                    "{missing} of {} message(s) were no longer held by this consumer (lease \
                     expired); they are redelivered",
                    targets.len()
                ),
            });
        }
        Ok(())
    }

    async fn requeue(&mut self, tag: u64) -> Result<(), BusError> {
        let Some(&(id, deliveries)) = self.in_flight.get(&tag) else {
            return Err(Self::unknown(tag));
        };
        let (gate, mut tx) = self.inner.write().await?;
        let rows = sqlx::query(
            "UPDATE bus_messages SET consumer = NULL, redelivered = 1, returns = returns + 1
             WHERE id = ?1 AND consumer = ?2 AND deliveries = ?3
             RETURNING id, queue, returns",
        )
        .bind(id)
        .bind(&self.id)
        .bind(deliveries)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let returned = Inner::returned_rows(rows)?;
        Inner::enforce_delivery_limits(&mut tx, &returned).await?;
        tx.commit().await.map_err(db_error)?;
        drop(gate);
        self.in_flight.remove(&tag);
        self.inner.notify.notify_waiters();
        if returned.is_empty() {
            return Err(Self::not_held(tag));
        }
        Ok(())
    }

    async fn dead_letter(&mut self, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        let tag = delivery.tag;
        let Some(&(id, deliveries)) = self.in_flight.get(&tag) else {
            return Err(Self::unknown(tag));
        };
        let (gate, mut tx) = self.inner.write().await?;
        let held =
            sqlx::query("SELECT 1 FROM bus_messages WHERE id = ?1 AND consumer = ?2 AND deliveries = ?3")
                .bind(id)
                .bind(&self.id)
                .bind(deliveries)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .is_some();
        if !held {
            drop(tx);
            drop(gate);
            self.in_flight.remove(&tag);
            return Err(Self::not_held(tag));
        }
        // Copy in and original out in one transaction.
        Inner::dead_letter_row(&mut tx, id, reason, true).await?;
        tx.commit().await.map_err(db_error)?;
        drop(gate);
        self.in_flight.remove(&tag);
        self.inner.notify.notify_waiters();
        Ok(())
    }
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        self.heartbeat.abort();
        let pending = self.pending.take();
        let inner = Arc::clone(&self.inner);
        let id = std::mem::take(&mut self.id);
        // Best effort: without a runtime the lease brings the messages back.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Some(pending) = pending {
                    // A claim that committed must be released too.
                    let _ = pending.await;
                }
                if let Err(error) = inner.release_consumer(&id).await {
                    warn!(consumer = id, %error, "releasing a dropped consumer's messages failed; the lease will");
                }
            });
        }
    }
}
