//! The one error type of the crate.

/// Why a store operation failed. Callers decide between retrying (a
/// [`StoreError::Database`] is usually transient) and dead-lettering (bad
/// input or configuration will fail again).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database or does not parse.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option does not fit the chosen backend.
    #[error("invalid store option: {0}")]
    InvalidOption(String),
    /// The database could not be reached.
    #[error("could not connect to {url}: {source}")]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// What the driver reported.
        source: sqlx::Error,
    },
    /// Applying the embedded migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The caller passed something the store refuses to write.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The account has no such case, agent or team.
    #[error("not found: {0}")]
    NotFound(String),
    /// The case's lifecycle does not allow this move.
    #[error("case {case_id} cannot go from {from} to {to}")]
    InvalidTransition {
        /// The case.
        case_id: i64,
        /// Its status.
        from: &'static str,
        /// The status asked for.
        to: &'static str,
    },
    /// The case changed since the caller read it, or is not in a state the
    /// action needs; read it again and decide anew.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row holds a value this version cannot read back.
    #[error("unreadable stored data: {0}")]
    Corrupt(String),
}
