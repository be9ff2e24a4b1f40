//! Index stage: enriched posts into the account's tantivy index. The batch is
//! upserted and committed on the blocking pool; only then are the messages
//! acked, so a crash before the commit means redelivery, and the upsert by id
//! makes the redelivery harmless.

use std::time::Duration;

use async_trait::async_trait;
use smo_bus::Delivery;
use smo_bus::worker::{BatchHandler, BatchPolicy, HandlerError, Outcome};
use smo_index::{AccountWriter, IndexRoot};
use smo_proto::{AccountId, EnrichedPost};

use super::{parse_batch, record_batch};

/// Indexes one account's enriched posts. Holds the account's only writer.
pub struct IndexHandler {
    account: AccountId,
    root: IndexRoot,
    writer: Option<AccountWriter>,
}

impl IndexHandler {
    /// How index workers batch by default: commits are the expensive part,
    /// so up to 2,000 posts per commit, waiting at most 500 ms for a partial
    /// one (`index.batch_max_posts`, `index.batch_max_wait_ms`).
    pub const BATCH: BatchPolicy = BatchPolicy { max_messages: 2000, max_wait: Duration::from_millis(500) };

    /// A handler for `account` writing under `root`; the writer opens lazily
    /// so a standby consumer does not hold the index lock.
    pub fn new(account: AccountId, root: IndexRoot) -> Self {
        Self { account, root, writer: None }
    }
}

#[async_trait]
impl BatchHandler for IndexHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        let started = std::time::Instant::now();
        let (posts, outcomes) = parse_batch::<EnrichedPost>(batch, &self.account);
        if !posts.is_empty() {
            let mut writer = match self.writer.take() {
                Some(writer) => writer,
                None => self
                    .root
                    .open_writer(&self.account)
                    .map_err(|e| HandlerError::msg(format!("opening index writer: {e}")))?,
            };
            let (writer, result) = tokio::task::spawn_blocking(move || {
                let result = writer.upsert_batch(&posts);
                (writer, result)
            })
            .await
            .map_err(|e| HandlerError::msg(format!("index task failed: {e}")))?;
            self.writer = Some(writer);
            result.map_err(|e| HandlerError::msg(format!("indexing batch: {e}")))?;
        }
        record_batch("index", &self.account, &outcomes, started);
        Ok(outcomes)
    }
}
