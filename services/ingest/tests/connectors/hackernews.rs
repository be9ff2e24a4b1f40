//! Hacker News via Algolia `search_by_date`: pages, `numericFilters` after
//! the first scan, stories and comments.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use smo_ingest::{HackerNewsConfig, HackerNewsSource, Polling, ScanLimits, Source};
use smo_proto::PostId;

use crate::common::{
    Fault, TestServer, account, check_fault_handling, drain, fast_client, fixture, fixture_json, serve,
};

#[derive(Clone)]
struct Algolia {
    /// Hits oldest first.
    hits: Arc<Vec<Value>>,
    visible: Arc<AtomicUsize>,
    template: Arc<Value>,
}

/// `search_by_date`: newest first, `numericFilters=created_at_i>=N`,
/// `hitsPerPage` and `page`, with `nbHits`/`nbPages` in the response.
async fn search_by_date(
    State(algolia): State<Algolia>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let per_page: usize = params.get("hitsPerPage").and_then(|v| v.parse().ok()).unwrap_or(20);
    let page: usize = params.get("page").and_then(|v| v.parse().ok()).unwrap_or(0);
    let since: i64 = params
        .get("numericFilters")
        .and_then(|f| f.strip_prefix("created_at_i>="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(i64::MIN);
    let mut hits: Vec<Value> = algolia.hits[..algolia.visible.load(Ordering::SeqCst)]
        .iter()
        .filter(|h| h["created_at_i"].as_i64().is_none_or(|t| t >= since))
        .cloned()
        .collect();
    hits.reverse();
    let nb_pages = hits.len().div_ceil(per_page);
    let mut body = (*algolia.template).clone();
    body["nbHits"] = hits.len().into();
    body["hits"] = hits.into_iter().skip(page * per_page).take(per_page).collect::<Vec<_>>().into();
    body["page"] = page.into();
    body["nbPages"] = nb_pages.into();
    body["hitsPerPage"] = per_page.into();
    axum::Json(body).into_response()
}

async fn algolia(visible: usize) -> (TestServer, Algolia) {
    let template = fixture_json("hackernews/search_by_date.json");
    let mut hits: Vec<Value> = template["hits"].as_array().unwrap().clone();
    hits.reverse();
    let algolia = Algolia {
        hits: Arc::new(hits),
        visible: Arc::new(AtomicUsize::new(visible)),
        template: Arc::new(template),
    };
    let router =
        Router::new().route("/api/v1/search_by_date", get(search_by_date)).with_state(algolia.clone());
    (serve(router).await, algolia)
}

fn config(base: &str) -> HackerNewsConfig {
    HackerNewsConfig {
        name: "hn".into(),
        query: "skyways".into(),
        tags: "(story,comment)".into(),
        base_url: base.into(),
        hits_per_page: 2,
        scan: ScanLimits { initial_pages: 5, max_pages: 10 },
        polling: Polling::every(60),
    }
}

#[tokio::test]
async fn stories_and_comments_by_date_with_pages_and_numeric_filters() {
    let (server, algolia) = algolia(4).await;
    let mut source = HackerNewsSource::new(account(), config(&server.base), fast_client()).unwrap();
    let first = drain(&mut source, None).await;
    assert_eq!(first.native_ids(), ["42000004", "42000003", "42000002", "42000001"]);
    assert_eq!(first.polls, 2);
    let ask = &first.posts[0];
    assert_eq!(
        ask.text,
        "Ask HN: Has anyone got a refund from Skyways?\n\nFlight cancelled in October, still waiting."
    );
    assert_eq!(ask.url.as_deref(), Some("https://news.ycombinator.com/item?id=42000004"));
    let comment = &first.posts[2];
    assert_eq!(comment.text, "Their app still can't handle a cancelled leg.\n\nRefund took three months.");
    assert_eq!(comment.in_reply_to, Some(PostId::derive("hackernews", "42000001")));
    assert_eq!(comment.thread_id, Some(PostId::derive("hackernews", "42000001")));
    let story = &first.posts[3];
    assert_eq!(
        story.text,
        "Skyways rewrites its booking engine in Rust\n\nhttps://skyways.example/blog/rust"
    );
    assert_eq!(story.engagement.likes, 120);
    assert!(server.log().iter().all(|l| !l.path_and_query.contains("numericFilters")));

    algolia.visible.store(7, Ordering::SeqCst);
    let second = drain(&mut source, first.cursor.clone()).await;
    assert_eq!(second.native_ids(), ["42000007"], "the deleted comment has no text and is skipped");
    assert_eq!(second.rejected.len(), 1, "the hit with an unreadable time");
    let filtered = server.log().last().unwrap().path_and_query.clone();
    assert!(filtered.contains("numericFilters=created_at_i%3E%3D1793613840"), "{filtered}");
    assert!(filtered.contains("tags=%28story%2Ccomment%29"), "{filtered}");

    let third = drain(&mut source, second.cursor.clone()).await;
    assert!(third.posts.is_empty());
}

#[tokio::test]
async fn rate_limits_server_errors_and_malformed_pages() {
    let (server, _) = algolia(7).await;
    let mut source = HackerNewsSource::new(account(), config(&server.base), fast_client()).unwrap();
    check_fault_handling(
        &server,
        &mut source,
        None,
        r#"{"message": "Too many requests", "status": 429}"#,
        Fault::new(200, "application/json; charset=UTF-8", r#"{"hits": [{"objectID": "1"}"#),
        "malformed JSON",
    )
    .await;
    server.push(Fault::new(400, "application/json; charset=UTF-8", fixture("hackernews/bad_request.json")));
    let err = source.poll(None).await.unwrap_err();
    assert!(err.to_string().contains("invalid numericFilters"), "{err}");
}
