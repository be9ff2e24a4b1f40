//! The case lifecycle as pure state changes on [`CaseRow`]: which status
//! moves are allowed, what each does to the SLA clock and the holder, and the
//! audit entry it leaves. The backends only load and save rows, so PostgreSQL
//! and SQLite make the same decisions.

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::{CaseEventKind, CaseStatus, SlaTarget};

use crate::records::PendingEvent;
use crate::{CaseRow, SlaClock, StoreError};

/// Whether a case may move from `from` to `to`:
///
/// ```text
/// new → queued | assigned
/// queued → assigned | resolved | closed          (closing unanswered spam)
/// assigned → queued | waiting_on_customer | resolved
/// waiting_on_customer → assigned | queued | resolved
/// resolved → queued | assigned | closed          (reopening, or final)
/// closed → nothing: a new message opens a new case
/// ```
pub fn can_transition(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::{Assigned, Closed, New, Queued, Resolved, WaitingOnCustomer};
    matches!(
        (from, to),
        (New, Queued | Assigned)
            | (Queued, Assigned | Resolved | Closed)
            | (Assigned, Queued | WaitingOnCustomer | Resolved)
            | (WaitingOnCustomer, Assigned | Queued | Resolved)
            | (Resolved, Queued | Assigned | Closed)
    )
}

/// Whether a case in `status` is still being worked on (a follow-up joins it).
pub fn is_active(status: CaseStatus) -> bool {
    matches!(
        status,
        CaseStatus::New | CaseStatus::Queued | CaseStatus::Assigned | CaseStatus::WaitingOnCustomer
    )
}

/// The audit entries of one transaction, in order.
#[derive(Debug)]
pub(crate) struct Journal {
    pub(crate) events: Vec<PendingEvent>,
    pub(crate) now: DateTime<Utc>,
}

impl Journal {
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Self { events: Vec::new(), now }
    }

    pub(crate) fn record(
        &mut self,
        case_id: i64,
        event: CaseEventKind,
        actor: &str,
        reason: impl Into<String>,
    ) -> Result<(), StoreError> {
        self.events.push(PendingEvent::new(case_id, &event, actor, reason.into(), self.now)?);
        Ok(())
    }
}

fn invalid(case: &CaseRow, to: CaseStatus) -> StoreError {
    StoreError::InvalidTransition { case_id: case.id, from: case.status.as_str(), to: to.as_str() }
}

/// Starts a new SLA target due at `due` (no clock when `None`).
pub(crate) fn start_clock(case: &mut CaseRow, target: SlaTarget, due: Option<DateTime<Utc>>) {
    if let Some(due) = due {
        case.sla_target = Some(target);
        case.sla_due_at = Some(due);
        case.sla_paused_secs = None;
        case.sla_round += 1;
        case.sla_breached_at = None;
    }
}

/// Stops the running or paused clock (the customer got an answer, or the
/// case is done).
pub(crate) fn stop_clock(case: &mut CaseRow) {
    case.sla_target = None;
    case.sla_due_at = None;
    case.sla_paused_secs = None;
}

fn pause_clock(case: &mut CaseRow, sla: SlaClock, now: DateTime<Utc>) {
    if let Some(due) = case.sla_due_at.take() {
        let remaining = match sla {
            SlaClock::Pause { remaining_secs } => remaining_secs,
            SlaClock::Auto | SlaClock::Resume { .. } => (due - now).num_seconds(),
        };
        case.sla_paused_secs = Some(remaining);
    }
}

fn resume_clock(case: &mut CaseRow, sla: SlaClock, now: DateTime<Utc>) {
    if let Some(remaining) = case.sla_paused_secs.take() {
        case.sla_due_at = Some(match sla {
            SlaClock::Resume { due_at } => due_at,
            SlaClock::Auto | SlaClock::Pause { .. } => now + TimeDelta::seconds(remaining),
        });
    }
}

/// Gives the case to `agent`; records `Assigned` (which implies the
/// `assigned` status unless the case waits on the customer).
pub(crate) fn assign(
    case: &mut CaseRow,
    agent: &str,
    actor: &str,
    reason: String,
    journal: &mut Journal,
) -> Result<(), StoreError> {
    match case.status {
        CaseStatus::New | CaseStatus::Queued | CaseStatus::Assigned => case.status = CaseStatus::Assigned,
        CaseStatus::WaitingOnCustomer => {}
        CaseStatus::Resolved | CaseStatus::Closed => return Err(invalid(case, CaseStatus::Assigned)),
    }
    case.assigned_agent = Some(agent.to_owned());
    case.assigned_at = Some(journal.now);
    case.agent_acted_at = None;
    journal.record(case.id, CaseEventKind::Assigned { agent: agent.to_owned() }, actor, reason)
}

