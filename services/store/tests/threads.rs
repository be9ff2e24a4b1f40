//! Cases per conversation and their lifecycle, on both backends: follow-ups
//! join or reopen, statuses move only along the lifecycle, and every change
//! leaves an audit event with actor, time and reason.

#[macro_use]
mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{TestStore, account};
use smo_proto::{AccountId, CaseEventKind, CasePriority, CaseStatus, Intent, PostId, SlaTarget};
use smo_store::{
    CaseAction, CaseCommand, NewCase, OpenOptions, OpenedCase, SYSTEM_ACTOR, SlaClock, StoreError,
};

on_both_backends!(
    a_follow_up_of_the_same_customer_joins_the_open_case,
    another_customer_in_the_thread_gets_a_case_of_their_own,
    a_redelivered_follow_up_is_a_duplicate,
    a_follow_up_reopens_a_resolved_case_only_within_the_window,
    a_closed_case_is_final,
    the_customer_replying_hands_the_case_back_to_its_agent,
    statuses_move_only_along_the_lifecycle_with_an_audit_trail,
    a_stale_version_is_a_conflict_and_other_accounts_see_nothing,
);

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, hour, minute, 0).single().expect("valid time")
}

fn post(native: &str, thread: &str, author: &str, when: DateTime<Utc>) -> NewCase {
    NewCase {
        post_id: PostId::derive("test", native),
        thread_id: PostId::derive("test", thread),
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: author.to_owned(),
        lang: "en".to_owned(),
        tags: vec![],
        text_excerpt: format!("post {native}"),
        opened_at: when,
        first_response_due_at: Some(when + TimeDelta::hours(4)),
        next_response_due_at: Some(when + TimeDelta::hours(2)),
    }
}

fn command(actor: &str, action: CaseAction) -> CaseCommand {
    CaseCommand {
        actor: actor.to_owned(),
        reason: format!("{actor} decided"),
        expected_version: None,
        action,
    }
}

async fn open(db: &TestStore, account: &AccountId, posts: &[NewCase], now: DateTime<Utc>) -> Vec<OpenedCase> {
    db.store.open_cases_with(account, posts, &OpenOptions::at(now)).await.expect("open")
}

async fn a_follow_up_of_the_same_customer_joins_the_open_case(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    let first = open(db, &acme, &[post("1", "1", "cus", at(9, 0))], at(9, 0)).await;
    let case_id = first[0].case_id();
    // A reply and an unrelated post arrive in one batch; the reply is first.
    let second =
        open(db, &acme, &[post("2", "1", "cus", at(9, 30)), post("3", "3", "other", at(9, 10))], at(9, 31))
            .await;
    assert_eq!(second[0], OpenedCase::Joined { case_id });
    assert!(second[1].is_created());
    assert_ne!(second[1].case_id(), case_id);

    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.message_count, 2);
    assert_eq!(case.last_message_at, at(9, 30));
    assert_eq!(case.status, CaseStatus::Assigned);
    assert_eq!(case.sla_target, Some(SlaTarget::FirstResponse));
    assert_eq!(case.sla_due_at, Some(at(13, 0)), "the first-response clock keeps running");
    let messages = db.store.case_messages(&acme, case_id).await.expect("messages");
    let posts: Vec<&PostId> = messages.iter().map(|m| &m.post_id).collect();
    assert_eq!(posts, [&PostId::derive("test", "1"), &PostId::derive("test", "2")]);

    let events = db.store.case_events(&acme, case_id).await.expect("events");
    let last = events.last().expect("event");
    assert_eq!(last.event, CaseEventKind::MessageAdded { post_id: PostId::derive("test", "2") });
    assert_eq!(last.actor, SYSTEM_ACTOR);
    assert_eq!(last.at, at(9, 31));
    assert_eq!(db.store.count_cases(&acme).await.expect("count"), 2);

    // A root post and its reply in one batch make one case.
    let batch =
        open(db, &acme, &[post("5", "4", "dee", at(10, 5)), post("4", "4", "dee", at(10, 0))], at(10, 6))
            .await;
    assert_eq!(batch[0], OpenedCase::Joined { case_id: batch[1].case_id() });
    assert!(batch[1].is_created());
}

