//! Work on a clock rather than on messages, run beside the community
//! workers: each account's queue upkeep (cases of agents who went quiet go
//! back to the queue, due SLA escalations fire) every [`UPKEEP_EVERY`]
//! whether or not posts arrive, and the outbox worker that delivers agents'
//! replies and escalation notifications. Both are safe to run in several
//! processes at once: upkeep decisions are made under the account's routing
//! lock and fire once per case, and outbox messages are claimed with a lease.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use smo_community::CaseOpener;
use smo_outbound::{OutboxWorker, RetryPolicy, SignedWebhook};
use smo_proto::AccountId;
use smo_store::Store;
use tokio::sync::watch;

use crate::PipelineError;
use crate::settings::Settings;

/// How often each account's queue upkeep runs.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(15);

/// Runs the queue upkeep of `accounts` every `every` until `shutdown`; a
/// failed round is logged and retried on the next tick.
pub async fn run_upkeep(
    opener: CaseOpener,
    accounts: Vec<AccountId>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = smo_runtime::shutdown::fired(&mut shutdown) => return,
        }
        for account in &accounts {
            match opener.upkeep(account, chrono::Utc::now()).await {
                Ok(done) if !done.requeued.is_empty() || !done.escalated.is_empty() => tracing::info!(
                    %account,
                    requeued = done.requeued.len(),
                    escalated = done.escalated.len(),
                    "queue upkeep"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%account, %error, "queue upkeep failed"),
            }
        }
    }
}

/// Each account's reply destination (its outbound webhook), for the API.
pub fn reply_destinations(settings: &Settings) -> HashMap<AccountId, String> {
    settings
        .accounts
        .iter()
        .filter_map(|a| a.outbound.as_ref().map(|config| (a.id.clone(), config.webhook_url.clone())))
        .collect()
}

/// The outbox worker for every configured account: replies signed with each
/// account's secret, each account's attempt limit.
pub fn outbox_worker(settings: &Settings, store: Store) -> Result<OutboxWorker, PipelineError> {
    let mut secrets = HashMap::new();
    let mut timeout = Duration::from_secs(10);
    for account in &settings.accounts {
        if let (Some(config), Some(secret)) = (&account.outbound, &account.outbound_secret) {
            secrets.insert(account.id.clone(), secret.clone());
            timeout = timeout.max(Duration::from_secs(config.timeout_secs));
        }
    }
    let webhook =
        SignedWebhook::new(secrets, timeout).map_err(|error| PipelineError::Outbound(error.to_string()))?;
    let mut worker = OutboxWorker::new(store, Arc::new(webhook), RetryPolicy::default());
    for account in &settings.accounts {
        if let Some(config) = &account.outbound {
            worker = worker.with_max_attempts(account.id.clone(), config.max_attempts);
        }
    }
    Ok(worker)
}
