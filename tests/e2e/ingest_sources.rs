//! Issue 4 end to end: two accounts poll several HTTP sources (Hacker News
//! search, a subreddit, an RSS feed) from a local server speaking those APIs'
//! formats, into real RabbitMQ and PostgreSQL. The ingest process is
//! SIGKILLed mid-run and restarted: every post is published at least once
//! (resumed from the confirmed cursors) and indexed exactly once.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use smo_proto::{AccountId, PostId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

const HN_HITS: usize = 1_500;
const REDDIT_POSTS: usize = 800;
const FEED_ITEMS: usize = 40;
/// Each page is served this late, so the kill lands mid-run.
const PAGE_DELAY: Duration = Duration::from_millis(120);

const TEXTS: [&str; 4] = [
    "my flight was cancelled and nobody answers, I want a refund",
    "how do I change the date of my booking?",
    "the crew was lovely and the flight was great",
    "reading about airport design this morning",
];

/// The posts one account's sources serve, newest first per source.
struct Feeds {
    hn: Vec<serde_json::Value>,
    reddit: Vec<serde_json::Value>,
    rss: String,
    expected: Vec<PostId>,
}

fn feeds(account: &AccountId, n: usize) -> Feeds {
    let base = 1_793_000_000i64;
    let mut expected = Vec::new();
    let mut hn = Vec::new();
    for i in (0..HN_HITS).rev() {
        let id = format!("{}{i:06}", 40 + n);
        expected.push(PostId::derive("hackernews", &id));
        hn.push(serde_json::json!({
            "_tags": ["comment", "author_u", format!("story_{n}")], "author": format!("hn{}", i % 50),
            "comment_text": format!("<p>{} zq{n}hn{i}</p>", TEXTS[i % 4]), "created_at_i": base + i as i64,
            "created_at": "2026-11-01T10:00:00Z", "objectID": id, "parent_id": 1, "story_id": 1,
        }));
    }
    let mut reddit = Vec::new();
    for i in (0..REDDIT_POSTS).rev() {
        let name = format!("t3_{n}x{i:05}");
        expected.push(PostId::derive("reddit", &name));
        reddit.push(serde_json::json!({"kind": "t3", "data": {
            "name": name, "id": format!("{n}x{i:05}"), "title": format!("{} zq{n}rd{i}", TEXTS[(i + 1) % 4]),
            "selftext": "", "author": format!("rd{}", i % 40), "author_fullname": format!("t2_{i}"),
            "created_utc": (base + i as i64) as f64, "permalink": format!("/r/skyways/comments/{n}x{i}/p/"),
            "score": 1, "num_comments": 0, "subreddit": "skyways",
        }}));
    }
    let mut rss = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Forum</title><link>https://forum.example/</link><description>d</description>",
    );
    for i in 0..FEED_ITEMS {
        let guid = format!("{account}-topic-{i}");
        expected.push(PostId::derive(&format!("feed:forum-{n}"), &guid));
        write!(
            rss,
            "<item><title>{} zq{n}rss{i}</title><link>https://forum.example/t/{i}</link><guid isPermaLink=\"false\">{guid}</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>",
            TEXTS[(i + 2) % 4]
        )
        .unwrap();
    }
    rss.push_str("</channel></rss>");
    Feeds { hn, reddit, rss, expected }
}

/// The query parameters of a request target, percent-decoded.
fn query(target: &str) -> HashMap<String, String> {
    let decode = |text: &str| {
        let bytes = text.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'%', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode(name), decode(value)))
        .collect()
}

