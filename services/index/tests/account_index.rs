//! Behaviour of account indexes on disk: idempotent upserts, tenancy,
//! search, report facts, persistence and the single-writer lock.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use smo_index::{IndexError, IndexRoot, SearchOrder};
use smo_proto::{
    AccountId, Author, Engagement, EnrichedPost, Intent, Language, Post, PostId, SCHEMA_VERSION, Sentiment,
    SentimentScore,
};

fn account(slug: &str) -> AccountId {
    AccountId::new(slug).unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
}

/// A classified post of `account` with sensible defaults, tweaked by tests.
struct PostBuilder {
    enriched: EnrichedPost,
}

impl PostBuilder {
    fn new(account_slug: &str, native_id: &str, text: &str) -> Self {
        let post = Post {
            schema_version: SCHEMA_VERSION,
            id: PostId::derive("file:test", native_id),
            account: account(account_slug),
            source: "file:test".to_owned(),
            native_id: native_id.to_owned(),
            author: Author {
                id: format!("author-{native_id}"),
                handle: "JaneDoe".to_owned(),
                display_name: Some("Jane".to_owned()),
                followers: Some(120),
            },
            text: text.to_owned(),
            url: Some(format!("https://social.example/{native_id}")),
            created_at: at(3, 12),
            in_reply_to: None,
            thread_id: None,
            engagement: Engagement::default(),
        };
        Self {
            enriched: EnrichedPost {
                schema_version: SCHEMA_VERSION,
                post,
                language: Language { code: "en".to_owned(), confidence: 0.9, reliable: true },
                sentiment: SentimentScore { label: Sentiment::Neutral, score: 0.0 },
                intent: Intent::Other,
                tags: Vec::new(),
                urgency: Vec::new(),
                priority: 0.1,
                classifier_version: "test".to_owned(),
                classified_at: at(3, 12),
                near_duplicate_of: None,
                spam: smo_proto::SpamSignals::default(),
            },
        }
    }

    fn created(mut self, created_at: DateTime<Utc>) -> Self {
        self.enriched.post.created_at = created_at;
        self
    }

    fn lang(mut self, code: &str) -> Self {
        self.enriched.language.code = code.to_owned();
        self
    }

    fn negative_complaint(mut self) -> Self {
        self.enriched.sentiment = SentimentScore { label: Sentiment::Negative, score: -0.7 };
        self.enriched.intent = Intent::Complaint;
        self.enriched.priority = 0.8;
        self
    }

    fn question(mut self) -> Self {
        self.enriched.intent = Intent::Question;
        self
    }

    fn positive_praise(mut self) -> Self {
        self.enriched.sentiment = SentimentScore { label: Sentiment::Positive, score: 0.8 };
        self.enriched.intent = Intent::Praise;
        self
    }

    fn tags(mut self, tags: &[&str]) -> Self {
        self.enriched.tags = tags.iter().map(|tag| (*tag).to_owned()).collect();
        self
    }

    fn engagement(mut self, likes: u64, reposts: u64, replies: u64) -> Self {
        self.enriched.post.engagement = Engagement { likes, reposts, replies };
        self
    }

    fn build(self) -> EnrichedPost {
        self.enriched
    }
}

fn ids(hits: &[smo_index::SearchHit]) -> Vec<String> {
    hits.iter().map(|hit| hit.id.to_string()).collect()
}

#[test]
fn upserting_the_same_post_twice_keeps_one_document_with_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let acme = account("acme");
    let mut writer = root.open_writer(&acme).unwrap();
    let first = PostBuilder::new("acme", "1", "my parcel is late").build();
    let mut second = first.clone();
    second.tags = vec!["delivery".to_owned()];
    writer.upsert_batch(std::slice::from_ref(&first)).unwrap();
    let outcome = writer.upsert_batch(std::slice::from_ref(&second)).unwrap();
    assert_eq!(outcome.indexed, 1);

    let reader = root.open_reader(&acme).unwrap();
    assert_eq!(reader.num_docs(), 1);
    assert_eq!(reader.count_by_id(&first.post.id).unwrap(), 1);
    assert_eq!(reader.get(&first.post.id).unwrap(), Some(second));
}

