//! Case counts that feed the reports.

use chrono::{DateTime, NaiveDate, Utc};
use smo_proto::{AccountId, CaseStatus, Intent};

use crate::StoreError;
use crate::records::{count_from_sql, intent_from_sql, status_counts};
use crate::sql::Sql;

/// See [`ReportStore::count_cases`](crate::ReportStore::count_cases).
pub(crate) async fn count_cases<S: Sql>(store: &S, account: &AccountId) -> Result<u64, StoreError> {
    Ok(count_from_sql(store.count_cases(account).await?))
}

/// See [`ReportStore::cases_opened_between`](crate::ReportStore::cases_opened_between).
pub(crate) async fn cases_opened_between<S: Sql>(
    store: &S,
    account: &AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(count_from_sql(store.count_opened(account, from, to).await?))
}

/// See [`ReportStore::cases_opened_by_intent`](crate::ReportStore::cases_opened_by_intent).
pub(crate) async fn cases_opened_by_intent<S: Sql>(
    store: &S,
    account: &AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Intent, u64)>, StoreError> {
    let rows = store.count_opened_by_intent(account, from, to).await?;
    rows.into_iter().map(|(intent, count)| Ok((intent_from_sql(&intent)?, count_from_sql(count)))).collect()
}

/// See [`ReportStore::cases_opened_per_day`](crate::ReportStore::cases_opened_per_day).
pub(crate) async fn cases_opened_per_day<S: Sql>(
    store: &S,
    account: &AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
    let rows = store.count_opened_per_day(account, from, to).await?;
    Ok(rows.into_iter().map(|(day, count)| (day, count_from_sql(count))).collect())
}

/// See [`ReportStore::cases_by_status`](crate::ReportStore::cases_by_status).
pub(crate) async fn cases_by_status<S: Sql>(
    store: &S,
    account: &AccountId,
) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
    status_counts(store.count_by_status(account).await?)
}
