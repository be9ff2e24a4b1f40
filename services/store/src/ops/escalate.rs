//! Escalation rules firing on cases whose SLA clock runs out.

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseEventKind, SlaTarget};

use crate::lifecycle::{Journal, is_active};
use crate::ops::cases::{load_case_locked, save_all};
use crate::ops::outbox::insert_outbox;
use crate::ops::route::{Hints, route_locked};
use crate::ops::update::move_to_team;
use crate::records::sql_text;
use crate::sql::Sql;
use crate::{Escalation, EscalationAction, SYSTEM_ACTOR, StoreError};

/// See [`CaseStore::escalate`](crate::CaseStore::escalate).
pub(crate) async fn escalate<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
    escalation: &Escalation,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let mut case = load_case_locked::<S>(&mut tx, account, case_id).await?;
    if case.sla_round != escalation.sla_round || !is_active(case.status) {
        return Ok(false);
    }
    let rule = sql_text(&escalation.rule);
    let fired = S::insert_escalation(&mut tx, account, case_id, escalation.sla_round, &rule, now).await?;
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
                    journal.record(
                        case.id,
                        CaseEventKind::SlaBreached { target },
                        SYSTEM_ACTOR,
                        reason.clone(),
                    )?;
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
                move_to_team::<S>(
                    &mut tx,
                    account,
                    &mut case,
                    Some(team.clone()),
                    SYSTEM_ACTOR,
                    reason.clone(),
                    &mut journal,
                )
                .await?;
                if case.assigned_agent.is_none()
                    && let Some(holder) = holder
                {
                    hints.exclude.insert(case.id, holder);
                }
            }
            EscalationAction::Notify { destination } => {
                let payload = serde_json::json!({
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
                insert_outbox::<S>(&mut tx, account, Some(case.id), "escalation", destination, &payload, now)
                    .await?;
            }
        }
    }
    save_all::<S>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
    route_locked::<S>(&mut tx, account, hints, &mut journal).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
    tx.commit().await?;
    Ok(true)
}
