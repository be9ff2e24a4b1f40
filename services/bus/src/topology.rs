//! The design's topology, declared through the [`Bus`] trait so both backends
//! get exactly the same exchanges, queues and bindings. Consumers build their
//! [`QueueSpec`] with [`stage_queue_spec`] too, so a stage and the declaration
//! can never disagree on a queue's arguments (RabbitMQ refuses a redeclaration
//! with different arguments).

use smo_proto::AccountId;
use smo_proto::Intent;
use smo_proto::topology::{
    DEAD_LETTER_EXCHANGE, ENRICHED_EXCHANGE, POSTS_EXCHANGE, Stage, dead_letter_key, dead_letter_queue,
    enriched_key, raw_key, stage_queue,
};

use crate::{Bus, BusError, QueueSpec};

/// How many times a message may be returned to a stage queue before the bus
/// dead-letters it on its own, so a poison message cannot loop forever.
pub const DEFAULT_DELIVERY_LIMIT: u32 = 20;

/// Every exchange of the design, declared before any queue is bound.
pub const EXCHANGES: [&str; 3] = [POSTS_EXCHANGE, ENRICHED_EXCHANGE, DEAD_LETTER_EXCHANGE];

/// The input queue of `stage` for `account`, with its dead-letter target and
/// limits; `None` for [`Stage::Ingest`], which has no input queue.
pub fn stage_queue_spec(stage: Stage, account: &AccountId) -> Option<QueueSpec> {
    if stage == Stage::Ingest {
        return None;
    }
    Some(QueueSpec {
        name: stage_queue(stage, account),
        dead_letter: Some((DEAD_LETTER_EXCHANGE.to_owned(), dead_letter_key(stage, account))),
        // One process owns an account's tantivy index writer.
        single_active_consumer: stage == Stage::Index,
        delivery_limit: Some(DEFAULT_DELIVERY_LIMIT),
    })
}

/// The queue collecting every dead letter of `stage` (no dead-letter target of
/// its own, no delivery limit: nothing may be lost from it).
pub fn dead_letter_queue_spec(stage: Stage) -> QueueSpec {
    QueueSpec {
        name: dead_letter_queue(stage),
        dead_letter: None,
        single_active_consumer: false,
        delivery_limit: None,
    }
}

/// The (exchange, binding pattern) pairs feeding `stage`'s queue for `account`.
pub fn stage_bindings(stage: Stage, account: &AccountId) -> Vec<(&'static str, String)> {
    match stage {
        Stage::Ingest => Vec::new(),
        Stage::Classify => vec![(POSTS_EXCHANGE, raw_key(account))],
        Stage::Index => vec![(ENRICHED_EXCHANGE, format!("{account}.*"))],
        Stage::Community => [Intent::Complaint, Intent::Question]
            .into_iter()
            .filter(|intent| intent.needs_response())
            .map(|intent| (ENRICHED_EXCHANGE, enriched_key(account, intent)))
            .collect(),
    }
}

/// The binding pattern on [`DEAD_LETTER_EXCHANGE`] of `stage`'s dead-letter queue.
pub fn dead_letter_binding(stage: Stage) -> String {
    format!("{}.#", stage.as_str())
}

/// Declares what every account shares: the exchanges and the dead-letter
/// queues. Idempotent.
pub async fn declare_shared(bus: &dyn Bus) -> Result<(), BusError> {
    for exchange in EXCHANGES {
        bus.declare_exchange(exchange).await?;
    }
    for stage in Stage::ALL {
        let spec = dead_letter_queue_spec(stage);
        bus.declare_queue(&spec).await?;
        bus.bind(&spec.name, DEAD_LETTER_EXCHANGE, &dead_letter_binding(stage)).await?;
    }
    Ok(())
}

