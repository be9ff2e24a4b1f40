//! The PostgreSQL backend: the distributed mode. Batches travel as arrays
//! through `UNNEST`, one round trip per statement rather than per row, because
//! sqlx 0.9 leaves Nagle's algorithm on and per-row round trips crawl over TCP.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseStatus};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction};

use crate::backend_sql::{BackendSql, impl_case_store};
use crate::opening::Assignment;
use crate::records::{PendingEvent, tags_to_json};
use crate::{Backend, DEFAULT_POSTGRES_CONNECTIONS, NewCase, StoreError, StoreOptions};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL-backed [`CaseStore`](crate::CaseStore). Safe to share between
/// tasks and to run in several processes against one database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: Option<String>,
}

impl PgStore {
    /// Opens a pool per `options` and checks that one connection works, so a
    /// wrong URL fails at start rather than at the first message.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let schema = options.validated_schema()?.map(str::to_owned);
        let mut connect = PgConnectOptions::from_str(&options.url)
            .map_err(|error| StoreError::InvalidUrl {
                url: options.redacted_url(),
                reason: error.to_string(),
            })?
            .application_name("smo");
        if let Some(schema) = &schema {
            connect = connect.options([("search_path", schema.as_str())]);
        }
        let connect_error = |source| StoreError::Connect { url: options.redacted_url(), source };
        // One direct connection first: the pool would retry until its acquire
        // timeout and then only report "timed out", hiding the cause.
        connect.connect().await.map_err(connect_error)?.close().await.ok();
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(DEFAULT_POSTGRES_CONNECTIONS))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(connect_error)?;
        Ok(Self { pool, schema })
    }

    /// The underlying pool, for queries this crate does not offer yet.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn create_schema(&self, schema: &str) -> Result<(), StoreError> {
        // `schema` was validated as a plain lowercase identifier.
        let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        match sqlx::raw_sql(AssertSqlSafe(sql)).execute(&self.pool).await {
            Ok(_) => Ok(()),
            // Two processes creating the schema at once: the loser sees a
            // unique violation, but the schema exists, which is all we want.
            Err(sqlx::Error::Database(error))
                if matches!(error.code().as_deref(), Some("23505" | "42P06")) =>
            {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }
}

impl_case_store!(PgStore);

impl BackendSql for PgStore {
    type Database = Postgres;
    type Time = DateTime<Utc>;

    const BACKEND: Backend = Backend::Postgres;
    // `jsonb` columns are read as text and parameters are cast to their types.
    const LIST_CASES_SQL: &'static str =
        "SELECT id, post_id, thread_id, intent, status, priority, assigned_agent,
                author_handle, lang, tags::text AS tags, text_excerpt, opened_at, updated_at
         FROM cases
         WHERE account_id = $1
           AND ($2::text IS NULL OR status = $2)
           AND ($3::text IS NULL OR assigned_agent = $3)
         ORDER BY priority DESC, opened_at, id
         LIMIT $4";
    const CASE_EVENTS_SQL: &'static str = "SELECT case_id, payload::text AS payload, actor, reason, at
         FROM case_events
         WHERE account_id = $1 AND case_id = $2
         ORDER BY id";
    const CASES_PER_DAY_SQL: &'static str = "SELECT (opened_at AT TIME ZONE 'UTC')::date AS day, COUNT(*)
         FROM cases
         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
         GROUP BY day
         ORDER BY day";