async fn another_customer_in_the_thread_gets_a_case_of_their_own(db: &TestStore) {
    let acme = account("acme");
    let first = open(db, &acme, &[post("1", "brand-post", "ann", at(9, 0))], at(9, 0)).await;
    let second = open(db, &acme, &[post("2", "brand-post", "bob", at(9, 5))], at(9, 5)).await;
    assert!(second[0].is_created(), "{second:?}");
    assert_ne!(first[0].case_id(), second[0].case_id());
}

async fn a_redelivered_follow_up_is_a_duplicate(db: &TestStore) {
    let acme = account("acme");
    let first =
        open(db, &acme, &[post("1", "1", "cus", at(9, 0)), post("2", "1", "cus", at(9, 1))], at(9, 2)).await;
    let case_id = first[0].case_id();
    assert_eq!(first[1], OpenedCase::Joined { case_id });
    let again =
        open(db, &acme, &[post("2", "1", "cus", at(9, 1)), post("1", "1", "cus", at(9, 0))], at(9, 3)).await;
    assert_eq!(again, [OpenedCase::Duplicate { case_id }, OpenedCase::Duplicate { case_id }]);
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.message_count, 2);
    assert_eq!(db.store.case_messages(&acme, case_id).await.expect("messages").len(), 2);
}

async fn a_follow_up_reopens_a_resolved_case_only_within_the_window(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &["ann".to_owned(), "bob".to_owned()]).await.expect("agents");
    let opened = open(db, &acme, &[post("1", "1", "cus", at(9, 0))], at(9, 0)).await;
    let case_id = opened[0].case_id();
    let holder = db.store.get_case(&acme, case_id).await.expect("get").expect("case").assigned_agent;
    assert_eq!(holder.as_deref(), Some("ann"));
    let resolve = command("ann", CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto });
    let resolved = db.store.update_case(&acme, case_id, resolve, at(10, 0)).await.expect("resolve");
    assert_eq!(resolved.resolved_at, Some(at(10, 0)));
    assert_eq!(resolved.sla_due_at, None, "resolving stops the clock");
    // Bob is now idler than ann; the reopened case still goes back to ann.
    let options = OpenOptions { reopen_window: TimeDelta::hours(2), now: at(11, 0) };
    let within =
        db.store.open_cases_with(&acme, &[post("2", "1", "cus", at(11, 0))], &options).await.expect("open");
    assert_eq!(within[0], OpenedCase::Reopened { case_id, agent: Some("ann".to_owned()) });
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.status, CaseStatus::Assigned);
    assert_eq!(case.sla_target, Some(SlaTarget::NextResponse));
    assert_eq!(case.sla_due_at, Some(at(13, 0)));
    let kinds: Vec<CaseEventKind> =
        db.store.case_events(&acme, case_id).await.expect("events").into_iter().map(|e| e.event).collect();
    assert!(kinds.ends_with(&[
        CaseEventKind::Reopened { post_id: PostId::derive("test", "2") },
        CaseEventKind::StatusChanged { from: CaseStatus::Resolved, to: CaseStatus::Queued },
        CaseEventKind::Assigned { agent: "ann".to_owned() },
    ]));

    let resolve = command("ann", CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto });
    db.store.update_case(&acme, case_id, resolve, at(12, 0)).await.expect("resolve again");
    let options = OpenOptions { reopen_window: TimeDelta::hours(2), now: at(14, 1) };
    let late =
        db.store.open_cases_with(&acme, &[post("3", "1", "cus", at(14, 1))], &options).await.expect("open");
    assert!(late[0].is_created(), "{late:?}");
    assert_ne!(late[0].case_id(), case_id);
    let old = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(old.status, CaseStatus::Resolved);
}

