//! The PostgreSQL backend: the distributed mode. Batches travel as arrays
//! through `UNNEST`, one round trip per statement rather than per row, because
//! sqlx 0.9 leaves Nagle's algorithm on and per-row round trips crawl over TCP.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use smo_proto::{AccountId, CaseEvent, CaseStatus};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool};

use crate::opening::{
    Assignment, assign_round_robin, created_in_input_order, initial_status, insert_order, opening_events,
    outcomes,
};
use crate::records::{
    CaseRecord, CursorRecord, EventRecord, PendingEvent, count_from_sql, i64_from_u64, sql_text,
    status_counts, tags_to_json,
};
use crate::roster::agent_roster;
use crate::{
    Backend, CaseFilter, CaseRow, CaseStore, DEFAULT_POSTGRES_CONNECTIONS, NewCase, OpenedCase, SourceCursor,
    StoreError, StoreOptions,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL-backed [`CaseStore`]. Safe to share between tasks and to run
/// in several processes against one database.
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

#[async_trait]
impl CaseStore for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        if let Some(schema) = &self.schema {
            self.create_schema(schema).await?;
        }
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), StoreError> {
        let roster = agent_roster(agents)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE agents SET active = FALSE
             WHERE account_id = $1 AND active AND NOT (name = ANY($2::text[]))",
        )
        .bind(account.as_str())
        .bind(&roster)
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
        .bind(&roster)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
        Ok(active_agents(&self.pool, account).await?)
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
        let mut tx = self.pool.begin().await?;
        let agents = active_agents(&mut *tx, account).await?;
        let created_ids = insert_cases(&mut tx, account, &planned, initial_status(agents.len()), now).await?;

        let mut case_ids = created_ids.clone();
        let existing: Vec<&str> = planned
            .iter()
            .map(|case| case.post_id.as_str())
            .filter(|post_id| !created_ids.contains_key(*post_id))
            .collect();
        if !existing.is_empty() {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, post_id FROM cases WHERE account_id = $1 AND post_id = ANY($2::text[])",
            )
            .bind(account.as_str())
            .bind(&existing)
            .fetch_all(&mut *tx)
            .await?;
            case_ids.extend(rows.into_iter().map(|(id, post_id)| (post_id, id)));
        }

        let created = created_in_input_order(cases, &created_ids);
        let assignments = if created.is_empty() || agents.is_empty() {
            Vec::new()
        } else {
            let count = i64::try_from(created.len())
                .map_err(|_| StoreError::InvalidInput("batch too large".to_owned()))?;
            let first_ticket = take_tickets(&mut tx, account, count).await?;
            let assignments = assign_round_robin(&created, &agents, first_ticket);
            assign_agents(&mut tx, account, &assignments).await?;
            assignments
        };
        let events = opening_events(&created, &assignments, agents.len(), now)?;
        append_events(&mut tx, account, &events).await?;
        let created_set: HashSet<i64> = created.iter().map(|(id, _)| *id).collect();
        let result = outcomes(cases, &case_ids, &created_set, &assignments)?;
        tx.commit().await?;
        Ok(result)
    }

    async fn list_cases(&self, account: &AccountId, filter: CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let records: Vec<CaseRecord> = sqlx::query_as(
            "SELECT id, post_id, thread_id, intent, status, priority, assigned_agent,
                    author_handle, lang, tags::text AS tags, text_excerpt, opened_at, updated_at
             FROM cases
             WHERE account_id = $1
               AND ($2::text IS NULL OR status = $2)
               AND ($3::text IS NULL OR assigned_agent = $3)
             ORDER BY priority DESC, opened_at, id
             LIMIT $4",
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
            "SELECT case_id, payload::text AS payload, actor, reason, at
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
        .bind(from)
        .bind(to)
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
            "SELECT (opened_at AT TIME ZONE 'UTC')::date AS day, COUNT(*)
             FROM cases
             WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
             GROUP BY day
             ORDER BY day",
        )
        .bind(account.as_str())
        .bind(from)
        .bind(to)
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
                 cursor = EXCLUDED.cursor,
                 updated_at = EXCLUDED.updated_at,
                 posts_fetched = source_cursors.posts_fetched + EXCLUDED.posts_fetched,
                 last_error = NULL",
        )
        .bind(account.as_str())
        .bind(sql_text(source))
        .bind(sql_text(cursor))
        .bind(Utc::now())
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
                 updated_at = EXCLUDED.updated_at,
                 last_error = EXCLUDED.last_error",
        )
        .bind(account.as_str())
        .bind(sql_text(source))
        .bind(Utc::now())
        .bind(sql_text(error))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

async fn active_agents<'c, E>(executor: E, account: &AccountId) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query_scalar("SELECT name FROM agents WHERE account_id = $1 AND active ORDER BY position, name")
        .bind(account.as_str())
        .fetch_all(executor)
        .await
}

/// Inserts the batch in one statement; returns post id → case id for the rows
/// it created (posts that already had a case are skipped by the conflict).
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
    let tags = planned.iter().map(|c| tags_to_json(&c.tags)).collect::<Result<Vec<String>, StoreError>>()?;
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

/// Reserves `count` consecutive round-robin tickets and returns the first.
/// The upsert takes the account's counter row lock, so concurrent batches get
/// disjoint ticket ranges.
async fn take_tickets(conn: &mut PgConnection, account: &AccountId, count: i64) -> Result<i64, StoreError> {
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO round_robin (account_id, next_position) VALUES ($1, $2)
         ON CONFLICT (account_id)
         DO UPDATE SET next_position = round_robin.next_position + EXCLUDED.next_position
         RETURNING next_position",
    )
    .bind(account.as_str())
    .bind(count)
    .fetch_one(&mut *conn)
    .await?;
    Ok(next - count)
}

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
