//! Agent and team rows.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::backend_sql::{BackendSql, Conn};
use crate::records::AgentRecord;
use crate::{Presence, StoreError};

/// Agent and team queries.
pub(crate) trait AgentSql: BackendSql {
    /// One active agent of the account; with `lock`, its row is locked.
    fn select_active_agent(
        conn: &mut Conn<Self>,
        account: &AccountId,
        agent: &str,
        lock: bool,
    ) -> impl Future<Output = Result<Option<AgentRecord>, StoreError>> + Send;

    /// Names of the active agents in rotation order.
    fn select_agent_names(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Every agent, active first, in rotation order.
    fn select_agents(
        conn: &mut Conn<Self>,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<AgentRecord>, StoreError>> + Send;

    /// The active agents by name, locked.
    fn select_agents_locked(
        conn: &mut Conn<Self>,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<AgentRecord>, StoreError>> + Send;

    /// (agent, team) memberships, by agent and team.
    fn select_memberships(
        conn: &mut Conn<Self>,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;

    /// The teams `agent` serves.
    fn select_agent_teams(
        conn: &mut Conn<Self>,
        account: &AccountId,
        agent: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Whether the account has team `team`.
    fn team_exists(
        conn: &mut Conn<Self>,
        account: &AccountId,
        team: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Whether `agent` serves `team`.
    fn serves_team(
        conn: &mut Conn<Self>,
        account: &AccountId,
        team: &str,
        agent: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Sets an active agent's presence; rows written (0: no such agent).
    fn update_presence(
        conn: &mut Conn<Self>,
        account: &AccountId,
        agent: &str,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

macro_rules! impl_agent_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, Utc};
            use ::smo_proto::AccountId;
            use ::sqlx::AssertSqlSafe;

            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::records::{AgentRecord, agent_columns};
            use $crate::sql::AgentSql;
            use $crate::{Presence, StoreError};

            /// `SELECT` of the agent columns from `agents a` with `rest` after it.
            fn agents_where(rest: &str) -> String {
                format!("SELECT {} FROM agents a {rest}", agent_columns(<$store>::json_text))
            }

            impl AgentSql for $store {
                async fn select_active_agent(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    agent: &str,
                    lock: bool,
                ) -> Result<Option<AgentRecord>, StoreError> {
                    let lock = if lock { Self::LOCK_AGENTS } else { "" };
                    let sql = agents_where(&format!("WHERE a.account_id = $1 AND a.name = $2 AND a.active {lock}"));
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(agent)
                        .fetch_optional(&mut *conn)
                        .await?)
                }

                async fn select_agent_names(&self, account: &AccountId) -> Result<Vec<String>, StoreError> {
                    Ok(sqlx::query_scalar(
                        "SELECT name FROM agents WHERE account_id = $1 AND active ORDER BY position, name",
                    )
                    .bind(account.as_str())
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn select_agents(conn: &mut Conn<Self>, account: &AccountId) -> Result<Vec<AgentRecord>, StoreError> {
                    let sql = agents_where("WHERE a.account_id = $1 ORDER BY a.active DESC, a.position, a.name");
                    Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(account.as_str()).fetch_all(&mut *conn).await?)
                }

                async fn select_agents_locked(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                ) -> Result<Vec<AgentRecord>, StoreError> {
                    let sql = agents_where(&format!(
                        "WHERE a.account_id = $1 AND a.active ORDER BY a.name {}",
                        Self::LOCK_AGENTS
                    ));
                    Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(account.as_str()).fetch_all(&mut *conn).await?)
                }

                async fn select_memberships(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                ) -> Result<Vec<(String, String)>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT agent, team FROM team_members WHERE account_id = $1 ORDER BY agent, team",
                    )
                    .bind(account.as_str())
                    .fetch_all(&mut *conn)
                    .await?)
                }

                async fn select_agent_teams(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    agent: &str,
                ) -> Result<Vec<String>, StoreError> {
                    Ok(sqlx::query_scalar("SELECT team FROM team_members WHERE account_id = $1 AND agent = $2")
                        .bind(account.as_str())
                        .bind(agent)
                        .fetch_all(&mut *conn)
                        .await?)
                }

                async fn team_exists(conn: &mut Conn<Self>, account: &AccountId, team: &str) -> Result<bool, StoreError> {
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE account_id = $1 AND name = $2")
                            .bind(account.as_str())
                            .bind(team)
                            .fetch_one(&mut *conn)
                            .await?;
                    Ok(count > 0)
                }

                async fn serves_team(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    team: &str,
                    agent: &str,
                ) -> Result<bool, StoreError> {
                    let count: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM team_members WHERE account_id = $1 AND team = $2 AND agent = $3",
                    )
                    .bind(account.as_str())
                    .bind(team)
                    .bind(agent)
                    .fetch_one(&mut *conn)
                    .await?;
                    Ok(count > 0)
                }

                async fn update_presence(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    agent: &str,
                    presence: Presence,
                    now: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    Ok(sqlx::query(
                        "UPDATE agents SET presence = $3, presence_at = $4
                         WHERE account_id = $1 AND name = $2 AND active",
                    )
                    .bind(account.as_str())
                    .bind(agent)
                    .bind(presence.as_str())
                    .bind(Self::bind_time(now))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_agent_sql;
