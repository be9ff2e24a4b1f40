//! Contract tests: schemas do not drift, readers tolerate unknown fields, ids are stable.

use std::path::PathBuf;

use chrono::TimeZone;
use smo_proto::{AccountId, Author, Engagement, EnrichedPost, Post, PostId, SpamSignals};

#[test]
fn schemas_match_checked_in_files() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema");
    let bless = std::env::var_os("SMO_BLESS").is_some();
    for (name, text) in smo_proto::schema::all() {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, &text).expect("write schema");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{} missing ({e}); run SMO_BLESS=1 cargo test -p smo-proto", path.display())
        });
        assert_eq!(
            on_disk, text,
            "{name} drifted from the Rust types; review and run SMO_BLESS=1 cargo test -p smo-proto"
        );
    }
}

fn sample_post() -> Post {
    Post {
        schema_version: smo_proto::SCHEMA_VERSION,
        id: PostId::derive("file:sample", "42"),
        account: AccountId::new("acme").expect("valid"),
        source: "file:sample".into(),
        native_id: "42".into(),
        author: Author {
            id: "u1".into(),
            handle: "jane".into(),
            display_name: Some("Jane".into()),
            followers: Some(120),
        },
        text: "my parcel never arrived".into(),
        url: None,
        created_at: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).single().expect("valid date"),
        in_reply_to: None,
        thread_id: None,
        engagement: Engagement::default(),
    }
}

#[test]
fn post_ids_are_stable_and_depend_on_source_and_native_id() {
    let a = PostId::derive("file:sample", "42");
    assert_eq!(a, PostId::derive("file:sample", "42"));
    assert_eq!(a.as_str().len(), 32);
    assert_ne!(a, PostId::derive("file:other", "42"));
    assert_ne!(a, PostId::derive("file:sample", "43"));
    // The separator keeps ("ab","c") and ("a","bc") apart.
    assert_ne!(PostId::derive("ab", "c"), PostId::derive("a", "bc"));
}

#[test]
fn readers_tolerate_unknown_fields_and_missing_optionals() {
    let mut value = serde_json::to_value(sample_post()).expect("serialize");
    value["a_field_from_the_future"] = serde_json::json!({"x": 1});
    value.as_object_mut().expect("object").remove("schema_version");
    value.as_object_mut().expect("object").remove("engagement");
    let back: Post = serde_json::from_value(value).expect("tolerant read");
    assert_eq!(back, sample_post());
}

#[test]
fn enriched_post_round_trips() {
    let enriched = EnrichedPost {
        schema_version: smo_proto::SCHEMA_VERSION,
        post: sample_post(),
        language: smo_proto::Language { code: "en".into(), confidence: 0.9, reliable: true },
        sentiment: smo_proto::SentimentScore { label: smo_proto::Sentiment::Negative, score: -0.6 },
        intent: smo_proto::Intent::Complaint,
        tags: vec!["delivery".into()],
        urgency: vec![smo_proto::Urgency::Legal],
        priority: 0.7,
        classifier_version: "test".into(),
        classified_at: sample_post().created_at,
        near_duplicate_of: None,
        spam: SpamSignals::default(),
    };
    let text = serde_json::to_string(&enriched).expect("serialize");
    assert!(text.contains("\"intent\":\"complaint\"") && text.contains("\"urgency\":[\"legal\"]"), "{text}");
    // Default spam and near-duplicate values stay off the wire.
    assert!(!text.contains("near_duplicate_of") && !text.contains("\"spam\""), "{text}");
    let back: EnrichedPost = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, enriched);

    let flagged = EnrichedPost {
        near_duplicate_of: Some(PostId::derive("file:sample", "41")),
        spam: SpamSignals { score: 0.8, signals: vec!["phrase:follow back".into(), "hashtag_heavy".into()] },
        ..enriched
    };
    let text = serde_json::to_string(&flagged).expect("serialize");
    assert!(text.contains("\"near_duplicate_of\":") && text.contains("\"hashtag_heavy\""), "{text}");
    let back: EnrichedPost = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, flagged);
    assert!(back.spam.is_spam());
}

#[test]
fn enriched_posts_written_before_spam_and_near_duplicates_still_parse() {
    // An `EnrichedPost` exactly as schema 1 writers produced it before the
    // `near_duplicate_of`, `spam` and `urgency` fields existed.
    let old = serde_json::json!({
        "schema_version": 1,
        "post": serde_json::to_value(sample_post()).expect("serialize"),
        "language": {"code": "en", "confidence": 0.9, "reliable": true},
        "sentiment": {"label": "negative", "score": -0.6},
        "intent": "complaint",
        "tags": ["delivery"],
        "priority": 0.7,
        "classifier_version": "smo-classify/0.1-lexicon",
        "classified_at": "2026-11-01T12:00:01Z"
    });
    let back: EnrichedPost = serde_json::from_value(old).expect("old messages parse");
    assert_eq!(back.near_duplicate_of, None);
    assert!(back.urgency.is_empty());
    assert_eq!(back.spam, SpamSignals::default());
    assert!(!back.spam.is_spam() && back.spam.is_clean());
    // A partial spam object (score only) parses too.
    let mut partial = serde_json::to_value(&back).expect("serialize");
    partial["spam"] = serde_json::json!({"score": 0.25});
    let back: EnrichedPost = serde_json::from_value(partial).expect("partial spam parses");
    assert_eq!(back.spam, SpamSignals { score: 0.25, signals: Vec::new() });
}

#[test]
fn invalid_account_in_a_message_is_a_parse_error_not_a_panic() {
    let mut value = serde_json::to_value(sample_post()).expect("serialize");
    value["account"] = serde_json::json!("Not.Valid");
    let err = serde_json::from_value::<Post>(value).expect_err("must fail");
    assert!(err.to_string().contains("invalid account id"), "{err}");
}
