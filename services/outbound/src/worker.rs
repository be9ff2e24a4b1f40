//! Drains the store's outbox: claims due messages (with a lease, so two
//! workers do not send the same message at once and a crashed worker's
//! messages come back), delivers them through an [`Outbound`] connector and
//! records each outcome. A transient failure is retried after a delay that
//! doubles per attempt; a permanent one, or running out of attempts, marks
//! the message failed, which community management shows on its case.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::AccountId;
use smo_runtime::metrics::{self, MetricDef, MetricKind};
use smo_store::{ClaimedMessage, DeliveryOutcome, Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::{DeliveryError, Outbound};

const DELIVERED: MetricDef = MetricDef {
    name: "smo_outbox_delivered_total",
    help: "Outbox messages the receiver accepted.",
    kind: MetricKind::Counter,
};
const RETRIED: MetricDef = MetricDef {
    name: "smo_outbox_retries_total",
    help: "Delivery attempts that failed and will be retried.",
    kind: MetricKind::Counter,
};
const FAILED: MetricDef = MetricDef {
    name: "smo_outbox_failed_total",
    help: "Outbox messages given up on (rejected, or out of attempts).",
    kind: MetricKind::Counter,
};

/// How failed deliveries are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubles per attempt.
    pub base: Duration,
    /// Longest delay between attempts.
    pub max: Duration,
    /// Attempts before giving up, unless the account sets its own.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s doubling to 2 h, 12 attempts: about a day of retries.
    fn default() -> Self {
        Self { base: Duration::from_secs(30), max: Duration::from_secs(2 * 3600), max_attempts: 12 }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`-th failed attempt (1-based), between
    /// 75 % and 100 % of the doubled delay: the spread keeps messages that
    /// failed together (a receiver outage) from all retrying in one burst.
    /// Deterministic per message, so it needs no random source.
    pub fn delay(&self, attempt: u32, message_id: i64) -> Duration {
        let doubled =
            self.base.saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX));
        let capped = doubled.min(self.max);
        let spread = (message_id.unsigned_abs().wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as f64 / 255.0;
        capped.mul_f64(0.75 + 0.25 * spread)
    }
}

/// What one [`OutboxWorker::drain_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Accepted by their receiver.
    pub delivered: usize,
    /// Failed, to be retried.
    pub retried: usize,
    /// Given up on.
    pub failed: usize,
}

/// Delivers the outbox of every account through one connector.
pub struct OutboxWorker {
    store: Store,
    outbound: Arc<dyn Outbound>,
    policy: RetryPolicy,
    attempts_per_account: HashMap<AccountId, u32>,
    batch: u32,
    concurrency: usize,
    lease: TimeDelta,
    idle_poll: Duration,
}

impl std::fmt::Debug for OutboxWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxWorker").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl OutboxWorker {
    /// A worker over `store` sending through `outbound`. The lease (how long
    /// a claimed message is hidden from other workers) must outlast one
    /// delivery attempt; the default, 2 minutes, outlasts the connector's
    /// timeouts many times over.
    pub fn new(store: Store, outbound: Arc<dyn Outbound>, policy: RetryPolicy) -> Self {
        Self {
            store,
            outbound,
            policy,
            attempts_per_account: HashMap::new(),
            batch: 50,
            concurrency: 8,
            lease: TimeDelta::minutes(2),
            idle_poll: Duration::from_secs(1),
        }
    }

    /// Gives `account` its own attempt limit (its outbound configuration).
    pub fn with_max_attempts(mut self, account: AccountId, attempts: u32) -> Self {
        self.attempts_per_account.insert(account, attempts.max(1));
        self
    }

    /// How long the worker sleeps when the outbox is empty.
    pub fn with_idle_poll(mut self, idle_poll: Duration) -> Self {
        self.idle_poll = idle_poll;
        self
    }

    /// Claims one batch of due messages, delivers them (a few at a time)
    /// and records the outcomes. A store error while recording leaves the
    /// message claimed; it is sent again when its lease ends (at least once).
    pub async fn drain_once(&self, now: DateTime<Utc>) -> Result<DrainReport, StoreError> {
        let claimed = self.store.claim_outbox(now, self.lease, self.batch).await?;
        let mut report = DrainReport { claimed: claimed.len(), ..DrainReport::default() };
        let mut pending = claimed.into_iter();
        let mut running: JoinSet<(ClaimedMessage, Result<(), DeliveryError>)> = JoinSet::new();
        loop {
            while running.len() < self.concurrency
                && let Some(claim) = pending.next()
            {
                let outbound = Arc::clone(&self.outbound);
                running.spawn(async move {
                    let result = outbound.deliver(&claim.account, &claim.message).await;
                    (claim, result)
                });
            }
            let Some(joined) = running.join_next().await else { break };
            let Ok((claim, result)) = joined else {
                // A connector panicked: the message stays leased and is
                // retried after the lease, like after a crash.
                tracing::error!("an outbound delivery task panicked");
                continue;
            };
            let outcome = self.outcome_of(&claim, result);
            let account = claim.account.as_str();
            let kind = claim.message.kind.as_str();
            match &outcome {
                DeliveryOutcome::Delivered => {
                    report.delivered += 1;
                    metrics::series(&DELIVERED, &[("account", account), ("kind", kind)]).add(1);
                }
                DeliveryOutcome::Retry { error, at } => {
                    report.retried += 1;
                    metrics::series(&RETRIED, &[("account", account), ("kind", kind)]).add(1);
                    tracing::warn!(account, kind, id = claim.message.id, %error, retry_at = %at, "outbound delivery failed; will retry");
                }
                DeliveryOutcome::Failed { error } => {
                    report.failed += 1;
                    metrics::series(&FAILED, &[("account", account), ("kind", kind)]).add(1);
                    tracing::error!(account, kind, id = claim.message.id, %error, "outbound delivery failed for good");
                }
            }
            self.store.finish_delivery(&claim.account, claim.message.id, &outcome, Utc::now()).await?;
        }
        Ok(report)
    }

    fn outcome_of(&self, claim: &ClaimedMessage, result: Result<(), DeliveryError>) -> DeliveryOutcome {
        let limit =
            self.attempts_per_account.get(&claim.account).copied().unwrap_or(self.policy.max_attempts);
        let attempt = u32::try_from(claim.message.attempts).unwrap_or(u32::MAX).saturating_add(1);
        match result {
            Ok(()) => DeliveryOutcome::Delivered,
            Err(DeliveryError::Permanent { reason }) => DeliveryOutcome::Failed { error: reason },
            Err(DeliveryError::Transient { reason, .. }) if attempt >= limit => {
                DeliveryOutcome::Failed { error: format!("{reason} (gave up after {attempt} attempts)") }
            }
            Err(DeliveryError::Transient { reason, retry_after }) => {
                let wait = retry_after.unwrap_or_else(|| self.policy.delay(attempt, claim.message.id));
                let wait = TimeDelta::from_std(wait).unwrap_or(TimeDelta::hours(1));
                DeliveryOutcome::Retry { at: Utc::now() + wait, error: reason }
            }
        }
    }

    /// Drains until `shutdown` fires, sleeping when nothing is due; store
    /// errors are logged and retried after the idle interval.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let idle = match self.drain_once(Utc::now()).await {
                Ok(report) => report.claimed == 0,
                Err(error) => {
                    tracing::error!(%error, "outbox: store error");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(self.idle_poll) => {}
                    _ = smo_runtime::shutdown::fired(&mut shutdown) => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_a_spread_and_a_cap() {
        let policy = RetryPolicy::default();
        for id in [1, 2, 77, i64::MAX, -5] {
            let first = policy.delay(1, id);
            assert!(first >= Duration::from_millis(22_500) && first <= Duration::from_secs(30), "{first:?}");
            let third = policy.delay(3, id);
            assert!(third >= Duration::from_secs(90) && third <= Duration::from_secs(120), "{third:?}");
            assert!(policy.delay(40, id) <= policy.max);
            assert!(policy.delay(0, id) <= Duration::from_secs(30));
        }
    }
}
