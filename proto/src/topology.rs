//! Names of exchanges, routing keys and queues. Kept in the contract so that a
//! publisher and a consumer written in different crates (or languages) agree on
//! them, and so that every name carries the account: per-account queues are
//! what let ops scale a client's workers on their own.

use crate::{AccountId, Intent};

/// Topic exchange that sources publish raw posts to.
pub const POSTS_EXCHANGE: &str = "smo.posts";
/// Topic exchange that classify publishes enriched posts to.
pub const ENRICHED_EXCHANGE: &str = "smo.enriched";
/// Exchange that receives every dead letter, keyed `{stage}.{account}`.
pub const DEAD_LETTER_EXCHANGE: &str = "smo.dlx";
/// Header holding the human-readable reason a message was dead-lettered.
pub const REASON_HEADER: &str = "x-smo-reason";
/// Header holding the routing key the message had before it was dead-lettered.
pub const ORIGINAL_KEY_HEADER: &str = "x-smo-original-key";

/// A stage of the pipeline that owns queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Sources; owns no input queue but dead-letters bad input.
    Ingest,
    /// Tagging and classification; consumes raw posts.
    Classify,
    /// Search indexing; consumes every enriched post.
    Index,
    /// Cases; consumes complaints and questions.
    Community,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 4] = [Stage::Ingest, Stage::Classify, Stage::Index, Stage::Community];

    /// Lowercase name used in queue names and CLI flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Classify => "classify",
            Self::Index => "index",
            Self::Community => "community",
        }
    }

    /// Parses a CLI / config name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|stage| stage.as_str() == value)
    }
}

/// Routing key of a raw post of `account` on [`POSTS_EXCHANGE`].
pub fn raw_key(account: &AccountId) -> String {
    format!("{account}.raw")
}

/// Routing key of an enriched post on [`ENRICHED_EXCHANGE`].
pub fn enriched_key(account: &AccountId, intent: Intent) -> String {
    format!("{account}.{}", intent.as_str())
}

/// The queue `stage` consumes for `account`: `smo.{stage}.{account}`.
pub fn stage_queue(stage: Stage, account: &AccountId) -> String {
    format!("smo.{}.{account}", stage.as_str())
}

/// Routing key on [`DEAD_LETTER_EXCHANGE`] for what `stage` rejects for `account`.
pub fn dead_letter_key(stage: Stage, account: &AccountId) -> String {
    format!("{}.{account}", stage.as_str())
}

/// The queue collecting every dead letter of `stage`: `smo.dead.{stage}`.
pub fn dead_letter_queue(stage: Stage) -> String {
    format!("smo.dead.{}", stage.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_account() {
        let acme = AccountId::new("acme").unwrap();
        assert_eq!(raw_key(&acme), "acme.raw");
        assert_eq!(enriched_key(&acme, Intent::Complaint), "acme.complaint");
        assert_eq!(stage_queue(Stage::Index, &acme), "smo.index.acme");
        assert_eq!(dead_letter_key(Stage::Classify, &acme), "classify.acme");
        assert_eq!(dead_letter_queue(Stage::Classify), "smo.dead.classify");
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        }
    }
}
