//! Agent and team rows.

use smo_proto::AccountId;

use crate::StoreError;
use crate::backend_sql::{BackendSql, Conn};
use crate::records::AgentRecord;

/// Agent and team queries.
pub(crate) trait AgentSql: BackendSql {
    /// One active agent of the account.
    fn select_active_agent(
        conn: &mut Conn<Self>,
        account: &AccountId,
        agent: &str,
    ) -> impl Future<Output = Result<Option<AgentRecord>, StoreError>> + Send;
}

macro_rules! impl_agent_sql {
    ($store:ty) => {
        const _: () = {
            use ::smo_proto::AccountId;
            use ::sqlx::AssertSqlSafe;

            use $crate::StoreError;
            use $crate::backend_sql::{BackendSql, Conn};
            use $crate::records::{AgentRecord, agent_columns};
            use $crate::sql::AgentSql;

            impl AgentSql for $store {
                async fn select_active_agent(
                    conn: &mut Conn<Self>,
                    account: &AccountId,
                    agent: &str,
                ) -> Result<Option<AgentRecord>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM agents a WHERE a.account_id = $1 AND a.name = $2 AND a.active",
                        agent_columns(Self::json_text)
                    );
                    Ok(sqlx::query_as(AssertSqlSafe(sql))
                        .bind(account.as_str())
                        .bind(agent)
                        .fetch_optional(&mut *conn)
                        .await?)
                }
            }
        };
    };
}

pub(crate) use impl_agent_sql;
