//! Community stage: complaints and questions become cases, one per
//! conversation (a follow-up joins or reopens its case). The whole batch is
//! written in one transaction (each post in at most one case) before the
//! messages are acked. Between batches, at most every [`UPKEEP_EVERY`], the
//! worker also runs the account's queue upkeep (inactive agents lose their
//! cases, due SLA escalations fire); a failed upkeep is logged, never fails
//! the batch.

use async_trait::async_trait;
use smo_bus::Delivery;
use smo_bus::worker::{BatchHandler, HandlerError, Outcome};
use smo_community::CaseOpener;
use smo_proto::{AccountId, EnrichedPost};

use super::{parse_batch, record_batch};

/// How often, at most, a worker runs its account's queue upkeep.
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens cases for one account.
pub struct CommunityHandler {
    account: AccountId,
    opener: CaseOpener,
    last_upkeep: Option<std::time::Instant>,
}

impl CommunityHandler {
    /// A handler for `account`.
    pub fn new(account: AccountId, opener: CaseOpener) -> Self {
        Self { account, opener, last_upkeep: None }
    }

    async fn upkeep_if_due(&mut self) {
        if self.last_upkeep.is_some_and(|at| at.elapsed() < UPKEEP_EVERY) {
            return;
        }
        self.last_upkeep = Some(std::time::Instant::now());
        match self.opener.upkeep(&self.account, chrono::Utc::now()).await {
            Ok(done) if !done.requeued.is_empty() || !done.escalated.is_empty() => tracing::info!(
                account = %self.account,
                requeued = done.requeued.len(),
                escalated = done.escalated.len(),
                "queue upkeep"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(account = %self.account, %error, "queue upkeep failed"),
        }
    }
}

#[async_trait]
impl BatchHandler for CommunityHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        let started = std::time::Instant::now();
        let (posts, outcomes) = parse_batch::<EnrichedPost>(batch, &self.account);
        if !posts.is_empty() {
            self.opener
                .open_batch(&self.account, &posts)
                .await
                .map_err(|e| HandlerError::msg(format!("opening cases: {e}")))?;
        }
        record_batch("community", &self.account, &outcomes, started);
        self.upkeep_if_due().await;
        Ok(outcomes)
    }
}
