//! The SQLite backend: the embedded mode. Writes run in `BEGIN IMMEDIATE`
//! transactions, so a writer takes SQLite's single write lock up front (waiting
//! up to the busy timeout) instead of failing when it upgrades from reading;
//! rows go one statement each, which is cheap in-process.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, SlaTarget};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::backend_sql::BackendSql;
use crate::opening::{MessageRow, NewCaseRow};
use crate::records::{CaseRecord, PendingEvent, case_columns, sqlite_time, tags_to_json};
use crate::{Backend, CaseRow, DEFAULT_SQLITE_CONNECTIONS, Roster, StoreError, StoreOptions};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for SQLite's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An SQLite-backed [`StoreBackend`](crate::StoreBackend): a file in WAL mode, or an
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

crate::sql::impl_shared_sql!(SqliteStore);

impl BackendSql for SqliteStore {
    type Database = Sqlite;
    type Time = String;

    const BACKEND: Backend = Backend::Sqlite;
    // One writer at a time (`BEGIN IMMEDIATE`): rows need no locks.
    const LOCK_ROWS: &'static str = "";
    const LOCK_SKIP_LOCKED: &'static str = "";
    const LOCK_AGENTS: &'static str = "";
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

    fn json_text(column: &str) -> String {
        column.to_owned()
    }

    fn json_param(param: &str) -> String {
        param.to_owned()
    }

    // `LIMIT -1` is SQLite's "no limit".
    fn list_cases_sql() -> String {
        format!(
            "SELECT {} FROM cases
             WHERE account_id = $1
               AND ($2 IS NULL OR status = $2)
               AND ($3 IS NULL OR assigned_agent = $3)
             ORDER BY priority DESC, opened_at, id
             LIMIT COALESCE($4, -1)",
            case_columns("tags")
        )
    }

