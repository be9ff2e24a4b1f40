//! The polling schedule of one source: a pass (poll until drained, each
//! batch published then checkpointed) every `interval_secs`; after a failure
//! the source is marked unhealthy (by the [`Ingestor`]) and retried later
//! with exponential backoff and jitter, or after the `Retry-After` the server
//! asked for, while every other source keeps its own schedule.
//! [`run_sources`] runs all of an account's sources at once, file backfills
//! included, so a backfill of millions of lines never delays polling.

use std::sync::Arc;
use std::time::Duration;

use smo_runtime::backoff::Backoff;
use tokio::sync::watch;

use crate::http::HttpClient;
use crate::{IngestError, IngestStats, Ingestor, Source, SourceConfig};

/// Longest wait between two tries of a failing source.
const MAX_FAILURE_WAIT: Duration = Duration::from_secs(3600);

/// Builds the source of `config` for the ingestor's account; a failure is
/// recorded on the source's health.
pub async fn build_source(
    ingestor: &Ingestor,
    config: &SourceConfig,
    http: Arc<HttpClient>,
) -> Result<Box<dyn Source>, IngestError> {
    match config.build_with(ingestor.account(), http) {
        Ok(source) => Ok(source),
        Err(error) => Err(ingestor.record_failure(&config.source_name(), error).await),
    }
}

/// One pass of one source: polls it until drained (or `stop`).
pub async fn poll_once(
    ingestor: &Ingestor,
    config: &SourceConfig,
    http: Arc<HttpClient>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<IngestStats, IngestError> {
    let mut source = build_source(ingestor, config, http).await?;
    ingestor.run_until_exhausted(source.as_mut(), stop).await
}

/// How long to wait after a pass: the interval after a success, the
/// server's `Retry-After` (at least the interval) after rate limiting, and
/// the interval plus a growing, jittered backoff after other failures.
pub fn next_wait(
    interval: Duration,
    outcome: &Result<IngestStats, IngestError>,
    backoff: &mut Backoff,
) -> Duration {
    match outcome {
        Ok(_) => {
            backoff.reset();
            interval
        }
        Err(error) => match error.retry_after() {
            Some(retry_after) => retry_after.max(interval),
            None => (interval + backoff.next_delay()).min(MAX_FAILURE_WAIT.max(interval)),
        },
    }
}

/// Polls the source of `config` on its schedule until `shutdown` fires.
/// Sources that are not polled (files, webhooks) return at once.
pub async fn poll_forever(
    ingestor: Arc<Ingestor>,
    config: SourceConfig,
    http: Arc<HttpClient>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(interval) = config.interval() else { return };
    let account = ingestor.account().clone();
    let name = config.source_name();
    let mut source = match build_source(&ingestor, &config, http).await {
        Ok(source) => source,
        Err(error) => {
            tracing::error!(%account, source = %name, %error, "source cannot start; fix its config and restart");
            return;
        }
    };
    let mut backoff = Backoff::new(interval, (interval * 16).min(MAX_FAILURE_WAIT).max(interval));
    loop {
        let stop_flag = shutdown.clone();
        let stop = move || *stop_flag.borrow();
        let outcome = tokio::select! {
            outcome = ingestor.run_until_exhausted(source.as_mut(), &stop) => outcome,
            // Dropping a pass mid-way is safe: nothing is checkpointed before
            // the broker confirmed it.
            _ = smo_runtime::shutdown::fired(&mut shutdown) => return,
        };
        if let Err(error) = &outcome {
            tracing::warn!(%account, source = %name, %error, "source poll failed; marked unhealthy");
        }
        let wait = next_wait(interval, &outcome, &mut backoff);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = smo_runtime::shutdown::fired(&mut shutdown) => return,
        }
    }
}

/// Runs a file source once to its end (or until `shutdown`), logging the
/// outcome; a failure is also recorded on the source's health.
pub async fn backfill(
    ingestor: &Ingestor,
    config: &SourceConfig,
    http: Arc<HttpClient>,
    shutdown: watch::Receiver<bool>,
) -> Result<IngestStats, IngestError> {
    let stop = move || *shutdown.borrow();
    let outcome = poll_once(ingestor, config, http, &stop).await;
    let (account, name) = (ingestor.account(), config.source_name());
    match &outcome {
        Ok(stats) => {
            tracing::info!(%account, source = %name, published = stats.published, rejected = stats.rejected, "backfill done")
        }
        Err(error) => {
            tracing::error!(%account, source = %name, %error, "backfill failed; run again to resume from its checkpoint")
        }
    }
    outcome
}

/// Runs every source in `configs` for the ingestor's account until
/// `shutdown`, each in its own task: file backfills to their end, polled
/// sources on their schedule. Run side by side, a long backfill delays
/// neither polling nor another backfill (each publishes and checkpoints its
/// own batches). Webhooks are skipped: they are served, not run. Returns
/// once every task has ended (polled sources end at shutdown).
pub async fn run_sources(
    ingestor: Arc<Ingestor>,
    configs: Vec<SourceConfig>,
    http: Arc<HttpClient>,
    shutdown: watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for config in configs {
        let (ingestor, http, shutdown) = (Arc::clone(&ingestor), Arc::clone(&http), shutdown.clone());
        match config {
            SourceConfig::File(_) => {
                tasks.spawn(async move {
                    // The outcome is logged and on the source's health.
                    let _ = backfill(&ingestor, &config, http, shutdown).await;
                });
            }
            SourceConfig::Webhook(_) => {}
            polled => {
                tasks.spawn(poll_forever(ingestor, polled, http, shutdown));
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined {
            tracing::error!(account = %ingestor.account(), %error, "a source task failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_the_outcome() {
        let interval = Duration::from_secs(60);
        let mut backoff = Backoff::new(interval, interval * 16);
        assert_eq!(next_wait(interval, &Ok(IngestStats::default()), &mut backoff), interval);
        let limited =
            Err(IngestError::RateLimited { source_name: "s".into(), url: "u".into(), retry_after_secs: 600 });
        assert_eq!(next_wait(interval, &limited, &mut backoff), Duration::from_secs(600));
        let failed =
            || Err(IngestError::Http { source_name: "s".into(), url: "u".into(), reason: "x".into() });
        let waits: Vec<Duration> = (0..6).map(|_| next_wait(interval, &failed(), &mut backoff)).collect();
        assert!(waits.iter().all(|w| *w >= interval && *w <= interval * 17), "{waits:?}");
    }
}
