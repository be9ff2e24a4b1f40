//! Consumer registration and leases: heartbeats, and returning the in-flight
//! messages of consumers that closed or whose lease expired.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::Row;
use tracing::{debug, warn};

use super::{Inner, Tx, db_error, now_ms};
use crate::BusError;

impl Inner {
    /// Returns every in-flight message of `consumer` to its queue and forgets
    /// the consumer.
    async fn release_consumer_in(tx: &mut Tx, consumer: &str) -> Result<usize, BusError> {
        let rows = sqlx::query(
            "UPDATE bus_messages SET consumer = NULL, redelivered = 1, returns = returns + 1
             WHERE consumer = ?1 RETURNING id, queue, returns",
        )
        .bind(consumer)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?;
        let returned = Self::returned_rows(rows)?;
        Self::enforce_delivery_limits(tx, &returned).await?;
        sqlx::query("DELETE FROM bus_consumers WHERE id = ?1")
            .bind(consumer)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        Ok(returned.len())
    }

    pub(super) async fn release_consumer(&self, consumer: &str) -> Result<(), BusError> {
        let (_gate, mut tx) = self.write().await?;
        let released = Self::release_consumer_in(&mut tx, consumer).await?;
        tx.commit().await.map_err(db_error)?;
        if released > 0 {
            debug!(consumer, released, "released the in-flight messages of a closed consumer");
        }
        self.notify.notify_waiters();
        Ok(())
    }

    /// Renews `consumer`'s heartbeat (registering it again if its lease had
    /// expired; returns true then) and reaps consumers whose lease expired.
    async fn heartbeat(&self, consumer: &str, queue: &str) -> Result<bool, BusError> {
        let now = now_ms();
        let (_gate, mut tx) = self.write().await?;
        let renewed = sqlx::query("UPDATE bus_consumers SET heartbeat_ms = ?1 WHERE id = ?2")
            .bind(now)
            .bind(consumer)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        let lost = renewed == 0;
        if lost {
            warn!(
                consumer,
                queue, "consumer lease had expired (its messages went to others); registering again"
            );
            self.register_in(&mut tx, consumer, queue, now).await?;
        }
        let expired = sqlx::query("SELECT id FROM bus_consumers WHERE heartbeat_ms + lease_ms < ?1")
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let mut released = 0;
        for row in expired {
            let id: String = row.try_get(0).map_err(db_error)?;
            let count = Self::release_consumer_in(&mut tx, &id).await?;
            warn!(
                consumer = id,
                released = count,
                "consumer lease expired; redelivering its in-flight messages"
            );
            released += count;
        }
        tx.commit().await.map_err(db_error)?;
        if released > 0 {
            self.notify.notify_waiters();
        }
        Ok(lost)
    }

    pub(super) async fn register_in(
        &self,
        tx: &mut Tx,
        consumer: &str,
        queue: &str,
        now: i64,
    ) -> Result<(), BusError> {
        sqlx::query(
            "INSERT INTO bus_consumers (id, queue, heartbeat_ms, lease_ms, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(consumer)
        .bind(queue)
        .bind(now)
        .bind(self.lease_ms())
        .bind(i64::from(std::process::id()))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

pub(super) async fn heartbeat_loop(
    inner: Arc<Inner>,
    id: String,
    queue: String,
    lease_lost: Arc<AtomicBool>,
) {
    let mut ticker = tokio::time::interval(inner.options.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match inner.heartbeat(&id, &queue).await {
            Ok(true) => lease_lost.store(true, Ordering::SeqCst),
            Ok(false) => {}
            Err(error) => warn!(consumer = id, %error, "consumer heartbeat failed"),
        }
    }
}
