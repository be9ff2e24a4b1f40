//! Publishing a source's batches: posts to `smo.posts`, rejects to the
//! dead-letter exchange, then the checkpoint — in that order, so the cursor
//! never runs ahead of what the broker has confirmed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use smo_bus::{OutgoingMessage, SharedBus};
use smo_proto::AccountId;
use smo_proto::topology::{self, Stage};

use crate::{IngestError, Source, SourceBatch, metrics};

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

/// What [`MemoryCheckpoints`] holds for one source, like a `source_cursors` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryCheckpoint {
    /// The last saved cursor.
    pub cursor: Option<String>,
    /// Posts fetched so far.
    pub posts_fetched: u64,
    /// The last error, cleared by the next save.
    pub last_error: Option<String>,
}

/// Checkpoints kept in memory, for tests and one-shot imports.
#[derive(Debug, Default)]
pub struct MemoryCheckpoints {
    sources: Mutex<HashMap<(String, String), MemoryCheckpoint>>,
}

impl MemoryCheckpoints {
    /// The state of `source` of `account`, if it was ever saved or failed.
    pub fn get(&self, account: &AccountId, source: &str) -> Option<MemoryCheckpoint> {
        let sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        sources.get(&(account.to_string(), source.to_owned())).cloned()
    }

    fn update(&self, account: &AccountId, source: &str, change: impl FnOnce(&mut MemoryCheckpoint)) {
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        change(sources.entry((account.to_string(), source.to_owned())).or_default());
    }
}

#[async_trait]
impl Checkpoints for MemoryCheckpoints {
    async fn load(&self, account: &AccountId, source: &str) -> Result<Option<String>, IngestError> {
        Ok(self.get(account, source).and_then(|state| state.cursor))
    }

    async fn save(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        fetched: u64,
    ) -> Result<(), IngestError> {
        self.update(account, source, |state| {
            state.cursor = Some(cursor.to_owned());
            state.posts_fetched += fetched;
            state.last_error = None;
        });
        Ok(())
    }

    async fn record_error(&self, account: &AccountId, source: &str, error: &str) -> Result<(), IngestError> {
        self.update(account, source, |state| state.last_error = Some(error.to_owned()));
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

/// Where a run stands, for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct IngestProgress<'a> {
    /// The source.
    pub source: &'a str,
    /// The cursor just checkpointed.
    pub cursor: Option<&'a str>,
    /// Totals so far.
    pub stats: IngestStats,
}

/// Longest a single poll may take before it counts as failed, so a source
/// that hangs (a server trickling bytes, a stuck parser) cannot hold its
/// worker forever.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(300);

/// Drives sources of one account into the bus.
pub struct Ingestor {
    account: AccountId,
    bus: SharedBus,
    checkpoints: Arc<dyn Checkpoints>,
    poll_timeout: Duration,
}

impl Ingestor {
    /// An ingestor for `account`.
    pub fn new(account: AccountId, bus: SharedBus, checkpoints: Arc<dyn Checkpoints>) -> Self {
        Self { account, bus, checkpoints, poll_timeout: DEFAULT_POLL_TIMEOUT }
    }

    /// Sets the longest a single poll may take.
    pub fn with_poll_timeout(mut self, timeout: Duration) -> Self {
        self.poll_timeout = timeout;
        self
    }

    /// The account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The checkpoint store.
    pub fn checkpoints(&self) -> &Arc<dyn Checkpoints> {
        &self.checkpoints
    }

    /// Polls `source` from its checkpoint until it is exhausted or `stop`
    /// says to stop, publishing and checkpointing every batch.
    pub async fn run_until_exhausted(
        &self,
        source: &mut dyn Source,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<IngestStats, IngestError> {
        self.run_with_progress(source, stop, &mut |_| {}).await
    }

    /// Like [`Self::run_until_exhausted`], calling `progress` after every
    /// checkpoint. Any failure is recorded on the source's health (store and
    /// metrics) before it is returned; a completed pass marks it healthy.
    pub async fn run_with_progress(
        &self,
        source: &mut dyn Source,
        stop: &(dyn Fn() -> bool + Sync),
        progress: &mut (dyn FnMut(&IngestProgress<'_>) + Send),
    ) -> Result<IngestStats, IngestError> {
        let name = source.name().to_owned();
        match self.run_inner(source, &name, stop, progress).await {
            Ok(stats) => {
                metrics::mark_healthy(&self.account, &name, true);
                Ok(stats)
            }
            Err(error) => Err(self.record_failure(&name, error).await),
        }
    }

    async fn run_inner(
        &self,
        source: &mut dyn Source,
        name: &str,
        stop: &(dyn Fn() -> bool + Sync),
        progress: &mut (dyn FnMut(&IngestProgress<'_>) + Send),
    ) -> Result<IngestStats, IngestError> {
        let mut stats = IngestStats::default();
        let mut cursor = self.checkpoints.load(&self.account, name).await?;
        loop {
            if stop() {
                break;
            }
            let batch = match tokio::time::timeout(self.poll_timeout, source.poll(cursor.as_deref())).await {
                Ok(result) => result?,
                Err(_) => {
                    return Err(IngestError::Timeout {
                        source_name: name.to_owned(),
                        seconds: self.poll_timeout.as_secs(),
                    });
                }
            };
            stats.batches += 1;
            let exhausted = batch.exhausted;
            let (published, rejected) = self.publish_and_checkpoint(name, &batch).await?;
            stats.published += published;
            stats.rejected += rejected;
            if let Some(next) = &batch.next_cursor {
                cursor = Some(next.clone());
            }
            progress(&IngestProgress { source: name, cursor: cursor.as_deref(), stats });
            if exhausted {
                break;
            }
        }
        tracing::info!(account = %self.account, source = %name, published = stats.published, rejected = stats.rejected, "source pass done");
        Ok(stats)
    }

    /// Publishes a batch that did not come from polling (a webhook delivery),
    /// then checkpoints its cursor; failures are recorded on the source's
    /// health. Returns the posts and rejects published.
    pub async fn deliver(&self, source: &str, batch: &SourceBatch) -> Result<(u64, u64), IngestError> {
        match self.publish_and_checkpoint(source, batch).await {
            Ok(counts) => {
                metrics::mark_healthy(&self.account, source, true);
                Ok(counts)
            }
            Err(error) => Err(self.record_failure(source, error).await),
        }
    }

    async fn publish_and_checkpoint(
        &self,
        source: &str,
        batch: &SourceBatch,
    ) -> Result<(u64, u64), IngestError> {
        let (published, rejected) = self.publish(source, batch).await?;
        if let Some(next) = &batch.next_cursor {
            self.checkpoints.save(&self.account, source, next, published).await?;
        }
        metrics::count_posts(&self.account, source, published, rejected);
        Ok((published, rejected))
    }

    /// Records a failure of `source` on its health (store and metrics; best
    /// effort, since the store may be what failed) and returns it.
    pub async fn record_failure(&self, source: &str, error: IngestError) -> IngestError {
        metrics::count_error(&self.account, source, error.kind());
        metrics::mark_healthy(&self.account, source, false);
        if let Err(store_error) =
            self.checkpoints.record_error(&self.account, source, &error.to_string()).await
        {
            tracing::warn!(account = %self.account, source, %store_error, "could not record the source's error");
        }
        error
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
