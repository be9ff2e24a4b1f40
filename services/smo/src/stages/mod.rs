//! The pipeline's stage workers: each adapts one stage library (classify,
//! index, community) to the bus through a [`smo_bus::worker::BatchHandler`],
//! so settling (ack after the effect is durable, dead letters with a reason,
//! requeue on transient failure) is written once, in the bus crate.

pub mod classify;
pub mod community;
pub mod index;
pub mod ingest;
pub mod supervisor;

use serde::de::DeserializeOwned;
use smo_bus::Delivery;
use smo_bus::worker::Outcome;
use smo_proto::AccountId;
use smo_runtime::metrics::{self, MetricDef, MetricKind};

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

/// Counts a batch's outcomes in [`STAGE_MESSAGES`].
pub fn count_outcomes(stage: &'static str, account: &AccountId, outcomes: &[Outcome]) {
    let dead = outcomes.iter().filter(|o| matches!(o, Outcome::DeadLetter(_))).count() as u64;
    count_settled(stage, account, "ack", outcomes.len() as u64 - dead);
    count_settled(stage, account, "dead_letter", dead);
}
