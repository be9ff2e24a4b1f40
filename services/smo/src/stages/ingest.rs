//! Ingest role: runs each configured source of an account through the
//! [`smo_ingest::Ingestor`], with cursors checkpointed in the SQL store.
//! File sources run once to the end (resuming from their cursor); HTTP
//! sources are polled on their interval until shutdown.

use std::sync::Arc;

use async_trait::async_trait;
use smo_bus::SharedBus;
use smo_ingest::{Checkpoints, IngestError, IngestStats, Ingestor, SourceConfig};
use smo_proto::AccountId;
use smo_runtime::backoff::Backoff;
use smo_store::Store;
use tokio::sync::watch;

/// The SQL store as the ingest checkpoint store.
pub struct StoreCheckpoints(pub Store);

#[async_trait]
impl Checkpoints for StoreCheckpoints {
    async fn load(&self, account: &AccountId, source: &str) -> Result<Option<String>, IngestError> {
        let cursor =
            self.0.get_cursor(account, source).await.map_err(|e| IngestError::Checkpoint(e.to_string()))?;
        Ok(cursor.and_then(|c| c.cursor))
    }

    async fn save(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        fetched: u64,
    ) -> Result<(), IngestError> {
        self.0
            .save_cursor(account, source, cursor, fetched)
            .await
            .map_err(|e| IngestError::Checkpoint(e.to_string()))
    }

    async fn record_error(&self, account: &AccountId, source: &str, error: &str) -> Result<(), IngestError> {
        self.0
            .record_source_error(account, source, error)
            .await
            .map_err(|e| IngestError::Checkpoint(e.to_string()))
    }
}

/// Runs every file source of `account` once to its end; returns the totals.
pub async fn run_file_sources(
    account: &AccountId,
    sources: &[SourceConfig],
    bus: SharedBus,
    store: Store,
    shutdown: watch::Receiver<bool>,
) -> Result<IngestStats, IngestError> {
    let ingestor = Ingestor::new(account.clone(), bus, Arc::new(StoreCheckpoints(store)));
    let mut total = IngestStats::default();
    for config in sources.iter().filter(|s| matches!(s, SourceConfig::File(_))) {
        let mut source = config.build(account)?;
        let stop = || *shutdown.borrow();
        let stats = ingestor.run_until_exhausted(source.as_mut(), &stop).await?;
        total.published += stats.published;
        total.rejected += stats.rejected;
        total.batches += stats.batches;
    }
    Ok(total)
}

/// Polls every HTTP source of `account` on its interval until shutdown; a
/// failing source is logged and retried with backoff while the others go on.
pub async fn poll_http_sources(
    account: AccountId,
    sources: Vec<SourceConfig>,
    bus: SharedBus,
    store: Store,
    shutdown: watch::Receiver<bool>,
) {
    let ingestor = Arc::new(Ingestor::new(account.clone(), bus, Arc::new(StoreCheckpoints(store))));
    let mut tasks = tokio::task::JoinSet::new();
    for config in sources.into_iter().filter(|s| matches!(s, SourceConfig::HttpJson(_))) {
        let ingestor = Arc::clone(&ingestor);
        let account = account.clone();
        let mut shutdown = shutdown.clone();
        tasks.spawn(async move {
            let interval = match &config {
                SourceConfig::HttpJson(http) => std::time::Duration::from_secs(http.interval_secs.max(1)),
                SourceConfig::File(_) => return,
            };
            let mut backoff = Backoff::new(interval, interval * 16);
            loop {
                let wait = match config.build(&account) {
                    Ok(mut source) => {
                        let stop = || *shutdown.borrow();
                        match ingestor.run_until_exhausted(source.as_mut(), &stop).await {
                            Ok(_) => {
                                backoff.reset();
                                interval
                            }
                            Err(error) => {
                                tracing::warn!(%account, source = config.name(), %error, "source poll failed");
                                interval + backoff.next_delay()
                            }
                        }
                    }
                    Err(error) => {
                        tracing::error!(%account, source = config.name(), %error, "source cannot be built");
                        return;
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = smo_runtime::shutdown::fired(&mut shutdown) => return,
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
