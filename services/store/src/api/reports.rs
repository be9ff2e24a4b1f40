//! The [`ReportStore`] trait, implemented for every backend by the generic
//! operations of [`crate::ops`].

use async_trait::async_trait;

use chrono::{DateTime, NaiveDate, Utc};
use smo_proto::{AccountId, CaseStatus, Intent};

use crate::StoreError;
use crate::sql::Sql;

/// Case counts: what the reports are built from. Every method takes the account and its SQL filters
/// by it, so tenancy does not depend on callers remembering a `WHERE`.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// How many cases the account has.
    async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError>;

    /// How many cases were opened in `[from, to)`; feeds reports.
    async fn cases_opened_between(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Cases opened in `[from, to)` per intent (complaint, question), for
    /// intents with at least one; feeds the reports' "complaints opened".
    async fn cases_opened_by_intent(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Intent, u64)>, StoreError>;

    /// Cases opened in `[from, to)` per UTC day, for days with at least one,
    /// in date order.
    async fn cases_opened_per_day(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(NaiveDate, u64)>, StoreError>;

    /// How many of the account's cases are in each status, for statuses with
    /// at least one case, in lifecycle order.
    async fn cases_by_status(&self, account: &AccountId) -> Result<Vec<(CaseStatus, u64)>, StoreError>;
}

#[async_trait]
impl<S: Sql> ReportStore for S {
    async fn count_cases(&self, account: &AccountId) -> Result<u64, StoreError> {
        crate::ops::reports::count_cases(self, account).await
    }

    async fn cases_opened_between(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        crate::ops::reports::cases_opened_between(self, account, from, to).await
    }

    async fn cases_opened_by_intent(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Intent, u64)>, StoreError> {
        crate::ops::reports::cases_opened_by_intent(self, account, from, to).await
    }

    async fn cases_opened_per_day(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
        crate::ops::reports::cases_opened_per_day(self, account, from, to).await
    }

    async fn cases_by_status(&self, account: &AccountId) -> Result<Vec<(CaseStatus, u64)>, StoreError> {
        crate::ops::reports::cases_by_status(self, account).await
    }
}
