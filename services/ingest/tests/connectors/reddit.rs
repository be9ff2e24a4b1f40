//! Reddit: `Listing`s of `t3` paged back by `after` until the last position.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use smo_ingest::{RedditConfig, RedditSource, Source};
use smo_proto::PostId;

use crate::common::{
    Fault, TestServer, account, check_fault_handling, drain, fast_client, fixture, fixture_json, serve,
};

#[derive(Clone)]
struct Reddit {
    /// Children oldest first.
    children: Arc<Vec<Value>>,
    visible: Arc<AtomicUsize>,
}

/// Reddit's listing paging: newest first, `after` = fullname of the last
/// child of the previous page, `data.after` null on the last page.
async fn listing(State(reddit): State<Reddit>, Query(params): Query<HashMap<String, String>>) -> Response {
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(25);
    let mut newest_first: Vec<Value> = reddit.children[..reddit.visible.load(Ordering::SeqCst)].to_vec();
    newest_first.reverse();
    let start = match params.get("after") {
        Some(after) => {
            newest_first.iter().position(|c| c["data"]["name"] == after.as_str()).map_or(0, |i| i + 1)
        }
        None => 0,
    };
    let page: Vec<Value> = newest_first.iter().skip(start).take(limit).cloned().collect();
    let after =
        (start + page.len() < newest_first.len()).then(|| page.last().map(|c| c["data"]["name"].clone()));
    let body = json!({"kind": "Listing", "data": {"after": after.flatten(), "dist": page.len(), "modhash": "",
                      "geo_filter": "", "children": page, "before": null}});
    axum::Json(body).into_response()
}

async fn reddit(visible: usize) -> (TestServer, Reddit) {
    let mut children: Vec<Value> =
        fixture_json("reddit/new.json")["data"]["children"].as_array().unwrap().clone();
    children.reverse();
    let reddit = Reddit { children: Arc::new(children), visible: Arc::new(AtomicUsize::new(visible)) };
    let router = Router::new()
        .route("/r/skyways/new.json", get(listing))
        .route("/r/skyways/search.json", get(listing))
        .with_state(reddit.clone());
    (serve(router).await, reddit)
}

fn config(base: &str) -> RedditConfig {
    RedditConfig {
        name: "sub".into(),
        subreddit: Some("skyways".into()),
        search: None,
        base_url: base.into(),
        token: None,
        token_env: None,
        limit: 2,
        initial_pages: 2,
        max_pages: 10,
        interval_secs: 60,
        requests_per_minute: None,
    }
}

fn name(n: u32) -> String {
    format!("t3_1h{n:04x}")
}

#[tokio::test]
async fn new_posts_are_scanned_back_by_after_until_the_last_position() {
    let (server, reddit) = reddit(3).await;
    let mut source = RedditSource::new(account(), config(&server.base), fast_client()).unwrap();
    let first = drain(&mut source, None).await;
    assert_eq!(first.polls, 2, "two pages of history for a new source");
    assert_eq!(first.native_ids(), [name(3), name(2), name(1)]);
    let post = &first.posts[0];
    assert_eq!(post.text, "Lost luggage & no answer\n\nDay 4 without my bag >:(");
    assert_eq!(post.author.handle, "bagless");
    assert_eq!(post.author.id, "t2_bag3");
    assert_eq!(post.url.as_deref(), Some("https://www.reddit.com/r/skyways/comments/1h0003/post_3/"));
    assert_eq!(post.created_at.to_rfc3339(), "2026-11-02T10:03:00+00:00");
    assert_eq!(post.id, PostId::derive("reddit", &name(3)));
    assert_eq!(post.engagement.replies, 3);

    // Four newer posts (one deleted, one malformed): the scan pages back by
    // `after` until it meets the newest post already taken.
    reddit.visible.store(7, Ordering::SeqCst);
    let second = drain(&mut source, first.cursor.clone()).await;
    assert_eq!(second.native_ids(), [name(6), name(4)], "the deleted post is skipped");
    assert_eq!(second.rejected.len(), 1);
    assert!(second.rejected[0].raw.contains("t3_broken"));
    assert!(server.log().iter().any(|l| l.path_and_query.contains(&format!("after={}", name(6)))));
    assert!(server.log().iter().all(|l| l.path_and_query.contains("raw_json=1")));

    let third = drain(&mut source, second.cursor.clone()).await;
    assert!(third.posts.is_empty() && third.rejected.is_empty());
    assert_eq!(third.polls, 1, "one request when nothing is new");
}

#[tokio::test]
async fn search_is_restricted_to_the_subreddit_and_sorted_by_new() {
    let (server, _) = reddit(7).await;
    let mut source = RedditSource::new(
        account(),
        RedditConfig { search: Some("refund OR cancelled".into()), initial_pages: 1, ..config(&server.base) },
        fast_client(),
    )
    .unwrap();
    drain(&mut source, None).await;
    let query = server.last().path_and_query;
    assert!(query.starts_with("/r/skyways/search.json?"), "{query}");
    for part in ["q=refund+OR+cancelled", "sort=new", "restrict_sr=1", "limit=2"] {
        assert!(query.contains(part), "{query} lacks {part}");
    }
}

#[tokio::test]
async fn rate_limits_server_errors_and_malformed_pages() {
    let (server, _) = reddit(7).await;
    let mut source = RedditSource::new(account(), config(&server.base), fast_client()).unwrap();
    check_fault_handling(
        &server,
        &mut source,
        None,
        &fixture("reddit/rate_limited.json"),
        Fault::new(
            200,
            "application/json; charset=UTF-8",
            r#"{"kind": "Listing", "data": {"after": "t3_x", "children": [{"kind": "t3", "da"#,
        ),
        "malformed JSON",
    )
    .await;
    server.push(Fault::new(403, "application/json", fixture("reddit/private.json")));
    let err = source.poll(None).await.unwrap_err();
    assert!(err.to_string().contains("403") && err.to_string().contains("Forbidden"), "{err}");
    // A listing of the wrong kind is refused rather than misread.
    server.push(Fault::new(200, "application/json", r#"{"kind": "t1", "data": {"children": []}}"#));
    let err = source.poll(None).await.unwrap_err();
    assert!(err.to_string().contains("expected a Listing"), "{err}");
}
