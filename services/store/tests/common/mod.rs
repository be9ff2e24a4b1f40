//! Test harness: a fresh, migrated store on SQLite (a temp file) or on
//! PostgreSQL (a fresh schema, dropped when the harness is dropped).

#![allow(dead_code)]

use smo_proto::AccountId;
use smo_store::{Store, StoreOptions};
use sqlx::Connection;

/// A valid account id, for fixtures.
pub fn account(name: &str) -> AccountId {
    AccountId::new(name).expect("valid account")
}

/// Runs each named `async fn(&TestStore)` of the test crate once on SQLite
/// and once on PostgreSQL, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = $crate::TestStore::sqlite().await;
                    $crate::$test(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = $crate::TestStore::postgres().await;
                    $crate::$test(&db).await;
                }
            )*
        }
    };
}

/// Where the PostgreSQL tests connect unless `SMO_TEST_DATABASE_URL` says otherwise.
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

enum Place {
    Sqlite { url: String, _dir: tempfile::TempDir },
    Postgres { url: String, schema: String },
}

/// A migrated store private to one test.
pub struct TestStore {
    /// The store under test.
    pub store: Store,
    place: Place,
}

impl TestStore {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("smo.db").display());
        let store = Store::connect(StoreOptions::new(&url)).await.expect("open SQLite store");
        store.migrate().await.expect("migrate SQLite");
        Self { store, place: Place::Sqlite { url, _dir: dir } }
    }

    pub async fn postgres() -> Self {
        let url =
            std::env::var("SMO_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
        let schema = format!("smo_test_{}", uuid::Uuid::new_v4().simple());
        let store = Store::connect(StoreOptions::new(&url).schema(&schema)).await.unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is unreachable at {url}: {error}. These tests need a running \
                     PostgreSQL; set SMO_TEST_DATABASE_URL to point at one."
            )
        });
        store.migrate().await.expect("migrate PostgreSQL");
        Self { store, place: Place::Postgres { url, schema } }
    }

    /// A second handle on the same database with its own pool, as another
    /// process would have.
    pub async fn reconnect(&self) -> Store {
        self.reconnect_with(2).await
    }

    /// [`TestStore::reconnect`] with a pool of `connections`.
    pub async fn reconnect_with(&self, connections: u32) -> Store {
        let options = match &self.place {
            Place::Sqlite { url, .. } => StoreOptions::new(url).max_connections(connections),
            Place::Postgres { url, schema } => {
                StoreOptions::new(url).schema(schema).max_connections(connections)
            }
        };
        Store::connect(options).await.expect("reconnect")
    }

    /// Whether this is the PostgreSQL run.
    pub fn is_postgres(&self) -> bool {
        matches!(self.place, Place::Postgres { .. })
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Place::Postgres { url, schema } = &self.place else {
            return;
        };
        let (url, schema) = (url.clone(), schema.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on;
        // clean up from a thread with its own runtime.
        let cleanup = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("cleanup runtime");
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&url).await?;
                let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
        });
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("could not drop test schema: {error}");
        }
    }
}