async fn a_closed_case_is_final(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    let opened = open(db, &acme, &[post("1", "1", "cus", at(9, 0))], at(9, 0)).await;
    let case_id = opened[0].case_id();
    for to in [CaseStatus::Resolved, CaseStatus::Closed] {
        let change = command("ann", CaseAction::SetStatus { to, sla: SlaClock::Auto });
        db.store.update_case(&acme, case_id, change, at(9, 30)).await.expect("move");
    }
    let reopen = command("ann", CaseAction::SetStatus { to: CaseStatus::Assigned, sla: SlaClock::Auto });
    let refused = db.store.update_case(&acme, case_id, reopen, at(9, 40)).await;
    assert!(matches!(refused, Err(StoreError::InvalidTransition { .. })), "{refused:?}");
    let follow_up = open(db, &acme, &[post("2", "1", "cus", at(9, 45))], at(9, 45)).await;
    assert!(follow_up[0].is_created(), "a message after closing opens a new case");
}

async fn the_customer_replying_hands_the_case_back_to_its_agent(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &["ann".to_owned(), "bob".to_owned()]).await.expect("agents");
    let opened = open(db, &acme, &[post("1", "1", "cus", at(9, 0))], at(9, 0)).await;
    let case_id = opened[0].case_id();
    let answer = command("ann", CaseAction::Respond { agent: "ann".to_owned(), wait_on_customer: true });
    let answered = db.store.update_case(&acme, case_id, answer, at(9, 20)).await.expect("respond");
    assert_eq!(answered.status, CaseStatus::WaitingOnCustomer);
    assert_eq!(answered.first_response_at, Some(at(9, 20)));
    assert_eq!((answered.sla_due_at, answered.sla_target), (None, None), "the answer stops the clock");

    let reply = open(db, &acme, &[post("2", "1", "cus", at(10, 0))], at(10, 0)).await;
    assert_eq!(reply[0], OpenedCase::Joined { case_id });
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.status, CaseStatus::Assigned);
    assert_eq!(case.assigned_agent.as_deref(), Some("ann"));
    assert_eq!(case.sla_target, Some(SlaTarget::NextResponse));
    assert_eq!(case.sla_due_at, Some(at(12, 0)));

    // While ann is away, a reply goes to the queue and on to bob.
    let answer = command("ann", CaseAction::Respond { agent: "ann".to_owned(), wait_on_customer: true });
    db.store.update_case(&acme, case_id, answer, at(10, 10)).await.expect("respond");
    db.store.set_presence(&acme, "ann", smo_store::Presence::Away, at(10, 20)).await.expect("away");
    open(db, &acme, &[post("3", "1", "cus", at(10, 30))], at(10, 30)).await;
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.assigned_agent.as_deref(), Some("bob"));
    assert_eq!(case.status, CaseStatus::Assigned);
}

