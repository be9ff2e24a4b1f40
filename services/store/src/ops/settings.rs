//! The account's community settings document, stored for community
//! management, which alone knows its shape.

use chrono::{DateTime, Utc};
use smo_proto::AccountId;

use crate::StoreError;
use crate::sql::Sql;

/// See [`CaseStore::put_community_settings`](crate::CaseStore::put_community_settings).
pub(crate) async fn put_community_settings<S: Sql>(
    store: &S,
    account: &AccountId,
    settings: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(settings)
        .map_err(|error| StoreError::InvalidInput(format!("unencodable settings: {error}")))?;
    store.upsert_settings(account, &text, now).await
}

/// See [`CaseStore::community_settings`](crate::CaseStore::community_settings).
pub(crate) async fn community_settings<S: Sql>(
    store: &S,
    account: &AccountId,
) -> Result<Option<serde_json::Value>, StoreError> {
    let text = store.select_settings(account).await?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|error| StoreError::Corrupt(format!("community settings are not JSON: {error}")))
    })
    .transpose()
}
