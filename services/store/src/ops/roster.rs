//! The account's agents and teams.

use smo_proto::AccountId;

use crate::backend_sql::Conn;
use crate::sql::Sql;
use crate::{AgentRow, StoreError};

/// One active agent of the account, or `NotFound`.
pub(crate) async fn active_agent<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    agent: &str,
) -> Result<AgentRow, StoreError> {
    let record = S::select_active_agent(conn, account, agent).await?;
    let record = record.ok_or_else(|| StoreError::NotFound(format!("active agent {agent:?}")))?;
    record.into_agent_row(Vec::new())
}
