//! The PostgreSQL backend: the distributed mode. Batches travel as arrays
//! through `UNNEST`, one round trip per statement rather than per row, because
//! sqlx 0.9 leaves Nagle's algorithm on and per-row round trips crawl over TCP.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, SlaTarget};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction};

use crate::backend_sql::BackendSql;
use crate::opening::{MessageRow, NewCaseRow};
use crate::records::{CaseRecord, PendingEvent, case_columns, tags_to_json};
use crate::{Backend, CaseRow, DEFAULT_POSTGRES_CONNECTIONS, Roster, StoreError, StoreOptions};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL-backed [`StoreBackend`](crate::StoreBackend). Safe to share between
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

crate::sql::impl_shared_sql!(PgStore);

impl BackendSql for PgStore {
    type Database = Postgres;
    type Time = DateTime<Utc>;

    const BACKEND: Backend = Backend::Postgres;
    const LOCK_ROWS: &'static str = "FOR UPDATE";
    const LOCK_SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const LOCK_AGENTS: &'static str = "FOR UPDATE OF a";
    const CASE_EVENTS_SQL: &'static str = "SELECT case_id, payload::text AS payload, actor, reason, at
         FROM case_events
         WHERE account_id = $1 AND case_id = $2
         ORDER BY id";
    const CASES_PER_DAY_SQL: &'static str = "SELECT (opened_at AT TIME ZONE 'UTC')::date AS day, COUNT(*)
         FROM cases
         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
         GROUP BY day
         ORDER BY day";

    fn json_text(column: &str) -> String {
        format!("{column}::text")
    }

    fn json_param(param: &str) -> String {
        format!("{param}::jsonb")
    }

    // Parameters are cast to their types.
    fn list_cases_sql() -> String {
        format!(
            "SELECT {} FROM cases
             WHERE account_id = $1
               AND ($2::text IS NULL OR status = $2)
               AND ($3::text IS NULL OR assigned_agent = $3)
             ORDER BY priority DESC, opened_at, id
             LIMIT $4",
            case_columns("tags::text")
        )
    }

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

