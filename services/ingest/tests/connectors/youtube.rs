//! YouTube Data API v3 `commentThreads`: `pageToken` paging, the key in the
//! query string (never in errors), quota errors.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use smo_ingest::{Connector, Polling, ScanLimits, Source, YouTubeConfig, YouTubeSource};

use crate::common::{
    Fault, TestServer, account, check_fault_handling, drain, fast_client, fixture, fixture_json, serve,
};

const KEY: &str = "AIzaTESTKEY-0123456789";

async fn comment_threads(
    State(list): State<Arc<Value>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if params.get("key").map(String::as_str) != Some(KEY) {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json; charset=UTF-8")],
            fixture("youtube/keyInvalid.json"),
        )
            .into_response();
    }
    assert_eq!(
        params.get("allThreadsRelatedToChannelId").map(String::as_str),
        Some("UCskyways0000000000000000")
    );
    assert_eq!(params.get("order").map(String::as_str), Some("time"));
    let per_page: usize = params.get("maxResults").and_then(|m| m.parse().ok()).unwrap_or(20);
    let start: usize = match params.get("pageToken") {
        Some(token) => token.strip_prefix("QURTSl9p").and_then(|n| n.parse().ok()).unwrap_or(usize::MAX),
        None => 0,
    };
    let items = list["items"].as_array().unwrap();
    let mut body = (*list).clone();
    body["items"] = items.iter().skip(start).take(per_page).cloned().collect::<Vec<_>>().into();
    body["pageInfo"]["resultsPerPage"] = per_page.into();
    body["nextPageToken"] = if start + per_page < items.len() {
        format!("QURTSl9p{}", start + per_page).into()
    } else {
        Value::Null
    };
    axum::Json(body).into_response()
}

async fn api() -> TestServer {
    let router = Router::new()
        .route("/youtube/v3/commentThreads", get(comment_threads))
        .with_state(Arc::new(fixture_json("youtube/commentThreads.json")));
    serve(router).await
}

fn config(base: &str, key: &str) -> YouTubeConfig {
    YouTubeConfig {
        name: "yt".into(),
        channel_id: Some("UCskyways0000000000000000".into()),
        video_id: None,
        search_terms: None,
        key: Some(key.into()),
        key_env: None,
        base_url: base.into(),
        max_results: 2,
        scan: ScanLimits { initial_pages: 3, max_pages: 5 },
        polling: Polling::every(600),
    }
}

#[tokio::test]
async fn comment_threads_page_by_token() {
    let server = api().await;
    let mut source = YouTubeSource::new(account(), config(&server.base, KEY), fast_client()).unwrap();
    let drained = drain(&mut source, None).await;
    assert_eq!(drained.polls, 3);
    let texts: Vec<&str> = drained.posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Customer service never called me back",
            "The new cabin looks amazing",
            "Where can I claim compensation?",
            "Great safety video, but my flight got cancelled twice"
        ]
    );
    assert_eq!(drained.rejected.len(), 1);
    let post = &drained.posts[1];
    assert_eq!(post.author.handle, "avgeek");
    assert_eq!(post.engagement.likes, 12);
    assert_eq!(post.engagement.replies, 2);
    assert_eq!(
        post.url.as_deref(),
        Some("https://www.youtube.com/watch?v=vid00000002&lc=Ugz003xYzAbCdEfGhIjKl4AaABAg")
    );
    assert!(server.log().iter().any(|l| l.path_and_query.contains("pageToken=QURTSl9p2")));
    // Caught up.
    let again = drain(&mut source, drained.cursor.clone()).await;
    assert!(again.posts.is_empty());
    assert!(!drained.cursor.unwrap().contains(KEY), "the key never reaches the cursor");
}

#[tokio::test]
async fn api_errors_are_clear_and_never_show_the_key() {
    let server = api().await;
    let mut wrong =
        YouTubeSource::new(account(), config(&server.base, "AIzaWRONGKEY"), fast_client()).unwrap();
    let err = wrong.poll(None).await.unwrap_err().to_string();
    assert!(err.contains("API key not valid") && err.contains("badRequest"), "{err}");
    assert!(!err.contains("AIzaWRONGKEY") && err.contains("key=***"), "{err}");

    let mut source = YouTubeSource::new(account(), config(&server.base, KEY), fast_client()).unwrap();
    server.push(Fault::new(403, "application/json; charset=UTF-8", fixture("youtube/quotaExceeded.json")));
    let err = source.poll(None).await.unwrap_err().to_string();
    assert!(err.contains("quotaExceeded") && !err.contains(KEY), "{err}");

    check_fault_handling(
        &server,
        &mut source,
        None,
        r#"{"error": {"code": 429, "message": "Resource has been exhausted", "errors": [{"reason": "rateLimitExceeded"}]}}"#,
        Fault::new(200, "application/json; charset=UTF-8", r#"{"kind": "youtube#commentThreadListResponse", "items": [{"#),
        "malformed JSON",
    )
    .await;
}

#[test]
fn a_key_is_required_and_read_from_the_environment() {
    let mut config = config("https://www.googleapis.com", KEY);
    config.key = None;
    assert_eq!(config.validate().unwrap_err().key, "key_env");
    config.key_env = Some("SMO_TEST_YT_KEY_UNSET".into());
    let err = YouTubeSource::new(account(), config, fast_client()).unwrap_err().to_string();
    assert!(err.contains("SMO_TEST_YT_KEY_UNSET") && err.contains("key_env"), "{err}");
}
