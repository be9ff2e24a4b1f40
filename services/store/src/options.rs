//! Connection settings, parsed from a URL plus a few knobs that a URL cannot
//! carry portably.

use std::time::Duration;

use crate::StoreError;

/// Which database a [`crate::Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A PostgreSQL server: the distributed mode.
    Postgres,
    /// An SQLite file or in-memory database: the embedded mode.
    Sqlite,
}

impl Backend {
    /// Lowercase name, for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }

    /// The backend a URL selects: `postgres://` / `postgresql://` or `sqlite:`.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            Err(StoreError::InvalidUrl {
                url: smo_runtime::redact::redact_url(url),
                reason: "expected postgres://…, postgresql://…, sqlite://path or sqlite::memory:".to_owned(),
            })
        }
    }
}

/// How to open a [`crate::Store`]. Built from a URL, then adjusted with the
/// builder methods, so configuration can map its keys one to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    pub(crate) url: String,
    pub(crate) max_connections: Option<u32>,
    pub(crate) schema: Option<String>,
    pub(crate) acquire_timeout: Duration,
}

/// Connections per PostgreSQL pool unless configured: enough for a process
/// running a few stages without starving the server.
pub const DEFAULT_POSTGRES_CONNECTIONS: u32 = 10;
/// Connections per SQLite file pool unless configured: SQLite has one writer,
/// so more only helps concurrent readers.
pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 4;

impl StoreOptions {
    /// Options for `url` with the defaults: 10 PostgreSQL or 4 SQLite
    /// connections, no schema, 30 s to get a connection from the pool.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: None,
            schema: None,
            acquire_timeout: Duration::from_secs(30),
        }
    }

    /// Caps the pool size; lets ops size pools against the server's limit.
    /// An in-memory SQLite database always uses exactly one connection.
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = Some(max_connections.max(1));
        self
    }

    /// PostgreSQL only: keep every table in `schema` (set as the session's
    /// `search_path`; `migrate` creates it). Lets several deployments, or
    /// parallel tests, share one database. Lowercase ASCII letters, digits and
    /// `_`, starting with a letter or `_`, at most 63 characters.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// How long a query may wait for a free pooled connection before failing.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The URL with any password removed, safe for logs and errors.
    pub fn redacted_url(&self) -> String {
        smo_runtime::redact::redact_url(&self.url)
    }

    /// The validated schema name, if one was set.
    pub(crate) fn validated_schema(&self) -> Result<Option<&str>, StoreError> {
        let Some(schema) = self.schema.as_deref() else {
            return Ok(None);
        };
        let mut bytes = schema.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if first_ok && rest_ok && schema.len() <= 63 {
            Ok(Some(schema))
        } else {
            Err(StoreError::InvalidOption(format!(
                "schema {schema:?} must be lowercase ASCII letters, digits and '_', \
                 start with a letter or '_', and be at most 63 characters"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            StoreOptions::new("postgres://smo:s3cret@db:5432/smo").redacted_url(),
            "postgres://smo:***@db:5432/smo"
        );
        assert_eq!(StoreOptions::new("postgres://smo@db/smo").redacted_url(), "postgres://smo@db/smo");
        assert_eq!(StoreOptions::new("sqlite://data/smo.db").redacted_url(), "sqlite://data/smo.db");
    }

    #[test]
    fn backends_are_chosen_by_scheme() {
        assert_eq!(Backend::from_url("postgresql://x/y").ok(), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("sqlite::memory:").ok(), Some(Backend::Sqlite));
        assert!(Backend::from_url("mysql://x").is_err());
    }

    #[test]
    fn schema_names_are_validated_before_reaching_sql() {
        let ok = StoreOptions::new("postgres://x/y").schema("smo_test_1");
        assert_eq!(ok.validated_schema().ok().flatten(), Some("smo_test_1"));
        for bad in ["", "1abc", "a-b", "A", "a\"; drop", &"a".repeat(64)] {
            let options = StoreOptions::new("postgres://x/y").schema(bad);
            assert!(options.validated_schema().is_err(), "{bad:?} accepted");
        }
    }
}
