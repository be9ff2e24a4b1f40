//! The [`CursorStore`] trait, implemented for every backend by the generic
//! operations of [`crate::ops`].

use async_trait::async_trait;

use smo_proto::AccountId;

use crate::sql::Sql;
use crate::{SourceCursor, StoreError};

/// Ingest checkpoints and source health: what the pollers resume from. Every method takes the account and its SQL filters
/// by it, so tenancy does not depend on callers remembering a `WHERE`.
#[async_trait]
pub trait CursorStore: Send + Sync {
    /// Where `source` of the account resumes, if it ever saved a cursor or
    /// an error.
    async fn get_cursor(&self, account: &AccountId, source: &str)
    -> Result<Option<SourceCursor>, StoreError>;

    /// Checkpoints `source` at `cursor` after `posts_fetched_delta` more posts
    /// were published, and clears its last error. Call it only once those
    /// posts are confirmed by the bus (checkpoint, then ack).
    async fn save_cursor(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        posts_fetched_delta: u64,
    ) -> Result<(), StoreError>;

    /// Records why the last poll of `source` failed, keeping its cursor, so
    /// ops can see failing sources.
    async fn record_source_error(
        &self,
        account: &AccountId,
        source: &str,
        error: &str,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Sql> CursorStore for S {
    async fn get_cursor(
        &self,
        account: &AccountId,
        source: &str,
    ) -> Result<Option<SourceCursor>, StoreError> {
        crate::ops::cursors::get_cursor(self, account, source).await
    }

    async fn save_cursor(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        posts_fetched_delta: u64,
    ) -> Result<(), StoreError> {
        crate::ops::cursors::save_cursor(self, account, source, cursor, posts_fetched_delta).await
    }

    async fn record_source_error(
        &self,
        account: &AccountId,
        source: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        crate::ops::cursors::record_source_error(self, account, source, error).await
    }
}
