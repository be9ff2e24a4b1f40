//! The outbox worker against a real HTTP receiver on localhost: replies are
//! signed, carry a stable idempotency key, survive a burst of server errors
//! (retried, then delivered once as far as the receiver is concerned), and a
//! receiver that refuses a reply makes the failure visible on the case.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{TimeDelta, Utc};
use smo_outbound::{IDEMPOTENCY_HEADER, OutboxWorker, RetryPolicy, SignedWebhook};
use smo_proto::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, verify};
use smo_proto::{AccountId, CaseEventKind, CasePriority, Intent, PostId};
use smo_runtime::Secret;
use smo_store::{DeliveryState, NewCase, NewReply, OpenOptions, Store};

const SECRET: &str = "whsec-test-123";

/// A receiver answering from a script of statuses (then 200), recording
/// what it accepted and refusing bad signatures with 401.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<u16>>>,
    accepted: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    requests: Arc<Mutex<usize>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    *receiver.requests.lock().expect("lock") += 1;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let timestamp: i64 = header(TIMESTAMP_HEADER).parse().unwrap_or_default();
    if !verify(SECRET.as_bytes(), timestamp, &body, &header(SIGNATURE_HEADER)) {
        return StatusCode::UNAUTHORIZED;
    }
    let next = {
        let mut script = receiver.script.lock().expect("lock");
        if script.is_empty() { 200 } else { script.remove(0) }
    };
    if next == 200 {
        let key = header(IDEMPOTENCY_HEADER);
        let mut accepted = receiver.accepted.lock().expect("lock");
        // A receiver deduplicates on the key, as the contract asks.
        if !accepted.iter().any(|(k, _)| *k == key) {
            accepted.push((key, serde_json::from_slice(&body).expect("json body")));
        }
    }
    StatusCode::from_u16(next).expect("status")
}

async fn start(receiver: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let app = axum::Router::new().route("/hook", post(receive)).with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{address}/hook")
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = smo_store::connect(&format!("sqlite://{}", dir.path().join("smo.db").display()))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    (store, dir)
}

/// A case of `account` held by `ann`, answered with `key`; its case id.
async fn answered(store: &Store, account: &AccountId, key: &str, destination: &str) -> i64 {
    store.sync_agents(account, &["ann".to_owned()]).await.expect("agents");
    let now = Utc::now();
    let case = NewCase {
        post_id: PostId::derive("test", key),
        thread_id: PostId::derive("test", key),
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: "cus".to_owned(),
        lang: "en".to_owned(),
        tags: vec![],
        text_excerpt: "my bag is lost".to_owned(),
        opened_at: now,
        first_response_due_at: None,
        next_response_due_at: None,
    };
    let case_id =
        store.open_cases_with(account, &[case], &OpenOptions::at(now)).await.expect("open")[0].case_id();
    let reply = NewReply {
        agent: "ann".to_owned(),
        actor: "ann".to_owned(),
        body: "We found your bag, @cus.".to_owned(),
        language: Some("en".to_owned()),
        canned: None,
        idempotency_key: key.to_owned(),
        wait_on_customer: true,
        destination: Some(destination.to_owned()),
    };
    store.record_reply(account, case_id, &reply, now).await.expect("reply");
    case_id
}

fn worker(store: &Store, account: &AccountId, policy: RetryPolicy) -> OutboxWorker {
    let secrets = HashMap::from([(account.clone(), Secret::new(SECRET))]);
    let webhook = SignedWebhook::new(secrets, Duration::from_secs(5)).expect("client");
    OutboxWorker::new(store.clone(), Arc::new(webhook), policy)
}

