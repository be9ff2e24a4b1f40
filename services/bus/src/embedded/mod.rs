//! The embedded backend: a durable queue in one SQLite file, with the same
//! promises as the RabbitMQ backend so that `smo demo` and single-machine
//! deployments need no broker.
//!
//! * A publish is one transaction inserting one row per bound queue; it
//!   returns once committed. Routing (AMQP topic syntax) is done here.
//! * A consumer registers a row with a heartbeat, claims up to `prefetch`
//!   ready messages in one `UPDATE … RETURNING` and keeps them in flight.
//!   Settling checks that the row is still owned by this consumer (and by this
//!   very delivery of it).
//! * When a consumer's heartbeat is older than its lease — its process was
//!   killed, say — any live consumer of the same file puts its in-flight
//!   messages back with `redelivered = 1`. Several processes may share the
//!   file; write transactions are `BEGIN IMMEDIATE` with a busy timeout.
//! * A message returned more often than its queue's delivery limit is
//!   dead-lettered with the reason "delivery limit exceeded".

mod bus;
mod consumer;
mod dead_letters;
mod leases;
mod options;
mod routing;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::SqlitePool;
use sqlx::{Sqlite, Transaction};
use tokio::sync::{MutexGuard, Notify};
use tracing::warn;

use crate::{BusError, Headers};

pub use options::EmbeddedBusOptions;

/// Reason header value of messages dead-lettered by the delivery limit.
pub const DELIVERY_LIMIT_REASON: &str = "delivery limit exceeded";

/// The embedded [`Bus`](crate::Bus): a durable queue in a SQLite file. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EmbeddedBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBus").field("path", &self.inner.path).finish()
    }
}

struct Inner {
    pool: SqlitePool,
    options: EmbeddedBusOptions,
    /// Wakes this process's idle consumers when something became ready.
    notify: Notify,
    /// Serialises this process's write transactions, so they queue here
    /// instead of spinning on SQLite's busy handler.
    write_gate: tokio::sync::Mutex<()>,
    path: PathBuf,
}

type Tx = Transaction<'static, Sqlite>;

fn db_error(error: sqlx::Error) -> BusError {
    BusError::Backend(format!("sqlite: {error}"))
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn encode_headers(headers: &Headers) -> Result<String, BusError> {
    serde_json::to_string(headers).map_err(|error| BusError::Backend(error.to_string()))
}

fn decode_headers(text: &str) -> Headers {
    serde_json::from_str(text).unwrap_or_else(|error| {
        warn!(%error, "unreadable headers in the embedded queue; delivering without them");
        Headers::new()
    })
}

impl EmbeddedBus {
    /// The file this bus lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Deletes a queue with its messages and bindings; returns how many
    /// messages it held. Its consumers end (`next` gives `None`).
    pub async fn delete_queue(&self, name: &str) -> Result<u64, BusError> {
        let (_gate, mut tx) = self.inner.write().await?;
        let deleted = sqlx::query("DELETE FROM bus_messages WHERE queue = ?1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        sqlx::query("DELETE FROM bus_bindings WHERE queue = ?1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query("DELETE FROM bus_queues WHERE name = ?1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        self.inner.notify.notify_waiters();
        Ok(deleted)
    }

    /// Deletes an exchange and its bindings.
    pub async fn delete_exchange(&self, name: &str) -> Result<(), BusError> {
        let (_gate, mut tx) = self.inner.write().await?;
        sqlx::query("DELETE FROM bus_bindings WHERE exchange = ?1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query("DELETE FROM bus_exchanges WHERE name = ?1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }
}

impl Inner {
    /// A write transaction, taking this process's write gate first.
    async fn write(&self) -> Result<(MutexGuard<'_, ()>, Tx), BusError> {
        let gate = self.write_gate.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        Ok((gate, tx))
    }

    fn lease_ms(&self) -> i64 {
        millis(self.options.lease)
    }
}
