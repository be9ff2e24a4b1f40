//! Connection errors are values with a clear message, never panics.

use smo_store::{Store, StoreError, StoreOptions, connect};

#[tokio::test]
async fn unknown_scheme_is_refused() {
    let error = connect("mysql://root:hunter2@db/smo").await.expect_err("refused");
    assert!(matches!(error, StoreError::InvalidUrl { .. }), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "password leaked: {error}");
}

#[tokio::test]
async fn schema_is_postgres_only() {
    let error = Store::connect(StoreOptions::new("sqlite::memory:").schema("x")).await.expect_err("refused");
    assert!(matches!(error, StoreError::InvalidOption(_)), "{error:?}");
}

#[tokio::test]
async fn unreachable_postgres_is_a_connect_error() {
    let options = StoreOptions::new("postgres://smo:hunter2@127.0.0.1:1/smo")
        .acquire_timeout(std::time::Duration::from_secs(2));
    let error = Store::connect(options).await.expect_err("unreachable");
    assert!(matches!(error, StoreError::Connect { .. }), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "password leaked: {error}");
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_between_queries() {
    let store = connect("sqlite::memory:").await.expect("memory store");
    store.migrate().await.expect("migrate");
    let acme = smo_proto::AccountId::new("acme").expect("account");
    store.save_cursor(&acme, "file:sample", "line-10", 10).await.expect("save");
    let cursor = store.get_cursor(&acme, "file:sample").await.expect("get");
    assert_eq!(cursor.map(|c| c.posts_fetched), Some(10));
}