/// Declares the whole topology one account needs (shared exchanges and
/// dead-letter queues included). Idempotent, so every process may call it at
/// start.
pub async fn declare_account(bus: &dyn Bus, account: &AccountId) -> Result<(), BusError> {
    declare_shared(bus).await?;
    for stage in Stage::ALL {
        let Some(spec) = stage_queue_spec(stage, account) else {
            continue;
        };
        bus.declare_queue(&spec).await?;
        for (exchange, pattern) in stage_bindings(stage, account) {
            bus.bind(&spec.name, exchange, &pattern).await?;
        }
    }
    Ok(())
}

/// The dead-letter target of a queue named by the design's convention
/// (`smo.{stage}.{account}`), for a consumer that did not declare its queue
/// itself. `None` for any other name.
pub fn dead_letter_target_for_queue(queue: &str) -> Option<(String, String)> {
    let rest = queue.strip_prefix("smo.")?;
    let (stage, account) = rest.split_once('.')?;
    let stage = Stage::parse(stage)?;
    let account = AccountId::new(account).ok()?;
    stage_queue_spec(stage, &account)?.dead_letter
}

/// AMQP topic matching: `*` matches exactly one word, `#` zero or more words;
/// words are separated by dots. Used by the embedded backend, which has no
/// broker to route for it.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = key.split('.').collect();
    // reachable[j]: the pattern prefix processed so far can match key[..j].
    let mut reachable = vec![false; key.len() + 1];
    reachable[0] = true;
    for word in pattern {
        let mut next = vec![false; key.len() + 1];
        match word {
            "#" => {
                let mut any = false;
                for j in 0..=key.len() {
                    any |= reachable[j];
                    next[j] = any;
                }
            }
            "*" => next[1..].copy_from_slice(&reachable[..key.len()]),
            literal => {
                for j in 0..key.len() {
                    next[j + 1] = reachable[j] && key[j] == literal;
                }
            }
        }
        reachable = next;
    }
    reachable[key.len()]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn topic_matching_follows_amqp() {
        assert!(topic_matches("acme.raw", "acme.raw"));
        assert!(!topic_matches("acme.raw", "acme.raw.x"));
        assert!(topic_matches("acme.*", "acme.complaint"));
        assert!(!topic_matches("acme.*", "acme"));
        assert!(!topic_matches("acme.*", "acme.a.b"));
        assert!(topic_matches("index.#", "index"));
        assert!(topic_matches("index.#", "index.acme"));
        assert!(topic_matches("index.#", "index.a.b.c"));
        assert!(!topic_matches("index.#", "indexx.a"));
        assert!(topic_matches("#", ""));
        assert!(topic_matches("#", "a.b"));
        assert!(topic_matches("#.b", "b"));
        assert!(topic_matches("#.b", "a.a.b"));
        assert!(!topic_matches("#.b", "a.b.c"));
        assert!(topic_matches("a.#.c", "a.c"));
        assert!(topic_matches("a.#.c", "a.x.y.c"));
        assert!(topic_matches("*.*", "a.b"));
        assert!(!topic_matches("*", "a.b"));
    }

    #[test]
    fn specs_follow_the_design() {
        let acme = AccountId::new("acme").unwrap();
        let index = stage_queue_spec(Stage::Index, &acme).unwrap();
        assert_eq!(index.name, "smo.index.acme");
        assert!(index.single_active_consumer);
        assert_eq!(index.dead_letter, Some(("smo.dlx".to_owned(), "index.acme".to_owned())));
        assert!(stage_queue_spec(Stage::Ingest, &acme).is_none());
        assert_eq!(
            dead_letter_target_for_queue("smo.community.acme"),
            Some(("smo.dlx".to_owned(), "community.acme".to_owned()))
        );
        assert_eq!(dead_letter_target_for_queue("smo.dead.index"), None);
        assert_eq!(dead_letter_target_for_queue("other"), None);
        assert_eq!(
            stage_bindings(Stage::Community, &acme),
            vec![
                (ENRICHED_EXCHANGE, "acme.complaint".to_owned()),
                (ENRICHED_EXCHANGE, "acme.question".to_owned())
            ]
        );
    }
}
