//! The webhook receiver: signatures, replay protection, publish-then-2xx.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use smo_ingest::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookEndpoint, serve_webhooks, sign};
use smo_ingest::{Ingestor, MemoryCheckpoints, WebhookConfig};
use smo_proto::PostId;
use tokio::sync::watch;

use crate::common::{RecordingBus, account};

const SECRET: &str = "whsec_test_5f1c";

struct Receiver {
    url: String,
    bus: Arc<RecordingBus>,
    checkpoints: Arc<MemoryCheckpoints>,
    _stop: watch::Sender<bool>,
}

async fn receiver() -> Receiver {
    let bus = Arc::new(RecordingBus::default());
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Arc::new(Ingestor::new(account(), bus.clone(), checkpoints.clone()));
    let config = WebhookConfig {
        name: "zapier".into(),
        listen: "127.0.0.1:0".into(),
        path: None,
        secret: Some(SECRET.into()),
        secret_env: None,
        tolerance_secs: 300,
        max_body_bytes: 4096,
    };
    let endpoint = Arc::new(WebhookEndpoint::new(account(), &config, ingestor).unwrap());
    assert_eq!(endpoint.path(), "/webhooks/acme/zapier");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/acme/zapier", listener.local_addr().unwrap());
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(serve_webhooks(listener, vec![endpoint], stopped));
    Receiver { url, bus, checkpoints, _stop: stop }
}

async fn post(url: &str, timestamp: i64, signature: &str, body: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

const BODY: &str = r#"{"posts": [
  {"id": "z-1", "text": "@skyways where is my refund?", "author_handle": "@pat", "created_at": "2026-11-02T10:00:00Z"},
  {"id": "z-2", "text": "missing author", "created_at": "2026-11-02T10:00:00Z"}
]}"#;

#[tokio::test]
async fn signed_deliveries_are_published_before_the_answer_and_replays_are_not() {
    let receiver = receiver().await;
    let now = chrono::Utc::now().timestamp();
    let (status, body) = post(&receiver.url, now, &sign(SECRET.as_bytes(), now, BODY.as_bytes()), BODY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({"accepted": 1, "rejected": 1}));
    let posts = receiver.bus.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, PostId::derive("webhook:zapier", "z-1"));
    assert_eq!(receiver.bus.dead_letters().len(), 1);
    let state = receiver.checkpoints.get(&account(), "webhook:zapier").unwrap();
    assert_eq!((state.cursor, state.posts_fetched), (Some(now.to_string()), 1));

    // The same delivery again (a replay inside the window): acknowledged,
    // not published twice.
    let (status, body) = post(&receiver.url, now, &sign(SECRET.as_bytes(), now, BODY.as_bytes()), BODY).await;
    assert_eq!((status, body["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(receiver.bus.posts().len(), 1);
}

#[tokio::test]
async fn bad_signatures_stale_timestamps_and_bad_bodies_are_refused() {
    let receiver = receiver().await;
    let now = chrono::Utc::now().timestamp();
    let good = |ts: i64, body: &str| sign(SECRET.as_bytes(), ts, body.as_bytes());

    let (status, body) = post(&receiver.url, now, &sign(b"wrong secret", now, BODY.as_bytes()), BODY).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().unwrap().contains("signature does not match"));
    // The signature covers the timestamp: moving it breaks the signature.
    let (status, _) = post(&receiver.url, now - 1, &good(now, BODY), BODY).await;
    assert_eq!(status, 401);
    let stale = now - 3600;
    let (status, body) = post(&receiver.url, stale, &good(stale, BODY), BODY).await;
    assert_eq!(status, 401);
    assert!(body["error"].as_str().unwrap().contains("tolerance window"), "{body}");
    let (status, _) = post(&receiver.url, now, "sha256=zz", BODY).await;
    assert_eq!(status, 401);

    let (status, body) = post(&receiver.url, now, &good(now, "{not json"), "{not json").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("not JSON"));
    let huge = format!("[{}]", vec![r#"{"id":"x","text":"y"}"#; 400].join(","));
    let (status, _) = post(&receiver.url, now, &good(now, &huge), &huge).await;
    assert_eq!(status, 413, "bodies over max_body_bytes are refused");
    assert!(receiver.bus.posts().is_empty());
}

#[tokio::test]
async fn a_broker_failure_answers_503_so_the_sender_retries() {
    let receiver = receiver().await;
    receiver.bus.fail.store(true, Ordering::SeqCst);
    let now = chrono::Utc::now().timestamp();
    let signature = sign(SECRET.as_bytes(), now, BODY.as_bytes());
    let (status, _) = post(&receiver.url, now, &signature, BODY).await;
    assert_eq!(status, 503);
    let state = receiver.checkpoints.get(&account(), "webhook:zapier").unwrap();
    assert!(state.last_error.unwrap().contains("broker unreachable"));
    assert_eq!(state.cursor, None);

    // The retry of the same delivery goes through once the broker is back.
    receiver.bus.fail.store(false, Ordering::SeqCst);
    let (status, body) = post(&receiver.url, now, &signature, BODY).await;
    assert_eq!((status, body["accepted"].as_u64()), (200, Some(1)));
    assert_eq!(receiver.bus.posts().len(), 1);
}
