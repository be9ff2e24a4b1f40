//! Replies, notes, canned responses and outbox delivery on both backends: a
//! reply is recorded once per idempotency key together with the case's
//! response and its outbox message; delivery is claimed with a lease, retried
//! and, when it fails for good, visible on the case; nothing crosses accounts.

#[macro_use]
mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{TestStore, account};
use smo_proto::{AccountId, CaseEventKind, CasePriority, CaseStatus, Intent, PostId};
use smo_store::{CannedResponse, DeliveryOutcome, DeliveryState, NewCase, NewReply, OpenOptions, StoreError};

on_both_backends!(
    a_reply_is_recorded_once_with_the_response_and_its_outbox_message,
    a_reply_without_a_connector_is_recorded_only,
    outbox_delivery_is_leased_retried_and_failures_show_on_the_case,
    notes_touch_the_case_of_their_author,
    canned_responses_are_per_account_and_language,
);

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, 10, minute, 0).single().expect("valid time")
}

fn complaint(native: &str, author: &str) -> NewCase {
    NewCase {
        post_id: PostId::derive("test", native),
        thread_id: PostId::derive("test", native),
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: author.to_owned(),
        lang: "en".to_owned(),
        tags: vec![],
        text_excerpt: format!("post {native}"),
        opened_at: at(0),
        first_response_due_at: Some(at(0) + TimeDelta::hours(1)),
        next_response_due_at: Some(at(0) + TimeDelta::hours(1)),
    }
}

/// An account with agent `ann` holding one case; its id.
async fn held_case(db: &TestStore, account: &AccountId, native: &str) -> i64 {
    db.store.sync_agents(account, &["ann".to_owned()]).await.expect("agents");
    let opened = db
        .store
        .open_cases_with(account, &[complaint(native, "cus")], &OpenOptions::at(at(0)))
        .await
        .expect("open");
    let case_id = opened[0].case_id();
    let case = db.store.get_case(account, case_id).await.expect("get").expect("case");
    assert_eq!(case.assigned_agent.as_deref(), Some("ann"));
    case_id
}

fn reply(key: &str, destination: Option<&str>) -> NewReply {
    NewReply {
        agent: "ann".to_owned(),
        actor: "ann".to_owned(),
        body: "Sorry, @cus: your refund is on its way.".to_owned(),
        language: Some("en".to_owned()),
        canned: Some("refund".to_owned()),
        idempotency_key: key.to_owned(),
        wait_on_customer: true,
        destination: destination.map(str::to_owned),
    }
}

