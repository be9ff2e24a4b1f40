//! The SQLite backend: the embedded mode. Writes run in `BEGIN IMMEDIATE`
//! transactions, so a writer takes SQLite's single write lock up front (waiting
//! up to the busy timeout) instead of failing when it upgrades from reading;
//! rows go one statement each, which is cheap in-process.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseStatus};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::backend_sql::{BackendSql, impl_case_store};
use crate::opening::Assignment;
use crate::records::{PendingEvent, sqlite_time, tags_to_json};
use crate::{Backend, DEFAULT_SQLITE_CONNECTIONS, NewCase, StoreError, StoreOptions};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for SQLite's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An SQLite-backed [`CaseStore`](crate::CaseStore): a file in WAL mode, or an
/// in-memory database for tests and demos.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database of `options.url`.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        if options.schema.is_some() {
            return Err(StoreError::InvalidOption("a schema can only be set for PostgreSQL".to_owned()));
        }
        let in_memory = options.url.contains(":memory:") || options.url.contains("mode=memory");
        let mut connect = SqliteConnectOptions::from_str(&options.url)
            .map_err(|error| StoreError::InvalidUrl {
                url: options.redacted_url(),
                reason: error.to_string(),
            })?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let mut pool = SqlitePoolOptions::new().acquire_timeout(options.acquire_timeout);
        if in_memory {
            // An in-memory database lives as long as its last connection:
            // keep exactly one, forever.
            pool = pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
        } else {
            connect = connect.journal_mode(SqliteJournalMode::Wal);
            pool = pool.max_connections(options.max_connections.unwrap_or(DEFAULT_SQLITE_CONNECTIONS));
        }
        let connect_error = |source| StoreError::Connect { url: options.redacted_url(), source };
        // One direct connection first: the pool would retry until its acquire
        // timeout and then only report "timed out", hiding the cause.
        connect.connect().await.map_err(connect_error)?.close().await.ok();
        let pool = pool.connect_with(connect).await.map_err(connect_error)?;
        Ok(Self { pool })
    }

    /// The underlying pool, for queries this crate does not offer yet.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl_case_store!(SqliteStore);

impl BackendSql for SqliteStore {
    type Database = Sqlite;
    type Time = String;

    const BACKEND: Backend = Backend::Sqlite;
    // `LIMIT -1` is SQLite's "no limit".
    const LIST_CASES_SQL: &'static str =
        "SELECT id, post_id, thread_id, intent, status, priority, assigned_agent,
                author_handle, lang, tags, text_excerpt, opened_at, updated_at
         FROM cases
         WHERE account_id = $1
           AND ($2 IS NULL OR status = $2)
           AND ($3 IS NULL OR assigned_agent = $3)
         ORDER BY priority DESC, opened_at, id
         LIMIT COALESCE($4, -1)";
    const CASE_EVENTS_SQL: &'static str = "SELECT case_id, payload, actor, reason, at
         FROM case_events
         WHERE account_id = $1 AND case_id = $2
         ORDER BY id";
    // Timestamps are fixed-width UTC text starting with the date.
    const CASES_PER_DAY_SQL: &'static str = "SELECT substr(opened_at, 1, 10) AS day, COUNT(*)
         FROM cases
         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
         GROUP BY day
         ORDER BY day";

    fn bind_time(at: DateTime<Utc>) -> String {
        sqlite_time(at)
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn replace_agents(&self, account: &AccountId, roster: &[String]) -> Result<(), StoreError> {
        let wanted: HashSet<&str> = roster.iter().map(String::as_str).collect();
        let now = sqlite_time(Utc::now());
        let mut tx = self.begin_write().await?;
        let current: Vec<String> =
            sqlx::query_scalar("SELECT name FROM agents WHERE account_id = $1 AND active")
                .bind(account.as_str())
                .fetch_all(&mut *tx)
                .await?;
        for name in current.iter().filter(|name| !wanted.contains(name.as_str())) {
            sqlx::query("UPDATE agents SET active = 0 WHERE account_id = $1 AND name = $2")
                .bind(account.as_str())
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        for (position, name) in (0_i64..).zip(roster) {
            sqlx::query(
                "INSERT INTO agents (account_id, name, position, active, created_at)
                 VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (account_id, name)
                 DO UPDATE SET position = excluded.position, active = 1",
            )
            .bind(account.as_str())
            .bind(name)
            .bind(position)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// One statement per case.
    async fn insert_cases(
        conn: &mut SqliteConnection,
        account: &AccountId,
        planned: &[NewCase],
        status: CaseStatus,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut created = HashMap::new();
        for case in planned {
            if let Some(id) = insert_case(conn, account, case, status, now).await? {
                created.insert(case.post_id.as_str().to_owned(), id);
            }
        }
        Ok(created)
    }

    /// One lookup per post.
    async fn existing_case_ids(
        conn: &mut SqliteConnection,
        account: &AccountId,
        post_ids: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut ids = HashMap::new();
        for post_id in post_ids {
            let id: i64 = sqlx::query_scalar("SELECT id FROM cases WHERE account_id = $1 AND post_id = $2")
                .bind(account.as_str())
                .bind(post_id)
                .fetch_one(&mut *conn)
                .await?;
            ids.insert((*post_id).to_owned(), id);
        }
        Ok(ids)
    }

    /// One update per case.
    async fn assign_agents(
        conn: &mut SqliteConnection,
        account: &AccountId,
        assignments: &[Assignment],
    ) -> Result<(), StoreError> {
        for assignment in assignments {
            sqlx::query("UPDATE cases SET assigned_agent = $3 WHERE account_id = $1 AND id = $2")
                .bind(account.as_str())
                .bind(assignment.case_id)
                .bind(&assignment.agent)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// One insert per event.
    async fn append_events(
        conn: &mut SqliteConnection,
        account: &AccountId,
        events: &[PendingEvent],
    ) -> Result<(), StoreError> {
        for event in events {
            sqlx::query(
                "INSERT INTO case_events (account_id, case_id, kind, payload, actor, reason, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(account.as_str())
            .bind(event.case_id)
            .bind(event.kind)
            .bind(event.payload.as_str())
            .bind(event.actor.as_str())
            .bind(event.reason.as_str())
            .bind(sqlite_time(event.at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// Inserts one case; `None` when the post already has one.
async fn insert_case(
    conn: &mut SqliteConnection,
    account: &AccountId,
    case: &NewCase,
    status: CaseStatus,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO cases (account_id, post_id, thread_id, intent, status, priority,
                            author_handle, lang, tags, text_excerpt, opened_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (account_id, post_id) DO NOTHING
         RETURNING id",
    )
    .bind(account.as_str())
    .bind(case.post_id.as_str())
    .bind(case.thread_id.as_str())
    .bind(case.intent.as_str())
    .bind(status.as_str())
    .bind(case.priority)
    .bind(case.author_handle.as_str())
    .bind(case.lang.as_str())
    .bind(tags_to_json(&case.tags)?)
    .bind(case.text_excerpt.as_str())
    .bind(sqlite_time(case.opened_at))
    .bind(sqlite_time(now))
    .fetch_optional(conn)
    .await?)
}