/// Answers one request of the local API server.
fn respond(feeds: &HashMap<String, Feeds>, target: &str) -> (u16, &'static str, String) {
    let path = target.split('?').next().unwrap_or_default();
    let params = query(target);
    let account = path.split('/').nth(1).unwrap_or_default();
    let Some(feeds) = feeds.get(account) else { return (404, "application/json", "{}".into()) };
    if path.ends_with("/api/v1/search_by_date") {
        let per_page: usize = params.get("hitsPerPage").and_then(|v| v.parse().ok()).unwrap_or(20);
        let page: usize = params.get("page").and_then(|v| v.parse().ok()).unwrap_or(0);
        let since: i64 = params
            .get("numericFilters")
            .and_then(|f| f.strip_prefix("created_at_i>="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MIN);
        let hits: Vec<&serde_json::Value> =
            feeds.hn.iter().filter(|h| h["created_at_i"].as_i64().unwrap() >= since).collect();
        let body = serde_json::json!({
            "hits": hits.iter().skip(page * per_page).take(per_page).collect::<Vec<_>>(),
            "nbHits": hits.len(), "page": page, "nbPages": hits.len().div_ceil(per_page), "hitsPerPage": per_page,
        });
        return (200, "application/json", body.to_string());
    }
    if path.ends_with("/r/skyways/new.json") {
        let limit: usize = params.get("limit").and_then(|v| v.parse().ok()).unwrap_or(25);
        let start = params
            .get("after")
            .and_then(|after| feeds.reddit.iter().position(|c| c["data"]["name"] == after.as_str()))
            .map_or(0, |i| i + 1);
        let page: Vec<&serde_json::Value> = feeds.reddit.iter().skip(start).take(limit).collect();
        let after =
            (start + page.len() < feeds.reddit.len()).then(|| page.last().map(|c| c["data"]["name"].clone()));
        let body =
            serde_json::json!({"kind": "Listing", "data": {"after": after.flatten(), "children": page}});
        return (200, "application/json", body.to_string());
    }
    if path.ends_with("/latest.rss") {
        return (200, "application/rss+xml", feeds.rss.clone());
    }
    (404, "application/json", "{}".into())
}

/// A minimal HTTP/1.1 server (one request per connection) on tokio.
async fn serve(feeds: Arc<HashMap<String, Feeds>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            let feeds = Arc::clone(&feeds);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                tokio::time::sleep(PAGE_DELAY).await;
                let (status, content_type, body) = respond(&feeds, &target);
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn write_sources_config(
    dir: &Path,
    store_url: &str,
    base: &str,
    accounts: &[AccountId],
) -> std::path::PathBuf {
    let mut text = format!(
        "data_dir = \"{}\"\n[bus]\nurl = \"{}\"\nprefetch = 1000\n[store]\nurl = \"{store_url}\"\n[index]\nbatch_max_posts = 1000\nbatch_max_wait_ms = 200\n",
        dir.join("data").display(),
        amqp_url()
    );
    for (n, account) in accounts.iter().enumerate() {
        write!(
            text,
            "[[accounts]]\nid = \"{account}\"\nagents = [\"ana\", \"ben\"]\n\
             [[accounts.sources]]\nkind = \"hackernews\"\nname = \"hn\"\nquery = \"skyways\"\nbase_url = \"{base}/{account}\"\nhits_per_page = 50\ninitial_pages = 100\ninterval_secs = 3600\nrequests_per_minute = 1200\n\
             [[accounts.sources]]\nkind = \"reddit\"\nname = \"sub\"\nsubreddit = \"skyways\"\nbase_url = \"{base}/{account}\"\nlimit = 50\ninitial_pages = 100\ninterval_secs = 3600\nrequests_per_minute = 1200\n\
             [[accounts.sources]]\nkind = \"feed\"\nname = \"forum-{n}\"\nurl = \"{base}/{account}/latest.rss\"\ninterval_secs = 3600\n"
        )
        .unwrap();
    }
    let path = dir.join("smo.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polled_sources_survive_a_sigkill_of_ingest_and_index_every_post_once() {
    require_rabbitmq();
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let accounts =
        [AccountId::new(unique("e2e-src-a")).unwrap(), AccountId::new(unique("e2e-src-b")).unwrap()];
    let feeds: HashMap<String, Feeds> =
        accounts.iter().enumerate().map(|(n, a)| (a.to_string(), feeds(a, n))).collect();
    let expected: HashMap<AccountId, Vec<PostId>> =
        accounts.iter().map(|a| (a.clone(), feeds[a.as_str()].expected.clone())).collect();
    let base = serve(Arc::new(feeds)).await;
    let config = write_sources_config(dir.path(), &database.url, &base, &accounts);
    let index_dir = dir.path().join("data/index");
    let total = |account: &AccountId| expected[account].len() as u64;

    let workers = SmoProcess::start(&config, &["run", "--roles", "classify,index,community"], "workers");
    let ingest = SmoProcess::start(&config, &["run", "--roles", "ingest"], "ingest-1");
    wait_until(Duration::from_secs(300), "first posts indexed", &[&workers, &ingest], || async {
        indexed(&index_dir, &accounts[0]) > 300
    })
    .await;
    ingest.kill();
    let before = indexed(&index_dir, &accounts[0]) + indexed(&index_dir, &accounts[1]);
    assert!(
        before < total(&accounts[0]) + total(&accounts[1]),
        "the kill must land mid-run ({before} indexed)"
    );

    let ingest = SmoProcess::start(&config, &["run", "--roles", "ingest"], "ingest-2");
    wait_until(Duration::from_secs(600), "every post indexed", &[&workers, &ingest], || async {
        accounts.iter().all(|a| indexed(&index_dir, a) >= total(a))
    })
    .await;
    let sources = smo_output(&config, &["sources", accounts[1].as_str(), "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&sources).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["health"] == "ok" && r["last_error"].is_null()), "{sources}");
    ingest.terminate();
    workers.terminate();

    let root = smo_index::IndexRoot::new(&index_dir);
    for account in &accounts {
        let reader = root.open_reader(account).unwrap();
        assert_eq!(reader.num_docs(), total(account), "documents of {account}");
        for id in &expected[account] {
            assert_eq!(reader.count_by_id(id).unwrap(), 1, "post {id} of {account} must be indexed once");
        }
    }
    delete_rabbit_queues(&accounts);
}
