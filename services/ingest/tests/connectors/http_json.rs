//! The generic HTTP JSON source against a local server that pages by cursor,
//! fails, and returns an HTML error page, the way real APIs do.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use smo_ingest::{HttpJsonSource, HttpJsonSourceConfig, IngestError, Polling, Source};
use smo_proto::{AccountId, PostId};

use crate::common::fast_client;

/// Three pages of two items; the third has one item missing its text.
async fn feed(Query(params): Query<HashMap<String, String>>) -> Response {
    let page = |items: serde_json::Value, next: Option<&str>| {
        axum::Json(serde_json::json!({"data": {"items": items}, "meta": {"next": next}})).into_response()
    };
    let item = |id: u64, text: &str| {
        serde_json::json!({"id": id, "body": text, "user": {"handle": format!("u{id}"), "followers": id * 10},
                           "published": "2026-11-02T08:00:00Z", "link": format!("https://example.test/p/{id}")})
    };
    match params.get("after").map(String::as_str) {
        None => page(serde_json::json!([item(1, "first"), item(2, "second")]), Some("c2")),
        Some("c2") => page(serde_json::json!([item(3, "third"), item(4, "fourth")]), Some("c4")),
        Some("c4") => page(
            serde_json::json!([item(5, "fifth"), {"id": 6, "user": {"handle": "x"}, "published": "2026-11-02T08:00:00Z"}]),
            None,
        ),
        Some(_) => page(serde_json::json!([]), None),
    }
}

async fn flaky(State(calls): State<Arc<AtomicUsize>>) -> Response {
    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response();
    }
    Html("<html><body>Bad gateway</body></html>").into_response()
}

async fn serve() -> String {
    let router = Router::new()
        .route("/feed", get(feed))
        .route("/flaky", get(flaky))
        .with_state(Arc::new(AtomicUsize::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn config(url: String) -> HttpJsonSourceConfig {
    HttpJsonSourceConfig {
        name: "feed".into(),
        url,
        items: "data.items".into(),
        id: "id".into(),
        text: "body".into(),
        author_handle: "user.handle".into(),
        author_id: None,
        followers: Some("user.followers".into()),
        created_at: "published".into(),
        link: Some("link".into()),
        in_reply_to: None,
        cursor_param: Some("after".into()),
        next_cursor: Some("meta.next".into()),
        timeout_secs: 5,
        polling: Polling::every(60),
    }
}

#[tokio::test]
async fn pages_through_the_cursor_and_rejects_items_missing_fields() {
    let base = serve().await;
    let account = AccountId::new("acme").unwrap();
    let mut source =
        HttpJsonSource::with_client(account.clone(), config(format!("{base}/feed")), fast_client()).unwrap();
    assert_eq!(source.name(), "http:feed");

    let first = source.poll(None).await.unwrap();
    assert_eq!(first.posts.len(), 2);
    assert_eq!(first.next_cursor.as_deref(), Some("c2"));
    assert!(!first.exhausted);
    let post = &first.posts[0];
    assert_eq!(post.id, PostId::derive("http:feed", "1"));
    assert_eq!(post.account, account);
    assert_eq!(post.author.handle, "u1");
    assert_eq!(post.author.followers, Some(10));
    assert_eq!(post.url.as_deref(), Some("https://example.test/p/1"));

    let second = source.poll(first.next_cursor.as_deref()).await.unwrap();
    assert_eq!(second.posts.iter().map(|p| p.native_id.as_str()).collect::<Vec<_>>(), ["3", "4"]);
    let third = source.poll(second.next_cursor.as_deref()).await.unwrap();
    assert_eq!(third.posts.len(), 1);
    assert_eq!(third.rejected.len(), 1);
    assert!(third.rejected[0].reason.contains("text"), "{:?}", third.rejected);
    assert!(third.exhausted, "no next cursor means the source is drained");
    // The cursor stays where it was so the next poll asks for newer items.
    assert_eq!(third.next_cursor.as_deref(), Some("c4"));
}

#[tokio::test]
async fn server_errors_are_retried_and_html_pages_are_clear_errors() {
    let base = serve().await;
    let mut source = HttpJsonSource::with_client(
        AccountId::new("acme").unwrap(),
        config(format!("{base}/flaky")),
        fast_client(),
    )
    .unwrap();
    // The 503 is retried; what follows is an HTML page where JSON was expected.
    match source.poll(None).await {
        Err(IngestError::BadResponse { reason, .. }) => assert!(reason.contains("expected JSON"), "{reason}"),
        other => panic!("expected a bad-response error, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_servers_and_bad_urls_are_errors_not_panics() {
    let mut source = HttpJsonSource::with_client(
        AccountId::new("acme").unwrap(),
        config("http://127.0.0.1:1/feed".into()),
        fast_client(),
    )
    .unwrap();
    assert!(matches!(source.poll(None).await, Err(IngestError::Http { .. })));
    let err = HttpJsonSource::new(AccountId::new("acme").unwrap(), config("ftp://x".into())).unwrap_err();
    assert!(err.to_string().contains("url"), "{err}");
}
