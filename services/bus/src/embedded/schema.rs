//! The tables of the queue file, and opening it: the file is created with its
//! schema on first open and each open (re)applies the idempotent statements.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::Notify;
use tracing::warn;

use super::{EmbeddedBus, EmbeddedBusOptions, Inner, db_error};
use crate::BusError;

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
}
