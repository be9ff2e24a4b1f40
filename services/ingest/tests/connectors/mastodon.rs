//! Mastodon: hashtag timeline paged forward by `min_id` and `Link` headers,
//! account lookup and statuses, search, conditional requests, faults.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use smo_ingest::{
    BearerToken, Connector, IngestError, Ingestor, MastodonConfig, MastodonSource, MemoryCheckpoints,
    Polling, Source,
};
use smo_proto::PostId;

use crate::common::{
    Fault, RecordingBus, TestServer, account, capture_logs, check_fault_handling, drain, fast_client,
    fixture, fixture_json, serve, with_etag,
};

const FIRST: u64 = 113_000_000_000_000_000;

#[derive(Clone)]
struct Instance {
    /// Statuses oldest first.
    statuses: Arc<Vec<Value>>,
    /// How many of them exist yet.
    visible: Arc<AtomicUsize>,
    base: Arc<std::sync::OnceLock<String>>,
}

fn id_of(status: &Value) -> u64 {
    status["id"].as_str().unwrap().parse().unwrap()
}

/// Mastodon's paging: `min_id` gives the page right after it, `max_id` the
/// page right before it, neither the newest page; always newest first, with
/// a `Link` header naming the next (older) and previous (newer) pages.
fn page(instance: &Instance, path: &str, params: &HashMap<String, String>, headers: &HeaderMap) -> Response {
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(20).min(40);
    let visible = &instance.statuses[..instance.visible.load(Ordering::SeqCst)];
    let param = |name: &str| params.get(name).and_then(|v| v.parse::<u64>().ok());
    let mut items: Vec<Value> = if let Some(min_id) = param("min_id") {
        visible.iter().filter(|s| id_of(s) > min_id).take(limit).cloned().collect()
    } else if let Some(max_id) = param("max_id") {
        visible.iter().rev().filter(|s| id_of(s) < max_id).take(limit).cloned().collect()
    } else {
        visible.iter().rev().take(limit).cloned().collect()
    };
    items.sort_by_key(|s| std::cmp::Reverse(id_of(s)));
    let body = serde_json::to_string(&items).unwrap();
    let etag = format!("W/\"{:x}\"", body.len() * 31 + items.len());
    let mut response = with_etag(headers, &etag, "application/json; charset=utf-8", body);
    if let (Some(newest), Some(oldest)) = (items.first(), items.last()) {
        let base = instance.base.get().unwrap();
        let link = format!(
            "<{base}{path}?max_id={}>; rel=\"next\", <{base}{path}?min_id={}>; rel=\"prev\"",
            id_of(oldest),
            id_of(newest)
        );
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    response
}

async fn tag_timeline(
    State(instance): State<Instance>,
    Path(tag): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    page(&instance, &format!("/api/v1/timelines/tag/{tag}"), &params, &headers)
}

/// The token the test instance accepts for list timelines.
const TOKEN: &str = "list-token-S3cr3t-9f2a";

/// A list timeline: the token's owner's list, so Mastodon answers 401 with
/// its OAuth error without a valid bearer token.
async fn list_timeline(
    State(instance): State<Instance>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let bearer = format!("Bearer {TOKEN}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
        let mut response = (
            axum::http::StatusCode::UNAUTHORIZED,
            [("content-type", "application/json; charset=utf-8")],
            r#"{"error":"The access token is invalid"}"#,
        )
            .into_response();
        response.headers_mut().insert(
            "www-authenticate",
            r#"Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid""#
                .parse()
                .unwrap(),
        );
        return response;
    }
    page(&instance, &format!("/api/v1/timelines/list/{id}"), &params, &headers)
}

async fn lookup(Query(params): Query<HashMap<String, String>>) -> Response {
    match params.get("acct").map(String::as_str) {
        Some("skyways") => {
            ([("content-type", "application/json")], fixture("mastodon/account_lookup.json")).into_response()
        }
        _ => (
            axum::http::StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            fixture("mastodon/not_found.json"),
        )
            .into_response(),
    }
}

async fn account_statuses(
    State(instance): State<Instance>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    assert_eq!(id, "109000000000000007", "the id found by lookup");
    assert_eq!(params.get("exclude_reblogs").map(String::as_str), Some("true"));
    page(&instance, &format!("/api/v1/accounts/{id}/statuses"), &params, &headers)
}

async fn search(Query(params): Query<HashMap<String, String>>) -> Response {
    assert_eq!(params.get("type").map(String::as_str), Some("statuses"));
    assert_eq!(params.get("q").map(String::as_str), Some("skyways refund"));
    ([("content-type", "application/json")], fixture("mastodon/search.json")).into_response()
}

async fn instance(visible: usize) -> (TestServer, Instance) {
    let mut statuses: Vec<Value> = fixture_json("mastodon/tag_timeline.json").as_array().unwrap().clone();
    statuses.reverse();
    let instance = Instance {
        statuses: Arc::new(statuses),
        visible: Arc::new(AtomicUsize::new(visible)),
        base: Arc::new(std::sync::OnceLock::new()),
    };
    let router = Router::new()
        .route("/api/v1/timelines/tag/{tag}", get(tag_timeline))
        .route("/api/v1/timelines/list/{id}", get(list_timeline))
        .route("/api/v1/accounts/lookup", get(lookup))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .route("/api/v2/search", get(search))
        .with_state(instance.clone());
    let server = serve(router).await;
    instance.base.set(server.base.clone()).unwrap();
    (server, instance)
}

fn config(base: &str) -> MastodonConfig {
    MastodonConfig {
        name: "tag".into(),
        instance: base.into(),
        hashtag: Some("#skyways".into()),
        account: None,
        list_id: None,
        search: None,
        auth: BearerToken::default(),
        limit: 3,
        polling: Polling::every(60),
    }
}

#[tokio::test]
async fn hashtag_timeline_pages_forward_by_min_id_and_link_headers() {
    let (server, instance) = instance(3).await;
    let mut source = MastodonSource::new(account(), config(&server.base), fast_client()).unwrap();
    assert_eq!(source.name(), "mastodon:tag");

    // A new source starts at the newest page, not at the beginning of time.
    let first = drain(&mut source, None).await;
    assert_eq!(first.polls, 1);
    let id = |n: u64| (FIRST + n).to_string();
    assert_eq!(first.native_ids(), [id(3), id(2), id(1)]);
    let post = first.posts.iter().find(|p| p.native_id == id(1)).unwrap();
    assert_eq!(post.text, "@skyways my flight was cancelled and nobody answers #skyways");
    assert_eq!(post.source, "mastodon:127.0.0.1");
    assert_eq!(post.id, PostId::derive("mastodon:127.0.0.1", &id(1)));
    assert_eq!(post.author.handle, "ana");
    assert_eq!(post.author.display_name.as_deref(), Some("Ana Ruiz"));
    assert_eq!(post.author.followers, Some(1520));
    assert_eq!(post.engagement.likes, 2);
    let reply = first.posts.iter().find(|p| p.native_id == id(3)).unwrap();
    assert_eq!(reply.text, "Where is my bag? Day 3 #skyways\n\nStill nothing …");
    assert_eq!(reply.in_reply_to, Some(PostId::derive("mastodon:127.0.0.1", &id(1))));
    assert_eq!(first.posts.iter().find(|p| p.native_id == id(2)).unwrap().author.handle, "ben@other.example");
    assert!(first.cursor.as_deref().unwrap().contains(&id(3)), "{:?}", first.cursor);

    // Five more statuses: pages of three right after the cursor, following
    // the `prev` links; the boost is skipped, the media-only status keeps
    // its description, the status without an account is dead-lettered.
    instance.visible.store(8, Ordering::SeqCst);
    let second = drain(&mut source, first.cursor.clone()).await;
    assert_eq!(second.polls, 2);
    assert_eq!(second.native_ids(), [id(6), id(4), id(8)]);
    assert!(server.log().iter().any(|l| l.path_and_query.contains(&format!("min_id={}", id(3)))));
    assert!(server.log().iter().any(|l| l.path_and_query.contains(&format!("min_id={}", id(6)))));
    let cw = second.posts.iter().find(|p| p.native_id == id(4)).unwrap();
    assert_eq!(cw.text, "rant about delays\n\nContent warning body #skyways");
    assert_eq!(
        second.posts.iter().find(|p| p.native_id == id(6)).unwrap().text,
        "Photo of the departures board, every flight delayed"
    );
    assert!(
        second
            .posts
            .iter()
            .find(|p| p.native_id == id(8))
            .unwrap()
            .text
            .contains("https://skyways.example/checkin?utm=x")
    );
    assert_eq!(second.rejected.len(), 1);
    assert!(second.rejected[0].reason.contains("account"), "{:?}", second.rejected);

    // Caught up: an empty page, then a conditional request answered 304.
    let third = drain(&mut source, second.cursor.clone()).await;
    assert!(third.posts.is_empty());
    let fourth = drain(&mut source, third.cursor.clone()).await;
    assert!(fourth.posts.is_empty());
    assert_eq!(server.last().status, 304, "the tip is asked for conditionally");
    assert!(server.last().headers.contains_key("if-none-match"));
    assert_eq!(fourth.cursor, third.cursor);
}

#[tokio::test]
async fn list_timeline_sends_the_token_only_in_the_authorization_header() {
    let logs = capture_logs();
    let (server, instance) = instance(3).await;
    let config = MastodonConfig {
        hashtag: None,
        list_id: Some("42".into()),
        auth: BearerToken { token: Some(TOKEN.into()), token_env: None },
        ..config(&server.base)
    };
    let mut source = MastodonSource::new(account(), config.clone(), fast_client()).unwrap();
    assert!(!format!("{config:?} {source:?}").contains(TOKEN), "a printed config or source hides the token");

    // A new source starts at the newest page; its cursor is the newest id.
    let id = |n: u64| (FIRST + n).to_string();
    let first = drain(&mut source, None).await;
    assert_eq!(first.native_ids(), [id(3), id(2), id(1)]);
    assert!(
        first.cursor.as_deref().unwrap().contains(&format!("\"min_id\":\"{}\"", id(3))),
        "{:?}",
        first.cursor
    );

    // Five more statuses (and a 503 on the way, retried and logged): pages of
    // three right after the cursor (`min_id`), the next one named by the
    // `Link: <…?min_id=…>; rel="prev"` header of the page before.
    instance.visible.store(8, Ordering::SeqCst);
    server.push(Fault::html(503, "503 Service Temporarily Unavailable"));
    let second = drain(&mut source, first.cursor.clone()).await;
    assert_eq!(second.native_ids(), [id(6), id(4), id(8)]);
    let asked: Vec<String> = server.log().iter().map(|l| l.path_and_query.clone()).collect();
    assert!(asked.contains(&format!("/api/v1/timelines/list/42?limit=3&min_id={}", id(3))), "{asked:?}");
    assert!(asked.contains(&format!("/api/v1/timelines/list/42?limit=3&min_id={}", id(6))), "{asked:?}");
    let third = drain(&mut source, second.cursor.clone()).await;
    assert!(third.posts.is_empty());
    assert!(
        third.cursor.as_deref().unwrap().contains(&id(8)),
        "the cursor ends at the newest: {:?}",
        third.cursor
    );

    // Every request carried the token in `Authorization`, none in its URL.
    for logged in server.log() {
        assert_eq!(logged.headers.get("authorization").unwrap(), &format!("Bearer {TOKEN}"));
        assert!(!logged.path_and_query.contains(TOKEN));
    }

    // A wrong token: a clear 401 on the source's health, without the token.
    const WRONG: &str = "wrong-token-77c1";
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Ingestor::new(account(), Arc::new(RecordingBus::default()), checkpoints.clone());
    let mut wrong = MastodonSource::new(
        account(),
        MastodonConfig { auth: BearerToken { token: Some(WRONG.into()), token_env: None }, ..config },
        fast_client(),
    )
    .unwrap();
    let error = ingestor.run_until_exhausted(&mut wrong, &|| false).await.unwrap_err();
    assert!(
        error.to_string().contains("401") && error.to_string().contains("The access token is invalid"),
        "{error}"
    );
    let health = checkpoints.get(&account(), "mastodon:tag").unwrap().last_error.unwrap();
    assert!(!health.contains(WRONG) && !error.to_string().contains(WRONG), "{health}");

    let logged = logs.text();
    assert!(logged.contains("retrying request") && logged.contains("/api/v1/timelines/list/42"), "{logged}");
    assert!(!logged.contains(TOKEN) && !logged.contains(WRONG), "a token was logged:\n{logged}");
}

#[test]
fn a_list_timeline_needs_a_token() {
    let list = MastodonConfig { hashtag: None, list_id: Some("42".into()), ..config("https://m.example") };
    assert_eq!(list.validate().unwrap_err().key, "token_env");
    assert!(MastodonConfig { auth: BearerToken::from_env("SMO_MASTODON_TOKEN"), ..list }.validate().is_ok());
}

#[tokio::test]
async fn account_statuses_are_found_by_handle_and_search_reads_statuses() {
    let (server, _) = instance(8).await;
    let mut by_account = MastodonSource::new(
        account(),
        MastodonConfig { hashtag: None, account: Some("@skyways".into()), ..config(&server.base) },
        fast_client(),
    )
    .unwrap();
    let drained = drain(&mut by_account, None).await;
    assert_eq!((drained.posts.len(), drained.rejected.len()), (2, 1), "{drained:?}");
    assert!(
        server.log().iter().any(|l| l.path_and_query.starts_with("/api/v1/accounts/lookup?acct=skyways"))
    );

    let mut unknown = MastodonSource::new(
        account(),
        MastodonConfig { hashtag: None, account: Some("nobody".into()), ..config(&server.base) },
        fast_client(),
    )
    .unwrap();
    match unknown.poll(None).await {
        Err(IngestError::Http { reason, .. }) => {
            assert!(reason.contains("404") && reason.contains("Record not found"), "{reason}")
        }
        other => panic!("expected a 404, got {other:?}"),
    }

    let mut search = MastodonSource::new(
        account(),
        MastodonConfig { hashtag: None, search: Some("skyways refund".into()), ..config(&server.base) },
        fast_client(),
    )
    .unwrap();
    let found = drain(&mut search, None).await;
    assert_eq!(found.posts.len(), 2, "three statuses, one of them unparsable: {found:?}");
    assert_eq!(found.rejected.len(), 1);
}

#[tokio::test]
async fn rate_limits_server_errors_and_malformed_pages() {
    let (server, _) = instance(8).await;
    let mut source = MastodonSource::new(account(), config(&server.base), fast_client()).unwrap();
    check_fault_handling(
        &server,
        &mut source,
        None,
        &fixture("mastodon/rate_limited.json"),
        Fault::new(200, "application/json; charset=utf-8", r#"[{"id": "113000000000000009", "created_at": "#),
        "malformed JSON",
    )
    .await;
    server.push(Fault::new(
        200,
        "application/json",
        r#"{"error": "This method requires an authenticated user"}"#,
    ));
    match source.poll(None).await {
        Err(IngestError::BadResponse { reason, .. }) => {
            assert!(reason.contains("unexpected JSON"), "{reason}")
        }
        other => panic!("expected a bad-response error, got {other:?}"),
    }
}

#[test]
fn config_errors_name_the_key() {
    let base = config("https://m.example");
    let cases = [
        (MastodonConfig { instance: "m.example".into(), ..base.clone() }, "instance"),
        (MastodonConfig { hashtag: None, ..base.clone() }, "hashtag"),
        (MastodonConfig { limit: 0, ..base.clone() }, "limit"),
        (
            MastodonConfig {
                polling: Polling { requests_per_minute: Some(-1.0), ..base.polling },
                ..base.clone()
            },
            "requests_per_minute",
        ),
    ];
    for (config, key) in cases {
        let smo_runtime::FieldError { key: found, reason } = config.validate().unwrap_err();
        assert_eq!(found, key, "{reason}");
    }
    let missing = MastodonConfig { auth: BearerToken::from_env("SMO_TEST_NO_SUCH_TOKEN"), ..base };
    let err = MastodonSource::new(account(), missing, fast_client()).unwrap_err();
    assert!(
        err.to_string().contains("token_env") && err.to_string().contains("SMO_TEST_NO_SUCH_TOKEN"),
        "{err}"
    );
}