    fn bind_time(at: DateTime<Utc>) -> DateTime<Utc> {
        at
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        if let Some(schema) = &self.schema {
            self.create_schema(schema).await?;
        }
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn replace_agents(&self, account: &AccountId, roster: &[String]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE agents SET active = FALSE
             WHERE account_id = $1 AND active AND NOT (name = ANY($2::text[]))",
        )
        .bind(account.as_str())
        .bind(roster)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO agents (account_id, name, position, active, created_at)
             SELECT $1, u.name, u.ord - 1, TRUE, $3
             FROM UNNEST($2::text[]) WITH ORDINALITY AS u(name, ord)
             ON CONFLICT (account_id, name)
             DO UPDATE SET position = EXCLUDED.position, active = TRUE",
        )
        .bind(account.as_str())
        .bind(roster)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Inserts the batch in one statement; the conflict skips posts that
    /// already have a case.
    async fn insert_cases(
        conn: &mut PgConnection,
        account: &AccountId,
        planned: &[NewCase],
        status: CaseStatus,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let post_ids: Vec<&str> = planned.iter().map(|c| c.post_id.as_str()).collect();
        let thread_ids: Vec<&str> = planned.iter().map(|c| c.thread_id.as_str()).collect();
        let intents: Vec<&str> = planned.iter().map(|c| c.intent.as_str()).collect();
        let priorities: Vec<f32> = planned.iter().map(|c| c.priority).collect();
        let handles: Vec<&str> = planned.iter().map(|c| c.author_handle.as_str()).collect();
        let langs: Vec<&str> = planned.iter().map(|c| c.lang.as_str()).collect();
        let tags =
            planned.iter().map(|c| tags_to_json(&c.tags)).collect::<Result<Vec<String>, StoreError>>()?;
        let excerpts: Vec<&str> = planned.iter().map(|c| c.text_excerpt.as_str()).collect();
        let opened_at: Vec<DateTime<Utc>> = planned.iter().map(|c| c.opened_at).collect();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "INSERT INTO cases (account_id, post_id, thread_id, intent, status, priority,
                                author_handle, lang, tags, text_excerpt, opened_at, updated_at)
             SELECT $1, u.post_id, u.thread_id, u.intent, $11, u.priority,
                    u.author_handle, u.lang, u.tags::jsonb, u.text_excerpt, u.opened_at, $12
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::real[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::timestamptz[])
                  WITH ORDINALITY
                  AS u(post_id, thread_id, intent, priority, author_handle, lang,
                       tags, text_excerpt, opened_at, ord)
             ORDER BY u.ord
             ON CONFLICT (account_id, post_id) DO NOTHING
             RETURNING id, post_id",
        )
        .bind(account.as_str())
        .bind(&post_ids)
        .bind(&thread_ids)
        .bind(&intents)
        .bind(&priorities)
        .bind(&handles)
        .bind(&langs)
        .bind(&tags)
        .bind(&excerpts)
        .bind(&opened_at)
        .bind(status.as_str())
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(|(id, post_id)| (post_id, id)).collect())
    }

    /// Looks the posts up in one statement.
    async fn existing_case_ids(
        conn: &mut PgConnection,
        account: &AccountId,
        post_ids: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, post_id FROM cases WHERE account_id = $1 AND post_id = ANY($2::text[])",
        )
        .bind(account.as_str())
        .bind(post_ids)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(|(id, post_id)| (post_id, id)).collect())
    }

    /// Updates the batch in one statement.
    async fn assign_agents(
        conn: &mut PgConnection,
        account: &AccountId,
        assignments: &[Assignment],
    ) -> Result<(), StoreError> {
        let case_ids: Vec<i64> = assignments.iter().map(|a| a.case_id).collect();
        let agents: Vec<&str> = assignments.iter().map(|a| a.agent.as_str()).collect();
        sqlx::query(
            "UPDATE cases SET assigned_agent = u.agent
             FROM UNNEST($2::bigint[], $3::text[]) AS u(id, agent)
             WHERE cases.account_id = $1 AND cases.id = u.id",
        )
        .bind(account.as_str())
        .bind(&case_ids)
        .bind(&agents)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Inserts the batch in one statement.
    async fn append_events(
        conn: &mut PgConnection,
        account: &AccountId,
        events: &[PendingEvent],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let case_ids: Vec<i64> = events.iter().map(|e| e.case_id).collect();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
        let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
        let actors: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
        let reasons: Vec<&str> = events.iter().map(|e| e.reason.as_str()).collect();
        let at: Vec<DateTime<Utc>> = events.iter().map(|e| e.at).collect();
        sqlx::query(
            "INSERT INTO case_events (account_id, case_id, kind, payload, actor, reason, at)
             SELECT $1, u.case_id, u.kind, u.payload::jsonb, u.actor, u.reason, u.at
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[])
                  WITH ORDINALITY AS u(case_id, kind, payload, actor, reason, at, ord)
             ORDER BY u.ord",
        )
        .bind(account.as_str())
        .bind(&case_ids)
        .bind(&kinds)
        .bind(&payloads)
        .bind(&actors)
        .bind(&reasons)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
