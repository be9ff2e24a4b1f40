//! The [`TokenStore`] trait, implemented for every backend by the generic
//! operations of [`crate::ops`].

use async_trait::async_trait;

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::sql::Sql;
use crate::{NewToken, StoreError, TokenRow};

/// API tokens: what the API authenticates requests with. Tokens of every account live here (an admin token
/// has none), so these queries take no account.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores an API token (its hash); refuses an admin token bound to an
    /// account, another role without one, and an agent token without an
    /// active agent of the account.
    async fn create_token(&self, token: &NewToken, now: DateTime<Utc>) -> Result<TokenRow, StoreError>;

    /// The unrevoked token with this hash: how a request is authenticated.
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError>;

    /// Tokens of `account` (with `None`: every token), newest first.
    async fn list_tokens(&self, account: Option<&AccountId>) -> Result<Vec<TokenRow>, StoreError>;

    /// Revokes a token; false if there is no such unrevoked token.
    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

#[async_trait]
impl<S: Sql> TokenStore for S {
    async fn create_token(&self, token: &NewToken, now: DateTime<Utc>) -> Result<TokenRow, StoreError> {
        crate::ops::tokens::create_token(self, token, now).await
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        crate::ops::tokens::token_by_hash(self, token_hash).await
    }

    async fn list_tokens(&self, account: Option<&AccountId>) -> Result<Vec<TokenRow>, StoreError> {
        crate::ops::tokens::list_tokens(self, account).await
    }

    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        crate::ops::tokens::revoke_token(self, id, now).await
    }
}
