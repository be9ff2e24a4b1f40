//! What PostgreSQL and SQLite share, and what each writes its own way.
//!
//! [`BackendSql`] is the part each database implements itself: its dialect's
//! pieces of SQL (row locks, JSON as text), how it binds timestamps, how it
//! starts a write transaction and how a batch travels (arrays through
//! `UNNEST`, or one statement per row). [`impl_case_store!`] writes the rest
//! of [`CaseStore`] once — the common SQL with its binds and row mapping, and
//! the steps of every operation — and expands it for each store type, so
//! every expansion is plainly typed for one database. It is a macro rather
//! than generic code over `sqlx::Database` because that would need a trait
//! bound for every type the queries bind or decode.
//!
//! Every operation that changes cases follows one pattern: start a write
//! transaction, take the account's routing lock, load and lock the rows,
//! decide in plain Rust (`lifecycle`, `opening`, `routing`), save the rows,
//! route what is queued, append the audit log, commit. On PostgreSQL the
//! locks are taken in one order (routing lock, cases, agents, ticket
//! counter), so transactions wait for each other but never deadlock; pulling a
//! next case skips locked rows instead of taking the routing lock. SQLite's
//! `BEGIN IMMEDIATE` runs writers one at a time.
//!
//! [`CaseStore`]: crate::CaseStore

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use smo_proto::AccountId;
use sqlx::Transaction;

use crate::opening::{MessageRow, NewCaseRow};
use crate::records::{CaseRecord, PendingEvent};
use crate::{Backend, CaseRow, Roster, StoreError};

/// A connection of the backend's database, as a transaction dereferences to.
pub(crate) type Conn<S> = <<S as BackendSql>::Database as sqlx::Database>::Connection;

/// Queued cases one routing pass considers at most, most urgent first.
pub(crate) const ROUTE_SCAN_LIMIT: i64 = 1000;