#[test]
fn the_same_id_twice_in_one_batch_is_one_document_and_the_last_wins() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let acme = account("acme");
    let mut writer = root.open_writer(&acme).unwrap();
    let older = PostBuilder::new("acme", "7", "first version").build();
    let mut newer = older.clone();
    newer.intent = Intent::Complaint;
    let other = PostBuilder::new("acme", "8", "another post").build();
    let outcome = writer.upsert_batch(&[older.clone(), other, newer.clone()]).unwrap();
    assert_eq!(outcome.indexed, 3);

    let reader = root.open_reader(&acme).unwrap();
    assert_eq!(reader.num_docs(), 2);
    assert_eq!(reader.count_by_id(&older.post.id).unwrap(), 1);
    assert_eq!(reader.get(&older.post.id).unwrap().unwrap().intent, Intent::Complaint);
}

#[test]
fn accounts_live_in_separate_directories_and_never_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let (acme, globex) = (account("acme"), account("globex"));
    let mut acme_writer = root.open_writer(&acme).unwrap();
    let mut globex_writer = root.open_writer(&globex).unwrap();
    acme_writer.upsert_batch(&[PostBuilder::new("acme", "a1", "acme rocket exploded").build()]).unwrap();
    globex_writer
        .upsert_batch(&[PostBuilder::new("globex", "g1", "globex rocket launched").build()])
        .unwrap();

    assert!(root.account_dir(&acme).join("meta.json").is_file());
    assert!(root.account_dir(&globex).join("meta.json").is_file());
    assert_ne!(root.account_dir(&acme), root.account_dir(&globex));
    assert_eq!(root.accounts().unwrap(), vec![acme.clone(), globex.clone()]);

    let acme_reader = root.open_reader(&acme).unwrap();
    assert_eq!(acme_reader.num_docs(), 1);
    assert!(acme_reader.search("globex", 10).unwrap().is_empty());
    assert!(acme_reader.search("launched", 10).unwrap().is_empty());
    let rockets = acme_reader.search("rocket", 10).unwrap();
    assert_eq!(ids(&rockets), vec![PostId::derive("file:test", "a1").to_string()]);
    assert!(acme_reader.search("", 100).unwrap().iter().all(|hit| hit.text.contains("acme")));
}

#[test]
fn a_writer_refuses_posts_of_another_account_and_indexes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let acme = account("acme");
    let mut writer = root.open_writer(&acme).unwrap();
    let stray = PostBuilder::new("globex", "g1", "not yours").build();
    let own = PostBuilder::new("acme", "a1", "yours").build();
    let outcome = writer.upsert_batch(&[stray.clone(), own]).unwrap();
    assert_eq!(outcome.indexed, 1);
    assert_eq!(outcome.rejected_other_account, vec![stray.post.id.clone()]);

    let only_strays = writer.upsert_batch(std::slice::from_ref(&stray)).unwrap();
    assert_eq!(only_strays.indexed, 0);
    let reader = root.open_reader(&acme).unwrap();
    assert_eq!(reader.num_docs(), 1);
    assert_eq!(reader.count_by_id(&stray.post.id).unwrap(), 0);
    assert!(!root.account_dir(&account("globex")).exists());
}

fn sample_index(root: &IndexRoot) {
    let mut writer = root.open_writer(&account("acme")).unwrap();
    writer
        .upsert_batch(&[
            PostBuilder::new("acme", "1", "@acme my parcel never arrived, worst delivery ever")
                .created(at(1, 9))
                .negative_complaint()
                .tags(&["delivery"])
                .build(),
            PostBuilder::new("acme", "2", "@acme ¿dónde está mi paquete? la entrega no llegó")
                .created(at(2, 9))
                .lang("es")
                .question()
                .tags(&["delivery", "Billing Issues"])
                .build(),
            PostBuilder::new("acme", "3", "@acme thank you, the refund arrived quickly")
                .created(at(3, 9))
                .positive_praise()
                .tags(&["refunds"])
                .build(),
        ])
        .unwrap();
}

