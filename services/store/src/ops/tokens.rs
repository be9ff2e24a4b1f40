//! API tokens: created by admins, looked up on every request.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::ops::roster::active_agent;
use crate::records::{TokenRecord, sql_text};
use crate::sql::Sql;
use crate::{ApiRole, NewToken, StoreError, TokenRow};

/// See [`TokenStore::create_token`](crate::TokenStore::create_token).
pub(crate) async fn create_token<S: Sql>(
    store: &S,
    token: &NewToken,
    now: DateTime<Utc>,
) -> Result<TokenRow, StoreError> {
    let bound = token.account.is_some();
    if (token.role == ApiRole::Admin) == bound {
        return Err(StoreError::InvalidInput(
            "admin tokens have no account; every other role needs one".to_owned(),
        ));
    }
    if (token.role == ApiRole::Agent) != token.agent.is_some() {
        return Err(StoreError::InvalidInput("agent tokens, and only they, name an agent".to_owned()));
    }
    if token.token_hash.len() != 64 || !token.token_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::InvalidInput("token hash must be hex SHA-256".to_owned()));
    }
    let mut tx = store.begin_write().await?;
    if let (Some(account), Some(agent)) = (&token.account, &token.agent) {
        active_agent::<S>(&mut tx, account, agent).await?;
    }
    let id = S::insert_token(&mut tx, token, now).await?;
    tx.commit().await?;
    Ok(TokenRow {
        id,
        account: token.account.clone(),
        role: token.role,
        agent: token.agent.clone(),
        name: sql_text(&token.name),
        created_at: now,
        revoked_at: None,
    })
}

/// See [`TokenStore::token_by_hash`](crate::TokenStore::token_by_hash).
pub(crate) async fn token_by_hash<S: Sql>(
    store: &S,
    token_hash: &str,
) -> Result<Option<TokenRow>, StoreError> {
    let record = store.select_token_by_hash(&token_hash.to_ascii_lowercase()).await?;
    record.map(TokenRecord::into_token).transpose()
}

/// See [`TokenStore::list_tokens`](crate::TokenStore::list_tokens).
pub(crate) async fn list_tokens<S: Sql>(
    store: &S,
    account: Option<&AccountId>,
) -> Result<Vec<TokenRow>, StoreError> {
    store.select_tokens(account).await?.into_iter().map(TokenRecord::into_token).collect()
}

/// See [`TokenStore::revoke_token`](crate::TokenStore::revoke_token).
pub(crate) async fn revoke_token<S: Sql>(store: &S, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    Ok(store.update_token_revoked(id, now).await? > 0)
}
