//! Publishing a source's batches: posts to `smo.posts`, rejects to the
//! dead-letter exchange, then the checkpoint — in that order, so the cursor
//! never runs ahead of what the broker has confirmed.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use smo_bus::{OutgoingMessage, SharedBus};
use smo_proto::AccountId;
use smo_proto::topology::{self, Stage};

use crate::{IngestError, Source, SourceBatch};

/// Where cursors are kept between runs (the SQL store in production).
#[async_trait]
pub trait Checkpoints: Send + Sync {
    /// The last saved cursor of `source` for `account`.
    async fn load(&self, account: &AccountId, source: &str) -> Result<Option<String>, IngestError>;
    /// Saves the cursor after `fetched` more posts were published.
    async fn save(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        fetched: u64,
    ) -> Result<(), IngestError>;
    /// Records the last error of a source for its health display.
    async fn record_error(&self, account: &AccountId, source: &str, error: &str) -> Result<(), IngestError>;
}

/// Checkpoints kept in memory, for tests and one-shot imports.
#[derive(Debug, Default)]
pub struct MemoryCheckpoints {
    cursors: Mutex<HashMap<(String, String), String>>,
}

#[async_trait]
impl Checkpoints for MemoryCheckpoints {
    async fn load(&self, account: &AccountId, source: &str) -> Result<Option<String>, IngestError> {
        let cursors = self.cursors.lock().map_err(|e| IngestError::Checkpoint(e.to_string()))?;
        Ok(cursors.get(&(account.to_string(), source.to_owned())).cloned())
    }

    async fn save(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        _fetched: u64,
    ) -> Result<(), IngestError> {
        let mut cursors = self.cursors.lock().map_err(|e| IngestError::Checkpoint(e.to_string()))?;
        cursors.insert((account.to_string(), source.to_owned()), cursor.to_owned());
        Ok(())
    }

    async fn record_error(
        &self,
        _account: &AccountId,
        _source: &str,
        _error: &str,
    ) -> Result<(), IngestError> {
        Ok(())
    }
}

/// Totals of one ingest run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestStats {
    /// Posts published and confirmed.
    pub published: u64,
    /// Inputs dead-lettered.
    pub rejected: u64,
    /// Polls made.
    pub batches: u64,
}

/// Drives sources of one account into the bus.
pub struct Ingestor {
    account: AccountId,
    bus: SharedBus,
    checkpoints: std::sync::Arc<dyn Checkpoints>,
}

impl Ingestor {
    /// An ingestor for `account`.
    pub fn new(account: AccountId, bus: SharedBus, checkpoints: std::sync::Arc<dyn Checkpoints>) -> Self {
        Self { account, bus, checkpoints }
    }

    /// Polls `source` from its checkpoint until it is exhausted or `stop`
    /// says to stop, publishing and checkpointing every batch.
    pub async fn run_until_exhausted(
        &self,
        source: &mut dyn Source,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<IngestStats, IngestError> {
        let mut stats = IngestStats::default();
        let name = source.name().to_owned();
        let mut cursor = self.checkpoints.load(&self.account, &name).await?;
        loop {
            if stop() {
                break;
            }
            let batch = match source.poll(cursor.as_deref()).await {
                Ok(batch) => batch,
                Err(error) => {
                    let _ = self.checkpoints.record_error(&self.account, &name, &error.to_string()).await;
                    return Err(error);
                }
            };
            stats.batches += 1;
            let exhausted = batch.exhausted;
            let (published, rejected) = self.publish(&name, &batch).await?;
            stats.published += published;
            stats.rejected += rejected;
            if let Some(next) = &batch.next_cursor {
                self.checkpoints.save(&self.account, &name, next, published).await?;
                cursor = Some(next.clone());
            }
            if exhausted {
                break;
            }
        }
        tracing::info!(account = %self.account, source = %name, published = stats.published, rejected = stats.rejected, "source pass done");
        Ok(stats)
    }

    /// Publishes one batch: posts, then dead letters; returns their counts.
    async fn publish(&self, source: &str, batch: &SourceBatch) -> Result<(u64, u64), IngestError> {
        let key = topology::raw_key(&self.account);
        let mut messages = Vec::with_capacity(batch.posts.len());
        for post in &batch.posts {
            let payload = serde_json::to_vec(post)
                .map_err(|e| IngestError::Checkpoint(format!("serialize post: {e}")))?;
            messages.push(OutgoingMessage::new(key.clone(), payload));
        }
        if !messages.is_empty() {
            self.bus.publish(topology::POSTS_EXCHANGE, &messages).await?;
        }
        if !batch.rejected.is_empty() {
            let dead_key = topology::dead_letter_key(Stage::Ingest, &self.account);
            let dead: Vec<OutgoingMessage> = batch
                .rejected
                .iter()
                .map(|reject| {
                    tracing::warn!(account = %self.account, source, location = %reject.location, reason = %reject.reason, "rejected input");
                    let mut message = OutgoingMessage::new(dead_key.clone(), reject.raw.clone().into_bytes());
                    message.headers.insert(topology::REASON_HEADER.into(), reject.reason.clone());
                    message.headers.insert(topology::ORIGINAL_KEY_HEADER.into(), key.clone());
                    message.headers.insert("x-smo-location".into(), reject.location.clone());
                    message.headers.insert("x-smo-source".into(), source.to_owned());
                    message
                })
                .collect();
            self.bus.publish(topology::DEAD_LETTER_EXCHANGE, &dead).await?;
        }
        Ok((messages.len() as u64, batch.rejected.len() as u64))
    }
}