#[test]
fn search_by_text_and_by_fields() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    sample_index(&root);
    let reader = root.open_reader(&account("acme")).unwrap();
    let id = |native: &str| PostId::derive("file:test", native).to_string();

    // Text, case-insensitive, newest first by default.
    assert_eq!(ids(&reader.search("ARRIVED", 10).unwrap()), vec![id("3"), id("1")]);
    assert_eq!(ids(&reader.search("\"never arrived\"", 10).unwrap()), vec![id("1")]);
    assert_eq!(ids(&reader.search("arrived refund", 10).unwrap()), vec![id("3")], "terms are ANDed");
    assert_eq!(ids(&reader.search("arrived -refund", 10).unwrap()), vec![id("1")]);
    // Keyword fields, with aliases and any case.
    assert_eq!(ids(&reader.search("lang:es", 10).unwrap()), vec![id("2")]);
    assert_eq!(ids(&reader.search("language:ES", 10).unwrap()), vec![id("2")]);
    assert_eq!(ids(&reader.search("tags:delivery", 10).unwrap()), vec![id("2"), id("1")]);
    assert_eq!(ids(&reader.search("tag:delivery AND lang:en", 10).unwrap()), vec![id("1")]);
    assert_eq!(ids(&reader.search("tag:\"billing issues\"", 10).unwrap()), vec![id("2")]);
    assert_eq!(ids(&reader.search("intent:complaint sentiment:negative", 10).unwrap()), vec![id("1")]);
    assert_eq!(reader.search("author_handle:janedoe", 10).unwrap().len(), 3);
    assert_eq!(reader.search("author:JANEDOE source:\"file:test\"", 10).unwrap().len(), 3);
    assert_eq!(
        ids(&reader.search("created_at:[2025-03-02T00:00:00Z TO 2025-03-03T00:00:00Z}", 10).unwrap()),
        vec![id("2")]
    );
    // Hits carry what a result list shows.
    let hit = &reader.search("parcel", 1).unwrap()[0];
    assert_eq!(hit.author_handle, "JaneDoe");
    assert_eq!(hit.lang, "en");
    assert_eq!((hit.sentiment, hit.intent), (Sentiment::Negative, Intent::Complaint));
    assert_eq!(hit.tags, vec!["delivery"]);
    assert_eq!(hit.url.as_deref(), Some("https://social.example/1"));
    assert_eq!(hit.created_at, at(1, 9));
    assert!(hit.score > 0.0);
    assert!(serde_json::to_value(hit).unwrap().get("text").is_some());
    // Limits and orders.
    assert_eq!(reader.search("", 2).unwrap().len(), 2);
    assert!(reader.search("", 0).unwrap().is_empty());
    let by_relevance = reader.search_ordered("delivery OR arrived", 10, SearchOrder::Relevance).unwrap();
    assert!(by_relevance.windows(2).all(|pair| pair[0].score >= pair[1].score));
}