async fn statuses_move_only_along_the_lifecycle_with_an_audit_trail(db: &TestStore) {
    let acme = account("acme");
    let opened = open(db, &acme, &[post("1", "1", "cus", at(9, 0))], at(9, 0)).await;
    let case_id = opened[0].case_id();
    // Queued (no agents): it cannot wait on the customer or be answered.
    let wait =
        command("sup", CaseAction::SetStatus { to: CaseStatus::WaitingOnCustomer, sla: SlaClock::Auto });
    let refused = db.store.update_case(&acme, case_id, wait.clone(), at(9, 1)).await;
    assert!(matches!(refused, Err(StoreError::InvalidTransition { .. })), "{refused:?}");
    let answer = command("sup", CaseAction::Respond { agent: "ann".to_owned(), wait_on_customer: false });
    assert!(matches!(
        db.store.update_case(&acme, case_id, answer, at(9, 1)).await,
        Err(StoreError::Conflict(_))
    ));
    let unknown = command("sup", CaseAction::Assign { agent: "nobody".to_owned() });
    assert!(matches!(
        db.store.update_case(&acme, case_id, unknown, at(9, 1)).await,
        Err(StoreError::NotFound(_))
    ));

    db.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.assigned_agent.as_deref(), Some("ann"), "a new agent takes the queue");
    // Waiting on the customer pauses the clock with what was left; coming
    // back resumes it.
    let paused = db
        .store
        .update_case(
            &acme,
            case_id,
            command(
                "ann",
                CaseAction::SetStatus {
                    to: CaseStatus::WaitingOnCustomer,
                    sla: SlaClock::Pause { remaining_secs: 3 * 3600 },
                },
            ),
            at(10, 0),
        )
        .await
        .expect("wait");
    assert_eq!((paused.sla_due_at, paused.sla_paused_secs), (None, Some(3 * 3600)));
    let resumed = db
        .store
        .update_case(
            &acme,
            case_id,
            command("ann", CaseAction::SetStatus { to: CaseStatus::Assigned, sla: SlaClock::Auto }),
            at(15, 0),
        )
        .await
        .expect("resume");
    assert_eq!((resumed.sla_due_at, resumed.sla_paused_secs), (Some(at(18, 0)), None));
    let priority = command("sup", CaseAction::SetPriority { level: CasePriority::Urgent });
    db.store.update_case(&acme, case_id, priority, at(15, 5)).await.expect("priority");
    let resolve = command("ann", CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto });
    db.store.update_case(&acme, case_id, resolve, at(15, 10)).await.expect("resolve");
    let close = command("sup", CaseAction::SetStatus { to: CaseStatus::Closed, sla: SlaClock::Auto });
    let closed = db.store.update_case(&acme, case_id, close, at(16, 0)).await.expect("close");
    assert_eq!(closed.closed_at, Some(at(16, 0)));

    let events = db.store.case_events(&acme, case_id).await.expect("events");
    let trail: Vec<(&CaseEventKind, &str, DateTime<Utc>)> =
        events.iter().map(|e| (&e.event, e.actor.as_str(), e.at)).collect();
    use CaseStatus::{Assigned, Closed, Resolved, WaitingOnCustomer};
    assert_eq!(
        trail,
        [
            (&CaseEventKind::Opened { post_id: PostId::derive("test", "1") }, SYSTEM_ACTOR, at(9, 0)),
            (&CaseEventKind::Assigned { agent: "ann".to_owned() }, SYSTEM_ACTOR, events[1].at),
            (&CaseEventKind::StatusChanged { from: Assigned, to: WaitingOnCustomer }, "ann", at(10, 0)),
            (&CaseEventKind::StatusChanged { from: WaitingOnCustomer, to: Assigned }, "ann", at(15, 0)),
            (
                &CaseEventKind::PriorityChanged { from: CasePriority::Normal, to: CasePriority::Urgent },
                "sup",
                at(15, 5)
            ),
            (&CaseEventKind::StatusChanged { from: Assigned, to: Resolved }, "ann", at(15, 10)),
            (&CaseEventKind::StatusChanged { from: Resolved, to: Closed }, "sup", at(16, 0)),
        ]
    );
    assert!(events.iter().all(|e| !e.reason.is_empty()));
    assert!(events[0].reason.contains("no active agents"), "{}", events[0].reason);
}

async fn a_stale_version_is_a_conflict_and_other_accounts_see_nothing(db: &TestStore) {
    let acme = account("acme");
    let globex = account("globex");
    db.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    db.store.sync_agents(&globex, &["ann".to_owned()]).await.expect("agents");
    let opened = open(db, &acme, &[post("1", "1", "cus", at(9, 0))], at(9, 0)).await;
    let case_id = opened[0].case_id();
    let read = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    db.store.update_case(&acme, case_id, command("ann", CaseAction::Touch), at(9, 5)).await.expect("touch");
    let mut stale = command("ann", CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto });
    stale.expected_version = Some(read.version);
    let refused = db.store.update_case(&acme, case_id, stale, at(9, 6)).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");

    assert_eq!(db.store.get_case(&globex, case_id).await.expect("get"), None);
    assert!(db.store.case_messages(&globex, case_id).await.expect("messages").is_empty());
    let foreign = command("ann", CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto });
    let refused = db.store.update_case(&globex, case_id, foreign, at(9, 7)).await;
    assert!(matches!(refused, Err(StoreError::NotFound(_))), "{refused:?}");
    // The same post collected for globex is globex's own case.
    let theirs = open(db, &globex, &[post("1", "1", "cus", at(9, 0))], at(9, 8)).await;
    assert!(theirs[0].is_created());
}