#[tokio::test]
async fn a_burst_of_server_errors_is_retried_and_delivered_once() {
    let (store, _dir) = store().await;
    let receiver = Receiver::default();
    *receiver.script.lock().expect("lock") = vec![503, 500];
    let url = start(receiver.clone()).await;
    let acme = AccountId::new("acme").expect("account");
    let case_id = answered(&store, &acme, "reply-1", &url).await;
    let worker = worker(&store, &acme, RetryPolicy::default());

    let first = worker.drain_once(Utc::now()).await.expect("drain");
    assert_eq!((first.claimed, first.retried), (1, 1));
    // Not due until the backoff has passed.
    assert_eq!(worker.drain_once(Utc::now()).await.expect("drain").claimed, 0);
    let second = worker.drain_once(Utc::now() + TimeDelta::minutes(5)).await.expect("drain");
    assert_eq!(second.retried, 1);
    let third = worker.drain_once(Utc::now() + TimeDelta::hours(1)).await.expect("drain");
    assert_eq!(third.delivered, 1);
    assert_eq!(worker.drain_once(Utc::now() + TimeDelta::days(2)).await.expect("drain").claimed, 0);

    let accepted = receiver.accepted.lock().expect("lock").clone();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].0, "acme:reply:reply-1");
    assert_eq!(accepted[0].1["text"], "We found your bag, @cus.");
    assert_eq!(accepted[0].1["case_id"], case_id);
    assert_eq!(*receiver.requests.lock().expect("lock"), 3);
    let replies = store.case_replies(&acme, case_id).await.expect("replies");
    assert_eq!((replies[0].delivery, replies[0].attempts), (DeliveryState::Delivered, 3));
    let events = store.case_events(&acme, case_id).await.expect("events");
    assert!(events.iter().any(|e| matches!(e.event, CaseEventKind::ReplyDelivered { .. })));
}

#[tokio::test]
async fn a_refused_reply_fails_visibly_and_attempts_are_bounded() {
    let (store, _dir) = store().await;
    let receiver = Receiver::default();
    *receiver.script.lock().expect("lock") = vec![422, 503, 503, 503];
    let url = start(receiver.clone()).await;
    let acme = AccountId::new("acme").expect("account");
    let refused = answered(&store, &acme, "reply-1", &url).await;
    let worker = worker(&store, &acme, RetryPolicy::default()).with_max_attempts(acme.clone(), 2);
    let report = worker.drain_once(Utc::now()).await.expect("drain");
    assert_eq!(report.failed, 1, "422 is not worth retrying");
    let replies = store.case_replies(&acme, refused).await.expect("replies");
    assert_eq!(replies[0].delivery, DeliveryState::Failed);
    assert!(replies[0].last_error.as_deref().is_some_and(|e| e.starts_with("HTTP 422")), "{replies:?}");
    let events = store.case_events(&acme, refused).await.expect("events");
    assert!(events.iter().any(
        |e| matches!(&e.event, CaseEventKind::ReplyFailed { error, .. } if error.starts_with("HTTP 422"))
    ));

    // Transient errors stop after the account's attempt limit.
    let flaky = answered(&store, &acme, "reply-2", &url).await;
    assert_eq!(worker.drain_once(Utc::now()).await.expect("drain").retried, 1);
    assert_eq!(worker.drain_once(Utc::now() + TimeDelta::hours(3)).await.expect("drain").failed, 1);
    let replies = store.case_replies(&acme, flaky).await.expect("replies");
    assert_eq!((replies[0].delivery, replies[0].attempts), (DeliveryState::Failed, 2));
    assert!(receiver.accepted.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_receiver_and_an_unreachable_one_retried() {
    let (store, _dir) = store().await;
    let receiver = Receiver::default();
    let url = start(receiver.clone()).await;
    let acme = AccountId::new("acme").expect("account");
    let case_id = answered(&store, &acme, "reply-1", &url).await;
    let secrets = HashMap::from([(acme.clone(), Secret::new("wrong"))]);
    let webhook = SignedWebhook::new(secrets, Duration::from_secs(5)).expect("client");
    let worker = OutboxWorker::new(store.clone(), Arc::new(webhook), RetryPolicy::default());
    assert_eq!(worker.drain_once(Utc::now()).await.expect("drain").failed, 1, "401 is permanent");
    assert!(receiver.accepted.lock().expect("lock").is_empty());
    let replies = store.case_replies(&acme, case_id).await.expect("replies");
    assert!(replies[0].last_error.as_deref().is_some_and(|e| e.starts_with("HTTP 401")));

    // Nothing listens on this port: a transient error.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead = format!("http://{}/hook", closed.local_addr().expect("address"));
    drop(closed);
    answered(&store, &acme, "reply-2", &dead).await;
    assert_eq!(worker.drain_once(Utc::now()).await.expect("drain").retried, 1);
}