#[test]
fn a_malformed_query_is_a_query_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    sample_index(&root);
    let reader = root.open_reader(&account("acme")).unwrap();
    for bad in ["nosuchfield:x", "created_at:[yesterday TO *]", "engagement:many"] {
        match reader.search(bad, 10) {
            Err(IndexError::Query { query, reason }) => {
                assert_eq!(query, bad);
                assert!(!reason.is_empty());
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn facts_cover_exactly_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let acme = account("acme");
    let mut writer = root.open_writer(&acme).unwrap();
    let from = at(2, 0);
    let to = at(5, 0);
    // Two batches so that counts are merged across segments.
    writer
        .upsert_batch(&[
            PostBuilder::new("acme", "before", "too early").created(at(1, 23)).engagement(999, 0, 0).build(),
            PostBuilder::new("acme", "first", "exactly at the start")
                .created(from)
                .negative_complaint()
                .tags(&["delivery", "refunds"])
                .engagement(10, 2, 1)
                .build(),
            PostBuilder::new("acme", "q", "a question")
                .created(at(2, 18))
                .question()
                .tags(&["delivery"])
                .build(),
        ])
        .unwrap();
    writer
        .upsert_batch(&[
            PostBuilder::new("acme", "es", "queja")
                .created(at(4, 8))
                .lang("es")
                .negative_complaint()
                .tags(&["delivery"])
                .engagement(50, 0, 0)
                .build(),
            PostBuilder::new("acme", "praise", "great")
                .created(at(4, 20))
                .positive_praise()
                .tags(&["staff"])
                .engagement(5, 5, 3)
                .build(),
            PostBuilder::new("acme", "end", "exactly at the end").created(to).engagement(1000, 0, 0).build(),
        ])
        .unwrap();
    let reader = root.open_reader(&acme).unwrap();
    let facts = reader.facts(from, to, 2).unwrap();

    assert_eq!(facts.total, 4);
    let per_day: Vec<(String, u64)> = facts.per_day.iter().map(|d| (d.day.to_string(), d.count)).collect();
    assert_eq!(
        per_day,
        vec![("2025-03-02".to_owned(), 2), ("2025-03-03".to_owned(), 0), ("2025-03-04".to_owned(), 2)]
    );
    let counts = |list: &[smo_index::TermCount]| -> Vec<(String, u64)> {
        list.iter().map(|c| (c.term.clone(), c.count)).collect()
    };
    assert_eq!(counts(&facts.languages), vec![("en".to_owned(), 3), ("es".to_owned(), 1)]);
    assert_eq!(
        counts(&facts.sentiments),
        vec![("negative".to_owned(), 2), ("neutral".to_owned(), 1), ("positive".to_owned(), 1)]
    );
    assert_eq!(
        counts(&facts.intents),
        vec![("complaint".to_owned(), 2), ("praise".to_owned(), 1), ("question".to_owned(), 1)]
    );
    assert_eq!(counts(&facts.top_tags), vec![("delivery".to_owned(), 3), ("refunds".to_owned(), 1)]);
    let top: Vec<(u64, String)> =
        facts.top_posts.iter().map(|p| (p.engagement, p.post.post.native_id.clone())).collect();
    assert_eq!(top, vec![(50, "es".to_owned()), (13, "praise".to_owned())]);
    assert!(serde_json::to_string(&facts).is_ok());

    // A period with nothing in it, and a reversed one.
    let empty = reader.facts(at(20, 0), at(21, 0), 5).unwrap();
    assert_eq!(empty.total, 0);
    assert_eq!(empty.per_day.len(), 1);
    assert!(empty.top_posts.is_empty() && empty.languages.is_empty());
    assert!(matches!(reader.facts(to, from, 5), Err(IndexError::InvalidPeriod { .. })));
}

#[test]
fn committed_posts_survive_dropping_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let acme = account("acme");
    {
        let root = IndexRoot::new(dir.path());
        let mut writer = root.open_writer(&acme).unwrap();
        writer.upsert_batch(&[PostBuilder::new("acme", "1", "persisted post").build()]).unwrap();
        writer.wait_merging_threads().unwrap();
    }
    let root = IndexRoot::new(dir.path());
    let reader = root.open_reader(&acme).unwrap();
    assert_eq!(ids(&reader.search("persisted", 10).unwrap()).len(), 1);
    // The lock went with the dropped writer.
    let mut writer = root.open_writer(&acme).unwrap();
    writer.upsert_batch(&[PostBuilder::new("acme", "2", "second post").build()]).unwrap();
    assert_eq!(reader.num_docs(), 1, "a reader is a point-in-time view");
    reader.reload().unwrap();
    assert_eq!(reader.num_docs(), 2);
}

#[test]
fn a_second_writer_on_the_same_account_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let acme = account("acme");
    let first = root.open_writer(&acme).unwrap();
    match root.open_writer(&acme) {
        Err(IndexError::Locked { account, path }) => {
            assert_eq!(account, acme);
            assert_eq!(path, root.account_dir(&acme));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // Other accounts are not affected, and readers never need the lock.
    assert!(root.open_writer(&account("globex")).is_ok());
    assert!(root.open_reader(&acme).is_ok());
    drop(first);
    assert!(root.open_writer(&acme).is_ok());
}

const LOCK_HOLDER_ENV: &str = "SMO_INDEX_TEST_LOCK_HOLDER_DIR";

/// Not a test on its own: when the environment names a directory, this
/// process holds the `acme` writer until told to let go. Used by the
/// cross-process test below.
#[test]
fn lock_holder_helper_process() {
    let Some(dir) = std::env::var_os(LOCK_HOLDER_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let _writer = IndexRoot::new(dir.join("indexes")).open_writer(&account("acme")).unwrap();
    std::fs::write(dir.join("locked"), b"").unwrap();
    wait_for(&dir.join("release"));
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_writer_held_by_another_process_is_reported_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let mut holder = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["lock_holder_helper_process", "--exact", "--test-threads=1"])
        .env(LOCK_HOLDER_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("locked"));
    let root = IndexRoot::new(dir.path().join("indexes"));
    let result = root.open_writer(&account("acme"));
    std::fs::write(dir.path().join("release"), b"").unwrap();
    assert!(holder.wait().unwrap().success());
    assert!(matches!(result, Err(IndexError::Locked { .. })), "{result:?}");
    assert!(root.open_writer(&account("acme")).is_ok());
}

#[test]
fn an_account_without_index_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let nobody = account("nobody");
    let reader = root.open_reader(&nobody).unwrap();
    assert_eq!(reader.num_docs(), 0);
    assert!(reader.search("anything", 10).unwrap().is_empty());
    assert!(reader.get(&PostId::derive("x", "y")).unwrap().is_none());
    assert_eq!(reader.facts(at(1, 0), at(2, 0), 3).unwrap().total, 0);
    assert!(!root.account_dir(&nobody).exists(), "reading must not create anything");
    assert!(root.accounts().unwrap().is_empty());
}

#[test]
fn a_too_small_memory_budget_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path()).with_writer_memory_budget(1_000);
    assert!(matches!(root.open_writer(&account("acme")), Err(IndexError::InvalidConfig(_))));
}

