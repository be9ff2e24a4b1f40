//! Community stage: complaints and questions become cases, one per
//! conversation (a follow-up joins or reopens its case). The whole batch is
//! written in one transaction (each post in at most one case) before the
//! messages are acked. Queue upkeep (inactive agents, SLA escalations) runs
//! on its own clock beside these workers: see [`super::upkeep`].

use async_trait::async_trait;
use smo_bus::Delivery;
use std::time::Duration;

use smo_bus::worker::{BatchHandler, BatchPolicy, HandlerError, Outcome};
use smo_community::CaseOpener;
use smo_proto::{AccountId, EnrichedPost};

use super::{parse_batch, record_batch};

/// Opens cases for one account.
pub struct CommunityHandler {
    account: AccountId,
    opener: CaseOpener,
}

impl CommunityHandler {
    /// How community workers batch: up to 500 posts, waiting at most 100 ms,
    /// so a case is assignable within a fraction of a second of its post.
    pub const BATCH: BatchPolicy = BatchPolicy { max_messages: 500, max_wait: Duration::from_millis(100) };

    /// A handler for `account`.
    pub fn new(account: AccountId, opener: CaseOpener) -> Self {
        Self { account, opener }
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
        Ok(outcomes)
    }
}
