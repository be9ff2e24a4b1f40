//! One suite, two backends: every test body runs against SQLite and against
//! PostgreSQL, so the embedded and distributed modes behave the same.

#[macro_use]
mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::{TestStore, account};
use smo_proto::{CaseEventKind, CasePriority, CaseStatus, Intent, PostId};
use smo_store::{CaseFilter, NewCase, OpenedCase, SYSTEM_ACTOR, StoreError};

on_both_backends!(
    migrations_are_idempotent,
    empty_batch_writes_nothing,
    duplicate_post_opens_one_case_within_and_across_batches,
    round_robin_spreads_evenly_over_three_agents,
    cases_queue_when_the_account_has_no_agents,
    audit_events_record_opening_and_assignment,
    sync_agents_deactivates_missing_and_follows_new_order,
    accounts_never_see_each_other,
    concurrent_overlapping_batches_open_each_post_once,
    list_cases_filters_and_orders_by_priority,
    counts_for_reports,
    cursors_checkpoint_and_record_errors,
    odd_input_is_stored_or_refused_never_panics,
);

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, hour, 0, 0).single().expect("valid time")
}

fn new_case(native_id: u32) -> NewCase {
    let post_id = PostId::derive("test", &native_id.to_string());
    NewCase {
        thread_id: post_id.clone(),
        post_id,
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: format!("user{native_id}"),
        lang: "en".to_owned(),
        tags: vec!["billing".to_owned(), "outage".to_owned()],
        text_excerpt: format!("post {native_id} is a complaint"),
        opened_at: at(1, 9),
        first_response_due_at: None,
        next_response_due_at: None,
    }
}

fn agent_of(outcome: &OpenedCase) -> Option<&str> {
    match outcome {
        OpenedCase::Created { agent, .. } => agent.as_deref(),
        OpenedCase::Duplicate { .. } | OpenedCase::Joined { .. } | OpenedCase::Reopened { .. } => None,
    }
}

async fn migrations_are_idempotent(db: &TestStore) {
    db.store.migrate().await.expect("second migrate");
    db.store.migrate().await.expect("third migrate");
    let acme = account("acme");
    db.store.open_cases(&acme, &[new_case(1)]).await.expect("open after re-migrating");
    assert_eq!(db.store.count_cases(&acme).await.expect("count"), 1);
}

async fn empty_batch_writes_nothing(db: &TestStore) {
    let acme = account("acme");
    let opened = db.store.open_cases(&acme, &[]).await.expect("open");
    assert!(opened.is_empty());
    assert_eq!(db.store.count_cases(&acme).await.expect("count"), 0);
}

async fn duplicate_post_opens_one_case_within_and_across_batches(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &names(&["ann"])).await.expect("agents");
    let first =
        db.store.open_cases(&acme, &[new_case(1), new_case(2), new_case(1)]).await.expect("first batch");
    assert!(first[0].is_created());
    assert!(first[1].is_created());
    assert_eq!(first[2], OpenedCase::Duplicate { case_id: first[0].case_id() });

    let second = db.store.open_cases(&acme, &[new_case(2), new_case(3)]).await.expect("second batch");
    assert_eq!(second[0], OpenedCase::Duplicate { case_id: first[1].case_id() });
    assert!(second[1].is_created());
    assert_eq!(db.store.count_cases(&acme).await.expect("count"), 3);
    // Redelivery wrote no second audit trail.
    let events = db.store.case_events(&acme, first[0].case_id()).await.expect("events");
    assert_eq!(events.len(), 2);
}

async fn round_robin_spreads_evenly_over_three_agents(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &names(&["ann", "bob", "cy"])).await.expect("agents");
    let first = db
        .store
        .open_cases(&acme, &[new_case(1), new_case(2), new_case(3), new_case(4)])
        .await
        .expect("batch 1");
    let order: Vec<Option<&str>> = first.iter().map(agent_of).collect();
    assert_eq!(order, [Some("ann"), Some("bob"), Some("cy"), Some("ann")]);
    // A duplicate takes no turn: the rotation continues with bob.
    let second = db.store.open_cases(&acme, &[new_case(4), new_case(5)]).await.expect("batch 2");
    assert_eq!(agent_of(&second[1]), Some("bob"));
    let batch: Vec<NewCase> = (6..=12).map(new_case).collect();
    db.store.open_cases(&acme, &batch).await.expect("batch 3");

    let mut per_agent: HashMap<String, usize> = HashMap::new();
    for case in db.store.list_cases(&acme, CaseFilter::default()).await.expect("list") {
        assert_eq!(case.status, CaseStatus::Assigned);
        *per_agent.entry(case.assigned_agent.expect("assigned")).or_default() += 1;
    }
    assert_eq!(per_agent.len(), 3);
    assert!(per_agent.values().all(|count| *count == 4), "{per_agent:?}");
}

