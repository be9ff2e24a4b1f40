//! An agent pulling the next case: the most urgent queued case they can
//! take. It skips rows other transactions hold instead of taking the routing
//! lock, so agents pulling at once do not wait for each other.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::lifecycle::{Journal, assign};
use crate::ops::cases::save_all;
use crate::records::tags_from_json;
use crate::sql::Sql;
use crate::{NextCase, StoreError};

/// See [`CaseStore::next_case`](crate::CaseStore::next_case).
pub(crate) async fn next_case<S: Sql>(
    store: &S,
    account: &AccountId,
    agent: &str,
    now: DateTime<Utc>,
) -> Result<NextCase, StoreError> {
    let mut tx = store.begin_write().await?;
    let record = S::select_active_agent(&mut tx, account, agent, true).await?;
    let Some(record) = record else {
        return Err(StoreError::NotFound(format!("active agent {agent:?}")));
    };
    if record.capacity.is_some_and(|capacity| record.open_cases >= capacity) {
        return Ok(NextCase::AtCapacity);
    }
    let teams = S::select_agent_teams(&mut tx, account, agent).await?;
    let lower = |json: &str| -> Result<Vec<String>, StoreError> {
        Ok(tags_from_json(json)?.into_iter().map(|s| s.to_lowercase()).collect())
    };
    let (languages, topics) = (lower(&record.languages)?, lower(&record.topics)?);
    let candidate = S::next_case_candidate(&mut tx, account, &teams, &languages, &topics).await?;
    let Some(candidate) = candidate else {
        return Ok(NextCase::NothingQueued);
    };
    let mut case = candidate.into_case_row(account)?;
    let ticket = S::take_tickets(&mut tx, account).await?;
    S::set_tickets(&mut tx, account, ticket + 1).await?;
    let mut journal = Journal::new(now);
    let reason = format!("pulled as the next case of the queue (ticket {ticket})");
    assign(&mut case, agent, agent, reason, &mut journal)?;
    save_all::<S>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
    S::save_agent_tickets(&mut tx, account, &[(agent.to_owned(), ticket)], now).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
    tx.commit().await?;
    Ok(NextCase::Assigned { case: Box::new(case) })
}
