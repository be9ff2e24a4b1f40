//! Classify stage: raw posts in, enriched posts out. Classification, spam
//! scoring and near-duplicate detection run on the blocking pool; the
//! enriched batch is published with confirms before the raw posts are acked.
//!
//! Near-duplicates are found in a sliding window of the account's recent
//! posts kept by the handler, in memory: after a restart (or on another
//! process consuming the same queue) the window starts empty, so duplicates
//! of posts seen before are missed. That only affects the
//! `near_duplicate_of` flag, never delivery. Posts of a batch enter the
//! window in batch order, and a redelivered or retried post gets the same
//! answer as the first time.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use smo_bus::worker::{BatchHandler, BatchPolicy, HandlerError, Outcome};
use smo_bus::{Delivery, OutgoingMessage, SharedBus};
use smo_classify::{AccountProfile, Classifier, NearDuplicateWindow, SpamScorer};
use smo_proto::topology::{self, ENRICHED_EXCHANGE};
use smo_proto::{AccountId, Post};

use super::{parse_batch, record_batch};

/// Classifies one account's raw posts.
pub struct ClassifyHandler {
    account: AccountId,
    classifier: Arc<Classifier>,
    profile: Arc<AccountProfile>,
    spam: Arc<SpamScorer>,
    /// The account's recent posts. Behind a mutex only so the blocking task
    /// can borrow it; batches of one handler never overlap.
    near_duplicates: Arc<Mutex<NearDuplicateWindow>>,
    bus: SharedBus,
}

impl ClassifyHandler {
    /// How classify workers batch by default: up to 500 posts, published in
    /// one confirmed round, waiting at most 50 ms (`classify.batch_max_posts`).
    pub const BATCH: BatchPolicy = BatchPolicy { max_messages: 500, max_wait: Duration::from_millis(50) };

    /// A handler for `account` publishing to `bus`, with the default
    /// near-duplicate window (a day, at most 50,000 posts).
    pub fn new(
        account: AccountId,
        classifier: Arc<Classifier>,
        profile: Arc<AccountProfile>,
        bus: SharedBus,
    ) -> Self {
        Self {
            account,
            classifier,
            profile,
            spam: Arc::new(SpamScorer::new()),
            near_duplicates: Arc::new(Mutex::new(NearDuplicateWindow::default())),
            bus,
        }
    }
}

#[async_trait]
impl BatchHandler for ClassifyHandler {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        let started = std::time::Instant::now();
        let (posts, outcomes) = parse_batch::<Post>(batch, &self.account);
        let classifier = Arc::clone(&self.classifier);
        let profile = Arc::clone(&self.profile);
        let spam = Arc::clone(&self.spam);
        let near_duplicates = Arc::clone(&self.near_duplicates);
        let account = self.account.clone();
        let messages = tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now();
            // A panic while the window was held cannot leave it unsafe to
            // use (at worst one post is missing), so poisoning is ignored.
            let mut window = near_duplicates.lock().unwrap_or_else(PoisonError::into_inner);
            posts
                .iter()
                .map(|post| {
                    // Classification, spam signals and the near-duplicate
                    // window, on one normalisation of the text.
                    let enriched = classifier.enrich(post, &profile, now, &spam, &mut window);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use smo_bus::{ConsumeSpec, EmbeddedBus, EmbeddedBusOptions};
    use smo_proto::topology::{Stage, stage_queue};
    use smo_proto::{Author, Engagement, EnrichedPost, PostId, SCHEMA_VERSION};

    use super::*;

    fn account() -> AccountId {
        AccountId::new("acme").expect("account")
    }

    fn delivery(tag: u64, native_id: &str, text: &str, followers: u64) -> Delivery {
        let post = Post {
            schema_version: SCHEMA_VERSION,
            id: PostId::derive("file:test", native_id),
            account: account(),
            source: "file:test".to_owned(),
            native_id: native_id.to_owned(),
            author: Author {
                id: format!("u{tag}"),
                handle: format!("user{tag}"),
                display_name: None,
                followers: Some(followers),
            },
            text: text.to_owned(),
            url: None,
            created_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).single().expect("time")
                + chrono::TimeDelta::minutes(tag as i64),
            in_reply_to: None,
            thread_id: None,
            engagement: Engagement::default(),
        };
        Delivery {
            tag,
            exchange: topology::POSTS_EXCHANGE.to_owned(),
            routing_key: format!("{}.raw", account()),
            payload: serde_json::to_vec(&post).expect("serialize"),
            headers: BTreeMap::new(),
            redelivered: false,
        }
    }

    #[tokio::test]
    async fn enriched_posts_carry_spam_signals_and_near_duplicates_and_retries_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bus: SharedBus = Arc::new(
            EmbeddedBus::open(&dir.path().join("bus.db"), EmbeddedBusOptions::default()).await.expect("bus"),
        );
        smo_bus::topology::declare_shared(bus.as_ref()).await.expect("topology");
        smo_bus::topology::declare_account(bus.as_ref(), &account()).await.expect("queues");
        let mut handler = ClassifyHandler::new(
            account(),
            Arc::new(Classifier::new()),
            Arc::new(AccountProfile::default()),
            Arc::clone(&bus),
        );

        let original =
            "AcmeAir cancels all flights out of Denver tonight as the blizzard closes both runways";
        let batch = vec![
            delivery(1, "1", &format!("{original} https://t.co/a1"), 5_000),
            delivery(2, "2", &format!("RT @denverpost: {original} https://t.co/b2 #snow"), 40),
            delivery(
                3,
                "3",
                "FREE FOLLOWERS!!! follow me and I follow back #teamfollowback https://bit.ly/x",
                0,
            ),
            delivery(4, "4", "@AcmeAir my bag never arrived in Boston and nobody answers the phone", 120),
            Delivery { payload: b"{not json".to_vec(), ..delivery(5, "5", "", 0) },
        ];
        let outcomes = handler.handle(&batch).await.expect("handled");
        assert_eq!(outcomes.iter().filter(|o| matches!(o, Outcome::Ack)).count(), 4);
        assert!(matches!(outcomes[4], Outcome::DeadLetter(_)));
        // A retried batch (publish failed, say) gets exactly the same answers.
        let retried = handler.handle(&batch[..4]).await.expect("handled again");
        assert!(retried.iter().all(|o| matches!(o, Outcome::Ack)));

        let mut consumer = bus
            .consume(&ConsumeSpec { queue: stage_queue(Stage::Index, &account()), prefetch: 100 })
            .await
            .expect("consume");
        let mut published = Vec::new();
        while published.len() < 8 {
            let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
                .await
                .expect("enriched post within 10 s")
                .expect("bus")
                .expect("delivery");
            published.push(serde_json::from_slice::<EnrichedPost>(&delivery.payload).expect("enriched"));
        }
        let first = PostId::derive("file:test", "1");
        for run in published.chunks(4) {
            let by_native: Vec<(&str, Option<&PostId>, bool)> = run
                .iter()
                .map(|e| (e.post.native_id.as_str(), e.near_duplicate_of.as_ref(), e.spam.is_spam()))
                .collect();
            assert_eq!(
                by_native,
                vec![("1", None, false), ("2", Some(&first), false), ("3", None, true), ("4", None, false)]
            );
        }
        let spam = &published[2].spam;
        assert!(spam.signals.iter().any(|s| s == "hashtag:teamfollowback"), "{spam:?}");
    }
}
