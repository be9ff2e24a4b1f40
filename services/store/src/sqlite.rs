//! The SQLite backend: the embedded mode. Writes run in `BEGIN IMMEDIATE`
//! transactions, so a writer takes SQLite's single write lock up front (waiting
//! up to the busy timeout) instead of failing when it upgrades from reading;
//! rows go one statement each, which is cheap in-process.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use smo_proto::{AccountId, CaseEvent, CaseStatus};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};

use crate::opening::{
    assign_round_robin, created_in_input_order, initial_status, insert_order, opening_events, outcomes,
};
use crate::records::{
    CaseRecord, CursorRecord, EventRecord, PendingEvent, count_from_sql, i64_from_u64, sql_text, sqlite_time,
    status_counts, tags_to_json,
};
use crate::roster::agent_roster;
use crate::{
    Backend, CaseFilter, CaseRow, CaseStore, DEFAULT_SQLITE_CONNECTIONS, NewCase, OpenedCase, SourceCursor,
    StoreError, StoreOptions,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for SQLite's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An SQLite-backed [`CaseStore`]: a file in WAL mode, or an in-memory
/// database for tests and demos.
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

#[async_trait]
impl CaseStore for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), StoreError> {
        let roster = agent_roster(agents)?;
        let wanted: HashSet<&str> = roster.iter().map(String::as_str).collect();
        let now = sqlite_time(Utc::now());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
        for (position, name) in (0_i64..).zip(&roster) {
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

    async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(active_agents(&mut conn, account).await?)
    }

    async fn open_cases(
        &self,
        account: &AccountId,
        cases: &[NewCase],
    ) -> Result<Vec<OpenedCase>, StoreError> {
        let planned = insert_order(cases);
        if planned.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let agents = active_agents(&mut tx, account).await?;
        let status = initial_status(agents.len());

        let mut created_ids = HashMap::new();
        let mut case_ids = HashMap::new();
        for case in &planned {
            let post_id = case.post_id.as_str().to_owned();
            match insert_case(&mut tx, account, case, status, now).await? {
                Some(id) => {
                    created_ids.insert(post_id.clone(), id);
                    case_ids.insert(post_id, id);
                }
                None => {
                    let id: i64 =
                        sqlx::query_scalar("SELECT id FROM cases WHERE account_id = $1 AND post_id = $2")
                            .bind(account.as_str())
                            .bind(&post_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    case_ids.insert(post_id, id);
                }
            }
        }

        let created = created_in_input_order(cases, &created_ids);
        let assignments = if created.is_empty() || agents.is_empty() {
            Vec::new()
        } else {
            let count = i64::try_from(created.len())
                .map_err(|_| StoreError::InvalidInput("batch too large".to_owned()))?;
            let next: i64 = sqlx::query_scalar(
                "INSERT INTO round_robin (account_id, next_position) VALUES ($1, $2)
                 ON CONFLICT (account_id)
                 DO UPDATE SET next_position = round_robin.next_position + excluded.next_position
                 RETURNING next_position",
            )
            .bind(account.as_str())
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
            let assignments = assign_round_robin(&created, &agents, next - count);
            for assignment in &assignments {
                sqlx::query("UPDATE cases SET assigned_agent = $3 WHERE account_id = $1 AND id = $2")
                    .bind(account.as_str())
                    .bind(assignment.case_id)
                    .bind(&assignment.agent)
                    .execute(&mut *tx)
                    .await?;
            }
            assignments
        };
        let events = opening_events(&created, &assignments, agents.len(), now)?;
        for event in &events {
            append_event(&mut tx, account, event).await?;
        }
        let created_set: HashSet<i64> = created.iter().map(|(id, _)| *id).collect();
        let result = outcomes(cases, &case_ids, &created_set, &assignments)?;
        tx.commit().await?;
        Ok(result)
    }

    async fn list_cases(&self, account: &AccountId, filter: CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let records: Vec<CaseRecord> = sqlx::query_as(
            "SELECT id, post_id, thread_id, intent, status, priority, assigned_agent,
                    author_handle, lang, tags, text_excerpt, opened_at, updated_at
             FROM cases
             WHERE account_id = $1
               AND ($2 IS NULL OR status = $2)
               AND ($3 IS NULL OR assigned_agent = $3)
             ORDER BY priority DESC, opened_at, id
             LIMIT COALESCE($4, -1)",
        )
        .bind(account.as_str())
        .bind(filter.status.map(CaseStatus::as_str))
        .bind(filter.agent.as_deref())
        .bind(filter.limit.map(i64::from))
        .fetch_all(&self.pool)
        .await?;
        records.into_iter().map(|record| record.into_case_row(account)).collect()
    }

    async fn case_events(&self, account: &AccountId, case_id: i64) -> Result<Vec<CaseEvent>, StoreError> {
        let records: Vec<EventRecord> = sqlx::query_as(
            "SELECT case_id, payload, actor, reason, at
             FROM case_events
             WHERE account_id = $1 AND case_id = $2
             ORDER BY id",
        )
        .bind(account.as_str())
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        records.into_iter().map(|record| record.into_case_event(account)).collect()
    }

    async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(count_from_sql(count))
    }