async fn a_reply_is_recorded_once_with_the_response_and_its_outbox_message(db: &TestStore) {
    let acme = account("acme");
    let case_id = held_case(db, &acme, "1").await;
    let hook = Some("https://crm.acme.example/replies");
    let first = db.store.record_reply(&acme, case_id, &reply("k1", hook), at(5)).await.expect("reply");
    assert!(!first.duplicate);
    assert_eq!(first.case.status, CaseStatus::WaitingOnCustomer);
    assert_eq!(first.case.first_response_at, Some(at(5)));
    assert_eq!(first.case.sla_due_at, None, "the clock stops");
    assert_eq!(first.reply.delivery, DeliveryState::Pending);
    assert_eq!(first.reply.in_reply_to_post.as_deref(), Some(PostId::derive("test", "1").as_str()));

    // The same key again (a retried request): the same reply, nothing new.
    let again = db.store.record_reply(&acme, case_id, &reply("k1", hook), at(6)).await.expect("again");
    assert!(again.duplicate);
    assert_eq!(again.reply, first.reply);
    assert_eq!(db.store.case_replies(&acme, case_id).await.expect("replies").len(), 1);
    let outbox = db.store.pending_outbox(&acme, 10).await.expect("outbox");
    assert_eq!(outbox.len(), 1, "one message for one reply");
    assert_eq!(outbox[0].kind, "reply");
    assert_eq!(outbox[0].destination, "https://crm.acme.example/replies");
    assert_eq!(outbox[0].payload["reply_id"], first.reply.id);
    assert_eq!(outbox[0].payload["idempotency_key"], "k1");
    assert_eq!(outbox[0].payload["customer"], "cus");
    let events = db.store.case_events(&acme, case_id).await.expect("events");
    let responded: Vec<_> =
        events.iter().filter(|e| matches!(e.event, CaseEventKind::Responded { .. })).collect();
    assert_eq!(responded.len(), 1);
    assert_eq!(
        responded[0].event,
        CaseEventKind::Responded { agent: "ann".to_owned(), reply_id: Some(first.reply.id) }
    );

    // A key is the account's: reusing it on another case is a conflict,
    // while another account may use the same key freely.
    let other_case = db
        .store
        .open_cases_with(&acme, &[complaint("2", "dee")], &OpenOptions::at(at(1)))
        .await
        .expect("open")[0]
        .case_id();
    let reused = db.store.record_reply(&acme, other_case, &reply("k1", hook), at(7)).await;
    assert!(matches!(reused, Err(StoreError::Conflict(_))), "{reused:?}");
    let globex = account("globex");
    let globex_case = held_case(db, &globex, "1").await;
    let theirs =
        db.store.record_reply(&globex, globex_case, &reply("k1", None), at(7)).await.expect("own key");
    assert!(!theirs.duplicate);
    // Tenancy: acme's case is not globex's to answer or read.
    let foreign = db.store.record_reply(&globex, case_id, &reply("k2", None), at(8)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");
    assert!(db.store.case_replies(&globex, case_id).await.expect("replies").is_empty());

    // A case nobody holds cannot be answered; an empty reply is refused.
    let initech = account("initech");
    let queued = db
        .store
        .open_cases_with(&initech, &[complaint("9", "eve")], &OpenOptions::at(at(1)))
        .await
        .expect("open")[0]
        .case_id();
    let unheld = db.store.record_reply(&initech, queued, &reply("k3", hook), at(8)).await;
    assert!(matches!(unheld, Err(StoreError::Conflict(_))), "{unheld:?}");
    assert!(db.store.case_replies(&initech, queued).await.expect("replies").is_empty(), "rolled back");
    let mut empty = reply("k4", hook);
    empty.body = "  ".to_owned();
    assert!(matches!(
        db.store.record_reply(&acme, case_id, &empty, at(9)).await,
        Err(StoreError::InvalidInput(_))
    ));
}

async fn a_reply_without_a_connector_is_recorded_only(db: &TestStore) {
    let acme = account("acme");
    let case_id = held_case(db, &acme, "1").await;
    let mut answer = reply("k1", None);
    answer.wait_on_customer = false;
    let recorded = db.store.record_reply(&acme, case_id, &answer, at(5)).await.expect("reply");
    assert_eq!(recorded.reply.delivery, DeliveryState::NotSent);
    assert_eq!(recorded.case.status, CaseStatus::Assigned);
    assert!(db.store.pending_outbox(&acme, 10).await.expect("outbox").is_empty());
    assert!(db.store.claim_outbox(at(59), TimeDelta::minutes(1), 10).await.expect("claim").is_empty());
}

async fn outbox_delivery_is_leased_retried_and_failures_show_on_the_case(db: &TestStore) {
    let acme = account("acme");
    let case_id = held_case(db, &acme, "1").await;
    let hook = Some("https://crm.acme.example/replies");
    let first = db.store.record_reply(&acme, case_id, &reply("k1", hook), at(5)).await.expect("reply");
    let second = db.store.record_reply(&acme, case_id, &reply("k2", hook), at(6)).await.expect("reply");

    // Due at once; a claim leases them, so a second worker sees nothing.
    let lease = TimeDelta::minutes(2);
    let claimed = db.store.claim_outbox(at(7), lease, 10).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|c| c.account == acme));
    assert!(db.store.claim_outbox(at(8), lease, 10).await.expect("claim").is_empty(), "leased");
    let (a, b) = (claimed[0].message.id, claimed[1].message.id);

    // One is delivered; the other fails, is retried later, then given up.
    db.store.finish_delivery(&acme, a, &DeliveryOutcome::Delivered, at(8)).await.expect("delivered");
    let retry = DeliveryOutcome::Retry { at: at(20), error: "HTTP 503".to_owned() };
    db.store.finish_delivery(&acme, b, &retry, at(8)).await.expect("retry");
    let replies = db.store.case_replies(&acme, case_id).await.expect("replies");
    let state =
        |id: i64| replies.iter().find(|r| r.id == id).map(|r| (r.delivery, r.attempts, r.last_error.clone()));
    assert_eq!(state(first.reply.id), Some((DeliveryState::Delivered, 1, None)));
    assert_eq!(state(second.reply.id), Some((DeliveryState::Retrying, 1, Some("HTTP 503".to_owned()))));
    assert!(db.store.claim_outbox(at(19), lease, 10).await.expect("claim").is_empty(), "not due yet");
    let again = db.store.claim_outbox(at(20), lease, 10).await.expect("claim");
    assert_eq!(again.iter().map(|c| c.message.id).collect::<Vec<_>>(), [b]);
    assert_eq!(again[0].message.attempts, 1);
    let failed = DeliveryOutcome::Failed { error: "HTTP 410: gone".to_owned() };
    db.store.finish_delivery(&acme, b, &failed, at(21)).await.expect("failed");
    assert!(db.store.claim_outbox(at(59), lease, 10).await.expect("claim").is_empty(), "failed for good");

    let replies = db.store.case_replies(&acme, case_id).await.expect("replies");
    let failed_reply = replies.iter().find(|r| r.id == second.reply.id).expect("reply");
    assert_eq!(failed_reply.delivery, DeliveryState::Failed);
    assert_eq!(failed_reply.attempts, 2);
    let events = db.store.case_events(&acme, case_id).await.expect("events");
    assert!(events.iter().any(|e| e.event == CaseEventKind::ReplyDelivered { reply_id: first.reply.id }));
    assert!(events.iter().any(|e| e.event
        == CaseEventKind::ReplyFailed { reply_id: second.reply.id, error: "HTTP 410: gone".to_owned() }));

    // A late result for a delivered message changes nothing; another
    // account cannot finish acme's messages.
    db.store.finish_delivery(&acme, a, &failed, at(22)).await.expect("late");
    let globex = account("globex");
    db.store.finish_delivery(&globex, b, &DeliveryOutcome::Delivered, at(22)).await.expect("foreign");
    let replies = db.store.case_replies(&acme, case_id).await.expect("replies");
    assert_eq!(
        replies.iter().map(|r| r.delivery).collect::<Vec<_>>(),
        [DeliveryState::Delivered, DeliveryState::Failed]
    );
}