/// Takes the case from its agent back to its team's queue; records
/// `Unassigned` (which implies the `queued` status). Returns the agent.
pub(crate) fn unassign(
    case: &mut CaseRow,
    actor: &str,
    reason: String,
    journal: &mut Journal,
) -> Result<Option<String>, StoreError> {
    if !matches!(case.status, CaseStatus::Assigned | CaseStatus::WaitingOnCustomer) {
        return Err(invalid(case, CaseStatus::Queued));
    }
    if case.status == CaseStatus::WaitingOnCustomer {
        resume_clock(case, SlaClock::Auto, journal.now);
    }
    case.status = CaseStatus::Queued;
    case.assigned_at = None;
    case.agent_acted_at = None;
    let agent = case.assigned_agent.take();
    if let Some(agent) = &agent {
        journal.record(case.id, CaseEventKind::Unassigned { agent: agent.clone() }, actor, reason)?;
    }
    Ok(agent)
}

/// Moves the case to `to` as an agent or supervisor asked, with what the
/// move does to the SLA clock: waiting on the customer pauses it, coming
/// back resumes it, resolving or closing stops it. Moving to `queued` takes
/// the case from its agent; moving to `assigned` needs a holder.
pub(crate) fn set_status(
    case: &mut CaseRow,
    to: CaseStatus,
    sla: SlaClock,
    actor: &str,
    reason: String,
    journal: &mut Journal,
) -> Result<(), StoreError> {
    let from = case.status;
    if !can_transition(from, to) {
        return Err(invalid(case, to));
    }
    let now = journal.now;
    match to {
        CaseStatus::Queued if matches!(from, CaseStatus::Assigned | CaseStatus::WaitingOnCustomer) => {
            resume_clock(case, sla, now);
            unassign(case, actor, reason, journal)?;
            return Ok(());
        }
        CaseStatus::Queued => case.assigned_agent = None,
        CaseStatus::Assigned => {
            if case.assigned_agent.is_none() {
                return Err(StoreError::Conflict(format!(
                    "case {} has no agent to hold it; assign it to one",
                    case.id
                )));
            }
            resume_clock(case, sla, now);
            case.agent_acted_at = Some(now);
        }
        CaseStatus::WaitingOnCustomer => {
            pause_clock(case, sla, now);
            case.agent_acted_at = Some(now);
        }
        CaseStatus::Resolved => {
            stop_clock(case);
            case.resolved_at = Some(now);
            case.agent_acted_at = Some(now);
        }
        CaseStatus::Closed => {
            stop_clock(case);
            case.closed_at = Some(now);
        }
        CaseStatus::New => return Err(invalid(case, to)),
    }
    case.status = to;
    journal.record(case.id, CaseEventKind::StatusChanged { from, to }, actor, reason)
}

/// Records an agent's answer: the first response if none yet; the running
/// clock stops until the customer writes again.
pub(crate) fn respond(
    case: &mut CaseRow,
    agent: &str,
    wait_on_customer: bool,
    actor: &str,
    reason: String,
    journal: &mut Journal,
) -> Result<(), StoreError> {
    respond_with_reply(case, agent, wait_on_customer, None, actor, reason, journal)
}

/// [`respond`] for an answer recorded as reply `reply_id`.
pub(crate) fn respond_with_reply(
    case: &mut CaseRow,
    agent: &str,
    wait_on_customer: bool,
    reply_id: Option<i64>,
    actor: &str,
    reason: String,
    journal: &mut Journal,
) -> Result<(), StoreError> {
    if !matches!(case.status, CaseStatus::Assigned | CaseStatus::WaitingOnCustomer) {
        return Err(StoreError::Conflict(format!(
            "case {} is {}; only a held case can be answered",
            case.id,
            case.status.as_str()
        )));
    }
    let now = journal.now;
    case.first_response_at.get_or_insert(now);
    case.agent_acted_at = Some(now);
    stop_clock(case);
    journal.record(
        case.id,
        CaseEventKind::Responded { agent: agent.to_owned(), reply_id },
        actor,
        reason.clone(),
    )?;
    if wait_on_customer && case.status == CaseStatus::Assigned {
        case.status = CaseStatus::WaitingOnCustomer;
        let change =
            CaseEventKind::StatusChanged { from: CaseStatus::Assigned, to: CaseStatus::WaitingOnCustomer };
        journal.record(case.id, change, actor, reason)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_is_final_and_new_is_only_a_start() {
        for to in [
            CaseStatus::New,
            CaseStatus::Queued,
            CaseStatus::Assigned,
            CaseStatus::WaitingOnCustomer,
            CaseStatus::Resolved,
            CaseStatus::Closed,
        ] {
            assert!(!can_transition(CaseStatus::Closed, to));
            assert!(!can_transition(to, CaseStatus::New));
            assert!(!can_transition(to, to), "{to:?} to itself");
        }
        assert!(can_transition(CaseStatus::Resolved, CaseStatus::Queued));
        assert!(!can_transition(CaseStatus::Assigned, CaseStatus::Closed));
        assert!(!can_transition(CaseStatus::Queued, CaseStatus::WaitingOnCustomer));
    }
}
