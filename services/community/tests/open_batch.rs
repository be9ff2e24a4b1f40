//! Enriched posts in, cases out, on a real SQLite store.

use chrono::{TimeZone, Utc};
use smo_community::{CaseOpener, CommunitySettings, PostOutcome, PostRejected, level_of, new_case_from};
use smo_proto::{
    AccountId, Author, CasePriority, Engagement, EnrichedPost, Intent, Language, Post, PostId,
    SCHEMA_VERSION, Sentiment, SentimentScore,
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
        urgency: Vec::new(),
        priority: 0.8,
        classifier_version: "test".to_owned(),
        classified_at: created_at,
        near_duplicate_of: None,
        spam: smo_proto::SpamSignals::default(),
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

#[tokio::test]
async fn a_reply_of_the_same_customer_joins_the_case_of_its_thread() {
    let h = harness().await;
    let acme = account("acme");
    let root = enriched("acme", "1", Intent::Complaint);
    let mut reply = enriched("acme", "2", Intent::Question);
    reply.post.thread_id = Some(root.post.id.clone());
    reply.post.in_reply_to = Some(root.post.id.clone());
    reply.post.created_at = root.post.created_at + chrono::Duration::minutes(5);
    let report = h.opener.open_batch(&acme, &[root.clone(), reply.clone()]).await.expect("batch");
    let case_id = match &report.outcomes[0] {
        PostOutcome::Opened { case_id, .. } => *case_id,
        other => panic!("expected a new case, got {other:?}"),
    };
    assert_eq!(report.outcomes[1], PostOutcome::Joined { post_id: reply.post.id.clone(), case_id });
    assert_eq!((report.opened(), report.follow_ups()), (1, 1));
    let again = h.opener.open_batch(&acme, &[reply]).await.expect("redelivery");
    assert_eq!(again.duplicates(), 1);
    let messages = h.opener.store().case_messages(&acme, case_id).await.expect("messages");
    assert_eq!(messages.len(), 2);
}

#[tokio::test]
async fn stored_settings_route_to_teams_and_start_sla_clocks() {
    let h = harness().await;
    let acme = account("acme");
    let settings: CommunitySettings = serde_json::from_value(serde_json::json!({
        "routing": [
            {"name": "spanish billing", "when": "lang:es AND tag:billing", "team": "billing-es"},
            {"name": "deliveries", "when": "tag:delivery", "team": "logistics"}
        ],
        "sla": {"targets": [{"priority": "high", "first_response_minutes": 60}]},
        "reopen_window_hours": 24
    }))
    .expect("settings");
    let now = Utc.with_ymd_and_hms(2024, 5, 2, 10, 0, 0).single().expect("time");
    h.opener.save_settings(&acme, &settings, now).await.expect("save");
    let bad = CommunitySettings {
        routing: vec![smo_community::RoutingRuleConfig {
            name: "x".into(),
            when: "colour:red".into(),
            team: "t".into(),
        }],
        ..CommunitySettings::default()
    };
    let error = h.opener.save_settings(&acme, &bad, now).await.expect_err("refused");
    assert!(error.to_string().contains("routing[0].when"), "{error}");

    let delivery = enriched("acme", "1", Intent::Complaint);
    let mut billing = enriched("acme", "2", Intent::Complaint);
    billing.language.code = "es".to_owned();
    billing.tags = vec!["billing".to_owned()];
    let mut other = enriched("acme", "3", Intent::Question);
    other.tags.clear();
    other.priority = 0.1;
    h.opener.open_batch(&acme, &[delivery.clone(), billing, other]).await.expect("batch");
    let cases = h.opener.store().list_cases(&acme, CaseFilter::default()).await.expect("list");
    let team_of = |native: &str| {
        let id = PostId::derive("file:sample", native);
        cases.iter().find(|c| c.post_id == id).map(|c| (c.team.clone(), c.level, c.sla_due_at))
    };
    let opened_at = delivery.post.created_at;
    assert_eq!(
        team_of("1"),
        Some((
            Some("logistics".to_owned()),
            CasePriority::High,
            Some(opened_at + chrono::Duration::hours(1))
        ))
    );
    assert_eq!(team_of("2").and_then(|t| t.0), Some("billing-es".to_owned()));
    assert_eq!(team_of("3"), Some((None, CasePriority::Low, None)));
}

/// Routing conditions are written in the classify crate's rule language:
/// words with accents folded, OR-groups, NEAR, field and label filters;
/// first match wins; a broken rule is refused with its position.
#[test]
fn routing_conditions_speak_the_rule_language() {
    let settings: CommunitySettings = serde_json::from_value(serde_json::json!({
        "routing": [
            {"name": "legal", "when": "lawyer* OR \"legal action\" OR sue", "team": "legal"},
            {"name": "es refunds", "when": "lang:es AND (refund OR reembolso OR devolución)", "team": "billing-es"},
            {"name": "angry vip", "when": "intent:complaint AND sentiment:negative AND tag:vip", "team": "vip"},
            {"name": "parcels", "when": "parcel NEAR/2 arrived AND NOT lang:es", "team": "logistics"}
        ],
        "default_team": "general"
    }))
    .expect("settings");
    let policy = smo_community::AccountPolicy::compile(&settings).expect("compiles");
    let with = |text: &str, lang: &str, tags: &[&str], intent: Intent| {
        let mut post = enriched("acme", "1", intent);
        post.post.text = text.to_owned();
        post.language.code = lang.to_owned();
        post.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        policy.team_for(&post)
    };
    let team = |name: &str| Some(name.to_owned());
    assert_eq!(with("Quiero mi DEVOLUCION ya", "es", &[], Intent::Complaint), team("billing-es"));
    assert_eq!(with("Quiero mi reembolso", "pt", &[], Intent::Complaint), team("general"));
    assert_eq!(with("my lawyers will hear of this", "en", &["vip"], Intent::Complaint), team("legal"));
    assert_eq!(with("worst service ever", "en", &["VIP"], Intent::Complaint), team("vip"));
    assert_eq!(with("worst service ever", "en", &["VIP"], Intent::Question), team("general"));
    assert_eq!(with("my parcel never arrived", "en", &[], Intent::Complaint), team("logistics"));
    assert_eq!(
        with("my parcel, which I ordered in May, never arrived", "en", &[], Intent::Complaint),
        team("general")
    );

    // The urgency kinds classification found route too, whatever the words.
    let by_urgency: CommunitySettings = serde_json::from_value(serde_json::json!({
        "routing": [{"name": "safety", "when": "urgency:safety", "team": "safety"}],
        "default_team": "general"
    }))
    .expect("settings");
    let policy = smo_community::AccountPolicy::compile(&by_urgency).expect("compiles");
    let mut post = enriched("acme", "1", Intent::Complaint);
    assert_eq!(policy.team_for(&post), team("general"));
    post.urgency = vec![smo_proto::Urgency::Outage, smo_proto::Urgency::Safety];
    assert_eq!(policy.team_for(&post), team("safety"));

    let broken: CommunitySettings = serde_json::from_value(serde_json::json!({
        "routing": [{"name": "x", "when": "lang:es", "team": "a"}, {"name": "y", "when": "(refund OR", "team": "b"}]
    }))
    .expect("settings");
    let error = smo_community::AccountPolicy::compile(&broken).expect_err("refused").to_string();
    assert!(error.contains("routing[1].when") && error.contains("at 10"), "{error}");
}

#[test]
fn priority_scores_map_to_levels() {
    assert_eq!(level_of(0.9), CasePriority::Urgent);
    assert_eq!(level_of(0.7), CasePriority::High);
    assert_eq!(level_of(0.5), CasePriority::Normal);
    assert_eq!(level_of(0.1), CasePriority::Low);
    assert_eq!(level_of(f32::NAN), CasePriority::Low);
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