/// The statements a backend runs its own way; [`impl_case_store!`] builds
/// [`CaseStore`](crate::CaseStore) from them and the shared queries.
pub(crate) trait BackendSql: Send + Sync + std::fmt::Debug + 'static {
    /// The sqlx driver.
    type Database: sqlx::Database;
    /// How a timestamp is bound as a parameter.
    type Time;

    /// Which database this is.
    const BACKEND: Backend;
    /// Suffix that locks the selected rows until commit.
    const LOCK_ROWS: &'static str;
    /// Suffix that locks the selected rows, skipping rows others hold.
    const LOCK_SKIP_LOCKED: &'static str;
    /// Suffix that locks the selected `agents a` rows only.
    const LOCK_AGENTS: &'static str;
    /// `case_events`: `$1` account, `$2` case id; the columns of
    /// `EventRecord`, oldest first.
    const CASE_EVENTS_SQL: &'static str;
    /// `cases_opened_per_day`: `$1` account, `$2`/`$3` the time range; rows
    /// of (UTC date, count) in date order.
    const CASES_PER_DAY_SQL: &'static str;

    /// `column` (a JSON column) read as JSON text.
    fn json_text(column: &str) -> String;
    /// Parameter `param` (JSON text) as a value for a JSON column.
    fn json_param(param: &str) -> String;
    /// `list_cases`: `$1` account, `$2` status or NULL, `$3` agent or NULL,
    /// `$4` row limit or NULL for all; case columns, most urgent first.
    fn list_cases_sql() -> String;

    /// `at` as this database stores timestamps.
    fn bind_time(at: DateTime<Utc>) -> Self::Time;

    /// Applies the embedded migrations (see `CaseStore::migrate`).
    fn run_migrations(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Starts a transaction that will write.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Database>, StoreError>> + Send;

    /// Makes the validated `names` the account's active agents, in order,
    /// keeping the skills and capacity of agents it already has.
    fn replace_agents(
        conn: &mut Conn<Self>,
        account: &AccountId,
        names: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes the validated `roster` the account's agents (with skills and
    /// capacity) and teams.
    fn apply_roster(
        conn: &mut Conn<Self>,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts `rows` as queued cases, in order; returns their ids in order.
    fn insert_cases(
        conn: &mut Conn<Self>,
        account: &AccountId,
        rows: &[NewCaseRow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// Records posts in their cases.
    fn insert_messages(
        conn: &mut Conn<Self>,
        account: &AccountId,
        rows: &[MessageRow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Post id → case id for posts that already belong to a case.
    fn find_messages(
        conn: &mut Conn<Self>,
        account: &AccountId,
        post_ids: &[&str],
    ) -> impl Future<Output = Result<HashMap<String, i64>, StoreError>> + Send;

    /// The open or resolved (not closed) cases of the given (thread, author)
    /// conversations, locked.
    fn load_conversations(
        conn: &mut Conn<Self>,
        account: &AccountId,
        pairs: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<CaseRecord>, StoreError>> + Send;

    /// Writes back the mutable columns of `cases`, each only if still at its
    /// version; returns how many rows were written.
    fn save_cases(
        conn: &mut Conn<Self>,
        account: &AccountId,
        cases: &[CaseRow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records each agent's last assignment ticket.
    fn save_agent_tickets(
        conn: &mut Conn<Self>,
        account: &AccountId,
        tickets: &[(String, i64)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The most urgent queued case an agent with these teams and skills
    /// (lowercase; empty: any) can take, locked, skipping cases others hold.
    fn next_case_candidate(
        conn: &mut Conn<Self>,
        account: &AccountId,
        teams: &[String],
        languages: &[String],
        topics: &[String],
    ) -> impl Future<Output = Result<Option<CaseRecord>, StoreError>> + Send;

    /// Appends `events` to the audit log, in order.
    fn append_events(
        conn: &mut Conn<Self>,
        account: &AccountId,
        events: &[PendingEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Implements [`CaseStore`](crate::CaseStore) for `$store`, which implements
/// [`BackendSql`] and has an inherent `pool()`. The queries here are the same
/// text on both databases; the expansion types them for `$store`'s one.
macro_rules! impl_case_store {
    ($store:ty) => {
        // A block of its own, so that these imports do not meet the module's.
        const _: () = {
            use std::collections::{HashMap, HashSet};

            use ::async_trait::async_trait;
            use ::chrono::{DateTime, NaiveDate, TimeDelta, Utc};
            use ::smo_proto::{
                AccountId, CaseEvent, CaseEventKind, CaseStatus, Intent, SlaTarget,
            };
            use ::sqlx::AssertSqlSafe;

            use $crate::backend_sql::{BackendSql, Conn, ROUTE_SCAN_LIMIT};
            use $crate::lifecycle::{Journal, assign, is_active, respond, set_status, unassign};
            use $crate::opening::{CaseRef, MessageRow, outcomes, plan_inputs, plan_threads};
            use $crate::records::{
                AgentRecord, CaseRecord, EventRecord, MessageRecord, OutboxRecord, agent_columns,
                case_columns, presence_from_sql, sql_text, tags_from_json,
            };
            use $crate::roster::{agent_roster, validated_roster};
            use $crate::routing::{AgentLoad, eligible_count, pick, queue_cmp};
            use $crate::{
                AgentRow, Backend, CaseAction, CaseCommand, CaseFilter, CaseMessage, CaseRow, CaseStore,
                Escalation, EscalationAction, NewCase, NewToken, NextCase, OpenOptions, OpenedCase, OutboxMessage,
                Presence, PresenceChange, Requeued, Roster, Routed, SYSTEM_ACTOR, SourceCursor,
                StoreError, TokenRow,
            };

            type Store = $store;

            fn cols() -> String {
                case_columns(&<Store as BackendSql>::json_text("tags"))
            }

            fn records_to_rows(
                records: Vec<CaseRecord>,
                account: &AccountId,
            ) -> Result<Vec<CaseRow>, StoreError> {
                records.into_iter().map(|record| record.into_case_row(account)).collect()
            }

            #[async_trait]
            impl CaseStore for $store {
                fn backend(&self) -> Backend {
                    Self::BACKEND
                }

                async fn migrate(&self) -> Result<(), StoreError> {
                    self.run_migrations().await
                }

                async fn sync_agents(
                    &self,
                    account: &AccountId,
                    agents: &[String],
                ) -> Result<(), StoreError> {
                    let names = agent_roster(agents)?;
                    let now = Utc::now();
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    Self::replace_agents(&mut tx, account, &names, now).await?;
                    let mut journal = Journal::new(now);
                    route_locked(&mut tx, account, Hints::default(), &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn sync_roster(
                    &self,
                    account: &AccountId,
                    roster: &Roster,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let roster = validated_roster(roster)?;
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    Self::apply_roster(&mut tx, account, &roster, now).await?;
                    let mut journal = Journal::new(now);
                    route_locked(&mut tx, account, Hints::default(), &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
                    Ok(sqlx::query_scalar(
                        "SELECT name FROM agents WHERE account_id = $1 AND active ORDER BY position, name",
                    )
                    .bind(account.as_str())
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn agents(&self, account: &AccountId) -> Result<Vec<AgentRow>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM agents a WHERE a.account_id = $1 ORDER BY a.active DESC, a.position, a.name",
                        agent_columns(Self::json_text)
                    );
                    let records: Vec<AgentRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .fetch_all(self.pool())
                        .await?;
                    let mut teams = team_memberships(self.pool(), account).await?;
                    records
                        .into_iter()
                        .map(|record| {
                            let mine = teams.remove(&record.name).unwrap_or_default();
                            record.into_agent_row(mine)
                        })
                        .collect()
                }

                async fn open_cases_with(
                    &self,
                    account: &AccountId,
                    cases: &[NewCase],
                    options: &OpenOptions,
                ) -> Result<Vec<OpenedCase>, StoreError> {
                    let planned = plan_inputs(cases);
                    if planned.is_empty() {
                        return Ok(Vec::new());
                    }
                    let now = options.now;
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    let post_ids: Vec<&str> = planned.iter().map(|case| case.post_id.as_str()).collect();
                    let known = Self::find_messages(&mut tx, account, &post_ids).await?;
                    let fresh: Vec<usize> = planned
                        .iter()
                        .enumerate()
                        .filter(|(_, case)| !known.contains_key(case.post_id.as_str()))
                        .map(|(index, _)| index)
                        .collect();
                    let mut pairs: Vec<(String, String)> = fresh
                        .iter()
                        .filter_map(|&index| planned.get(index))
                        .map(|case| (case.thread_id.as_str().to_owned(), case.author_handle.clone()))
                        .collect();
                    pairs.sort();
                    pairs.dedup();
                    let conversations = if pairs.is_empty() {
                        Vec::new()
                    } else {
                        records_to_rows(Self::load_conversations(&mut tx, account, &pairs).await?, account)?
                    };
                    let plan = plan_threads(&planned, &fresh, conversations, options.reopen_window, now)?;
                    let new_ids = if plan.new_cases.is_empty() {
                        Vec::new()
                    } else {
                        Self::insert_cases(&mut tx, account, &plan.new_cases, now).await?
                    };
                    let id_of = |case_ref: CaseRef| match case_ref {
                        CaseRef::Existing(id) => Ok(id),
                        CaseRef::New(index) => new_ids.get(index).copied().ok_or_else(|| {
                            StoreError::Corrupt("a new case got no id".to_owned())
                        }),
                    };
                    let messages = plan
                        .messages
                        .iter()
                        .filter_map(|(index, case_ref)| planned.get(*index).map(|post| (post, *case_ref)))
                        .map(|(post, case_ref)| {
                            Ok(MessageRow {
                                case_id: id_of(case_ref)?,
                                post_id: post.post_id.as_str().to_owned(),
                                author_handle: post.author_handle.clone(),
                                intent: post.intent.as_str(),
                                text_excerpt: post.text_excerpt.clone(),
                                at: post.opened_at,
                            })
                        })
                        .collect::<Result<Vec<_>, StoreError>>()?;
                    Self::insert_messages(&mut tx, account, &messages, now).await?;

                    let mut journal = Journal::new(now);
                    let mut opened_event: HashMap<i64, usize> = HashMap::new();
                    for deferred in plan.events {
                        let case_id = id_of(deferred.case)?;
                        if matches!(deferred.event, CaseEventKind::Opened { .. }) {
                            opened_event.insert(case_id, journal.events.len());
                        }
                        journal.record(case_id, deferred.event, SYSTEM_ACTOR, deferred.reason)?;
                    }
                    let mut changed: Vec<CaseRow> = plan.changed.into_values().collect();
                    save_all(&mut tx, account, &mut changed, now).await?;
                    let returned: HashSet<i64> = plan.returned.into_iter().collect();
                    let hints = Hints {
                        prefer: plan.prefer,
                        exclude: HashMap::new(),
                        returned: changed.into_iter().filter(|case| returned.contains(&case.id)).collect(),
                    };
                    let routing = route_locked(&mut tx, account, hints, &mut journal).await?;
                    for case_id in &new_ids {
                        if routing.holders.contains_key(case_id) {
                            continue;
                        }
                        if let Some(event) = opened_event.get(case_id).and_then(|i| journal.events.get_mut(*i)) {
                            event.reason.push_str(if routing.agents_known {
                                "; queued: no eligible agent is online with free capacity"
                            } else {
                                "; queued because the account has no active agents"
                            });
                        }
                    }
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    outcomes(cases, &known, &plan.fates, &new_ids, &routing.holders)
                }

                async fn get_case(&self, account: &AccountId, case_id: i64) -> Result<Option<CaseRow>, StoreError> {
                    let sql = format!("SELECT {} FROM cases WHERE account_id = $1 AND id = $2", cols());
                    let record: Option<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_optional(self.pool())
                        .await?;
                    record.map(|record| record.into_case_row(account)).transpose()
                }

                async fn case_messages(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<CaseMessage>, StoreError> {
                    let records: Vec<MessageRecord> = sqlx::query_as(
                        "SELECT case_id, post_id, author_handle, intent, text_excerpt, at, received_at
                         FROM case_messages
                         WHERE account_id = $1 AND case_id = $2
                         ORDER BY at, id",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .fetch_all(self.pool())
                    .await?;
                    records.into_iter().map(MessageRecord::into_message).collect()
                }

                async fn update_case(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                    command: CaseCommand,
                    now: DateTime<Utc>,
                ) -> Result<CaseRow, StoreError> {
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    let mut case = load_case_locked(&mut tx, account, case_id).await?;
                    if let Some(expected) = command.expected_version
                        && expected != case.version
                    {
                        return Err(StoreError::Conflict(format!(
                            "case {case_id} is at version {}, not {expected}",
                            case.version
                        )));
                    }
                    let actor = command.actor.replace('\0', "");
                    let reason = command.reason.replace('\0', "");
                    let mut journal = Journal::new(now);
                    let mut hints = Hints::default();
                    match command.action {
                        CaseAction::Assign { agent } => {
                            let agent_row = active_agent(&mut tx, account, &agent).await?;
                            if agent_row.presence != Presence::Online {
                                return Err(StoreError::Conflict(format!(
                                    "agent {agent} is {}",
                                    agent_row.presence.as_str()
                                )));
                            }
                            assign(&mut case, &agent, &actor, reason, &mut journal)?;
                        }
                        CaseAction::Requeue => {
                            if let Some(agent) = unassign(&mut case, &actor, reason, &mut journal)? {
                                hints.exclude.insert(case.id, agent);
                            }
                        }
                        CaseAction::SetStatus { to, sla } => {
                            let holder = case.assigned_agent.clone();
                            set_status(&mut case, to, sla, &actor, reason, &mut journal)?;
                            if to == CaseStatus::Queued
                                && let Some(holder) = holder
                            {
                                hints.exclude.insert(case.id, holder);
                            }
                        }
                        CaseAction::Respond { agent, wait_on_customer } => {
                            respond(&mut case, &agent, wait_on_customer, &actor, reason, &mut journal)?;
                        }
                        CaseAction::MoveToTeam { team } => {
                            move_to_team(&mut tx, account, &mut case, team, &actor, reason, &mut journal).await?;
                        }
                        CaseAction::SetPriority { level } => {
                            if level != case.level {
                                let change = CaseEventKind::PriorityChanged { from: case.level, to: level };
                                journal.record(case.id, change, &actor, reason)?;
                                case.level = level;
                            }
                        }
                        CaseAction::Touch => {
                            if case.assigned_agent.is_none() {
                                return Err(StoreError::Conflict(format!("case {case_id} has no agent")));
                            }
                            case.agent_acted_at = Some(now);
                        }
                    }
                    save_all(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
                    route_locked(&mut tx, account, hints, &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    let fresh = load_case_locked(&mut tx, account, case_id).await?;
                    tx.commit().await?;
                    Ok(fresh)
                }

                async fn set_presence(
                    &self,
                    account: &AccountId,
                    agent: &str,
                    presence: Presence,
                    now: DateTime<Utc>,
                ) -> Result<PresenceChange, StoreError> {
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    let updated = sqlx::query(
                        "UPDATE agents SET presence = $3, presence_at = $4
                         WHERE account_id = $1 AND name = $2 AND active",
                    )
                    .bind(account.as_str())
                    .bind(agent)
                    .bind(presence.as_str())
                    .bind(Self::bind_time(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::NotFound(format!("active agent {agent:?}")));
                    }
                    let mut journal = Journal::new(now);
                    let mut hints = Hints::default();
                    let mut requeued = Vec::new();
                    if presence != Presence::Online {
                        let sql = format!(
                            "SELECT {} FROM cases
                             WHERE account_id = $1 AND assigned_agent = $2 AND status = 'assigned'
                             ORDER BY id {}",
                            cols(),
                            Self::LOCK_ROWS
                        );
                        let records: Vec<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql))
                            .bind(account.as_str())
                            .bind(agent)
                            .fetch_all(&mut *tx)
                            .await?;
                        let mut cases = records_to_rows(records, account)?;
                        for case in &mut cases {
                            let reason = format!("{agent} went {}", presence.as_str());
                            unassign(case, agent, reason, &mut journal)?;
                            hints.exclude.insert(case.id, agent.to_owned());
                            requeued.push(case.id);
                        }
                        save_all(&mut tx, account, &mut cases, now).await?;
                    }
                    let routing = route_locked(&mut tx, account, hints, &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(PresenceChange {
                        requeued: requeued
                            .into_iter()
                            .map(|case_id| Requeued {
                                case_id,
                                from_agent: agent.to_owned(),
                                to_agent: routing.holders.get(&case_id).cloned(),
                            })
                            .collect(),
                        routed: routing.routed,
                    })
                }

                async fn next_case(
                    &self,
                    account: &AccountId,
                    agent: &str,
                    now: DateTime<Utc>,
                ) -> Result<NextCase, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let sql = format!(
                        "SELECT {} FROM agents a WHERE a.account_id = $1 AND a.name = $2 AND a.active {}",
                        agent_columns(Self::json_text),
                        Self::LOCK_AGENTS
                    );
                    let record: Option<AgentRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(agent)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(record) = record else {
                        return Err(StoreError::NotFound(format!("active agent {agent:?}")));
                    };
                    if record.capacity.is_some_and(|capacity| record.open_cases >= capacity) {
                        return Ok(NextCase::AtCapacity);
                    }
                    let teams: Vec<String> = sqlx::query_scalar(
                        "SELECT team FROM team_members WHERE account_id = $1 AND agent = $2",
                    )
                    .bind(account.as_str())
                    .bind(agent)
                    .fetch_all(&mut *tx)
                    .await?;
                    let lower = |json: &str| -> Result<Vec<String>, StoreError> {
                        Ok(tags_from_json(json)?.into_iter().map(|s| s.to_lowercase()).collect())
                    };
                    let (languages, topics) = (lower(&record.languages)?, lower(&record.topics)?);
                    let candidate =
                        Self::next_case_candidate(&mut tx, account, &teams, &languages, &topics).await?;
                    let Some(candidate) = candidate else {
                        return Ok(NextCase::NothingQueued);
                    };
                    let mut case = candidate.into_case_row(account)?;
                    let ticket = take_tickets(&mut tx, account).await?;
                    set_tickets(&mut tx, account, ticket + 1).await?;
                    let mut journal = Journal::new(now);
                    let reason = format!("pulled as the next case of the queue (ticket {ticket})");
                    assign(&mut case, agent, agent, reason, &mut journal)?;
                    save_all(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
                    Self::save_agent_tickets(&mut tx, account, &[(agent.to_owned(), ticket)], now).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(NextCase::Assigned { case: Box::new(case) })
                }

                async fn requeue_inactive(
                    &self,
                    account: &AccountId,
                    timeout: TimeDelta,
                    now: DateTime<Utc>,
                ) -> Result<Vec<Requeued>, StoreError> {
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    let sql = format!(
                        "SELECT {} FROM cases
                         WHERE account_id = $1 AND status = 'assigned' AND assigned_at <= $2
                           AND (agent_acted_at IS NULL OR agent_acted_at < assigned_at)
                         ORDER BY id {}",
                        cols(),
                        Self::LOCK_ROWS
                    );
                    let records: Vec<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(Self::bind_time(now - timeout))
                        .fetch_all(&mut *tx)
                        .await?;
                    let mut cases = records_to_rows(records, account)?;
                    if cases.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut journal = Journal::new(now);
                    let mut hints = Hints::default();
                    let mut requeued = Vec::new();
                    for case in &mut cases {
                        let holder = case.assigned_agent.clone().unwrap_or_default();
                        let reason = format!(
                            "{holder} did not act within {} s of the assignment",
                            timeout.num_seconds()
                        );
                        if let Some(agent) = unassign(case, SYSTEM_ACTOR, reason, &mut journal)? {
                            hints.exclude.insert(case.id, agent.clone());
                            requeued.push((case.id, agent));
                        }
                    }
                    save_all(&mut tx, account, &mut cases, now).await?;
                    let routing = route_locked(&mut tx, account, hints, &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(requeued
                        .into_iter()
                        .map(|(case_id, from_agent)| Requeued {
                            case_id,
                            from_agent,
                            to_agent: routing.holders.get(&case_id).cloned(),
                        })
                        .collect())
                }

                async fn route_queued(
                    &self,
                    account: &AccountId,
                    now: DateTime<Utc>,
                ) -> Result<Vec<Routed>, StoreError> {
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    let mut journal = Journal::new(now);
                    let routing = route_locked(&mut tx, account, Hints::default(), &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(routing.routed)
                }

                async fn sla_watchlist(
                    &self,
                    account: &AccountId,
                    due_before: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<CaseRow>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM cases
                         WHERE account_id = $1 AND sla_due_at IS NOT NULL AND sla_due_at < $2
                           AND status IN ('new', 'queued', 'assigned')
                         ORDER BY sla_due_at, id
                         LIMIT $3",
                        cols()
                    );
                    let records: Vec<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(Self::bind_time(due_before))
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await?;
                    records_to_rows(records, account)
                }

                async fn escalate(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                    escalation: &Escalation,
                    now: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    lock_routing(&mut tx, account).await?;
                    let mut case = load_case_locked(&mut tx, account, case_id).await?;
                    if case.sla_round != escalation.sla_round || !is_active(case.status) {
                        return Ok(false);
                    }
                    let rule = sql_text(&escalation.rule);
                    let fired = sqlx::query(
                        "INSERT INTO case_escalations (account_id, case_id, sla_round, rule, fired_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(escalation.sla_round)
                    .bind(&rule)
                    .bind(Self::bind_time(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if fired == 0 {
                        return Ok(false);
                    }
                    let reason = sql_text(&escalation.reason);
                    let mut journal = Journal::new(now);
                    journal.record(case.id, CaseEventKind::Escalated { rule: rule.clone() }, SYSTEM_ACTOR, reason.clone())?;
                    let mut hints = Hints::default();
                    for action in &escalation.actions {
                        match action {
                            EscalationAction::MarkBreached => {
                                if case.sla_breached_at.is_none() {
                                    case.sla_breached_at = Some(now);
                                    let target = case.sla_target.unwrap_or(SlaTarget::FirstResponse);
                                    journal.record(case.id, CaseEventKind::SlaBreached { target }, SYSTEM_ACTOR, reason.clone())?;
                                }
                            }
                            EscalationAction::RaisePriority => {
                                let to = case.level.raised();
                                if to != case.level {
                                    let change = CaseEventKind::PriorityChanged { from: case.level, to };
                                    journal.record(case.id, change, SYSTEM_ACTOR, reason.clone())?;
                                    case.level = to;
                                }
                            }
                            EscalationAction::MoveToTeam { team } => {
                                let holder = case.assigned_agent.clone();
                                move_to_team(&mut tx, account, &mut case, Some(team.clone()), SYSTEM_ACTOR, reason.clone(), &mut journal).await?;
                                if case.assigned_agent.is_none()
                                    && let Some(holder) = holder
                                {
                                    hints.exclude.insert(case.id, holder);
                                }
                            }
                            EscalationAction::Notify { destination } => {
                                let payload = ::serde_json::json!({
                                    "account": account.as_str(),
                                    "case_id": case.id,
                                    "rule": rule,
                                    "reason": reason,
                                    "level": case.level.as_str(),
                                    "team": case.team,
                                    "assigned_agent": case.assigned_agent,
                                    "sla_target": case.sla_target.map(SlaTarget::as_str),
                                    "sla_due_at": case.sla_due_at,
                                    "at": now,
                                });
                                insert_outbox(&mut tx, account, Some(case.id), "escalation", destination, &payload, now).await?;
                            }
                        }
                    }
                    save_all(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
                    route_locked(&mut tx, account, hints, &mut journal).await?;
                    Self::append_events(&mut tx, account, &journal.events).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn pending_outbox(
                    &self,
                    account: &AccountId,
                    limit: u32,
                ) -> Result<Vec<OutboxMessage>, StoreError> {
                    let sql = format!(
                        "SELECT id, case_id, kind, destination, {} AS payload, created_at, attempts
                         FROM outbox
                         WHERE account_id = $1 AND delivered_at IS NULL
                         ORDER BY next_attempt_at, id
                         LIMIT $2",
                        Self::json_text("payload")
                    );
                    let records: Vec<OutboxRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await?;
                    records.into_iter().map(OutboxRecord::into_message).collect()
                }

                async fn put_community_settings(
                    &self,
                    account: &AccountId,
                    settings: &::serde_json::Value,
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    $crate::ops::settings::put_community_settings(self, account, settings, now).await
                }

                async fn create_token(&self, token: &NewToken, now: DateTime<Utc>) -> Result<TokenRow, StoreError> {
                    $crate::ops::tokens::create_token(self, token, now).await
                }

                async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
                    $crate::ops::tokens::token_by_hash(self, token_hash).await
                }

                async fn list_tokens(&self, account: Option<&AccountId>) -> Result<Vec<TokenRow>, StoreError> {
                    $crate::ops::tokens::list_tokens(self, account).await
                }

                async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
                    $crate::ops::tokens::revoke_token(self, id, now).await
                }

                async fn community_settings(
                    &self,
                    account: &AccountId,
                ) -> Result<Option<::serde_json::Value>, StoreError> {
                    $crate::ops::settings::community_settings(self, account).await
                }

                async fn list_cases(
                    &self,
                    account: &AccountId,
                    filter: CaseFilter,
                ) -> Result<Vec<CaseRow>, StoreError> {
                    let records: Vec<CaseRecord> = sqlx::query_as(AssertSqlSafe(Self::list_cases_sql()))
                        .bind(account.as_str())
                        .bind(filter.status.map(CaseStatus::as_str))
                        .bind(filter.agent.as_deref())
                        .bind(filter.limit.map(i64::from))
                        .fetch_all(self.pool())
                        .await?;
                    records_to_rows(records, account)
                }

                async fn case_events(
                    &self,
                    account: &AccountId,
                    case_id: i64,
                ) -> Result<Vec<CaseEvent>, StoreError> {
                    let records: Vec<EventRecord> = sqlx::query_as(Self::CASE_EVENTS_SQL)
                        .bind(account.as_str())
                        .bind(case_id)
                        .fetch_all(self.pool())
                        .await?;
                    records.into_iter().map(|record| record.into_case_event(account)).collect()
                }

                async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError> {
                    $crate::ops::reports::count_cases(self, account).await
                }

                async fn cases_opened_between(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    $crate::ops::reports::cases_opened_between(self, account, from, to).await
                }

                async fn cases_opened_by_intent(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(Intent, u64)>, StoreError> {
                    $crate::ops::reports::cases_opened_by_intent(self, account, from, to).await
                }

                async fn cases_opened_per_day(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
                    $crate::ops::reports::cases_opened_per_day(self, account, from, to).await
                }

                async fn cases_by_status(
                    &self,
                    account: &AccountId,
                ) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
                    $crate::ops::reports::cases_by_status(self, account).await
                }

                async fn get_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                ) -> Result<Option<SourceCursor>, StoreError> {
                    $crate::ops::cursors::get_cursor(self, account, source).await
                }

                async fn save_cursor(
                    &self,
                    account: &AccountId,
                    source: &str,
                    cursor: &str,
                    posts_fetched_delta: u64,
                ) -> Result<(), StoreError> {
                    $crate::ops::cursors::save_cursor(self, account, source, cursor, posts_fetched_delta).await
                }

                async fn record_source_error(
                    &self,
                    account: &AccountId,
                    source: &str,
                    error: &str,
                ) -> Result<(), StoreError> {
                    $crate::ops::cursors::record_source_error(self, account, source, error).await
                }

                async fn close(&self) {
                    self.pool().close().await;
                }
            }

            /// What routing should know beyond the queue: the agent each case
            /// was just taken from (not given back), the agent each reopened
            /// case prefers, and cases handed back to their agent, which stay
            /// only if that agent is online.
            #[derive(Default)]
            struct Hints {
                prefer: HashMap<i64, String>,
                exclude: HashMap<i64, String>,
                returned: Vec<CaseRow>,
            }

            /// What a routing pass did.
            struct RouteOutcome {
                routed: Vec<Routed>,
                holders: HashMap<i64, String>,
                agents_known: bool,
            }

            /// Takes the account's routing lock for the rest of the transaction.
            async fn lock_routing(conn: &mut Conn<Store>, account: &AccountId) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO routing_locks (account_id) VALUES ($1)
                     ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id",
                )
                .bind(account.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// The account's next assignment ticket, with its counter row
            /// locked until commit; [`set_tickets`] moves it on.
            async fn take_tickets(conn: &mut Conn<Store>, account: &AccountId) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO round_robin (account_id, next_position) VALUES ($1, 0)
                     ON CONFLICT (account_id)
                     DO UPDATE SET next_position = round_robin.next_position
                     RETURNING next_position",
                )
                .bind(account.as_str())
                .fetch_one(&mut *conn)
                .await?)
            }

            async fn set_tickets(conn: &mut Conn<Store>, account: &AccountId, next: i64) -> Result<(), StoreError> {
                sqlx::query("UPDATE round_robin SET next_position = $2 WHERE account_id = $1")
                    .bind(account.as_str())
                    .bind(next)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Agent → teams of the account.
            async fn team_memberships<'c>(
                executor: impl sqlx::Executor<'c, Database = <Store as BackendSql>::Database>,
                account: &AccountId,
            ) -> Result<HashMap<String, Vec<String>>, StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT agent, team FROM team_members WHERE account_id = $1 ORDER BY agent, team",
                )
                .bind(account.as_str())
                .fetch_all(executor)
                .await?;
                let mut teams: HashMap<String, Vec<String>> = HashMap::new();
                for (agent, team) in rows {
                    teams.entry(agent).or_default().push(team);
                }
                Ok(teams)
            }

            /// One active agent of the account, or `NotFound`.
            async fn active_agent(
                conn: &mut Conn<Store>,
                account: &AccountId,
                agent: &str,
            ) -> Result<AgentRow, StoreError> {
                let sql = format!(
                    "SELECT {} FROM agents a WHERE a.account_id = $1 AND a.name = $2 AND a.active",
                    agent_columns(<Store as BackendSql>::json_text)
                );
                let record: Option<AgentRecord> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.as_str())
                    .bind(agent)
                    .fetch_optional(&mut *conn)
                    .await?;
                let record = record.ok_or_else(|| StoreError::NotFound(format!("active agent {agent:?}")))?;
                record.into_agent_row(Vec::new())
            }

            /// The active agents with their loads and teams, locked.
            async fn load_agent_loads(
                conn: &mut Conn<Store>,
                account: &AccountId,
            ) -> Result<Vec<AgentLoad>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM agents a WHERE a.account_id = $1 AND a.active ORDER BY a.name {}",
                    agent_columns(<Store as BackendSql>::json_text),
                    <Store as BackendSql>::LOCK_AGENTS
                );
                let records: Vec<AgentRecord> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.as_str())
                    .fetch_all(&mut *conn)
                    .await?;
                let mut teams = team_memberships(&mut *conn, account).await?;
                records
                    .into_iter()
                    .map(|record| {
                        Ok(AgentLoad {
                            teams: teams.remove(&record.name).unwrap_or_default().into_iter().collect(),
                            languages: tags_from_json(&record.languages)?,
                            topics: tags_from_json(&record.topics)?,
                            presence: presence_from_sql(&record.presence)?,
                            name: record.name,
                            position: record.position,
                            capacity: record.capacity,
                            open: record.open_cases,
                            last_seq: record.last_assigned_seq,
                        })
                    })
                    .collect()
            }

            /// One case, locked; `NotFound` if the account has no such case.
            async fn load_case_locked(
                conn: &mut Conn<Store>,
                account: &AccountId,
                case_id: i64,
            ) -> Result<CaseRow, StoreError> {
                let sql = format!(
                    "SELECT {} FROM cases WHERE account_id = $1 AND id = $2 {}",
                    cols(),
                    <Store as BackendSql>::LOCK_ROWS
                );
                let record: Option<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.as_str())
                    .bind(case_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                record
                    .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?
                    .into_case_row(account)
            }

            /// Saves `cases` and moves their in-memory versions on; a case
            /// changed by someone else since it was read is a `Conflict`.
            async fn save_all(
                conn: &mut Conn<Store>,
                account: &AccountId,
                cases: &mut [CaseRow],
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                if cases.is_empty() {
                    return Ok(());
                }
                let written = Store::save_cases(conn, account, cases, now).await?;
                if written != cases.len() as u64 {
                    return Err(StoreError::Conflict(format!(
                        "{} of {} cases changed while being updated",
                        cases.len() as u64 - written.min(cases.len() as u64),
                        cases.len()
                    )));
                }
                for case in cases {
                    case.version += 1;
                    case.updated_at = now;
                }
                Ok(())
            }

            /// Moves `case` to `team`'s queue; its agent keeps it only if
            /// they serve that team.
            async fn move_to_team(
                conn: &mut Conn<Store>,
                account: &AccountId,
                case: &mut CaseRow,
                team: Option<String>,
                actor: &str,
                reason: String,
                journal: &mut Journal,
            ) -> Result<(), StoreError> {
                let team = team.map(|t| t.replace('\0', ""));
                if team == case.team {
                    return Ok(());
                }
                if let Some(name) = &team {
                    let exists: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE account_id = $1 AND name = $2")
                            .bind(account.as_str())
                            .bind(name)
                            .fetch_one(&mut *conn)
                            .await?;
                    if exists == 0 {
                        return Err(StoreError::NotFound(format!("team {name:?}")));
                    }
                }
                let change = CaseEventKind::TeamChanged { from: case.team.clone(), to: team.clone() };
                journal.record(case.id, change, actor, reason.clone())?;
                case.team = team.clone();
                if let (Some(holder), Some(name)) = (case.assigned_agent.clone(), team) {
                    let serves: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM team_members WHERE account_id = $1 AND team = $2 AND agent = $3",
                    )
                    .bind(account.as_str())
                    .bind(&name)
                    .bind(&holder)
                    .fetch_one(&mut *conn)
                    .await?;
                    if serves == 0 {
                        let why = format!("{reason}; {holder} does not serve team {name}");
                        unassign(case, actor, why, journal)?;
                    }
                }
                Ok(())
            }

            /// Writes a message for delivery after commit; its id.
            async fn insert_outbox(
                conn: &mut Conn<Store>,
                account: &AccountId,
                case_id: Option<i64>,
                kind: &str,
                destination: &str,
                payload: &::serde_json::Value,
                now: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                let text = ::serde_json::to_string(payload)
                    .map_err(|error| StoreError::InvalidInput(format!("unencodable payload: {error}")))?;
                let sql = format!(
                    "INSERT INTO outbox (account_id, case_id, kind, destination, payload, created_at, next_attempt_at)
                     VALUES ($1, $2, $3, $4, {}, $6, $6) RETURNING id",
                    <Store as BackendSql>::json_param("$5")
                );
                let (id,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.as_str())
                    .bind(case_id)
                    .bind(kind)
                    .bind(sql_text(destination))
                    .bind(sql_text(&text))
                    .bind(<Store as BackendSql>::bind_time(now))
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(id)
            }

            /// Routes the hold queue: every queued case, most urgent first,
            /// goes to the best eligible agent with free capacity (see
            /// `routing`); the rest wait. Cases in `hints.returned` whose
            /// agent is not online go back to the queue first.
            async fn route_locked(
                conn: &mut Conn<Store>,
                account: &AccountId,
                hints: Hints,
                journal: &mut Journal,
            ) -> Result<RouteOutcome, StoreError> {
                let mut agents = load_agent_loads(conn, account).await?;
                let mut outcome =
                    RouteOutcome { routed: Vec::new(), holders: HashMap::new(), agents_known: !agents.is_empty() };
                let mut extra: Vec<CaseRow> = Vec::new();
                for mut case in hints.returned {
                    let holder = case.assigned_agent.clone().unwrap_or_default();
                    let online = agents.iter().find(|a| a.name == holder).map(|a| a.presence);
                    if online == Some(Presence::Online) {
                        continue;
                    }
                    let presence = online.map_or("inactive", Presence::as_str);
                    unassign(&mut case, SYSTEM_ACTOR, format!("{holder} is {presence}"), journal)?;
                    if let Some(agent) = agents.iter_mut().find(|a| a.name == holder) {
                        agent.open -= 1;
                    }
                    extra.push(case);
                }
                let mut dirty: Vec<CaseRow> = Vec::new();
                if agents.iter().any(AgentLoad::can_take_more) {
                    let extra_ids: HashSet<i64> = extra.iter().map(|case| case.id).collect();
                    let sql = format!(
                        "SELECT {} FROM cases
                         WHERE account_id = $1 AND status = 'queued'
                         ORDER BY level DESC, sla_due_at ASC NULLS LAST, priority DESC, opened_at, id
                         LIMIT $2 {}",
                        cols(),
                        <Store as BackendSql>::LOCK_SKIP_LOCKED
                    );
                    let records: Vec<CaseRecord> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(ROUTE_SCAN_LIMIT)
                        .fetch_all(&mut *conn)
                        .await?;
                    let mut queue = records_to_rows(records, account)?;
                    queue.retain(|case| !extra_ids.contains(&case.id));
                    queue.append(&mut extra);
                    queue.sort_by(queue_cmp);
                    // The ticket counter is locked only when there is something to route.
                    let first_ticket = if queue.is_empty() { 0 } else { take_tickets(conn, account).await? };
                    let mut ticket = first_ticket;
                    let mut tickets: HashMap<String, i64> = HashMap::new();
                    for mut case in queue {
                        let exclude = hints.exclude.get(&case.id).map(String::as_str);
                        let prefer = hints.prefer.get(&case.id).map(String::as_str);
                        let chosen = if agents.iter().any(AgentLoad::can_take_more) {
                            pick(&agents, &case, exclude, prefer)
                        } else {
                            None
                        };
                        let Some(index) = chosen else {
                            if extra_ids.contains(&case.id) {
                                dirty.push(case);
                            }
                            continue;
                        };
                        let eligible = eligible_count(&agents, &case);
                        let Some(agent) = agents.get_mut(index) else { continue };
                        let load = match agent.capacity {
                            Some(capacity) => format!("{} of {capacity} free", agent.free()),
                            None => format!("no limit, {} held", agent.open),
                        };
                        let team = case.team.as_deref().map_or_else(String::new, |t| format!(" of team {t}"));
                        let how = if prefer == Some(agent.name.as_str()) {
                            "back to the agent who last held it".to_owned()
                        } else {
                            "the most free capacity, longest idle among equals".to_owned()
                        };
                        let reason = format!(
                            "{how}: {} among {eligible} eligible agents{team} ({load}) (ticket {ticket})",
                            agent.name
                        );
                        assign(&mut case, &agent.name, SYSTEM_ACTOR, reason, journal)?;
                        agent.open += 1;
                        agent.last_seq = Some(ticket);
                        tickets.insert(agent.name.clone(), ticket);
                        ticket += 1;
                        outcome.holders.insert(case.id, agent.name.clone());
                        outcome.routed.push(Routed { case_id: case.id, agent: agent.name.clone() });
                        dirty.push(case);
                    }
                    if ticket > first_ticket {
                        set_tickets(conn, account, ticket).await?;
                        let mut tickets: Vec<(String, i64)> = tickets.into_iter().collect();
                        tickets.sort();
                        Store::save_agent_tickets(conn, account, &tickets, journal.now).await?;
                    }
                } else {
                    dirty.append(&mut extra);
                }
                save_all(conn, account, &mut dirty, journal.now).await?;
                Ok(outcome)
            }

            $crate::backend_responses::impl_response_store!($store);
        };
    };
}

pub(crate) use impl_case_store;