    fn bind_time(at: DateTime<Utc>) -> String {
        sqlite_time(at)
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn acquire(&self) -> Result<PoolConnection<Self::Database>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    async fn close_pool(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn replace_agents(
        conn: &mut SqliteConnection,
        account: &AccountId,
        names: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        deactivate_others(conn, account, names).await?;
        for (position, name) in (0_i64..).zip(names) {
            sqlx::query(
                "INSERT INTO agents (account_id, name, position, active, created_at)
                 VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (account_id, name)
                 DO UPDATE SET position = excluded.position, active = 1",
            )
            .bind(account.as_str())
            .bind(name)
            .bind(position)
            .bind(sqlite_time(now))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn apply_roster(
        conn: &mut SqliteConnection,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let names: Vec<String> = roster.agents.iter().map(|a| a.name.clone()).collect();
        deactivate_others(conn, account, &names).await?;
        for (position, agent) in (0_i64..).zip(&roster.agents) {
            sqlx::query(
                "INSERT INTO agents (account_id, name, position, active, created_at, capacity, languages, topics)
                 VALUES ($1, $2, $3, 1, $4, $5, $6, $7)
                 ON CONFLICT (account_id, name) DO UPDATE SET
                     position = excluded.position, active = 1, capacity = excluded.capacity,
                     languages = excluded.languages, topics = excluded.topics",
            )
            .bind(account.as_str())
            .bind(&agent.name)
            .bind(position)
            .bind(sqlite_time(now))
            .bind(agent.capacity.map(i64::from))
            .bind(tags_to_json(&agent.languages)?)
            .bind(tags_to_json(&agent.topics)?)
            .execute(&mut *conn)
            .await?;
        }
        let wanted: HashSet<&str> = roster.teams.iter().map(|t| t.name.as_str()).collect();
        let current: Vec<String> = sqlx::query_scalar("SELECT name FROM teams WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_all(&mut *conn)
            .await?;
        for name in current.iter().filter(|name| !wanted.contains(name.as_str())) {
            sqlx::query("DELETE FROM teams WHERE account_id = $1 AND name = $2")
                .bind(account.as_str())
                .bind(name)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("DELETE FROM team_members WHERE account_id = $1")
            .bind(account.as_str())
            .execute(&mut *conn)
            .await?;
        for team in &roster.teams {
            sqlx::query(
                "INSERT INTO teams (account_id, name, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id, name) DO NOTHING",
            )
            .bind(account.as_str())
            .bind(&team.name)
            .bind(sqlite_time(now))
            .execute(&mut *conn)
            .await?;
            for member in &team.members {
                sqlx::query("INSERT INTO team_members (account_id, team, agent) VALUES ($1, $2, $3)")
                    .bind(account.as_str())
                    .bind(&team.name)
                    .bind(member)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// One statement per case.
    async fn insert_cases(
        conn: &mut SqliteConnection,
        account: &AccountId,
        rows: &[NewCaseRow],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let case = &row.case;
            let due = case.first_response_due_at;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cases (account_id, post_id, thread_id, intent, status, priority, level, team,
                                    author_handle, lang, tags, text_excerpt, opened_at, updated_at,
                                    last_message_at, message_count, sla_target, sla_due_at, sla_round)
                 VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                         $16, $17, $18)
                 RETURNING id",
            )
            .bind(account.as_str())
            .bind(case.post_id.as_str())
            .bind(case.thread_id.as_str())
            .bind(case.intent.as_str())
            .bind(case.priority)
            .bind(case.level.rank())
            .bind(case.team.as_deref())
            .bind(case.author_handle.as_str())
            .bind(case.lang.as_str())
            .bind(tags_to_json(&case.tags)?)
            .bind(case.text_excerpt.as_str())
            .bind(sqlite_time(case.opened_at))
            .bind(sqlite_time(now))
            .bind(sqlite_time(row.last_message_at))
            .bind(row.message_count)
            .bind(due.map(|_| SlaTarget::FirstResponse.as_str()))
            .bind(due.map(sqlite_time))
            .bind(i64::from(due.is_some()))
            .fetch_one(&mut *conn)
            .await?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// One insert per post.
    async fn insert_messages(
        conn: &mut SqliteConnection,
        account: &AccountId,
        rows: &[MessageRow],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for row in rows {
            sqlx::query(
                "INSERT INTO case_messages (account_id, case_id, post_id, author_handle, intent,
                                            text_excerpt, at, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(account.as_str())
            .bind(row.case_id)
            .bind(&row.post_id)
            .bind(&row.author_handle)
            .bind(row.intent)
            .bind(&row.text_excerpt)
            .bind(sqlite_time(row.at))
            .bind(sqlite_time(now))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// One lookup per post.
    async fn find_messages(
        conn: &mut SqliteConnection,
        account: &AccountId,
        post_ids: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut ids = HashMap::new();
        for post_id in post_ids {
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT case_id FROM case_messages WHERE account_id = $1 AND post_id = $2",
            )
            .bind(account.as_str())
            .bind(post_id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(id) = id {
                ids.insert((*post_id).to_owned(), id);
            }
        }
        Ok(ids)
    }

    /// One lookup per conversation.
    async fn load_conversations(
        conn: &mut SqliteConnection,
        account: &AccountId,
        pairs: &[(String, String)],
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM cases
             WHERE account_id = $1 AND thread_id = $2 AND author_handle = $3
               AND status <> 'closed' AND NOT superseded
             ORDER BY id",
            case_columns("tags")
        );
        let mut records = Vec::new();
        for (thread, author) in pairs {
            let found: Vec<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(account.as_str())
                .bind(thread)
                .bind(author)
                .fetch_all(&mut *conn)
                .await?;
            records.extend(found);
        }
        Ok(records)
    }

    /// One update per case.
    async fn save_cases(
        conn: &mut SqliteConnection,
        account: &AccountId,
        cases: &[CaseRow],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut written = 0;
        for case in cases {
            written += sqlx::query(
                "UPDATE cases SET
                     status = $4, priority = $5, level = $6, team = $7, assigned_agent = $8,
                     last_message_at = $9, message_count = $10, assigned_at = $11,
                     agent_acted_at = $12, resolved_at = $13, closed_at = $14,
                     first_response_at = $15, sla_target = $16, sla_due_at = $17,
                     sla_paused_secs = $18, sla_round = $19, sla_breached_at = $20,
                     updated_at = $21, version = version + 1
                 WHERE account_id = $1 AND id = $2 AND version = $3",
            )
            .bind(account.as_str())
            .bind(case.id)
            .bind(case.version)
            .bind(case.status.as_str())
            .bind(case.priority)
            .bind(case.level.rank())
            .bind(case.team.as_deref())
            .bind(case.assigned_agent.as_deref())
            .bind(sqlite_time(case.last_message_at))
            .bind(i64::try_from(case.message_count).unwrap_or(i64::MAX))
            .bind(case.assigned_at.map(sqlite_time))
            .bind(case.agent_acted_at.map(sqlite_time))
            .bind(case.resolved_at.map(sqlite_time))
            .bind(case.closed_at.map(sqlite_time))
            .bind(case.first_response_at.map(sqlite_time))
            .bind(case.sla_target.map(SlaTarget::as_str))
            .bind(case.sla_due_at.map(sqlite_time))
            .bind(case.sla_paused_secs)
            .bind(case.sla_round)
            .bind(case.sla_breached_at.map(sqlite_time))
            .bind(sqlite_time(now))
            .execute(&mut *conn)
            .await?
            .rows_affected();
        }
        Ok(written)
    }

    async fn save_agent_tickets(
        conn: &mut SqliteConnection,
        account: &AccountId,
        tickets: &[(String, i64)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for (name, seq) in tickets {
            sqlx::query(
                "UPDATE agents SET last_assigned_seq = $3, last_assigned_at = $4
                 WHERE account_id = $1 AND name = $2",
            )
            .bind(account.as_str())
            .bind(name)
            .bind(seq)
            .bind(sqlite_time(now))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn next_case_candidate(
        conn: &mut SqliteConnection,
        account: &AccountId,
        teams: &[String],
        languages: &[String],
        topics: &[String],
    ) -> Result<Option<CaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM cases
             WHERE account_id = $1 AND status = 'queued'
               AND (team IS NULL OR team IN (SELECT value FROM json_each($2)))
               AND (json_array_length($3) = 0 OR lang IN ('', 'und')
                    OR lower(lang) IN (SELECT value FROM json_each($3)))
               AND (json_array_length($4) = 0 OR EXISTS (
                       SELECT 1 FROM json_each(cases.tags) AS t
                       WHERE lower(t.value) IN (SELECT value FROM json_each($4))))
             ORDER BY level DESC, sla_due_at ASC NULLS LAST, priority DESC, opened_at, id
             LIMIT 1",
            case_columns("tags")
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(account.as_str())
            .bind(tags_to_json(teams)?)
            .bind(tags_to_json(languages)?)
            .bind(tags_to_json(topics)?)
            .fetch_optional(&mut *conn)
            .await?)
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

/// Deactivates the account's active agents not in `names`.
async fn deactivate_others(
    conn: &mut SqliteConnection,
    account: &AccountId,
    names: &[String],
) -> Result<(), StoreError> {
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    let current: Vec<String> = sqlx::query_scalar("SELECT name FROM agents WHERE account_id = $1 AND active")
        .bind(account.as_str())
        .fetch_all(&mut *conn)
        .await?;
    for name in current.iter().filter(|name| !wanted.contains(name.as_str())) {
        sqlx::query("UPDATE agents SET active = 0 WHERE account_id = $1 AND name = $2")
            .bind(account.as_str())
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
