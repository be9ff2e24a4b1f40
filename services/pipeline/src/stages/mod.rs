//! The pipeline's stage workers: each adapts one stage library (classify,
//! index, community) to the bus through a [`smo_bus::worker::BatchHandler`],
//! so settling (ack after the effect is durable, dead letters with a reason,
//! retry in place on transient failure) is written once, in the bus crate.

pub mod classify;
pub mod community;
pub mod index;
pub mod ingest;
pub mod supervisor;
pub mod upkeep;

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use smo_bus::Delivery;
use smo_bus::worker::{BatchPolicy, Outcome};
use smo_proto::topology::Stage;
use smo_proto::{AccountId, Intent};
use smo_runtime::metrics::{self, MetricDef, MetricKind};

use crate::PipelineError;
use crate::settings::BatchOverrides;

/// Messages settled by stage workers, by stage, account and outcome.
pub const STAGE_MESSAGES: MetricDef = MetricDef {
    name: "smo_stage_messages_total",
    help: "Messages settled by a stage worker, by outcome (ack, dead_letter).",
    kind: MetricKind::Counter,
};

/// Messages a stage published downstream (classify's enriched posts), by intent.
pub const STAGE_PUBLISHED: MetricDef = MetricDef {
    name: "smo_stage_published_total",
    help: "Messages a stage published to the next one, by stage, account and intent.",
    kind: MetricKind::Counter,
};

/// The batch policy of `stage`: its handler's default with the config's
/// overrides applied. The one place overrides meet defaults.
pub fn batch_policy(stage: Stage, overrides: &BatchOverrides) -> BatchPolicy {
    let (default, max_posts, max_wait) = match stage {
        Stage::Ingest => (BatchPolicy::default(), None, None),
        Stage::Classify => (classify::ClassifyHandler::BATCH, overrides.classify_max_posts, None),
        Stage::Index => (index::IndexHandler::BATCH, overrides.index_max_posts, overrides.index_max_wait),
        Stage::Community => (community::CommunityHandler::BATCH, None, None),
    };
    BatchPolicy {
        max_messages: max_posts.map_or(default.max_messages, NonZeroUsize::get),
        max_wait: max_wait.unwrap_or(default.max_wait),
    }
}

/// Counts a settled message.
pub fn count_settled(stage: &'static str, account: &AccountId, outcome: &'static str, n: u64) {
    metrics::series(
        &STAGE_MESSAGES,
        &[("stage", stage), ("account", account.as_str()), ("outcome", outcome)],
    )
    .add(n);
}

/// Reads the settled count (for the demo's progress and tests).
pub fn settled(stage: &'static str, account: &AccountId, outcome: &'static str) -> u64 {
    metrics::series(&STAGE_MESSAGES, &[("stage", stage), ("account", account.as_str()), ("outcome", outcome)])
        .get() as u64
}

/// A contract message that belongs to one account.
pub trait AccountScoped: DeserializeOwned {
    /// Name of the type in dead-letter reasons.
    const WHAT: &'static str;
    /// The account the message belongs to.
    fn account(&self) -> &AccountId;
}

impl AccountScoped for smo_proto::Post {
    const WHAT: &'static str = "Post";
    fn account(&self) -> &AccountId {
        &self.account
    }
}

impl AccountScoped for smo_proto::EnrichedPost {
    const WHAT: &'static str = "EnrichedPost";
    fn account(&self) -> &AccountId {
        &self.post.account
    }
}

/// Parses a batch for the queue of `account`: the messages to work on, and
/// one outcome per delivery (ack for those, a dead letter with the reason for
/// unparsable messages and for messages of another account, which must never
/// be written into this account's data).
pub fn parse_batch<T: AccountScoped>(batch: &[Delivery], account: &AccountId) -> (Vec<T>, Vec<Outcome>) {
    let mut items = Vec::with_capacity(batch.len());
    let mut outcomes = Vec::with_capacity(batch.len());
    for delivery in batch {
        match serde_json::from_slice::<T>(&delivery.payload) {
            Ok(item) if item.account() == account => {
                items.push(item);
                outcomes.push(Outcome::Ack);
            }
            Ok(item) => outcomes.push(Outcome::DeadLetter(format!(
                "{} of account {} on a queue of account {account}",
                T::WHAT,
                item.account()
            ))),
            Err(error) => outcomes.push(Outcome::DeadLetter(format!("invalid {} JSON: {error}", T::WHAT))),
        }
    }
    (items, outcomes)
}

/// Time a stage worker took to handle a batch, by stage and account.
pub const STAGE_BATCH_SECONDS: MetricDef = MetricDef {
    name: "smo_stage_batch_seconds",
    help: "Time a stage worker took to handle one batch, effect durable (published, committed, written).",
    kind: MetricKind::Histogram,
};

/// Records a handled batch: its outcomes in [`STAGE_MESSAGES`] and its
/// duration in [`STAGE_BATCH_SECONDS`].
pub fn record_batch(stage: &'static str, account: &AccountId, outcomes: &[Outcome], started: Instant) {
    let dead = outcomes.iter().filter(|o| matches!(o, Outcome::DeadLetter(_))).count() as u64;
    count_settled(stage, account, "ack", outcomes.len() as u64 - dead);
    count_settled(stage, account, "dead_letter", dead);
    metrics::histogram(&STAGE_BATCH_SECONDS, &[("stage", stage), ("account", account.as_str())])
        .observe(started.elapsed().as_secs_f64());
}

/// Enriched posts classify published for `account` with `intent`.
pub fn published(account: &AccountId, intent: Intent) -> u64 {
    metrics::series(
        &STAGE_PUBLISHED,
        &[("stage", "classify"), ("account", account.as_str()), ("intent", intent.as_str())],
    )
    .get() as u64
}

/// Waits until the stage workers of this process have settled everything
/// upstream produced: `ingested[i]` raw posts of `accounts[i]` through
/// classify, every enriched post through index, every complaint and question
/// through community. For the demo and the benchmark, which run every stage
/// in one process.
pub async fn wait_until_settled(
    accounts: &[AccountId],
    ingested: &[u64],
    limit: Duration,
) -> Result<(), PipelineError> {
    let deadline = Instant::now() + limit;
    loop {
        let done = accounts.iter().zip(ingested).all(|(account, &raw)| {
            let handled = |stage| settled(stage, account, "ack") + settled(stage, account, "dead_letter");
            let enriched: u64 = [Intent::Complaint, Intent::Question, Intent::Praise, Intent::Other]
                .into_iter()
                .map(|intent| published(account, intent))
                .sum();
            let needs_response = published(account, Intent::Complaint) + published(account, Intent::Question);
            handled("classify") >= raw
                && handled("index") >= enriched
                && handled("community") >= needs_response
        });
        if done {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(PipelineError::NotSettled(limit));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
