//! SQL persistence for PostgreSQL and SQLite: pools, migrations and the typed
//! queries every service uses. Cases (one per account and post), agents and
//! their round-robin rotation, the case audit log and ingest checkpoints live
//! here. Each database has its own typed code path behind the small
//! [`CaseStore`] trait (sqlx's `Any` driver lacks chrono and JSON types and
//! writes placeholders PostgreSQL rejects), and one conformance suite runs
//! against both, so the embedded and distributed modes behave alike. Every
//! query takes the account and filters by it in SQL: tenancy is not left to
//! callers.

mod backend_sql;
mod case_store;
mod error;
mod model;
mod opening;
mod options;
mod postgres;
mod records;
mod roster;
mod sqlite;
mod store;

pub use case_store::CaseStore;
pub use error::StoreError;
pub use model::{CaseFilter, CaseRow, NewCase, OpenedCase, SourceCursor};
pub use opening::SYSTEM_ACTOR;
pub use options::{Backend, DEFAULT_POSTGRES_CONNECTIONS, DEFAULT_SQLITE_CONNECTIONS, StoreOptions};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use store::{Store, connect};
