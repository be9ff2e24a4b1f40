//! An agent's presence: going away hands their assigned cases back to the
//! queue, coming online routes queued cases to them.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::lifecycle::{Journal, unassign};
use crate::ops::cases::{records_to_rows, save_all};
use crate::ops::route::{Hints, route_locked};
use crate::sql::Sql;
use crate::{Presence, PresenceChange, Requeued, StoreError};

/// See [`RosterStore::set_presence`](crate::RosterStore::set_presence).
pub(crate) async fn set_presence<S: Sql>(
    store: &S,
    account: &AccountId,
    agent: &str,
    presence: Presence,
    now: DateTime<Utc>,
) -> Result<PresenceChange, StoreError> {
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let updated = S::update_presence(&mut tx, account, agent, presence, now).await?;
    if updated == 0 {
        return Err(StoreError::NotFound(format!("active agent {agent:?}")));
    }
    let mut journal = Journal::new(now);
    let mut hints = Hints::default();
    let mut requeued = Vec::new();
    if presence != Presence::Online {
        let records = S::select_held_locked(&mut tx, account, agent).await?;
        let mut cases = records_to_rows(records, account)?;
        for case in &mut cases {
            let reason = format!("{agent} went {}", presence.as_str());
            unassign(case, agent, reason, &mut journal)?;
            hints.exclude.insert(case.id, agent.to_owned());
            requeued.push(case.id);
        }
        save_all::<S>(&mut tx, account, &mut cases, now).await?;
    }
    let routing = route_locked::<S>(&mut tx, account, hints, &mut journal).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
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