async fn notes_touch_the_case_of_their_author(db: &TestStore) {
    let acme = account("acme");
    let case_id = held_case(db, &acme, "1").await;
    let note =
        db.store.add_note(&acme, case_id, "ann", "customer is a frequent flyer", at(9)).await.expect("note");
    db.store.add_note(&acme, case_id, "sup", "check the refund policy", at(10)).await.expect("note");
    let notes = db.store.case_notes(&acme, case_id).await.expect("notes");
    assert_eq!(notes.iter().map(|n| n.author.as_str()).collect::<Vec<_>>(), ["ann", "sup"]);
    assert_eq!(notes[0], note);
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(
        case.agent_acted_at,
        Some(at(9)),
        "the holder's note counts as acting; the supervisor's does not"
    );
    let events = db.store.case_events(&acme, case_id).await.expect("events");
    assert!(
        events.iter().any(|e| e.event == CaseEventKind::NoteAdded { note_id: note.id } && e.actor == "ann")
    );
    let globex = account("globex");
    assert!(db.store.case_notes(&globex, case_id).await.expect("notes").is_empty());
    assert!(matches!(
        db.store.add_note(&globex, case_id, "x", "hi", at(11)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.store.add_note(&acme, case_id, "ann", " ", at(11)).await,
        Err(StoreError::InvalidInput(_))
    ));
}

async fn canned_responses_are_per_account_and_language(db: &TestStore) {
    let acme = account("acme");
    let canned = |language: &str, body: &str| CannedResponse {
        name: "refund".to_owned(),
        language: language.to_owned(),
        body: body.to_owned(),
        updated_by: "sup".to_owned(),
        updated_at: at(1),
    };
    db.store
        .put_canned(&acme, &canned("any", "Your refund is on its way, {{customer}}."))
        .await
        .expect("put");
    db.store.put_canned(&acme, &canned("es", "Tu reembolso está en camino.")).await.expect("put");
    db.store
        .put_canned(&acme, &canned("es", "Tu reembolso está en camino, {{customer}}."))
        .await
        .expect("replace");
    let all = db.store.canned_responses(&acme).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].body, "Tu reembolso está en camino, {{customer}}.");
    assert!(db.store.canned_responses(&account("globex")).await.expect("list").is_empty());
    assert!(!db.store.delete_canned(&account("globex"), "refund", "es").await.expect("delete"));
    assert!(db.store.delete_canned(&acme, "refund", "es").await.expect("delete"));
    assert_eq!(db.store.canned_responses(&acme).await.expect("list").len(), 1);
}
