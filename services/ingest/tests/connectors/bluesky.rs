//! Bluesky: `searchPosts` and `getAuthorFeed` paged by `cursor`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use smo_ingest::{BearerToken, BlueskyConfig, BlueskySource, Polling, ScanLimits, Source};
use smo_proto::PostId;

use crate::common::{
    Fault, TestServer, account, check_fault_handling, drain, fast_client, fixture, fixture_json, serve,
};

/// searchPosts pages by an offset cursor, absent on the last page.
async fn search_posts(
    State(posts): State<Arc<Vec<Value>>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if params.get("q").is_none_or(|q| q.is_empty()) {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(fixture_json("bluesky/invalid_request.json")),
        )
            .into_response();
    }
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(25);
    let start: usize = params.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = posts.iter().skip(start).take(limit).cloned().collect();
    let mut body = json!({"hitsTotal": posts.len(), "posts": page});
    if start + limit < posts.len() {
        body["cursor"] = (start + limit).to_string().into();
    }
    axum::Json(body).into_response()
}

async fn author_feed(Query(params): Query<HashMap<String, String>>) -> Response {
    assert_eq!(params.get("actor").map(String::as_str), Some("skyways.example"));
    if params.contains_key("cursor") {
        return axum::Json(json!({"feed": []})).into_response();
    }
    axum::Json(fixture_json("bluesky/getAuthorFeed.json")).into_response()
}

async fn appview() -> TestServer {
    let posts = fixture_json("bluesky/searchPosts.json")["posts"].as_array().unwrap().clone();
    let router = Router::new()
        .route("/xrpc/app.bsky.feed.searchPosts", get(search_posts))
        .route("/xrpc/app.bsky.feed.getAuthorFeed", get(author_feed))
        .with_state(Arc::new(posts));
    serve(router).await
}

fn config(base: &str) -> BlueskyConfig {
    BlueskyConfig {
        name: "bsky".into(),
        search: Some("skyways".into()),
        author: None,
        lang: None,
        base_url: base.into(),
        auth: BearerToken::default(),
        limit: 2,
        scan: ScanLimits { initial_pages: 3, max_pages: 10 },
        polling: Polling::every(60),
    }
}

#[tokio::test]
async fn search_posts_pages_by_cursor_and_reads_replies() {
    let server = appview().await;
    let mut source = BlueskySource::new(account(), config(&server.base), fast_client()).unwrap();
    let drained = drain(&mut source, None).await;
    assert_eq!(drained.polls, 3);
    let rkeys: Vec<&str> = drained.posts.iter().map(|p| p.native_id.rsplit('/').next().unwrap()).collect();
    assert_eq!(
        rkeys,
        ["3lb0006abcdefg", "3lb0004abcdefg", "3lb0003abcdefg", "3lb0002abcdefg", "3lb0001abcdefg"]
    );
    assert_eq!(drained.rejected.len(), 1, "the post view without an author");
    let reply = drained.posts.iter().find(|p| p.text.starts_with("replying")).unwrap();
    let parent = "at://did:plc:anaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3lb0001abcdefg";
    assert_eq!(reply.in_reply_to, Some(PostId::derive("bluesky", parent)));
    assert_eq!(reply.thread_id, Some(PostId::derive("bluesky", parent)));
    assert_eq!(reply.author.handle, "cy.bsky.social");
    assert!(reply.author.id.starts_with("did:plc:"));
    assert_eq!(reply.url.as_deref(), Some("https://bsky.app/profile/cy.bsky.social/post/3lb0003abcdefg"));
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.path_and_query.contains("sort=latest") && l.path_and_query.contains("cursor=2"))
    );

    // Caught up: the first page holds only posts already taken.
    let again = drain(&mut source, drained.cursor.clone()).await;
    assert!(again.posts.is_empty());
    // The item that cannot become a post is on the first page again, but it
    // was dead-lettered once: the cursor remembers it.
    assert!(again.rejected.is_empty(), "{:?}", again.rejected);
    assert_eq!(again.polls, 1);
}

#[tokio::test]
async fn author_feeds_skip_reposts_and_pins() {
    let server = appview().await;
    let config =
        BlueskyConfig { search: None, author: Some("@skyways.example".into()), ..config(&server.base) };
    let mut source = BlueskySource::new(account(), config, fast_client()).unwrap();
    let drained = drain(&mut source, None).await;
    let texts: Vec<&str> = drained.posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "New routes to Porto from December!",
            "Update: flights resuming.",
            "We are aware of delays at Lisbon today."
        ]
    );
    assert!(drained.posts.iter().all(|p| p.author.handle == "skyways.example"));
    assert_eq!(drained.posts[0].author.display_name.as_deref(), Some("Skyways"));
}

#[tokio::test]
async fn rate_limits_server_errors_and_malformed_pages() {
    let server = appview().await;
    let mut source = BlueskySource::new(account(), config(&server.base), fast_client()).unwrap();
    check_fault_handling(
        &server,
        &mut source,
        None,
        &fixture("bluesky/rate_limited.json"),
        Fault::new(200, "application/json; charset=utf-8", r#"{"cursor": "2", "posts": [{"uri": "#),
        "malformed JSON",
    )
    .await;
    let empty = BlueskyConfig { search: Some(" ".into()), ..config(&server.base) };
    assert!(
        BlueskySource::new(account(), empty, fast_client()).is_err(),
        "an empty search is a config error"
    );
    server.push(Fault::new(400, "application/json", fixture("bluesky/invalid_request.json")));
    let err = source.poll(None).await.unwrap_err();
    assert!(err.to_string().contains("InvalidRequest"), "{err}");
}