#[test]
fn writers_move_to_blocking_threads_and_readers_are_shared() {
    fn assert_send<T: Send>() {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send::<smo_index::AccountWriter>();
    assert_send_sync::<smo_index::AccountReader>();
    assert_send_sync::<IndexRoot>();

    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let mut writer = root.open_writer(&account("acme")).unwrap();
    let handle = std::thread::spawn(move || {
        writer.upsert_batch(&[PostBuilder::new("acme", "1", "from another thread").build()]).unwrap();
        writer
    });
    let writer = handle.join().unwrap();
    drop(writer);
    assert_eq!(root.open_reader(&account("acme")).unwrap().num_docs(), 1);
}

#[test]
fn a_trailing_star_searches_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    sample_index(&root);
    let reader = root.open_reader(&account("acme")).unwrap();
    let id = |native: &str| PostId::derive("file:test", native).to_string();
    assert_eq!(ids(&reader.search("deliv*", 10).unwrap()), vec![id("1")]);
    assert_eq!(ids(&reader.search("Arriv* AND lang:en", 10).unwrap()), vec![id("3"), id("1")]);
    assert_eq!(ids(&reader.search("tag:ref*", 10).unwrap()), vec![id("3")]);
    assert!(matches!(reader.search("text:/.*/", 10), Err(IndexError::Query { .. })));
}

#[test]
fn extreme_dates_are_indexed_and_queried_without_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let root = IndexRoot::new(dir.path());
    let acme = account("acme");
    let mut writer = root.open_writer(&acme).unwrap();
    let far_future = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
    let far_past = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
    writer
        .upsert_batch(&[
            PostBuilder::new("acme", "future", "from the future").created(far_future).build(),
            PostBuilder::new("acme", "past", "from the past").created(far_past).build(),
        ])
        .unwrap();
    let reader = root.open_reader(&acme).unwrap();
    let hit = &reader.search("future", 1).unwrap()[0];
    assert_eq!(hit.created_at, far_future, "hits keep the exact date");
    // Dates beyond tantivy's range (years 1677 to 2262) count at its bounds.
    let facts = reader.facts(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 5).unwrap();
    assert!(facts.total >= 1);
    let past = reader.facts(far_past, Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap(), 5).unwrap();
    assert_eq!(past.total, 1);
}
