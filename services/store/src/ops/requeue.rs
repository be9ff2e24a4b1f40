//! The inactivity timeout: assigned cases nobody acted on go back to the
//! queue and on to another agent.

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::AccountId;

use crate::lifecycle::{Journal, unassign};
use crate::ops::cases::{records_to_rows, save_all};
use crate::ops::route::{Hints, route_locked};
use crate::sql::Sql;
use crate::{Requeued, SYSTEM_ACTOR, StoreError};

/// See [`CaseStore::requeue_inactive`](crate::CaseStore::requeue_inactive).
pub(crate) async fn requeue_inactive<S: Sql>(
    store: &S,
    account: &AccountId,
    timeout: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Vec<Requeued>, StoreError> {
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let records = S::select_stale_locked(&mut tx, account, now - timeout).await?;
    let mut cases = records_to_rows(records, account)?;
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let mut journal = Journal::new(now);
    let mut hints = Hints::default();
    let mut requeued = Vec::new();
    for case in &mut cases {
        let holder = case.assigned_agent.clone().unwrap_or_default();
        let reason = format!("{holder} did not act within {} s of the assignment", timeout.num_seconds());
        if let Some(agent) = unassign(case, SYSTEM_ACTOR, reason, &mut journal)? {
            hints.exclude.insert(case.id, agent.clone());
            requeued.push((case.id, agent));
        }
    }
    save_all::<S>(&mut tx, account, &mut cases, now).await?;
    let routing = route_locked::<S>(&mut tx, account, hints, &mut journal).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
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
