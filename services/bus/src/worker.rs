//! The consume loop every stage uses: collect a batch, hand it to the stage's
//! [`BatchHandler`], settle each delivery as the handler says. Settling is
//! subtle (dead letters before acks, `ack multiple` only when it cannot ack
//! something that must not be acked, retry in place on transient failure),
//! so it is written once here rather than in every stage.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use smo_runtime::backoff::Backoff;
use smo_runtime::shutdown::fired;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::{BusError, Consumer, Delivery};

/// What to do with one delivery of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its effect is durable: remove it from the queue.
    Ack,
    /// It can never succeed (bad input): move it to the dead-letter queue
    /// with this reason.
    DeadLetter(String),
    /// Try it again later (it comes back with `redelivered = true`).
    Requeue,
}

/// A transient failure of a whole batch (database down, disk full): the worker
/// keeps the batch unacked and hands it to the handler again after a backoff,
/// until it succeeds or shutdown. Retrying in place rather than requeueing
/// keeps an outage from using up the queue's delivery limit and
/// dead-lettering good messages. Per-message failures are [`Outcome`]s.
#[derive(Debug, thiserror::Error)]
#[error("{message}: {source}")]
pub struct HandlerError {
    /// What the handler was doing.
    pub message: String,
    /// The underlying error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl HandlerError {
    /// Wraps `source` with a note on what failed.
    pub fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self { message: message.into(), source: source.into() }
    }

    /// An error with only a message.
    pub fn msg(message: impl Into<String>) -> Self {
        let message = message.into();
        Self { source: message.clone().into(), message }
    }
}

/// A stage's processing of a batch of deliveries.
#[async_trait]
pub trait BatchHandler: Send {
    /// Processes `batch` and returns one [`Outcome`] per delivery, in the same
    /// order. Return `Ok` only once the acked deliveries' effects are durable.
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError>;
}

/// How big a batch may get and how long to wait to fill it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Most deliveries per batch (keep it at or below the consumer's prefetch).
    pub max_messages: usize,
    /// How long to wait for more deliveries after the first one.
    pub max_wait: Duration,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        Self { max_messages: 100, max_wait: Duration::from_millis(200) }
    }
}

/// What a worker did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Deliveries received (redeliveries count again).
    pub received: u64,
    /// Deliveries acked.
    pub acked: u64,
    /// Deliveries moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Deliveries requeued: on the handler's request, or a batch still failing
    /// when shutdown came (a failing batch is otherwise retried in place).
    pub requeued: u64,
    /// Batches handed to the handler.
    pub batches: u64,
    /// Handler attempts that failed (each retry of a batch counts).
    pub failed_batches: u64,
}

/// How a batch collection ended besides filling up or timing out.
enum Interrupt {
    None,
    Shutdown,
    Cancelled,
    Failed(BusError),
}

/// Runs `handler` over `consumer`'s deliveries in batches until `shutdown`
/// becomes true (then it finishes and settles the batch in hand) or the
/// consumer ends (its queue was deleted). Returns an error only when the
/// consumer fails for good (it reconnects on its own before that); unsettled
/// deliveries then come back through the bus.
pub async fn run_batches(
    mut consumer: Box<dyn Consumer>,
    handler: &mut dyn BatchHandler,
    policy: &BatchPolicy,
    mut shutdown: watch::Receiver<bool>,
) -> Result<WorkerStats, BusError> {
    let max_messages = policy.max_messages.max(1);
    let mut stats = WorkerStats::default();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
    // Tags whose dead-letter/requeue failed on a live channel: an `ack
    // multiple` over them would wrongly ack them, so they are retried first.
    let mut stuck: BTreeMap<u64, u32> = BTreeMap::new();

    loop {
        if *shutdown.borrow() {
            break;
        }
        let first = tokio::select! {
            biased;
            () = fired(&mut shutdown) => break,
            next = consumer.next() => match next? {
                Some(delivery) => delivery,
                None => {
                    info!("consumer ended (queue deleted or bus closing); worker stops");
                    break;
                }
            },
        };
        let mut batch = vec![first];
        let deadline = Instant::now() + policy.max_wait;
        let mut interrupt = Interrupt::None;
        while batch.len() < max_messages {
            tokio::select! {
                biased;
                () = fired(&mut shutdown) => {
                    interrupt = Interrupt::Shutdown;
                    break;
                }
                next = tokio::time::timeout_at(deadline, consumer.next()) => match next {
                    Err(_elapsed) => break,
                    Ok(Ok(Some(delivery))) => batch.push(delivery),
                    Ok(Ok(None)) => {
                        interrupt = Interrupt::Cancelled;
                        break;
                    }
                    Ok(Err(error)) => {
                        interrupt = Interrupt::Failed(error);
                        break;
                    }
                },
            }
        }

        retry_stuck(consumer.as_mut(), &mut stuck).await;
        stats.received += batch.len() as u64;
        stats.batches += 1;
        match handle_until_done(handler, &batch, &mut backoff, &mut shutdown, &mut stats).await {
            Some(outcomes) => {
                backoff.reset();
                settle(consumer.as_mut(), &batch, outcomes, &mut stats, &mut stuck).await;
            }
            None => requeue_all(consumer.as_mut(), &batch, &mut stats, &mut stuck).await,
        }

        match interrupt {
            Interrupt::None => {}
            Interrupt::Shutdown => break,
            Interrupt::Cancelled => {
                info!("consumer ended (queue deleted or bus closing); worker stops");
                break;
            }
            Interrupt::Failed(error) => return Err(error),
        }
    }
    retry_stuck(consumer.as_mut(), &mut stuck).await;
    debug!(?stats, "worker stopped");
    Ok(stats)
}

