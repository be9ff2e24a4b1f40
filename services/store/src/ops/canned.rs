//! The account's canned responses: reply templates by name and language.

use smo_proto::AccountId;

use crate::records::CannedRecord;
use crate::sql::Sql;
use crate::{CannedResponse, StoreError};

/// See [`ResponseStore::put_canned`](crate::ResponseStore::put_canned).
pub(crate) async fn put_canned<S: Sql>(
    store: &S,
    account: &AccountId,
    canned: &CannedResponse,
) -> Result<(), StoreError> {
    store.upsert_canned(account, canned).await
}

/// See [`ResponseStore::canned_responses`](crate::ResponseStore::canned_responses).
pub(crate) async fn canned_responses<S: Sql>(
    store: &S,
    account: &AccountId,
) -> Result<Vec<CannedResponse>, StoreError> {
    Ok(store.select_canned(account).await?.into_iter().map(CannedRecord::into_canned).collect())
}

/// See [`ResponseStore::delete_canned`](crate::ResponseStore::delete_canned).
pub(crate) async fn delete_canned<S: Sql>(
    store: &S,
    account: &AccountId,
    name: &str,
    language: &str,
) -> Result<bool, StoreError> {
    Ok(store.delete_canned_row(account, name, language).await? > 0)
}
