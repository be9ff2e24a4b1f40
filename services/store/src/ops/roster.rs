//! The account's agents and teams: syncing the roster, reading it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::Conn;
use crate::lifecycle::Journal;
use crate::ops::route::{Hints, route_locked};
use crate::roster::{agent_roster, validated_roster};
use crate::sql::Sql;
use crate::{AgentRow, Roster, StoreError};

/// See [`RosterStore::sync_agents`](crate::RosterStore::sync_agents).
pub(crate) async fn sync_agents<S: Sql>(
    store: &S,
    account: &AccountId,
    agents: &[String],
) -> Result<(), StoreError> {
    let names = agent_roster(agents)?;
    let now = Utc::now();
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    S::replace_agents(&mut tx, account, &names, now).await?;
    route_and_commit::<S>(tx, account, now).await
}

/// See [`RosterStore::sync_roster`](crate::RosterStore::sync_roster).
pub(crate) async fn sync_roster<S: Sql>(
    store: &S,
    account: &AccountId,
    roster: &Roster,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let roster = validated_roster(roster)?;
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    S::apply_roster(&mut tx, account, &roster, now).await?;
    route_and_commit::<S>(tx, account, now).await
}

/// Routes the queue to the roster as it now stands, logs it and commits.
async fn route_and_commit<S: Sql>(
    mut tx: sqlx::Transaction<'static, S::Database>,
    account: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut journal = Journal::new(now);
    route_locked::<S>(&mut tx, account, Hints::default(), &mut journal).await?;
    S::append_events(&mut tx, account, &journal.events).await?;
    tx.commit().await?;
    Ok(())
}

/// See [`RosterStore::active_agents`](crate::RosterStore::active_agents).
pub(crate) async fn active_agents<S: Sql>(store: &S, account: &AccountId) -> Result<Vec<String>, StoreError> {
    store.select_agent_names(account).await
}

/// See [`RosterStore::agents`](crate::RosterStore::agents).
pub(crate) async fn agents<S: Sql>(store: &S, account: &AccountId) -> Result<Vec<AgentRow>, StoreError> {
    let mut conn = store.acquire().await?;
    let records = S::select_agents(&mut conn, account).await?;
    let mut teams = team_memberships::<S>(&mut conn, account).await?;
    records
        .into_iter()
        .map(|record| {
            let mine = teams.remove(&record.name).unwrap_or_default();
            record.into_agent_row(mine)
        })
        .collect()
}

/// Agent → teams of the account.
pub(crate) async fn team_memberships<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut teams: HashMap<String, Vec<String>> = HashMap::new();
    for (agent, team) in S::select_memberships(conn, account).await? {
        teams.entry(agent).or_default().push(team);
    }
    Ok(teams)
}

/// One active agent of the account, or `NotFound`.
pub(crate) async fn active_agent<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    agent: &str,
) -> Result<AgentRow, StoreError> {
    let record = S::select_active_agent(conn, account, agent, false).await?;
    let record = record.ok_or_else(|| StoreError::NotFound(format!("active agent {agent:?}")))?;
    record.into_agent_row(Vec::new())
}
