//! The handle services hold: one cloneable value whichever database backs it.

use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;

use crate::postgres::PgStore;
use crate::sql::Sql;
use crate::sqlite::SqliteStore;
use crate::{
    Backend, CaseStore, CursorStore, ReportStore, ResponseStore, RosterStore, StoreError, StoreOptions,
    TokenStore,
};

/// One database's implementation of every store trait, plus what concerns
/// the database as a whole: what [`Store`] wraps.
#[async_trait]
pub trait StoreBackend:
    CaseStore + RosterStore + TokenStore + CursorStore + ReportStore + ResponseStore + std::fmt::Debug
{
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies the embedded migrations that have not run yet; safe to call at
    /// every start, from several processes at once.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Closes the pool, waiting for checked-out connections to return.
    async fn close(&self);
}

#[async_trait]
impl<S: Sql> StoreBackend for S {
    fn backend(&self) -> Backend {
        S::BACKEND
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.run_migrations().await
    }

    async fn close(&self) {
        self.close_pool().await;
    }
}

/// A shared, cloneable handle to the store. Dereferences to
/// [`StoreBackend`], so `store.open_cases(…)`, `store.create_token(…)` and
/// every other operation work on either backend.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<dyn StoreBackend>,
}

impl Store {
    /// Opens a pool for `options.url`: PostgreSQL for `postgres://…`, SQLite
    /// (WAL, 5 s busy timeout, created if missing, foreign keys on) for
    /// `sqlite://path` or `sqlite::memory:`. Does not run migrations; call
    /// [`StoreBackend::migrate`].
    pub async fn connect(options: StoreOptions) -> Result<Self, StoreError> {
        let inner: Arc<dyn StoreBackend> = match Backend::from_url(&options.url)? {
            Backend::Postgres => Arc::new(PgStore::connect(&options).await?),
            Backend::Sqlite => Arc::new(SqliteStore::connect(&options).await?),
        };
        tracing::debug!(url = %options.redacted_url(), backend = inner.backend().as_str(), "store connected");
        Ok(Self { inner })
    }

    /// Wraps any implementation, e.g. a test double.
    pub fn from_backend(inner: Arc<dyn StoreBackend>) -> Self {
        Self { inner }
    }
}

impl Deref for Store {
    type Target = dyn StoreBackend;

    fn deref(&self) -> &Self::Target {
        self.inner.as_ref()
    }
}

/// Opens a store for `url` with default options; see [`Store::connect`].
pub async fn connect(url: &str) -> Result<Store, StoreError> {
    Store::connect(StoreOptions::new(url)).await
}
