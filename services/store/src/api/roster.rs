//! The [`RosterStore`] trait, implemented for every backend by the generic
//! operations of [`crate::ops`].

use async_trait::async_trait;

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::sql::Sql;
use crate::{AgentRow, Presence, PresenceChange, Roster, StoreError};

/// The account's agents and teams, and their presence. Every method takes the account and its SQL filters
/// by it, so tenancy does not depend on callers remembering a `WHERE`.
#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Makes `agents`, in order, the account's active agents: new names are
    /// added (generalists without a capacity limit, online), missing ones
    /// deactivated (kept for the history of their cases), and each name's
    /// rotation position becomes its index in the list. Skills, capacity and
    /// teams set by [`RosterStore::sync_roster`] are kept. Queued cases are
    /// routed to the agents that now have room.
    async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), StoreError>;

    /// Makes `roster` the account's agents (with skills and capacity, in
    /// rotation order) and teams; agents missing from it are deactivated and
    /// teams missing from it removed. Queued cases are then routed.
    async fn sync_roster(
        &self,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The account's active agents in rotation order.
    async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError>;

    /// Every agent of the account (active first) with teams, skills,
    /// presence and the cases they hold.
    async fn agents(&self, account: &AccountId) -> Result<Vec<AgentRow>, StoreError>;

    /// Sets an agent's presence. Going away or offline returns the cases
    /// they hold in `assigned` to the queue (routed to others when possible);
    /// coming online routes queued cases to them.
    async fn set_presence(
        &self,
        account: &AccountId,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<PresenceChange, StoreError>;
}

#[async_trait]
impl<S: Sql> RosterStore for S {
    async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), StoreError> {
        crate::ops::roster::sync_agents(self, account, agents).await
    }

    async fn sync_roster(
        &self,
        account: &AccountId,
        roster: &Roster,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        crate::ops::roster::sync_roster(self, account, roster, now).await
    }

    async fn active_agents(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
        crate::ops::roster::active_agents(self, account).await
    }

    async fn agents(&self, account: &AccountId) -> Result<Vec<AgentRow>, StoreError> {
        crate::ops::roster::agents(self, account).await
    }

    async fn set_presence(
        &self,
        account: &AccountId,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<PresenceChange, StoreError> {
        crate::ops::presence::set_presence(self, account, agent, presence, now).await
    }
}