    async fn cases_opened_between(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases
             WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3",
        )
        .bind(account.as_str())
        .bind(sqlite_time(from))
        .bind(sqlite_time(to))
        .fetch_one(&self.pool)
        .await?;
        Ok(count_from_sql(count))
    }

    async fn cases_opened_per_day(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
        let rows: Vec<(NaiveDate, i64)> = sqlx::query_as(
            "SELECT substr(opened_at, 1, 10) AS day, COUNT(*)
             FROM cases
             WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
             GROUP BY day
             ORDER BY day",
        )
        .bind(account.as_str())
        .bind(sqlite_time(from))
        .bind(sqlite_time(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(day, count)| (day, count_from_sql(count))).collect())
    }

    async fn cases_by_status(&self, account: &AccountId) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM cases WHERE account_id = $1 GROUP BY status")
                .bind(account.as_str())
                .fetch_all(&self.pool)
                .await?;
        status_counts(rows)
    }

    async fn get_cursor(
        &self,
        account: &AccountId,
        source: &str,
    ) -> Result<Option<SourceCursor>, StoreError> {
        let record: Option<CursorRecord> = sqlx::query_as(
            "SELECT source, cursor, updated_at, posts_fetched, last_error
             FROM source_cursors
             WHERE account_id = $1 AND source = $2",
        )
        .bind(account.as_str())
        .bind(sql_text(source))
        .fetch_optional(&self.pool)
        .await?;
        Ok(record.map(SourceCursor::from))
    }

    async fn save_cursor(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        posts_fetched_delta: u64,
    ) -> Result<(), StoreError> {
        let delta = i64_from_u64(posts_fetched_delta, "posts_fetched_delta")?;
        sqlx::query(
            "INSERT INTO source_cursors
                 (account_id, source, cursor, updated_at, posts_fetched, last_error)
             VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (account_id, source) DO UPDATE SET
                 cursor = excluded.cursor,
                 updated_at = excluded.updated_at,
                 posts_fetched = source_cursors.posts_fetched + excluded.posts_fetched,
                 last_error = NULL",
        )
        .bind(account.as_str())
        .bind(sql_text(source))
        .bind(sql_text(cursor))
        .bind(sqlite_time(Utc::now()))
        .bind(delta)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn record_source_error(
        &self,
        account: &AccountId,
        source: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO source_cursors
                 (account_id, source, cursor, updated_at, posts_fetched, last_error)
             VALUES ($1, $2, NULL, $3, 0, $4)
             ON CONFLICT (account_id, source) DO UPDATE SET
                 updated_at = excluded.updated_at,
                 last_error = excluded.last_error",
        )
        .bind(account.as_str())
        .bind(sql_text(source))
        .bind(sqlite_time(Utc::now()))
        .bind(sql_text(error))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

async fn active_agents(conn: &mut SqliteConnection, account: &AccountId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM agents WHERE account_id = $1 AND active ORDER BY position, name")
        .bind(account.as_str())
        .fetch_all(conn)
        .await
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

async fn append_event(
    conn: &mut SqliteConnection,
    account: &AccountId,
    event: &PendingEvent,
) -> Result<(), StoreError> {
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
    .execute(conn)
    .await?;
    Ok(())
}
