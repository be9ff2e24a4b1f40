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

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use smo_proto::topology::{ORIGINAL_KEY_HEADER, REASON_HEADER};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::{MutexGuard, Notify};
use tokio::task::JoinHandle;
use tracing::{debug, error, warn};

use crate::topology::topic_matches;
use crate::{Bus, BusError, ConsumeSpec, Consumer, Delivery, Headers, OutgoingMessage, QueueSpec};

/// Reason header value of messages dead-lettered by the delivery limit.
pub const DELIVERY_LIMIT_REASON: &str = "delivery limit exceeded";
/// Most messages one claim takes when the prefetch is unlimited (0).
const MAX_CLAIM: usize = 1000;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS bus_exchanges (name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS bus_queues (
        name TEXT PRIMARY KEY NOT NULL,
        dead_letter_exchange TEXT,
        dead_letter_key TEXT,
        single_active_consumer INTEGER NOT NULL,
        delivery_limit INTEGER
    ) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS bus_bindings (
        exchange TEXT NOT NULL,
        pattern TEXT NOT NULL,
        queue TEXT NOT NULL,
        PRIMARY KEY (exchange, pattern, queue)
    ) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS bus_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        exchange TEXT NOT NULL,
        routing_key TEXT NOT NULL,
        payload BLOB NOT NULL,
        headers TEXT NOT NULL,
        redelivered INTEGER NOT NULL DEFAULT 0,
        returns INTEGER NOT NULL DEFAULT 0,
        deliveries INTEGER NOT NULL DEFAULT 0,
        consumer TEXT
    )",
    "CREATE INDEX IF NOT EXISTS bus_messages_ready ON bus_messages (queue, consumer, id)",
    "CREATE INDEX IF NOT EXISTS bus_messages_in_flight ON bus_messages (consumer)
        WHERE consumer IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS bus_consumers (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        queue TEXT NOT NULL,
        heartbeat_ms INTEGER NOT NULL,
        lease_ms INTEGER NOT NULL,
        pid INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS bus_consumers_by_queue ON bus_consumers (queue, seq)",
];

/// Tuning of [`EmbeddedBus`]: leases, polling and SQLite settings.
#[derive(Debug, Clone)]
pub struct EmbeddedBusOptions {
    /// How long a consumer may go without a heartbeat before its in-flight
    /// messages are redelivered to others.
    pub lease: Duration,
    /// How often a consumer renews its heartbeat (and reaps expired
    /// consumers); well below `lease`.
    pub heartbeat_interval: Duration,
    /// How often an idle consumer looks for messages published by other
    /// processes (publishes in this process wake it at once).
    pub poll_interval: Duration,
    /// How long a write waits for another process's write lock.
    pub busy_timeout: Duration,
    /// Connections in the pool.
    pub max_connections: u32,
    /// `synchronous=FULL` (durable across power loss) rather than `NORMAL`
    /// (durable across process crashes only, faster).
    pub synchronous_full: bool,
}

impl Default for EmbeddedBusOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            busy_timeout: Duration::from_secs(30),
            max_connections: 4,
            synchronous_full: true,
        }
    }
}

impl EmbeddedBusOptions {
    /// Sets the lease and a heartbeat interval of a third of it.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self.heartbeat_interval = (lease / 3).max(Duration::from_millis(10));
        self
    }
}

