//! Enriched posts in, cases out, on a real SQLite store.

use chrono::{TimeZone, Utc};
use smo_community::{CaseOpener, PostOutcome, PostRejected, new_case_from};
use smo_proto::{
    AccountId, Author, Engagement, EnrichedPost, Intent, Language, Post, PostId, SCHEMA_VERSION, Sentiment,
    SentimentScore,
};
use smo_store::{CaseFilter, Store, StoreOptions};

struct Harness {
    opener: CaseOpener,
    _dir: tempfile::TempDir,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("cases.db").display());
    let store = Store::connect(StoreOptions::new(url)).await.expect("store");
    store.migrate().await.expect("migrate");
    Harness { opener: CaseOpener::new(store), _dir: dir }
}

fn account(name: &str) -> AccountId {
    AccountId::new(name).expect("account")
}

fn enriched(account_name: &str, native_id: &str, intent: Intent) -> EnrichedPost {
    let created_at = Utc.with_ymd_and_hms(2024, 5, 2, 10, 30, 0).single().expect("time");
    EnrichedPost {
        schema_version: SCHEMA_VERSION,
        post: Post {
            schema_version: SCHEMA_VERSION,
            id: PostId::derive("file:sample", native_id),
            account: account(account_name),
            source: "file:sample".to_owned(),
            native_id: native_id.to_owned(),
            author: Author {
                id: "42".to_owned(),
                handle: "angry_customer".to_owned(),
                display_name: None,
                followers: Some(1200),
            },
            text: format!("Post {native_id}: my parcel\nnever arrived | again"),
            url: None,
            created_at,
            in_reply_to: None,
            thread_id: None,
            engagement: Engagement::default(),
        },
        language: Language { code: "en".to_owned(), confidence: 0.98, reliable: true },
        sentiment: SentimentScore { label: Sentiment::Negative, score: -0.7 },
        intent,
        tags: vec!["delivery".to_owned()],
        priority: 0.8,
        classifier_version: "test".to_owned(),
        classified_at: created_at,
    }
}

#[test]
fn only_complaints_and_questions_become_cases() {
    let complaint = enriched("acme", "1", Intent::Complaint);
    let case = new_case_from(&complaint).expect("complaint opens a case");
    assert_eq!(case.post_id, complaint.post.id);
    assert_eq!(case.thread_id, complaint.post.id, "a root post is its own thread");
    assert_eq!(case.opened_at, complaint.post.created_at);
    assert_eq!(case.text_excerpt, "Post 1: my parcel never arrived | again");
    assert!(new_case_from(&enriched("acme", "2", Intent::Question)).is_some());
    assert!(new_case_from(&enriched("acme", "3", Intent::Praise)).is_none());
    assert!(new_case_from(&enriched("acme", "4", Intent::Other)).is_none());

    let mut reply = enriched("acme", "5", Intent::Complaint);
    reply.post.thread_id = Some(PostId::derive("file:sample", "1"));
    let case = new_case_from(&reply).expect("reply opens a case");
    assert_eq!(case.thread_id, PostId::derive("file:sample", "1"));
}

#[tokio::test]
async fn complaints_are_assigned_round_robin() {
    let h = harness().await;
    let acme = account("acme");
    h.opener.sync_agents(&acme, &["ann".to_owned(), "bob".to_owned()]).await.expect("agents");
    let posts: Vec<EnrichedPost> =
        ["1", "2", "3"].iter().map(|id| enriched("acme", id, Intent::Complaint)).collect();
    let report = h.opener.open_batch(&acme, &posts).await.expect("batch");
    let agents: Vec<Option<&str>> = report
        .outcomes
        .iter()
        .map(|outcome| match outcome {
            PostOutcome::Opened { agent, .. } => agent.as_deref(),
            other => panic!("expected a new case, got {other:?}"),
        })
        .collect();
    assert_eq!(agents, [Some("ann"), Some("bob"), Some("ann")]);
    assert_eq!(report.opened(), 3);
}

#[tokio::test]
async fn a_redelivered_post_opens_one_case() {
    let h = harness().await;
    let acme = account("acme");
    let post = enriched("acme", "1", Intent::Complaint);
    let first = h.opener.open_batch(&acme, &[post.clone(), post.clone()]).await.expect("first");
    assert_eq!((first.opened(), first.duplicates()), (1, 1));
    let again = h.opener.open_batch(&acme, &[post]).await.expect("again");
    assert_eq!((again.opened(), again.duplicates()), (0, 1));
    let count = h.opener.store().count_cases(&acme).await.expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn other_intents_open_no_case() {
    let h = harness().await;
    let acme = account("acme");
    let posts = [enriched("acme", "1", Intent::Other), enriched("acme", "2", Intent::Praise)];
    let report = h.opener.open_batch(&acme, &posts).await.expect("batch");
    assert_eq!(report.no_case_needed(), 2);
    assert_eq!(
        report.outcomes[0],
        PostOutcome::NoCaseNeeded { post_id: posts[0].post.id.clone(), intent: Intent::Other }
    );
    let count = h.opener.store().count_cases(&acme).await.expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn posts_of_another_account_are_refused_not_written() {
    let h = harness().await;
    let acme = account("acme");
    let foreign = enriched("globex", "1", Intent::Complaint);
    let own = enriched("acme", "2", Intent::Complaint);
    let report = h.opener.open_batch(&acme, &[foreign.clone(), own]).await.expect("batch");
    let rejected: Vec<&PostRejected> = report.rejected().collect();
    assert_eq!(
        rejected,
        [&PostRejected::WrongAccount {
            post_id: foreign.post.id.clone(),
            expected: acme.clone(),
            found: account("globex"),
        }]
    );
    assert!(rejected[0].to_string().contains("globex"));
    assert_eq!(report.opened(), 1, "the rest of the batch is still written");
    let store = h.opener.store();
    assert_eq!(store.count_cases(&account("globex")).await.expect("count"), 0);
    let acme_cases = store.list_cases(&acme, CaseFilter::default()).await.expect("list");
    assert_eq!(acme_cases.len(), 1);
    assert_ne!(acme_cases[0].post_id, foreign.post.id);
}

#[test]
fn reports_serialize_for_logs_and_apis() {
    let report = smo_community::OpenBatchReport {
        outcomes: vec![PostOutcome::Rejected {
            reason: PostRejected::WrongAccount {
                post_id: PostId("p".to_owned()),
                expected: account("acme"),
                found: account("globex"),
            },
        }],
    };
    let json = serde_json::to_string(&report).expect("json");
    assert!(json.contains("\"outcome\":\"rejected\""), "{json}");
    assert!(json.contains("\"kind\":\"wrong_account\""), "{json}");
}