async fn cases_queue_when_the_account_has_no_agents(db: &TestStore) {
    let acme = account("acme");
    let opened = db.store.open_cases(&acme, &[new_case(1)]).await.expect("open");
    assert_eq!(opened[0], OpenedCase::Created { case_id: opened[0].case_id(), agent: None });
    let cases = db.store.list_cases(&acme, CaseFilter::default()).await.expect("list");
    assert_eq!(cases[0].status, CaseStatus::Queued);
    assert_eq!(cases[0].assigned_agent, None);
    let events = db.store.case_events(&acme, opened[0].case_id()).await.expect("events");
    assert_eq!(events.len(), 1);
    assert!(events[0].reason.contains("no active agents"), "{}", events[0].reason);
}

async fn audit_events_record_opening_and_assignment(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &names(&["ann"])).await.expect("agents");
    let case = new_case(7);
    let opened = db.store.open_cases(&acme, std::slice::from_ref(&case)).await.expect("open");
    let events = db.store.case_events(&acme, opened[0].case_id()).await.expect("events");
    let kinds: Vec<&CaseEventKind> = events.iter().map(|event| &event.event).collect();
    assert_eq!(
        kinds,
        [
            &CaseEventKind::Opened { post_id: case.post_id.clone() },
            &CaseEventKind::Assigned { agent: "ann".to_owned() },
        ]
    );
    for event in &events {
        assert_eq!(event.account, acme);
        assert_eq!(event.case_id, opened[0].case_id());
        assert_eq!(event.actor, SYSTEM_ACTOR);
        assert!(!event.reason.is_empty());
    }
    assert!(events[0].reason.contains("complaint"));
    // Routing gives a case to the agent with the most free capacity, the
    // longest idle among equals (round-robin when capacities are equal).
    assert!(events[1].reason.contains("most free capacity"), "{}", events[1].reason);
}

async fn sync_agents_deactivates_missing_and_follows_new_order(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &names(&["ann", "bob", "cy"])).await.expect("first roster");
    let first = db.store.open_cases(&acme, &[new_case(1), new_case(2)]).await.expect("open");
    assert_eq!(agent_of(&first[1]), Some("bob"));

    db.store.sync_agents(&acme, &names(&["cy", "ann", "cy"])).await.expect("second roster");
    assert_eq!(db.store.active_agents(&acme).await.expect("agents"), names(&["cy", "ann"]));
    // bob keeps the case he already holds.
    let bobs = db
        .store
        .list_cases(&acme, CaseFilter { agent: Some("bob".to_owned()), ..CaseFilter::default() })
        .await
        .expect("list");
    assert_eq!(bobs.len(), 1);
    let later =
        db.store.open_cases(&acme, &[new_case(3), new_case(4), new_case(5)]).await.expect("open later");
    assert!(later.iter().all(|o| matches!(agent_of(o), Some("cy" | "ann"))));

    // Re-syncing the same roster changes nothing; re-adding bob reactivates him.
    db.store.sync_agents(&acme, &names(&["cy", "ann"])).await.expect("same roster");
    db.store.sync_agents(&acme, &names(&["ann", "bob"])).await.expect("third roster");
    assert_eq!(db.store.active_agents(&acme).await.expect("agents"), names(&["ann", "bob"]));
}

