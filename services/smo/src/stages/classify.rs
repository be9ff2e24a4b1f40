//! Classify stage: raw posts in, enriched posts out. Classification runs on
//! the blocking pool; the enriched batch is published with confirms before
//! the raw posts are acked.

use std::sync::Arc;

use async_trait::async_trait;
use smo_bus::worker::{BatchHandler, HandlerError, Outcome};
use smo_bus::{Delivery, OutgoingMessage, SharedBus};
use smo_classify::{AccountProfile, Classifier};
use smo_proto::topology::{self, ENRICHED_EXCHANGE};
use smo_proto::{AccountId, Post};

use super::{parse_batch, record_batch};

/// Classifies one account's raw posts.
pub struct ClassifyHandler {
    account: AccountId,
    classifier: Arc<Classifier>,
    profile: Arc<AccountProfile>,
    bus: SharedBus,
}

impl ClassifyHandler {
    /// A handler for `account` publishing to `bus`.
    pub fn new(
        account: AccountId,
        classifier: Arc<Classifier>,
        profile: Arc<AccountProfile>,
        bus: SharedBus,
    ) -> Self {
        Self { account, classifier, profile, bus }
    }
}

#[async_trait]
impl BatchHandler for ClassifyHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        let started = std::time::Instant::now();
        let (posts, outcomes) = parse_batch::<Post>(batch, &self.account);
        let classifier = Arc::clone(&self.classifier);
        let profile = Arc::clone(&self.profile);
        let account = self.account.clone();
        let messages = tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now();
            posts
                .iter()
                .map(|post| {
                    let enriched = classifier.classify(post, &profile, now);
                    let key = topology::enriched_key(&account, enriched.intent);
                    serde_json::to_vec(&enriched)
                        .map(|payload| (enriched.intent, OutgoingMessage::new(key, payload)))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| HandlerError::msg(format!("classification task failed: {e}")))?
        .map_err(|e| HandlerError::msg(format!("serializing enriched post: {e}")))?;
        let (intents, messages): (Vec<_>, Vec<_>) = messages.into_iter().unzip();
        if !messages.is_empty() {
            self.bus
                .publish(ENRICHED_EXCHANGE, &messages)
                .await
                .map_err(|e| HandlerError::msg(format!("publishing enriched posts: {e}")))?;
        }
        for intent in intents {
            smo_runtime::metrics::series(
                &super::STAGE_PUBLISHED,
                &[("stage", "classify"), ("account", self.account.as_str()), ("intent", intent.as_str())],
            )
            .add(1);
        }
        record_batch("classify", &self.account, &outcomes, started);
        Ok(outcomes)
    }
}