/// The embedded [`Bus`]: a durable queue in a SQLite file. Cheap to clone.
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
    /// Opens (creating if missing) the queue file at `path` and its schema.
    pub async fn open(path: &Path, options: EmbeddedBusOptions) -> Result<Self, BusError> {
        let mut options = options;
        options.poll_interval = options.poll_interval.max(Duration::from_millis(1));
        options.heartbeat_interval = options.heartbeat_interval.max(Duration::from_millis(10));
        if options.heartbeat_interval >= options.lease {
            warn!(
                lease = ?options.lease,
                heartbeat = ?options.heartbeat_interval,
                "embedded bus heartbeat interval not below the lease; using a third of the lease"
            );
            options.heartbeat_interval = (options.lease / 3).max(Duration::from_millis(10));
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(options.busy_timeout)
            .synchronous(if options.synchronous_full {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            });
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .connect_with(connect)
            .await
            .map_err(|error| BusError::Connection(format!("opening {}: {error}", path.display())))?;
        let inner = Arc::new(Inner {
            pool,
            options,
            notify: Notify::new(),
            write_gate: tokio::sync::Mutex::new(()),
            path: path.to_owned(),
        });
        {
            let (_gate, mut tx) = inner.write().await?;
            for statement in SCHEMA {
                sqlx::query(*statement).execute(&mut *tx).await.map_err(db_error)?;
            }
            tx.commit().await.map_err(db_error)?;
        }
        Ok(Self { inner })
    }

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

/// A message row as the consumer gets it.
struct ClaimedRow {
    id: i64,
    deliveries: i64,
    exchange: String,
    routing_key: String,
    payload: Vec<u8>,
    headers: String,
    redelivered: bool,
}

enum Claim {
    Rows {
        rows: Vec<ClaimedRow>,
        /// The consumer had lost its lease and registered again: every tag
        /// it handed out before is stale.
        reregistered: bool,
    },
    QueueGone,
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

    /// Queues bound to `exchange` whose pattern matches `routing_key`, or
    /// `None` when the exchange does not exist.
    async fn bindings(tx: &mut Tx, exchange: &str) -> Result<Option<Vec<(String, String)>>, BusError> {
        let exists = sqlx::query("SELECT 1 FROM bus_exchanges WHERE name = ?1")
            .bind(exchange)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_error)?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let rows = sqlx::query("SELECT queue, pattern FROM bus_bindings WHERE exchange = ?1")
            .bind(exchange)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_error)?;
        let mut bindings = Vec::with_capacity(rows.len());
        for row in rows {
            bindings.push((
                row.try_get::<String, _>(0).map_err(db_error)?,
                row.try_get::<String, _>(1).map_err(db_error)?,
            ));
        }
        Ok(Some(bindings))
    }

    fn route(bindings: &[(String, String)], routing_key: &str) -> BTreeSet<String> {
        bindings
            .iter()
            .filter(|(_, pattern)| topic_matches(pattern, routing_key))
            .map(|(queue, _)| queue.clone())
            .collect()
    }

    async fn insert_message(
        tx: &mut Tx,
        queue: &str,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        headers: &str,
    ) -> Result<(), BusError> {
        sqlx::query(
            "INSERT INTO bus_messages (queue, exchange, routing_key, payload, headers)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(queue)
        .bind(exchange)
        .bind(routing_key)
        .bind(payload)
        .bind(headers)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Moves message `id` to its queue's dead-letter target. With `strict`,
    /// an unroutable dead letter is an error (the message stays); without,
    /// it is dropped with an error log, as RabbitMQ does.
    async fn dead_letter_row(tx: &mut Tx, id: i64, reason: &str, strict: bool) -> Result<(), BusError> {
        let Some(row) = sqlx::query(
            "SELECT m.routing_key, m.payload, m.headers, q.dead_letter_exchange, q.dead_letter_key, m.queue
             FROM bus_messages m LEFT JOIN bus_queues q ON q.name = m.queue
             WHERE m.id = ?1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?
        else {
            return Ok(());
        };
        let routing_key: String = row.try_get(0).map_err(db_error)?;
        let payload: Vec<u8> = row.try_get(1).map_err(db_error)?;
        let headers: String = row.try_get(2).map_err(db_error)?;
        let target_exchange: Option<String> = row.try_get(3).map_err(db_error)?;
        let target_key: Option<String> = row.try_get(4).map_err(db_error)?;
        let queue: String = row.try_get(5).map_err(db_error)?;

        let (Some(exchange), Some(key)) = (target_exchange, target_key) else {
            warn!(queue, id, reason, "queue has no dead-letter target; dropping the message");
            return Self::delete_message(tx, id).await;
        };
        let queues = match Self::bindings(tx, &exchange).await? {
            Some(bindings) => Self::route(&bindings, &key),
            None => BTreeSet::new(),
        };
        if queues.is_empty() {
            if strict {
                return Err(BusError::NotConfirmed {
                    exchange,
                    routing_key: key,
                    reason: "dead letter unroutable: no queue bound for its routing key".to_owned(),
                });
            }
            error!(queue, id, reason, exchange, key, "dead letter unroutable; dropping the message");
            return Self::delete_message(tx, id).await;
        }
        let mut headers = decode_headers(&headers);
        headers.insert(REASON_HEADER.to_owned(), reason.to_owned());
        headers.insert(ORIGINAL_KEY_HEADER.to_owned(), routing_key);
        let headers = encode_headers(&headers)?;
        for target in &queues {
            Self::insert_message(tx, target, &exchange, &key, &payload, &headers).await?;
        }
        Self::delete_message(tx, id).await
    }

    async fn delete_message(tx: &mut Tx, id: i64) -> Result<(), BusError> {
        sqlx::query("DELETE FROM bus_messages WHERE id = ?1")
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Dead-letters those of the just-returned `(id, queue, returns)` rows
    /// whose queue's delivery limit they exceed.
    async fn enforce_delivery_limits(tx: &mut Tx, returned: &[(i64, String, i64)]) -> Result<(), BusError> {
        let mut limits: HashMap<&str, Option<i64>> = HashMap::new();
        for (id, queue, returns) in returned {
            let limit = match limits.get(queue.as_str()) {
                Some(limit) => *limit,
                None => {
                    let limit = sqlx::query("SELECT delivery_limit FROM bus_queues WHERE name = ?1")
                        .bind(queue)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db_error)?
                        .map(|row| row.try_get::<Option<i64>, _>(0))
                        .transpose()
                        .map_err(db_error)?
                        .flatten();
                    limits.insert(queue.as_str(), limit);
                    limit
                }
            };
            if let Some(limit) = limit
                && *returns > limit
            {
                debug!(queue, id, returns, limit, "delivery limit exceeded; dead-lettering");
                Self::dead_letter_row(tx, *id, DELIVERY_LIMIT_REASON, false).await?;
            }
        }
        Ok(())
    }

    fn returned_rows(rows: Vec<sqlx::sqlite::SqliteRow>) -> Result<Vec<(i64, String, i64)>, BusError> {
        rows.into_iter()
            .map(|row| {
                Ok((
                    row.try_get(0).map_err(db_error)?,
                    row.try_get(1).map_err(db_error)?,
                    row.try_get(2).map_err(db_error)?,
                ))
            })
            .collect()
    }

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

    async fn release_consumer(&self, consumer: &str) -> Result<(), BusError> {
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

    async fn register_in(&self, tx: &mut Tx, consumer: &str, queue: &str, now: i64) -> Result<(), BusError> {
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

    /// Claims up to `limit` ready messages of `queue` for `consumer`.
    async fn claim(&self, consumer: &str, queue: &str, limit: usize) -> Result<Claim, BusError> {
        // Cheap read first: idle polls must not take the write lock.
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

#[async_trait]
impl Bus for EmbeddedBus {
    async fn declare_exchange(&self, name: &str) -> Result<(), BusError> {
        if name.is_empty() {
            return Err(BusError::Topology {
                name: String::new(),
                reason: "exchange name must not be empty".to_owned(),
            });
        }
        let (_gate, mut tx) = self.inner.write().await?;
        sqlx::query("INSERT OR IGNORE INTO bus_exchanges (name) VALUES (?1)")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn declare_queue(&self, spec: &QueueSpec) -> Result<(), BusError> {
        if spec.name.is_empty() {
            return Err(BusError::Topology {
                name: String::new(),
                reason: "queue name must not be empty".to_owned(),
            });
        }
        let (dead_letter_exchange, dead_letter_key) = match &spec.dead_letter {
            Some((exchange, key)) => (Some(exchange.as_str()), Some(key.as_str())),
            None => (None, None),
        };
        let limit = spec.delivery_limit.map(i64::from);
        let (_gate, mut tx) = self.inner.write().await?;
        let existing = sqlx::query(
            "SELECT dead_letter_exchange, dead_letter_key, single_active_consumer, delivery_limit
             FROM bus_queues WHERE name = ?1",
        )
        .bind(&spec.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(row) = existing {
            let same = row.try_get::<Option<String>, _>(0).map_err(db_error)?.as_deref()
                == dead_letter_exchange
                && row.try_get::<Option<String>, _>(1).map_err(db_error)?.as_deref() == dead_letter_key
                && row.try_get::<bool, _>(2).map_err(db_error)? == spec.single_active_consumer
                && row.try_get::<Option<i64>, _>(3).map_err(db_error)? == limit;
            if !same {
                return Err(BusError::Topology {
                    name: spec.name.clone(),
                    reason: "queue already declared with different arguments".to_owned(),
                });
            }
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO bus_queues (name, dead_letter_exchange, dead_letter_key, single_active_consumer, delivery_limit)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&spec.name)
        .bind(dead_letter_exchange)
        .bind(dead_letter_key)
        .bind(spec.single_active_consumer)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn bind(&self, queue: &str, exchange: &str, pattern: &str) -> Result<(), BusError> {
        let (_gate, mut tx) = self.inner.write().await?;
        for (table, name) in [("queue", queue), ("exchange", exchange)] {
            let sql = if table == "queue" {
                "SELECT 1 FROM bus_queues WHERE name = ?1"
            } else {
                "SELECT 1 FROM bus_exchanges WHERE name = ?1"
            };
            let found = sqlx::query(sql).bind(name).fetch_optional(&mut *tx).await.map_err(db_error)?;
            if found.is_none() {
                return Err(BusError::Topology {
                    name: name.to_owned(),
                    reason: format!("{table} not found"),
                });
            }
        }
        sqlx::query("INSERT OR IGNORE INTO bus_bindings (exchange, pattern, queue) VALUES (?1, ?2, ?3)")
            .bind(exchange)
            .bind(pattern)
            .bind(queue)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        let (_gate, mut tx) = self.inner.write().await?;
        let Some(bindings) = Inner::bindings(&mut tx, exchange).await? else {
            return Err(BusError::NotConfirmed {
                exchange: exchange.to_owned(),
                routing_key: messages.first().map(|message| message.routing_key.clone()).unwrap_or_default(),
                reason: "exchange not found".to_owned(),
            });
        };
        let mut routes: HashMap<&str, BTreeSet<String>> = HashMap::new();
        let mut unroutable = None;
        for message in messages {
            let queues = routes
                .entry(message.routing_key.as_str())
                .or_insert_with(|| Inner::route(&bindings, &message.routing_key));
            if queues.is_empty() {
                unroutable.get_or_insert_with(|| message.routing_key.clone());
                continue;
            }
            let headers = encode_headers(&message.headers)?;
            for queue in queues.iter() {
                Inner::insert_message(
                    &mut tx,
                    queue,
                    exchange,
                    &message.routing_key,
                    &message.payload,
                    &headers,
                )
                .await?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        self.inner.notify.notify_waiters();
        match unroutable {
            Some(routing_key) => Err(BusError::NotConfirmed {
                exchange: exchange.to_owned(),
                routing_key,
                reason: "unroutable: no queue bound for this routing key".to_owned(),
            }),
            None => Ok(()),
        }
    }

    async fn consume(&self, spec: &ConsumeSpec) -> Result<Box<dyn Consumer>, BusError> {
        let id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4());
        {
            let (_gate, mut tx) = self.inner.write().await?;
            let found = sqlx::query("SELECT 1 FROM bus_queues WHERE name = ?1")
                .bind(&spec.queue)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            if found.is_none() {
                return Err(BusError::Topology {
                    name: spec.queue.clone(),
                    reason: "queue not found".to_owned(),
                });
            }
            self.inner.register_in(&mut tx, &id, &spec.queue, now_ms()).await?;
            tx.commit().await.map_err(db_error)?;
        }
        let lease_lost = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat_loop(
            Arc::clone(&self.inner),
            id.clone(),
            spec.queue.clone(),
            Arc::clone(&lease_lost),
        ));
        Ok(Box::new(EmbeddedConsumer {
            inner: Arc::clone(&self.inner),
            id,
            queue: spec.queue.clone(),
            max_in_flight: if spec.prefetch == 0 { usize::MAX } else { usize::from(spec.prefetch) },
            next_tag: 1,
            in_flight: BTreeMap::new(),
            buffer: VecDeque::new(),
            pending: None,
            heartbeat,
            lease_lost,
            cancelled: false,
        }))
    }

    async fn queue_depth(&self, queue: &str) -> Result<u64, BusError> {
        let row = sqlx::query(
            "SELECT EXISTS(SELECT 1 FROM bus_queues WHERE name = ?1),
                    (SELECT COUNT(*) FROM bus_messages WHERE queue = ?1 AND consumer IS NULL)",
        )
        .bind(queue)
        .fetch_one(&self.inner.pool)
        .await
        .map_err(db_error)?;
        let exists: bool = row.try_get(0).map_err(db_error)?;
        if !exists {
            return Err(BusError::Topology { name: queue.to_owned(), reason: "queue not found".to_owned() });
        }
        let count: i64 = row.try_get(1).map_err(db_error)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

async fn heartbeat_loop(inner: Arc<Inner>, id: String, queue: String, lease_lost: Arc<AtomicBool>) {
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

/// A consumer of the embedded bus.
struct EmbeddedConsumer {
    inner: Arc<Inner>,
    id: String,
    queue: String,
    max_in_flight: usize,
    next_tag: u64,
    /// Our tag → (message id, its delivery count when we claimed it).
    in_flight: BTreeMap<u64, (i64, i64)>,
    /// Claimed deliveries not yet handed out by `next`.
    buffer: VecDeque<Delivery>,
    /// A claim under way; kept across cancelled `next` calls so a claim that
    /// committed is never lost.
    pending: Option<JoinHandle<Result<Claim, BusError>>>,
    heartbeat: JoinHandle<()>,
    lease_lost: Arc<AtomicBool>,
    cancelled: bool,
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
