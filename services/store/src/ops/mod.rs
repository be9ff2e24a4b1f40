//! The store's operations, one concern a file, each written once as plain
//! generic Rust over [`Sql`](crate::sql::Sql): the steps of a transaction
//! (begin, lock, load, decide in `lifecycle`/`opening`/`routing`, save, route,
//! log, commit) live here, the SQL they run in [`crate::sql`] and the
//! backends.

pub(crate) mod cursors;
pub(crate) mod reports;
pub(crate) mod roster;
pub(crate) mod settings;
pub(crate) mod tokens;
