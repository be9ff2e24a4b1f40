//! Applying an agent's or supervisor's command to one case.

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseEventKind, CaseStatus};

use crate::backend_sql::Conn;
use crate::lifecycle::{Journal, assign, respond, set_status, unassign};
use crate::ops::cases::{load_case_locked, save_all};
use crate::ops::roster::active_agent;
use crate::ops::route::{Hints, route_locked};
use crate::sql::Sql;
use crate::{CaseAction, CaseCommand, CaseRow, Presence, StoreError};

/// See [`CaseStore::update_case`](crate::CaseStore::update_case).
pub(crate) async fn update_case<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
    command: CaseCommand,
    now: DateTime<Utc>,
) -> Result<CaseRow, StoreError> {
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let mut case = load_case_locked::<S>(&mut tx, account, case_id).await?;
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
            let agent_row = active_agent::<S>(&mut tx, account, &agent).await?;
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
            move_to_team::<S>(&mut tx, account, &mut case, team, &actor, reason, &mut journal).await?;
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
    save_all::<S>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
    route_locked::<S>(&mut tx, account, hints, &mut journal).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
    let fresh = load_case_locked::<S>(&mut tx, account, case_id).await?;
    tx.commit().await?;
    Ok(fresh)
}

/// Moves `case` to `team`'s queue; its agent keeps it only if they serve
/// that team.
pub(crate) async fn move_to_team<S: Sql>(
    conn: &mut Conn<S>,
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
    if let Some(name) = &team
        && !S::team_exists(conn, account, name).await?
    {
        return Err(StoreError::NotFound(format!("team {name:?}")));
    }
    let change = CaseEventKind::TeamChanged { from: case.team.clone(), to: team.clone() };
    journal.record(case.id, change, actor, reason.clone())?;
    case.team = team.clone();
    if let (Some(holder), Some(name)) = (case.assigned_agent.clone(), team)
        && !S::serves_team(conn, account, &name, &holder).await?
    {
        let why = format!("{reason}; {holder} does not serve team {name}");
        unassign(case, actor, why, journal)?;
    }
    Ok(())
}