async fn accounts_never_see_each_other(db: &TestStore) {
    let acme = account("acme");
    let globex = account("globex");
    db.store.sync_agents(&acme, &names(&["ann", "bob"])).await.expect("acme agents");
    db.store.sync_agents(&globex, &names(&["zed"])).await.expect("globex agents");
    // The same post collected for both accounts opens a case in each.
    let acme_cases = db.store.open_cases(&acme, &[new_case(1), new_case(2)]).await.expect("acme open");
    let globex_cases = db.store.open_cases(&globex, &[new_case(1)]).await.expect("globex open");
    assert!(globex_cases[0].is_created());
    assert_ne!(globex_cases[0].case_id(), acme_cases[0].case_id());
    assert_eq!(agent_of(&globex_cases[0]), Some("zed"));

    assert_eq!(db.store.count_cases(&acme).await.expect("count"), 2);
    assert_eq!(db.store.count_cases(&globex).await.expect("count"), 1);
    let listed = db.store.list_cases(&globex, CaseFilter::default()).await.expect("list");
    assert!(listed.iter().all(|case| case.account == globex));
    assert_eq!(listed.len(), 1);
    assert!(
        db.store
            .list_cases(&globex, CaseFilter { agent: Some("ann".to_owned()), ..CaseFilter::default() })
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(db.store.active_agents(&globex).await.expect("agents"), names(&["zed"]));
    // Knowing another account's case id reveals nothing.
    assert!(db.store.case_events(&globex, acme_cases[0].case_id()).await.expect("events").is_empty());
    db.store.save_cursor(&acme, "http:feed", "acme-cursor", 5).await.expect("save");
    assert_eq!(db.store.get_cursor(&globex, "http:feed").await.expect("get"), None);
    assert_eq!(db.store.cases_opened_between(&globex, at(1, 0), at(2, 0)).await.expect("between"), 1);
    assert_eq!(db.store.cases_by_status(&globex).await.expect("status"), [(CaseStatus::Assigned, 1)]);
}

async fn concurrent_overlapping_batches_open_each_post_once(db: &TestStore) {
    const TASKS: usize = 8;
    const POSTS: usize = 40;
    let acme = account("acme");
    db.store.sync_agents(&acme, &names(&["ann", "bob", "cy"])).await.expect("agents");
    let posts: Vec<NewCase> = (0..POSTS as u32).map(new_case).collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        // Each task is its own "process": its own pool, an overlapping slice
        // of posts, every other one in reverse order.
        let store = db.reconnect().await;
        let mut batch = posts[task * 4..(task * 4 + 12).min(POSTS)].to_vec();
        if task % 2 == 1 {
            batch.reverse();
        }
        let (barrier, acme) = (barrier.clone(), acme.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let outcomes = store.open_cases(&acme, &batch).await;
            store.close().await;
            outcomes.map(|outcomes| (batch, outcomes))
        }));
    }

    let mut created_by_post: HashMap<PostId, i64> = HashMap::new();
    let mut seen_by_post: HashMap<PostId, HashSet<i64>> = HashMap::new();
    for task in tasks {
        let (batch, outcomes) = task.await.expect("task").expect("open_cases");
        for (case, outcome) in batch.iter().zip(&outcomes) {
            if outcome.is_created() {
                let before = created_by_post.insert(case.post_id.clone(), outcome.case_id());
                assert!(before.is_none(), "post {} created twice", case.post_id);
            }
            seen_by_post.entry(case.post_id.clone()).or_default().insert(outcome.case_id());
        }
    }
    assert_eq!(created_by_post.len(), POSTS);
    for (post, ids) in &seen_by_post {
        assert_eq!(ids.len(), 1, "post {post} maps to several cases");
    }
    assert_eq!(db.store.count_cases(&acme).await.expect("count"), POSTS as u64);

    let cases = db.store.list_cases(&acme, CaseFilter::default()).await.expect("list");
    let mut per_agent: HashMap<String, usize> = HashMap::new();
    let mut tickets = Vec::new();
    for case in &cases {
        *per_agent.entry(case.assigned_agent.clone().expect("assigned")).or_default() += 1;
        let events = db.store.case_events(&acme, case.id).await.expect("events");
        assert_eq!(events.len(), 2, "case {} has {} events", case.id, events.len());
        let ticket: i64 = events[1]
            .reason
            .rsplit("ticket ")
            .next()
            .and_then(|rest| rest.trim_end_matches(')').parse().ok())
            .expect("ticket in reason");
        tickets.push(ticket);
    }
    tickets.sort_unstable();
    assert_eq!(tickets, (0..POSTS as i64).collect::<Vec<_>>(), "tickets reused or skipped");
    let (min, max) = (
        per_agent.values().min().copied().unwrap_or_default(),
        per_agent.values().max().copied().unwrap_or_default(),
    );
    assert_eq!(per_agent.len(), 3);
    assert!(max - min <= 1, "uneven distribution {per_agent:?}");
}

async fn list_cases_filters_and_orders_by_priority(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &names(&["ann", "bob"])).await.expect("agents");
    let mut low = new_case(1);
    low.priority = 0.1;
    let mut high_late = new_case(2);
    high_late.priority = 0.9;
    high_late.opened_at = at(2, 9);
    let mut high_early = new_case(3);
    high_early.priority = 0.9;
    high_early.opened_at = at(1, 8);
    high_early.intent = Intent::Question;
    db.store.open_cases(&acme, &[low, high_late, high_early]).await.expect("open");

    let all = db.store.list_cases(&acme, CaseFilter::default()).await.expect("list");
    let order: Vec<String> = all.iter().map(|c| c.author_handle.clone()).collect();
    assert_eq!(order, ["user3", "user2", "user1"]);
    let first = &all[0];
    assert_eq!(first.intent, Intent::Question);
    assert_eq!(first.tags, names(&["billing", "outage"]));
    assert_eq!(first.opened_at, at(1, 8));
    assert_eq!(first.thread_id, first.post_id);
    assert_eq!(first.lang, "en");

    let anns = db
        .store
        .list_cases(&acme, CaseFilter { agent: Some("ann".to_owned()), ..CaseFilter::default() })
        .await
        .expect("by agent");
    assert_eq!(anns.len(), 2);
    let limited = db
        .store
        .list_cases(&acme, CaseFilter { limit: Some(1), ..CaseFilter::default() })
        .await
        .expect("limited");
    assert_eq!(limited.len(), 1);
    let queued = db
        .store
        .list_cases(&acme, CaseFilter { status: Some(CaseStatus::Queued), ..CaseFilter::default() })
        .await
        .expect("by status");
    assert!(queued.is_empty());
}

