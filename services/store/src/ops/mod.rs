//! The store's operations, one concern a file, each written once as plain
//! generic Rust over [`Sql`](crate::sql::Sql): the steps of a transaction
//! (begin, lock, load, decide in `lifecycle`/`opening`/`routing`, save, route,
//! log, commit) live here, the SQL they run in [`crate::sql`] and the
//! backends.

pub(crate) mod canned;
pub(crate) mod cases;
pub(crate) mod cursors;
pub(crate) mod escalate;
pub(crate) mod next;
pub(crate) mod notes;
pub(crate) mod open;
pub(crate) mod outbox;
pub(crate) mod presence;
pub(crate) mod replies;
pub(crate) mod reports;
pub(crate) mod requeue;
pub(crate) mod roster;
pub(crate) mod route;
pub(crate) mod settings;
pub(crate) mod tokens;
pub(crate) mod update;
