//! The shared SQL primitives: the queries whose text is the same on both
//! databases, as methods of per-backend traits (one a concern), so the
//! operations in [`crate::ops`] are generic over the backend and only start,
//! sequence and commit these steps.
//!
//! The traits are implemented for [`PgStore`](crate::PgStore) and
//! [`SqliteStore`](crate::SqliteStore) by one small macro each, which holds
//! only query text, binds and row mapping, never transaction logic. It is a
//! macro because generic sqlx code over `sqlx::Database` needs a bound for
//! every type bound or decoded (`for<'q> &'q str: Encode<'q, DB>`,
//! `for<'c> &'c mut DB::Connection: Executor<'c>`, …), and Rust does not
//! imply such `where` clauses from a helper trait (rust-lang/rust#20671), so
//! every generic function would repeat the whole pile. Expanded per store
//! type, each query is plainly typed for its one database.

pub(crate) mod accounts;
pub(crate) mod agents;
pub(crate) mod cases;
pub(crate) mod outbox;
pub(crate) mod reports;
pub(crate) mod responses;

pub(crate) use accounts::AccountSql;
pub(crate) use agents::AgentSql;
pub(crate) use cases::CaseSql;
pub(crate) use outbox::OutboxSql;
pub(crate) use reports::ReportSql;
pub(crate) use responses::ResponseSql;

/// Every shared primitive: what a generic operation bounds its store by.
pub(crate) trait Sql: AccountSql + AgentSql + CaseSql + OutboxSql + ReportSql + ResponseSql {}

impl<S: AccountSql + AgentSql + CaseSql + OutboxSql + ReportSql + ResponseSql> Sql for S {}

/// Implements every shared-primitive trait for `$store`, which implements
/// [`BackendSql`](crate::backend_sql::BackendSql) and has an inherent `pool()`.
macro_rules! impl_shared_sql {
    ($store:ty) => {
        $crate::sql::accounts::impl_account_sql!($store);
        $crate::sql::agents::impl_agent_sql!($store);
        $crate::sql::cases::impl_case_sql!($store);
        $crate::sql::outbox::impl_outbox_sql!($store);
        $crate::sql::reports::impl_report_sql!($store);
        $crate::sql::responses::impl_response_sql!($store);
    };
}

pub(crate) use impl_shared_sql;