    async fn acquire(&self) -> Result<PoolConnection<Self::Database>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    async fn close_pool(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    async fn replace_agents(
        conn: &mut PgConnection,
        account: &AccountId,
        names: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE agents SET active = FALSE
             WHERE account_id = $1 AND active AND NOT (name = ANY($2::text[]))",
        )
        .bind(account.as_str())
        .bind(names)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO agents (account_id, name, position, active, created_at)
             SELECT $1, u.name, u.ord - 1, TRUE, $3
             FROM UNNEST($2::text[]) WITH ORDINALITY AS u(name, ord)
             ON CONFLICT (account_id, name)
             DO UPDATE SET position = EXCLUDED.position, active = TRUE",
        )
        .bind(account.as_str())
        .bind(names)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn apply_roster(
        conn: &mut PgConnection,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let names: Vec<&str> = roster.agents.iter().map(|a| a.name.as_str()).collect();
        let capacities: Vec<Option<i64>> = roster.agents.iter().map(|a| a.capacity.map(i64::from)).collect();
        let languages = roster
            .agents
            .iter()
            .map(|a| tags_to_json(&a.languages))
            .collect::<Result<Vec<String>, StoreError>>()?;
        let topics = roster
            .agents
            .iter()
            .map(|a| tags_to_json(&a.topics))
            .collect::<Result<Vec<String>, StoreError>>()?;
        sqlx::query(
            "UPDATE agents SET active = FALSE
             WHERE account_id = $1 AND active AND NOT (name = ANY($2::text[]))",
        )
        .bind(account.as_str())
        .bind(&names)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO agents (account_id, name, position, active, created_at, capacity, languages, topics)
             SELECT $1, u.name, u.ord - 1, TRUE, $6, u.capacity, u.languages::jsonb, u.topics::jsonb
             FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[])
                  WITH ORDINALITY AS u(name, capacity, languages, topics, ord)
             ON CONFLICT (account_id, name) DO UPDATE SET
                 position = EXCLUDED.position, active = TRUE, capacity = EXCLUDED.capacity,
                 languages = EXCLUDED.languages, topics = EXCLUDED.topics",
        )
        .bind(account.as_str())
        .bind(&names)
        .bind(&capacities)
        .bind(&languages)
        .bind(&topics)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let teams: Vec<&str> = roster.teams.iter().map(|t| t.name.as_str()).collect();
        sqlx::query("DELETE FROM teams WHERE account_id = $1 AND NOT (name = ANY($2::text[]))")
            .bind(account.as_str())
            .bind(&teams)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO teams (account_id, name, created_at)
             SELECT $1, u.name, $3 FROM UNNEST($2::text[]) AS u(name)
             ON CONFLICT (account_id, name) DO NOTHING",
        )
        .bind(account.as_str())
        .bind(&teams)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM team_members WHERE account_id = $1")
            .bind(account.as_str())
            .execute(&mut *conn)
            .await?;
        let (member_teams, member_agents): (Vec<&str>, Vec<&str>) = roster
            .teams
            .iter()
            .flat_map(|t| t.members.iter().map(move |m| (t.name.as_str(), m.as_str())))
            .unzip();
        sqlx::query(
            "INSERT INTO team_members (account_id, team, agent)
             SELECT $1, u.team, u.agent FROM UNNEST($2::text[], $3::text[]) AS u(team, agent)",
        )
        .bind(account.as_str())
        .bind(&member_teams)
        .bind(&member_agents)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Inserts the batch in one statement.
    async fn insert_cases(
        conn: &mut PgConnection,
        account: &AccountId,
        rows: &[NewCaseRow],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let post_ids: Vec<&str> = rows.iter().map(|r| r.case.post_id.as_str()).collect();
        let thread_ids: Vec<&str> = rows.iter().map(|r| r.case.thread_id.as_str()).collect();
        let intents: Vec<&str> = rows.iter().map(|r| r.case.intent.as_str()).collect();
        let priorities: Vec<f32> = rows.iter().map(|r| r.case.priority).collect();
        let levels: Vec<i64> = rows.iter().map(|r| r.case.level.rank()).collect();
        let teams: Vec<Option<&str>> = rows.iter().map(|r| r.case.team.as_deref()).collect();
        let handles: Vec<&str> = rows.iter().map(|r| r.case.author_handle.as_str()).collect();
        let langs: Vec<&str> = rows.iter().map(|r| r.case.lang.as_str()).collect();
        let tags =
            rows.iter().map(|r| tags_to_json(&r.case.tags)).collect::<Result<Vec<String>, StoreError>>()?;
        let excerpts: Vec<&str> = rows.iter().map(|r| r.case.text_excerpt.as_str()).collect();
        let opened_at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.case.opened_at).collect();
        let last_message_at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.last_message_at).collect();
        let counts: Vec<i64> = rows.iter().map(|r| r.message_count).collect();
        let due: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.case.first_response_due_at).collect();
        let inserted: Vec<(i64, String)> = sqlx::query_as(
            "INSERT INTO cases (account_id, post_id, thread_id, intent, status, priority, level, team,
                                author_handle, lang, tags, text_excerpt, opened_at, updated_at,
                                last_message_at, message_count, sla_target, sla_due_at, sla_round)
             SELECT $1, u.post_id, u.thread_id, u.intent, 'queued', u.priority, u.level, u.team,
                    u.author_handle, u.lang, u.tags::jsonb, u.text_excerpt, u.opened_at, $16,
                    u.last_message_at, u.message_count,
                    CASE WHEN u.due IS NULL THEN NULL ELSE 'first_response' END, u.due,
                    CASE WHEN u.due IS NULL THEN 0 ELSE 1 END
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::real[], $6::bigint[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[],
                         $13::timestamptz[], $14::bigint[], $15::timestamptz[])
                  WITH ORDINALITY
                  AS u(post_id, thread_id, intent, priority, level, team, author_handle, lang,
                       tags, text_excerpt, opened_at, last_message_at, message_count, due, ord)
             ORDER BY u.ord
             RETURNING id, post_id",
        )
        .bind(account.as_str())
        .bind(&post_ids)
        .bind(&thread_ids)
        .bind(&intents)
        .bind(&priorities)
        .bind(&levels)
        .bind(&teams)
        .bind(&handles)
        .bind(&langs)
        .bind(&tags)
        .bind(&excerpts)
        .bind(&opened_at)
        .bind(&last_message_at)
        .bind(&counts)
        .bind(&due)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        let ids: HashMap<String, i64> = inserted.into_iter().map(|(id, post)| (post, id)).collect();
        post_ids
            .iter()
            .map(|post| {
                ids.get(*post)
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("post {post} was not inserted")))
            })
            .collect()
    }

    /// Inserts the batch in one statement.
    async fn insert_messages(
        conn: &mut PgConnection,
        account: &AccountId,
        rows: &[MessageRow],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let case_ids: Vec<i64> = rows.iter().map(|r| r.case_id).collect();
        let post_ids: Vec<&str> = rows.iter().map(|r| r.post_id.as_str()).collect();
        let handles: Vec<&str> = rows.iter().map(|r| r.author_handle.as_str()).collect();
        let intents: Vec<&str> = rows.iter().map(|r| r.intent).collect();
        let excerpts: Vec<&str> = rows.iter().map(|r| r.text_excerpt.as_str()).collect();
        let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
        sqlx::query(
            "INSERT INTO case_messages (account_id, case_id, post_id, author_handle, intent,
                                        text_excerpt, at, received_at)
             SELECT $1, u.case_id, u.post_id, u.author_handle, u.intent, u.text_excerpt, u.at, $8
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[])
                  WITH ORDINALITY AS u(case_id, post_id, author_handle, intent, text_excerpt, at, ord)
             ORDER BY u.ord",
        )
        .bind(account.as_str())
        .bind(&case_ids)
        .bind(&post_ids)
        .bind(&handles)
        .bind(&intents)
        .bind(&excerpts)
        .bind(&at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Looks the posts up in one statement.
    async fn find_messages(
        conn: &mut PgConnection,
        account: &AccountId,
        post_ids: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT case_id, post_id FROM case_messages WHERE account_id = $1 AND post_id = ANY($2::text[])",
        )
        .bind(account.as_str())
        .bind(post_ids)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(|(id, post_id)| (post_id, id)).collect())
    }

    /// Looks the conversations up in one statement, locking their cases.
    async fn load_conversations(
        conn: &mut PgConnection,
        account: &AccountId,
        pairs: &[(String, String)],
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let (threads, authors): (Vec<&str>, Vec<&str>) =
            pairs.iter().map(|(thread, author)| (thread.as_str(), author.as_str())).unzip();
        let sql = format!(
            "SELECT {} FROM cases
             WHERE account_id = $1 AND status <> 'closed' AND NOT superseded
               AND (thread_id, author_handle) IN
                   (SELECT u.thread_id, u.author FROM UNNEST($2::text[], $3::text[]) AS u(thread_id, author))
             ORDER BY id
             FOR UPDATE",
            case_columns("tags::text")
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(account.as_str())
            .bind(&threads)
            .bind(&authors)
            .fetch_all(&mut *conn)
            .await?)
    }

    /// Updates the batch in one statement.
    async fn save_cases(
        conn: &mut PgConnection,
        account: &AccountId,
        cases: &[CaseRow],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        let versions: Vec<i64> = cases.iter().map(|c| c.version).collect();
        let statuses: Vec<&str> = cases.iter().map(|c| c.status.as_str()).collect();
        let priorities: Vec<f32> = cases.iter().map(|c| c.priority).collect();
        let levels: Vec<i64> = cases.iter().map(|c| c.level.rank()).collect();
        let teams: Vec<Option<&str>> = cases.iter().map(|c| c.team.as_deref()).collect();
        let agents: Vec<Option<&str>> = cases.iter().map(|c| c.assigned_agent.as_deref()).collect();
        let last_message_at: Vec<DateTime<Utc>> = cases.iter().map(|c| c.last_message_at).collect();
        let counts: Vec<i64> =
            cases.iter().map(|c| i64::try_from(c.message_count).unwrap_or(i64::MAX)).collect();
        let time = |f: fn(&CaseRow) -> Option<DateTime<Utc>>| cases.iter().map(f).collect::<Vec<_>>();
        let targets: Vec<Option<&str>> = cases.iter().map(|c| c.sla_target.map(SlaTarget::as_str)).collect();
        let paused: Vec<Option<i64>> = cases.iter().map(|c| c.sla_paused_secs).collect();
        let rounds: Vec<i64> = cases.iter().map(|c| c.sla_round).collect();
        let written = sqlx::query(
            "UPDATE cases SET
                 status = u.status, priority = u.priority, level = u.level, team = u.team,
                 assigned_agent = u.assigned_agent, last_message_at = u.last_message_at,
                 message_count = u.message_count, assigned_at = u.assigned_at,
                 agent_acted_at = u.agent_acted_at, resolved_at = u.resolved_at,
                 closed_at = u.closed_at, first_response_at = u.first_response_at,
                 sla_target = u.sla_target, sla_due_at = u.sla_due_at,
                 sla_paused_secs = u.sla_paused_secs, sla_round = u.sla_round,
                 sla_breached_at = u.sla_breached_at, updated_at = $2, version = cases.version + 1
             FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], $6::real[], $7::bigint[], $8::text[],
                         $9::text[], $10::timestamptz[], $11::bigint[], $12::timestamptz[],
                         $13::timestamptz[], $14::timestamptz[], $15::timestamptz[],
                         $16::timestamptz[], $17::text[], $18::timestamptz[], $19::bigint[],
                         $20::bigint[], $21::timestamptz[])
                  AS u(id, version, status, priority, level, team, assigned_agent, last_message_at,
                       message_count, assigned_at, agent_acted_at, resolved_at, closed_at,
                       first_response_at, sla_target, sla_due_at, sla_paused_secs, sla_round,
                       sla_breached_at)
             WHERE cases.account_id = $1 AND cases.id = u.id AND cases.version = u.version",
        )
        .bind(account.as_str())
        .bind(now)
        .bind(&ids)
        .bind(&versions)
        .bind(&statuses)
        .bind(&priorities)
        .bind(&levels)
        .bind(&teams)
        .bind(&agents)
        .bind(&last_message_at)
        .bind(&counts)
        .bind(time(|c| c.assigned_at))
        .bind(time(|c| c.agent_acted_at))
        .bind(time(|c| c.resolved_at))
        .bind(time(|c| c.closed_at))
        .bind(time(|c| c.first_response_at))
        .bind(&targets)
        .bind(time(|c| c.sla_due_at))
        .bind(&paused)
        .bind(&rounds)
        .bind(time(|c| c.sla_breached_at))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        Ok(written)
    }

    async fn save_agent_tickets(
        conn: &mut PgConnection,
        account: &AccountId,
        tickets: &[(String, i64)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (names, seqs): (Vec<&str>, Vec<i64>) = tickets.iter().map(|(n, s)| (n.as_str(), *s)).unzip();
        sqlx::query(
            "UPDATE agents SET last_assigned_seq = u.seq, last_assigned_at = $4
             FROM UNNEST($2::text[], $3::bigint[]) AS u(name, seq)
             WHERE agents.account_id = $1 AND agents.name = u.name",
        )
        .bind(account.as_str())
        .bind(&names)
        .bind(&seqs)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn next_case_candidate(
        conn: &mut PgConnection,
        account: &AccountId,
        teams: &[String],
        languages: &[String],
        topics: &[String],
    ) -> Result<Option<CaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM cases
             WHERE account_id = $1 AND status = 'queued'
               AND (team IS NULL OR team = ANY($2::text[]))
               AND (cardinality($3::text[]) = 0 OR lang IN ('', 'und') OR lower(lang) = ANY($3::text[]))
               AND (cardinality($4::text[]) = 0 OR EXISTS (
                       SELECT 1 FROM jsonb_array_elements_text(tags) AS t(tag)
                       WHERE lower(t.tag) = ANY($4::text[])))
             ORDER BY level DESC, sla_due_at ASC NULLS LAST, priority DESC, opened_at, id
             LIMIT 1
             FOR UPDATE SKIP LOCKED",
            case_columns("tags::text")
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(account.as_str())
            .bind(teams)
            .bind(languages)
            .bind(topics)
            .fetch_optional(&mut *conn)
            .await?)
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
