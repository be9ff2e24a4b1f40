//! Counts of cases for reports.

use chrono::{DateTime, NaiveDate, Utc};
use smo_proto::AccountId;

use crate::StoreError;
use crate::backend_sql::BackendSql;

/// Report queries; counts as the database returns them.
pub(crate) trait ReportSql: BackendSql {
    /// All cases of the account.
    fn count_cases(&self, account: &AccountId) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Cases opened in `[from, to)`.
    fn count_opened(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// (intent, count) of cases opened in `[from, to)`, by intent.
    fn count_opened_by_intent(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(String, i64)>, StoreError>> + Send;

    /// (UTC day, count) of cases opened in `[from, to)`, by day.
    fn count_opened_per_day(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(NaiveDate, i64)>, StoreError>> + Send;

    /// (status, count) of the account's cases.
    fn count_by_status(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<(String, i64)>, StoreError>> + Send;
}

macro_rules! impl_report_sql {
    ($store:ty) => {
        const _: () = {
            use ::chrono::{DateTime, NaiveDate, Utc};
            use ::smo_proto::AccountId;

            use $crate::StoreError;
            use $crate::backend_sql::BackendSql;
            use $crate::sql::ReportSql;

            impl ReportSql for $store {
                async fn count_cases(&self, account: &AccountId) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE account_id = $1")
                        .bind(account.as_str())
                        .fetch_one(self.pool())
                        .await?)
                }

                async fn count_opened(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar(
                        "SELECT COUNT(*) FROM cases
                         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3",
                    )
                    .bind(account.as_str())
                    .bind(Self::bind_time(from))
                    .bind(Self::bind_time(to))
                    .fetch_one(self.pool())
                    .await?)
                }

                async fn count_opened_by_intent(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(String, i64)>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT intent, COUNT(*) FROM cases
                         WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3
                         GROUP BY intent ORDER BY intent",
                    )
                    .bind(account.as_str())
                    .bind(Self::bind_time(from))
                    .bind(Self::bind_time(to))
                    .fetch_all(self.pool())
                    .await?)
                }

                async fn count_opened_per_day(
                    &self,
                    account: &AccountId,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> Result<Vec<(NaiveDate, i64)>, StoreError> {
                    Ok(sqlx::query_as(Self::CASES_PER_DAY_SQL)
                        .bind(account.as_str())
                        .bind(Self::bind_time(from))
                        .bind(Self::bind_time(to))
                        .fetch_all(self.pool())
                        .await?)
                }

                async fn count_by_status(
                    &self,
                    account: &AccountId,
                ) -> Result<Vec<(String, i64)>, StoreError> {
                    Ok(sqlx::query_as(
                        "SELECT status, COUNT(*) FROM cases WHERE account_id = $1 GROUP BY status",
                    )
                    .bind(account.as_str())
                    .fetch_all(self.pool())
                    .await?)
                }
            }
        };
    };
}

pub(crate) use impl_report_sql;
