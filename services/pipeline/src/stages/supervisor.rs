//! Keeps a stage worker consuming: (re)creates its consumer and restarts the
//! batch loop with backoff after a bus failure, until shutdown.

use std::time::Duration;

use smo_bus::worker::{BatchHandler, BatchPolicy, run_batches};
use smo_bus::{ConsumeSpec, SharedBus};
use smo_proto::AccountId;
use smo_proto::topology::{Stage, stage_queue};
use smo_runtime::backoff::Backoff;
use tokio::sync::watch;

/// Consumes `stage`'s queue for `account` with `handler` until shutdown.
pub async fn supervise(
    bus: SharedBus,
    stage: Stage,
    account: AccountId,
    prefetch: u16,
    policy: BatchPolicy,
    mut handler: Box<dyn BatchHandler>,
    shutdown: watch::Receiver<bool>,
) {
    let spec = ConsumeSpec { queue: stage_queue(stage, &account), prefetch };
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(15));
    loop {
        if *shutdown.borrow() {
            return;
        }
        let result = match bus.consume(&spec).await {
            Ok(consumer) => run_batches(consumer, handler.as_mut(), &policy, shutdown.clone()).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(stats) => {
                tracing::info!(stage = stage.as_str(), %account, ?stats, "worker stopped");
                if *shutdown.borrow() {
                    return;
                }
                backoff.reset();
            }
            Err(error) => {
                tracing::warn!(stage = stage.as_str(), %account, %error, "worker lost the bus; retrying");
            }
        }
        let mut stop = shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = smo_runtime::shutdown::fired(&mut stop) => return,
        }
    }
}