async fn counts_for_reports(db: &TestStore) {
    let acme = account("acme");
    let mut batch = Vec::new();
    for (native_id, day) in [(1, 1), (2, 1), (3, 2), (4, 4)] {
        let mut case = new_case(native_id);
        // Routed to a team nobody serves, so they stay queued once ann
        // joins (a new agent takes queued cases she is eligible for).
        case.team = Some("night-shift".to_owned());
        case.opened_at = at(day, 23);
        if native_id == 2 {
            case.intent = Intent::Question;
        }
        batch.push(case);
    }
    db.store.open_cases(&acme, &batch).await.expect("open queued");
    db.store.sync_agents(&acme, &names(&["ann"])).await.expect("agents");
    let mut late = new_case(5);
    late.opened_at = at(5, 0);
    db.store.open_cases(&acme, &[late]).await.expect("open assigned");

    assert_eq!(
        db.store.cases_opened_between(&acme, at(1, 0), at(5, 0)).await.expect("between"),
        4,
        "the end of the range is exclusive"
    );
    assert_eq!(
        db.store.cases_opened_by_intent(&acme, at(1, 0), at(5, 0)).await.expect("by intent"),
        [(Intent::Complaint, 3), (Intent::Question, 1)],
    );
    let per_day = db.store.cases_opened_per_day(&acme, at(1, 0), at(6, 0)).await.expect("per day");
    let day = |d| NaiveDate::from_ymd_opt(2024, 5, d).expect("date");
    assert_eq!(per_day, [(day(1), 2), (day(2), 1), (day(4), 1), (day(5), 1)]);
    assert_eq!(
        db.store.cases_by_status(&acme).await.expect("by status"),
        [(CaseStatus::Queued, 4), (CaseStatus::Assigned, 1)]
    );
}

async fn cursors_checkpoint_and_record_errors(db: &TestStore) {
    let acme = account("acme");
    let source = "http:status-feed";
    assert_eq!(db.store.get_cursor(&acme, source).await.expect("get"), None);

    db.store
        .record_source_error(&acme, source, "HTTP 503 before any poll succeeded")
        .await
        .expect("error first");
    let failing = db.store.get_cursor(&acme, source).await.expect("get").expect("row");
    assert_eq!(failing.cursor, None);
    assert_eq!(failing.posts_fetched, 0);
    assert!(failing.last_error.is_some());

    db.store.save_cursor(&acme, source, "page-2", 10).await.expect("save");
    db.store.save_cursor(&acme, source, "page-3", 5).await.expect("save again");
    let saved = db.store.get_cursor(&acme, source).await.expect("get").expect("row");
    assert_eq!(saved.source, source);
    assert_eq!(saved.cursor.as_deref(), Some("page-3"));
    assert_eq!(saved.posts_fetched, 15);
    assert_eq!(saved.last_error, None);

    db.store.record_source_error(&acme, source, "timeout\0 after 30 s").await.expect("error");
    let failed = db.store.get_cursor(&acme, source).await.expect("get").expect("row");
    assert_eq!(failed.cursor.as_deref(), Some("page-3"), "an error keeps the cursor");
    assert_eq!(failed.posts_fetched, 15);
    assert_eq!(failed.last_error.as_deref(), Some("timeout after 30 s"));
    assert!(failed.updated_at >= saved.updated_at);

    assert_eq!(db.store.get_cursor(&acme, "file:other").await.expect("get"), None);
}

async fn odd_input_is_stored_or_refused_never_panics(db: &TestStore) {
    let acme = account("acme");
    let refused = db.store.sync_agents(&acme, &names(&["ann", "  "])).await;
    assert!(matches!(refused, Err(StoreError::InvalidInput(_))), "{refused:?}");
    assert!(db.store.active_agents(&acme).await.expect("agents").is_empty());

    let mut odd = new_case(1);
    odd.priority = f32::NAN;
    odd.text_excerpt = "nul\0 byte | and ünïcödé ✓".to_owned();
    odd.tags = vec![];
    let opened = db.store.open_cases(&acme, &[odd]).await.expect("open odd");
    assert!(opened[0].is_created());
    let stored = db.store.list_cases(&acme, CaseFilter::default()).await.expect("list");
    assert_eq!(stored[0].priority, 0.0);
    assert_eq!(stored[0].text_excerpt, "nul byte | and ünïcödé ✓");
    assert!(stored[0].tags.is_empty());
    assert!(db.store.case_events(&acme, i64::MAX).await.expect("events").is_empty());
}
