//! The handle services hold: one cloneable value whichever database backs it.

use std::ops::Deref;
use std::sync::Arc;

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{Backend, CaseStore, StoreError, StoreOptions};

/// A shared, cloneable handle to the case store. Dereferences to
/// [`CaseStore`], so `store.open_cases(…)` works on either backend.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<dyn CaseStore>,
}

impl Store {
    /// Opens a pool for `options.url`: PostgreSQL for `postgres://…`, SQLite
    /// (WAL, 5 s busy timeout, created if missing, foreign keys on) for
    /// `sqlite://path` or `sqlite::memory:`. Does not run migrations; call
    /// [`CaseStore::migrate`].
    pub async fn connect(options: StoreOptions) -> Result<Self, StoreError> {
        let inner: Arc<dyn CaseStore> = match Backend::from_url(&options.url)? {
            Backend::Postgres => Arc::new(PgStore::connect(&options).await?),
            Backend::Sqlite => Arc::new(SqliteStore::connect(&options).await?),
        };
        tracing::debug!(url = %options.redacted_url(), backend = inner.backend().as_str(), "store connected");
        Ok(Self { inner })
    }

    /// Wraps any implementation, e.g. a test double.
    pub fn from_backend(inner: Arc<dyn CaseStore>) -> Self {
        Self { inner }
    }
}

impl Deref for Store {
    type Target = dyn CaseStore;

    fn deref(&self) -> &Self::Target {
        self.inner.as_ref()
    }
}

/// Opens a store for `url` with default options; see [`Store::connect`].
pub async fn connect(url: &str) -> Result<Store, StoreError> {
    Store::connect(StoreOptions::new(url)).await
}