/// Hands `batch` to the handler until it succeeds, retrying in place with
/// backoff while it fails. `None` means the batch must be requeued: the
/// handler returned the wrong number of outcomes (a bug), or shutdown came
/// while it was failing.
async fn handle_until_done(
    handler: &mut dyn BatchHandler,
    batch: &[Delivery],
    backoff: &mut Backoff,
    shutdown: &mut watch::Receiver<bool>,
    stats: &mut WorkerStats,
) -> Option<Vec<Outcome>> {
    loop {
        match handler.handle(batch).await {
            Ok(outcomes) if outcomes.len() == batch.len() => return Some(outcomes),
            Ok(outcomes) => {
                error!(
                    batch = batch.len(),
                    outcomes = outcomes.len(),
                    "handler returned the wrong number of outcomes (a bug); requeueing the batch"
                );
                stats.failed_batches += 1;
                return None;
            }
            Err(handler_error) => {
                stats.failed_batches += 1;
                let delay = backoff.next_delay();
                warn!(error = %handler_error, batch = batch.len(), ?delay, "handler failed; retrying the batch in place");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = fired(shutdown) => return None,
                }
            }
        }
    }
}

async fn requeue_all(
    consumer: &mut dyn Consumer,
    batch: &[Delivery],
    stats: &mut WorkerStats,
    stuck: &mut BTreeMap<u64, u32>,
) {
    for delivery in batch {
        requeue_one(consumer, delivery.tag, stats, stuck).await;
    }
}

async fn requeue_one(
    consumer: &mut dyn Consumer,
    tag: u64,
    stats: &mut WorkerStats,
    stuck: &mut BTreeMap<u64, u32>,
) {
    match consumer.requeue(tag).await {
        Ok(()) => stats.requeued += 1,
        Err(error) => {
            warn!(tag, %error, "requeue failed; will retry");
            stuck.insert(tag, 0);
        }
    }
}

/// Tries again to requeue deliveries whose settling failed. After a few
/// failures the tag is assumed stale (its channel died and the bus
/// redelivers the message anyway) and forgotten.
async fn retry_stuck(consumer: &mut dyn Consumer, stuck: &mut BTreeMap<u64, u32>) {
    const GIVE_UP_AFTER: u32 = 3;
    let tags: Vec<u64> = stuck.keys().copied().collect();
    for tag in tags {
        match consumer.requeue(tag).await {
            Ok(()) => {
                stuck.remove(&tag);
            }
            Err(error) => {
                let failures = stuck.entry(tag).or_insert(0);
                *failures += 1;
                if *failures >= GIVE_UP_AFTER {
                    debug!(tag, %error, "giving up on settling a stale delivery; the bus redelivers it");
                    stuck.remove(&tag);
                }
            }
        }
    }
}

/// Applies a batch's outcomes: dead letters and requeues first, then the acks
/// (one `ack multiple` when no other unsettled delivery sits below the
/// highest acked tag).
async fn settle(
    consumer: &mut dyn Consumer,
    batch: &[Delivery],
    outcomes: Vec<Outcome>,
    stats: &mut WorkerStats,
    stuck: &mut BTreeMap<u64, u32>,
) {
    let mut acks = Vec::new();
    let mut all_others_settled = true;
    for (delivery, outcome) in batch.iter().zip(outcomes) {
        match outcome {
            Outcome::Ack => acks.push(delivery.tag),
            Outcome::DeadLetter(reason) => match consumer.dead_letter(delivery, &reason).await {
                Ok(()) => stats.dead_lettered += 1,
                Err(error) => {
                    error!(tag = delivery.tag, %error, reason, "dead-lettering failed; requeueing instead");
                    let before = stuck.len();
                    requeue_one(consumer, delivery.tag, stats, stuck).await;
                    if stuck.len() > before {
                        all_others_settled = false;
                    }
                }
            },
            Outcome::Requeue => {
                let before = stuck.len();
                requeue_one(consumer, delivery.tag, stats, stuck).await;
                if stuck.len() > before {
                    all_others_settled = false;
                }
            }
        }
    }
    let Some(&max_ack) = acks.iter().max() else {
        return;
    };
    let nothing_stuck_below = stuck.range(..=max_ack).next().is_none();
    if all_others_settled && nothing_stuck_below {
        match consumer.ack(max_ack, true).await {
            Ok(()) => stats.acked += acks.len() as u64,
            Err(error) => {
                warn!(tag = max_ack, %error, "ack failed; the messages will be redelivered");
            }
        }
    } else {
        for tag in acks {
            match consumer.ack(tag, false).await {
                Ok(()) => stats.acked += 1,
                Err(error) => warn!(tag, %error, "ack failed; the message will be redelivered"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_error_keeps_its_message() {
        let error = HandlerError::new("writing cases", std::io::Error::other("db down"));
        assert_eq!(error.to_string(), "writing cases: db down");
        assert_eq!(HandlerError::msg("boom").message, "boom");
    }
}
