//! RSS 2.0 and Atom feeds: conditional GET, only new entries, malformed XML.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use smo_ingest::{FeedConfig, FeedSource, Polling, Source};

use crate::common::{
    Fault, TestServer, account, check_fault_handling, drain, fast_client, fixture, serve, with_etag,
};

async fn rss(State(updated): State<Arc<AtomicBool>>, headers: HeaderMap) -> Response {
    let (etag, file) = if updated.load(Ordering::SeqCst) {
        ("\"v2\"", "feed/rss2_updated.xml")
    } else {
        ("\"v1\"", "feed/rss2.xml")
    };
    with_etag(&headers, etag, "application/rss+xml; charset=utf-8", fixture(file))
}

async fn atom(headers: HeaderMap) -> Response {
    with_etag(&headers, "\"atom-1\"", "application/atom+xml", fixture("feed/atom.xml"))
}

async fn site() -> (TestServer, Arc<AtomicBool>) {
    let updated = Arc::new(AtomicBool::new(false));
    let router = Router::new()
        .route("/latest.rss", get(rss))
        .route("/atom.xml", get(atom))
        .with_state(Arc::clone(&updated));
    (serve(router).await, updated)
}

fn config(url: String) -> FeedConfig {
    FeedConfig { name: "forum".into(), url, max_seen: 1000, polling: Polling::every(600) }
}

#[tokio::test]
async fn rss_entries_are_published_once_and_unchanged_feeds_cost_a_304() {
    let (server, updated) = site().await;
    let mut source =
        FeedSource::new(account(), config(format!("{}/latest.rss", server.base)), fast_client()).unwrap();
    let first = drain(&mut source, None).await;
    assert_eq!(
        first.native_ids(),
        [
            "forum.skyways.example-topic-812",
            "forum.skyways.example-topic-811",
            "https://forum.skyways.example/t/seat-selection-bug/810"
        ]
    );
    let refund = &first.posts[0];
    assert_eq!(
        refund.text,
        "Refund still pending after 8 weeks\n\nMy flight SK12 was cancelled on 1 Sept & the refund is still \"processing\"."
    );
    assert_eq!(refund.author.handle, "marta_k");
    assert_eq!(refund.source, "feed:forum");
    assert_eq!(refund.url.as_deref(), Some("https://forum.skyways.example/t/refund-still-pending/812"));
    assert_eq!(refund.created_at.to_rfc3339(), "2026-11-02T10:20:00+00:00");
    assert_eq!(first.posts[2].author.handle, "Skyways Travel Forum", "no author: the feed's title");

    let unchanged = drain(&mut source, first.cursor.clone()).await;
    assert!(unchanged.posts.is_empty());
    assert_eq!(server.last().status, 304);
    assert_eq!(server.last().headers.get("if-none-match").unwrap(), "\"v1\"");
    assert_eq!(unchanged.cursor, first.cursor);

    updated.store(true, Ordering::SeqCst);
    let changed = drain(&mut source, unchanged.cursor.clone()).await;
    assert_eq!(changed.native_ids(), ["forum.skyways.example-topic-813"], "only the new entry");
}

#[tokio::test]
async fn atom_entries_read_summaries_and_authors() {
    let (server, _) = site().await;
    let mut source =
        FeedSource::new(account(), config(format!("{}/atom.xml", server.base)), fast_client()).unwrap();
    let drained = drain(&mut source, None).await;
    assert_eq!(drained.posts.len(), 2);
    assert_eq!(
        drained.posts[0].text,
        "Skyways adds Porto routes\n\nThree weekly flights to Porto from December."
    );
    assert_eq!(drained.posts[0].author.handle, "Skyways Press Office");
    assert_eq!(drained.posts[0].created_at.to_rfc3339(), "2026-11-02T08:30:00+00:00");
    assert_eq!(drained.posts[1].author.handle, "CEO Office");
    assert!(
        drained.posts[1].text.contains("We apologise to every passenger affected."),
        "{}",
        drained.posts[1].text
    );
    assert_eq!(drained.posts[1].url.as_deref(), Some("https://news.skyways.example/2026/10/statement"));
}

#[tokio::test]
async fn rate_limits_server_errors_and_malformed_feeds() {
    let (server, _) = site().await;
    let mut source =
        FeedSource::new(account(), config(format!("{}/latest.rss", server.base)), fast_client()).unwrap();
    check_fault_handling(
        &server,
        &mut source,
        None,
        "Too many requests",
        Fault::new(200, "application/rss+xml", fixture("feed/malformed.xml")),
        "malformed feed",
    )
    .await;
    server.push(Fault::new(200, "application/json", r#"{"not": "a feed"}"#));
    let err = source.poll(None).await.unwrap_err().to_string();
    assert!(err.contains("malformed feed"), "{err}");
}
