//! SQL persistence for PostgreSQL and SQLite: pools, migrations and the typed
//! queries every service uses. Cases (one per conversation: account, thread
//! and customer; each post in at most one case) with their lifecycle, teams
//! and agents with skills, capacity and presence, routing and the hold
//! queue, SLA clocks and escalations, the case audit log, replies, notes and
//! canned responses, an outbox and ingest checkpoints live here. Decisions
//! that must be atomic with the rows they change (who gets a case) are made
//! here, in plain Rust shared by both backends; business-hour arithmetic and
//! routing rules are community management's, which passes their results in.
//!
//! Callers see one trait per kind of consumer ([`CaseStore`], [`RosterStore`],
//! [`TokenStore`], [`CursorStore`], [`ReportStore`], [`ResponseStore`]),
//! combined in [`StoreBackend`], which the [`Store`] handle dereferences to.
//! Each operation is one generic function (`ops`, a file per concern) over
//! the shared SQL primitives (`sql`) and each database's dialect and batch
//! statements (`backend_sql`, `postgres`, `sqlite`), so both backends run the
//! same transaction steps with their own typed queries (sqlx's `Any` driver
//! lacks chrono and JSON types and writes placeholders PostgreSQL rejects).
//! One conformance suite runs against both, so the embedded and distributed
//! modes behave alike. Every query takes the account and filters by it in
//! SQL: tenancy is not left to callers (API tokens, which admins hold
//! without an account, and the delivery worker's outbox claim are the
//! exceptions).

mod api;
mod backend_sql;
mod error;
mod lifecycle;
mod model;
mod opening;
mod ops;
mod options;
mod postgres;
mod records;
mod responses;
mod roster;
mod routing;
mod sql;
mod sqlite;
mod store;

pub use api::{CaseStore, CursorStore, ReportStore, ResponseStore, RosterStore, TokenStore};
pub use error::StoreError;
pub use lifecycle::{can_transition, is_active};
pub use model::{
    AgentRow, AgentSpec, ApiRole, CaseAction, CaseCommand, CaseFilter, CaseMessage, CaseRow,
    DEFAULT_REOPEN_WINDOW, Escalation, EscalationAction, NewCase, NewToken, NextCase, OpenOptions,
    OpenedCase, OutboxMessage, Presence, PresenceChange, Requeued, Roster, Routed, SlaClock, SourceCursor,
    TeamSpec, TokenRow,
};
pub use opening::SYSTEM_ACTOR;
pub use options::{Backend, DEFAULT_POSTGRES_CONNECTIONS, DEFAULT_SQLITE_CONNECTIONS, StoreOptions};
pub use postgres::PgStore;
pub use responses::{
    ANY_LANGUAGE, CannedResponse, CaseNote, ClaimedMessage, DeliveryOutcome, DeliveryState, NewReply,
    RecordedReply, ReplyRow,
};
pub use sqlite::SqliteStore;
pub use store::{Store, StoreBackend, connect};
