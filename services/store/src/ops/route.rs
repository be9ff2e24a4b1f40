//! Routing the hold queue: every queued case, most urgent first, goes to the
//! best eligible agent with free capacity (the choice is `routing`'s); the
//! rest wait. Run inside every transaction that frees capacity or queues a
//! case, under the account's routing lock.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{Conn, ROUTE_SCAN_LIMIT};
use crate::lifecycle::{Journal, assign, unassign};
use crate::ops::cases::{records_to_rows, save_all};
use crate::ops::roster::team_memberships;
use crate::records::{presence_from_sql, tags_from_json};
use crate::routing::{AgentLoad, eligible_count, pick, queue_cmp};
use crate::sql::Sql;
use crate::{CaseRow, Presence, Routed, SYSTEM_ACTOR, StoreError};

/// What routing should know beyond the queue: the agent each case was just
/// taken from (not given back), the agent each reopened case prefers, and
/// cases handed back to their agent, which stay only if that agent is online.
#[derive(Default)]
pub(crate) struct Hints {
    pub(crate) prefer: HashMap<i64, String>,
    pub(crate) exclude: HashMap<i64, String>,
    pub(crate) returned: Vec<CaseRow>,
}

/// What a routing pass did.
pub(crate) struct RouteOutcome {
    pub(crate) routed: Vec<Routed>,
    /// Case id → the agent it went to.
    pub(crate) holders: HashMap<i64, String>,
    /// The account has active agents at all.
    pub(crate) agents_known: bool,
}

/// See [`CaseStore::route_queued`](crate::CaseStore::route_queued).
pub(crate) async fn route_queued<S: Sql>(
    store: &S,
    account: &AccountId,
    now: DateTime<Utc>,
) -> Result<Vec<Routed>, StoreError> {
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let mut journal = Journal::new(now);
    let routing = route_locked::<S>(&mut tx, account, Hints::default(), &mut journal).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
    tx.commit().await?;
    Ok(routing.routed)
}

/// The active agents with their loads and teams, locked.
async fn load_agent_loads<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
) -> Result<Vec<AgentLoad>, StoreError> {
    let records = S::select_agents_locked(conn, account).await?;
    let mut teams = team_memberships::<S>(conn, account).await?;
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

/// Routes the hold queue (the routing lock held). Cases in `hints.returned`
/// whose agent is not online go back to the queue first.
pub(crate) async fn route_locked<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    hints: Hints,
    journal: &mut Journal,
) -> Result<RouteOutcome, StoreError> {
    let mut agents = load_agent_loads::<S>(conn, account).await?;
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
        let records = S::select_queued_locked(conn, account, ROUTE_SCAN_LIMIT).await?;
        let mut queue = records_to_rows(records, account)?;
        queue.retain(|case| !extra_ids.contains(&case.id));
        queue.append(&mut extra);
        queue.sort_by(queue_cmp);
        // The ticket counter is locked only when there is something to route.
        let first_ticket = if queue.is_empty() { 0 } else { S::take_tickets(conn, account).await? };
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
            S::set_tickets(conn, account, ticket).await?;
            let mut tickets: Vec<(String, i64)> = tickets.into_iter().collect();
            tickets.sort();
            S::save_agent_tickets(conn, account, &tickets, journal.now).await?;
        }
    } else {
        dirty.append(&mut extra);
    }
    save_all::<S>(conn, account, &mut dirty, journal.now).await?;
    Ok(outcome)
}
