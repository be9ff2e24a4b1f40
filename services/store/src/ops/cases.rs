//! Reading cases, and the steps every change to cases shares: load a case
//! locked, save changed cases at their version.

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseEvent};

use crate::backend_sql::Conn;
use crate::records::{CaseRecord, EventRecord, MessageRecord};
use crate::sql::Sql;
use crate::{CaseFilter, CaseMessage, CaseRow, StoreError};

/// Decoded rows of the account's cases.
pub(crate) fn records_to_rows(
    records: Vec<CaseRecord>,
    account: &AccountId,
) -> Result<Vec<CaseRow>, StoreError> {
    records.into_iter().map(|record| record.into_case_row(account)).collect()
}

/// One case, locked; `NotFound` if the account has no such case.
pub(crate) async fn load_case_locked<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    case_id: i64,
) -> Result<CaseRow, StoreError> {
    S::select_case_locked(conn, account, case_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?
        .into_case_row(account)
}

/// Saves `cases` and moves their in-memory versions on; a case changed by
/// someone else since it was read is a `Conflict`.
pub(crate) async fn save_all<S: Sql>(
    conn: &mut Conn<S>,
    account: &AccountId,
    cases: &mut [CaseRow],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if cases.is_empty() {
        return Ok(());
    }
    let written = S::save_cases(conn, account, cases, now).await?;
    if written != cases.len() as u64 {
        return Err(StoreError::Conflict(format!(
            "{} of {} cases changed while being updated",
            cases.len() as u64 - written.min(cases.len() as u64),
            cases.len()
        )));
    }
    for case in cases {
        case.version += 1;
        case.updated_at = now;
    }
    Ok(())
}

/// See [`CaseStore::get_case`](crate::CaseStore::get_case).
pub(crate) async fn get_case<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
) -> Result<Option<CaseRow>, StoreError> {
    store.select_case(account, case_id).await?.map(|record| record.into_case_row(account)).transpose()
}

/// See [`CaseStore::case_messages`](crate::CaseStore::case_messages).
pub(crate) async fn case_messages<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
) -> Result<Vec<CaseMessage>, StoreError> {
    store.select_messages(account, case_id).await?.into_iter().map(MessageRecord::into_message).collect()
}

/// See [`CaseStore::list_cases`](crate::CaseStore::list_cases).
pub(crate) async fn list_cases<S: Sql>(
    store: &S,
    account: &AccountId,
    filter: CaseFilter,
) -> Result<Vec<CaseRow>, StoreError> {
    records_to_rows(store.select_cases(account, &filter).await?, account)
}

/// See [`CaseStore::case_events`](crate::CaseStore::case_events).
pub(crate) async fn case_events<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
) -> Result<Vec<CaseEvent>, StoreError> {
    let records = store.select_events(account, case_id).await?;
    records.into_iter().map(|record: EventRecord| record.into_case_event(account)).collect()
}

/// See [`CaseStore::sla_watchlist`](crate::CaseStore::sla_watchlist).
pub(crate) async fn sla_watchlist<S: Sql>(
    store: &S,
    account: &AccountId,
    due_before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<CaseRow>, StoreError> {
    records_to_rows(store.select_sla_due(account, due_before, limit).await?, account)
}
