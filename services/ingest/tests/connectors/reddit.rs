//! Reddit: `Listing`s of `t3` paged back by `after` until the last position;
//! a thread's comment tree flattened, its `more` stubs fetched through
//! `/api/morechildren` and "continue this thread" stubs by focus, resumed by
//! the highest comment id taken; bad items dead-lettered once.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use smo_ingest::{
    BearerToken, Connector, IngestError, Ingestor, MemoryCheckpoints, Polling, RedditConfig, RedditSource,
    ScanLimits, Source,
};
use smo_proto::PostId;

use crate::common::{
    Fault, RecordingBus, TestServer, account, check_fault_handling, drain, fast_client, fixture,
    fixture_json, serve,
};

#[derive(Clone)]
struct Reddit {
    /// Children oldest first.
    children: Arc<Vec<Value>>,
    visible: Arc<AtomicUsize>,
    /// The thread has grown: a new top-level comment and a new reply hidden
    /// behind the `more` stub.
    later: Arc<AtomicBool>,
    /// Scripted answers of `/api/morechildren`, served before real ones.
    more_faults: Arc<Mutex<VecDeque<Fault>>>,
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

/// A comment made from a recorded one, for the thread's later state.
fn comment_like(template: &Value, id: &str, created: f64, parent: &str, body: &str) -> Value {
    let mut comment = template.clone();
    let data = &mut comment["data"];
    data["id"] = json!(id);
    data["name"] = json!(format!("t1_{id}"));
    data["created_utc"] = json!(created);
    data["created"] = json!(created);
    data["parent_id"] = json!(parent);
    data["body"] = json!(body);
    data["replies"] = json!("");
    data["permalink"] = json!(format!("/r/skyways/comments/1h0003/lost_luggage_no_answer/{id}/"));
    comment
}

/// `/r/skyways/comments/1h0003.json`: the recorded thread (newest first), or
/// with `comment=` the subtree of that comment, as Reddit answers.
async fn thread(State(reddit): State<Reddit>, Query(params): Query<HashMap<String, String>>) -> Response {
    assert_eq!(params.get("sort").map(String::as_str), Some("new"));
    assert_eq!(params.get("raw_json").map(String::as_str), Some("1"));
    if let Some(focus) = params.get("comment") {
        assert_eq!(focus, "lx0a009", "only the comment at the depth limit is asked for");
        return axum::Json(fixture_json("reddit/continue_thread.json")).into_response();
    }
    let mut thread = fixture_json("reddit/comments.json");
    if reddit.later.load(Ordering::SeqCst) {
        let comments = thread[1]["data"]["children"].as_array_mut().unwrap();
        let newest = comment_like(
            &comments[2],
            "lx0a00b",
            1_793_620_000.0,
            "t3_1h0003",
            "Is there an update on this? Same issue on SK-204.",
        );
        comments.insert(0, newest);
        let stub = comments.last_mut().unwrap();
        assert_eq!(stub["kind"], "more");
        stub["data"]["children"].as_array_mut().unwrap().push(json!("lx0a00c"));
        stub["data"]["count"] = json!(4);
    }
    axum::Json(thread).into_response()
}

/// `/api/morechildren.json`: the requested comments, flat, from the
/// recorded answer (plus the later reply).
async fn more_children(
    State(reddit): State<Reddit>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(fault) = reddit.more_faults.lock().unwrap().pop_front() {
        return fault.into_response();
    }
    assert_eq!(params.get("api_type").map(String::as_str), Some("json"));
    assert_eq!(params.get("link_id").map(String::as_str), Some("t3_1h0003"));
    assert_eq!(params.get("limit_children").map(String::as_str), Some("false"));
    let wanted: Vec<&str> = params.get("children").map(|c| c.split(',').collect()).unwrap_or_default();
    let recorded = fixture_json("reddit/morechildren.json");
    let mut pool: Vec<Value> = recorded["json"]["data"]["things"].as_array().unwrap().clone();
    if reddit.later.load(Ordering::SeqCst) {
        let reply = comment_like(
            &pool[2],
            "lx0a00c",
            1_793_620_100.0,
            "t1_lx0a001",
            "Mine turned up after 9 days, hang in there",
        );
        pool.push(reply);
    }
    let things: Vec<Value> =
        pool.into_iter().filter(|t| wanted.contains(&t["data"]["id"].as_str().unwrap())).collect();
    axum::Json(json!({"json": {"errors": [], "data": {"things": things}}})).into_response()
}

async fn reddit_with(children: Vec<Value>, visible: usize) -> (TestServer, Reddit) {
    let reddit = Reddit {
        children: Arc::new(children),
        visible: Arc::new(AtomicUsize::new(visible)),
        later: Arc::new(AtomicBool::new(false)),
        more_faults: Arc::new(Mutex::new(VecDeque::new())),
    };
    let router = Router::new()
        .route("/r/skyways/new.json", get(listing))
        .route("/r/skyways/search.json", get(listing))
        .route("/r/skyways/comments/1h0003.json", get(thread))
        .route("/api/morechildren.json", get(more_children))
        .with_state(reddit.clone());
    (serve(router).await, reddit)
}

async fn reddit(visible: usize) -> (TestServer, Reddit) {
    let mut children: Vec<Value> =
        fixture_json("reddit/new.json")["data"]["children"].as_array().unwrap().clone();
    children.reverse();
    reddit_with(children, visible).await
}

fn config(base: &str) -> RedditConfig {
    RedditConfig {
        name: "sub".into(),
        subreddit: Some("skyways".into()),
        search: None,
        thread: None,
        base_url: base.into(),
        auth: BearerToken::default(),
        limit: 2,
        scan: ScanLimits { initial_pages: 2, max_pages: 10 },
        polling: Polling::every(60),
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
        RedditConfig {
            search: Some("refund OR cancelled".into()),
            scan: ScanLimits::starting_with(1),
            ..config(&server.base)
        },
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

#[tokio::test]
async fn a_post_without_a_readable_time_is_dead_lettered_once() {
    // The newest post has no creation time, so no mark ever passes it: it
    // stays on the first page of every scan.
    let mut children: Vec<Value> =
        fixture_json("reddit/new.json")["data"]["children"].as_array().unwrap().clone();
    children.reverse();
    let mut timeless = children[2].clone();
    timeless["data"]["name"] = json!("t3_1h0009");
    timeless["data"]["created_utc"] = Value::Null;
    children.insert(3, timeless);
    let (server, reddit) = reddit_with(children, 4).await;
    let bus = Arc::new(RecordingBus::default());
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Ingestor::new(account(), bus.clone(), checkpoints.clone());
    let mut source = RedditSource::new(account(), config(&server.base), fast_client()).unwrap();
    let first = ingestor.run_until_exhausted(&mut source, &|| false).await.unwrap();
    assert_eq!((first.published, first.rejected), (3, 1));
    // Later polls see it again on the first page, with a new post above it.
    reddit.visible.store(5, Ordering::SeqCst);
    let second = ingestor.run_until_exhausted(&mut source, &|| false).await.unwrap();
    let third = ingestor.run_until_exhausted(&mut source, &|| false).await.unwrap();
    assert_eq!((second.published, second.rejected), (1, 0), "t3_1h0004 is new; the broken one is not");
    assert_eq!((third.published, third.rejected), (0, 0));
    assert!(server.log().iter().filter(|l| !l.path_and_query.contains("after=")).count() >= 3);
    let dead = bus.dead_letters();
    assert_eq!(dead.len(), 1, "dead-lettered once over three polls");
    assert!(String::from_utf8_lossy(&dead[0].payload).contains("t3_1h0009"));
    assert!(dead[0].headers[smo_proto::topology::REASON_HEADER].contains("created_utc"));
    let cursor = checkpoints.get(&account(), "reddit:sub").unwrap().cursor.unwrap();
    assert!(cursor.contains("\"rejected\""), "the cursor remembers the reject: {cursor}");
}

fn thread_config(base: &str) -> RedditConfig {
    RedditConfig { thread: Some("t3_1h0003".into()), limit: 200, ..config(base) }
}

fn c(id: &str) -> String {
    format!("t1_{id}")
}

#[tokio::test]
async fn thread_comments_are_flattened_and_stubs_fetched_once() {
    let (server, reddit) = reddit(0).await;
    let mut source = RedditSource::new(account(), thread_config(&server.base), fast_client()).unwrap();
    let first = drain(&mut source, None).await;
    assert_eq!(first.polls, 1, "one poll reads the whole thread");
    assert_eq!(
        first.native_ids(),
        [
            "t3_1h0003".to_owned(),
            c("lx0a005"),
            c("lx0a006"),
            c("lx0a009"),
            c("lx0a003"),
            // Below the `more` stub, fetched through /api/morechildren.
            c("lx0a002"),
            c("lx0a007"),
            c("lx0a001"),
            // Below "continue this thread", fetched focused on its parent.
            c("lx0a00a"),
        ],
        "the removed comment is skipped"
    );
    let id = |native: &str| PostId::derive("reddit", native);
    let reply = first.posts.iter().find(|p| p.native_id == c("lx0a006")).unwrap();
    assert_eq!(reply.text, "DM sent, ref SKY-4471");
    assert_eq!(reply.author.handle, "bagless");
    assert_eq!(reply.in_reply_to, Some(id(&c("lx0a005"))));
    assert_eq!(reply.thread_id, Some(id("t3_1h0003")));
    assert_eq!(reply.source, "reddit");
    assert_eq!(reply.created_at.to_rfc3339(), "2026-11-02T11:06:40+00:00");
    assert_eq!(
        reply.url.as_deref(),
        Some("https://www.reddit.com/r/skyways/comments/1h0003/lost_luggage_no_answer/lx0a006/")
    );
    let top = first.posts.iter().find(|p| p.native_id == c("lx0a005")).unwrap();
    assert_eq!(top.in_reply_to, Some(id("t3_1h0003")), "a top-level comment answers the post");
    assert_eq!(
        top.text,
        "Sorry to hear that! Please DM us your file reference & we'll look into it right away."
    );
    assert_eq!(top.engagement.likes, 12);
    let hidden_reply = first.posts.iter().find(|p| p.native_id == c("lx0a007")).unwrap();
    assert_eq!(hidden_reply.in_reply_to, Some(id(&c("lx0a002"))));
    let deep = first.posts.iter().find(|p| p.native_id == c("lx0a00a")).unwrap();
    assert_eq!(deep.in_reply_to, Some(id(&c("lx0a009"))));
    assert_eq!(first.rejected.len(), 1, "{:?}", first.rejected);
    assert!(first.rejected[0].raw.contains("lx0a004") && first.rejected[0].reason.contains("created_utc"));
    let paths: Vec<String> = server.log().iter().map(|l| l.path_and_query.clone()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(
        paths[0].starts_with("/r/skyways/comments/1h0003.json?sort=new&limit=200&raw_json=1"),
        "{paths:?}"
    );
    assert!(
        paths[1].starts_with(
            "/api/morechildren.json?api_type=json&link_id=t3_1h0003&children=lx0a002%2Clx0a001%2Clx0a007"
        ),
        "{paths:?}"
    );
    assert!(paths[2].contains("comment=lx0a009"), "{paths:?}");
    assert!(first.cursor.as_deref().unwrap().contains("\"through\":\"lx0a00a\""), "{:?}", first.cursor);

    // Nothing new: no post again, the bad comment not again, and no stub
    // fetched for ids already taken (the deep one is always asked for).
    let second = drain(&mut source, first.cursor.clone()).await;
    assert!(second.posts.is_empty() && second.rejected.is_empty(), "{second:?}");
    let asked: Vec<String> = server.log()[3..].iter().map(|l| l.path_and_query.clone()).collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked.iter().all(|p| !p.starts_with("/api/morechildren")), "{asked:?}");

    // A new top-level comment and a new reply hidden behind the stub: only
    // they are taken, and only the new id is asked of /api/morechildren.
    reddit.later.store(true, Ordering::SeqCst);
    let third = drain(&mut source, second.cursor.clone()).await;
    assert_eq!(third.native_ids(), [c("lx0a00b"), c("lx0a00c")]);
    assert_eq!(third.posts[1].in_reply_to, Some(id(&c("lx0a001"))));
    assert!(third.rejected.is_empty());
    assert!(
        server.log().iter().any(|l| l.path_and_query.contains("&children=lx0a00c&")),
        "{:?}",
        server.log().iter().map(|l| &l.path_and_query).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_thread_larger_than_a_poll_is_finished_by_the_next_poll() {
    let (server, _) = reddit(0).await;
    let base = thread_config(&server.base);
    let config = RedditConfig { scan: ScanLimits { max_pages: 2, ..base.scan }, ..base };
    let mut source = RedditSource::new(account(), config, fast_client()).unwrap();
    // Two requests: the thread and the listed ids; the deep reply waits.
    let first = drain(&mut source, None).await;
    assert_eq!(server.log().len(), 2);
    assert!(!first.native_ids().contains(&c("lx0a00a").as_str()));
    assert_eq!(first.posts.len(), 8);
    // The cursor stayed below the comment whose replies were not fetched, so
    // the next poll takes them (and that comment again: harmless).
    let second = drain(&mut source, first.cursor.clone()).await;
    assert_eq!(second.native_ids(), [c("lx0a009"), c("lx0a00a")]);
    let third = drain(&mut source, second.cursor.clone()).await;
    assert!(third.posts.is_empty() && third.rejected.is_empty());
}

#[tokio::test]
async fn thread_rate_limits_and_malformed_answers_are_clear_errors() {
    let (server, reddit) = reddit(0).await;
    let source = || RedditSource::new(account(), thread_config(&server.base), fast_client()).unwrap();

    // A 429 with a short Retry-After on /api/morechildren is waited out and
    // retried within the poll.
    reddit
        .more_faults
        .lock()
        .unwrap()
        .push_back(Fault::rate_limited("1", fixture("reddit/rate_limited.json")));
    let drained = drain(&mut source(), None).await;
    assert_eq!(drained.posts.len(), 9);
    let statuses: Vec<u16> = server
        .log()
        .iter()
        .filter(|l| l.path_and_query.starts_with("/api/morechildren"))
        .map(|l| l.status)
        .collect();
    assert_eq!(statuses, [429, 200]);

    // A longer one ends the poll (nothing published, so nothing is lost)
    // and tells the scheduler how long to wait.
    reddit
        .more_faults
        .lock()
        .unwrap()
        .push_back(Fault::rate_limited("120", fixture("reddit/rate_limited.json")));
    match source().poll(None).await {
        Err(IngestError::RateLimited { retry_after_secs, .. }) => assert_eq!(retry_after_secs, 120),
        other => panic!("expected rate limiting, got {other:?}"),
    }

    // Malformed thread pages and morechildren answers.
    let cases = [
        (
            Fault::new(
                200,
                "application/json",
                r#"[{"kind": "Listing", "data": {"children": [{"kind": "t3", "da"#,
            ),
            "malformed JSON",
            false,
        ),
        (
            Fault::new(200, "application/json", fixture("reddit/new.json")),
            "expected [post Listing, comment Listing], got a JSON object",
            false,
        ),
        (
            Fault::new(200, "application/json", r#"[{"kind": "Listing", "data": {"children": []}}]"#),
            "got an array of 1",
            false,
        ),
        (
            Fault::new(200, "application/json", fixture("reddit/morechildren_error.json")),
            "morechildren refused: [[\"INVALID_ID\"",
            true,
        ),
        (Fault::html(200, "Too Many Requests"), "HTML page titled \"Too Many Requests\"", true),
    ];
    for (fault, says, on_more) in cases {
        if on_more {
            reddit.more_faults.lock().unwrap().push_back(fault);
        } else {
            server.push(fault);
        }
        match source().poll(None).await {
            Err(IngestError::BadResponse { reason, .. }) => assert!(reason.contains(says), "{reason}"),
            other => panic!("expected a bad response ({says}), got {other:?}"),
        }
    }
}

#[test]
fn thread_config_errors_name_the_key() {
    let base = thread_config("https://www.reddit.com");
    let cases = [
        (RedditConfig { search: Some("refund".into()), ..base.clone() }, "thread"),
        (RedditConfig { subreddit: None, ..base.clone() }, "subreddit"),
        (RedditConfig { thread: Some("../../api/v1/me".into()), ..base.clone() }, "thread"),
        (RedditConfig { limit: 501, ..base.clone() }, "limit"),
        (RedditConfig { limit: 101, thread: None, ..base.clone() }, "limit"),
    ];
    for (config, key) in cases {
        let smo_runtime::FieldError { key: found, reason } = config.validate().unwrap_err();
        assert_eq!(found, key, "{reason}");
    }
    assert!(RedditConfig { limit: 500, ..base }.validate().is_ok());
}
