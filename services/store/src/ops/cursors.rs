//! Ingest checkpoints and source health.

use chrono::Utc;
use smo_proto::AccountId;

use crate::records::i64_from_u64;
use crate::sql::Sql;
use crate::{SourceCursor, StoreError};

/// See [`CursorStore::get_cursor`](crate::CursorStore::get_cursor).
pub(crate) async fn get_cursor<S: Sql>(
    store: &S,
    account: &AccountId,
    source: &str,
) -> Result<Option<SourceCursor>, StoreError> {
    Ok(store.select_cursor(account, source).await?.map(SourceCursor::from))
}

/// See [`CursorStore::save_cursor`](crate::CursorStore::save_cursor).
pub(crate) async fn save_cursor<S: Sql>(
    store: &S,
    account: &AccountId,
    source: &str,
    cursor: &str,
    posts_fetched_delta: u64,
) -> Result<(), StoreError> {
    let delta = i64_from_u64(posts_fetched_delta, "posts_fetched_delta")?;
    store.upsert_cursor(account, source, cursor, delta, Utc::now()).await
}

/// See [`CursorStore::record_source_error`](crate::CursorStore::record_source_error).
pub(crate) async fn record_source_error<S: Sql>(
    store: &S,
    account: &AccountId,
    source: &str,
    error: &str,
) -> Result<(), StoreError> {
    store.upsert_source_error(account, source, error, Utc::now()).await
}
