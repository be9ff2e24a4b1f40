//! The ingest loop: the cursor moves only after the broker confirmed, a
//! failing source is marked unhealthy while the others keep running, a hung
//! poll times out, a long backfill does not hold up polled sources.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use smo_bus::{Bus, BusError, ConsumeSpec, Consumer, OutgoingMessage, QueueSpec};
use smo_ingest::scheduler::{poll_forever, run_sources};
use smo_ingest::{
    FileSourceConfig, HackerNewsConfig, IngestError, Ingestor, MemoryCheckpoints, Polling, ScanLimits,
    Source, SourceBatch, SourceConfig,
};
use smo_proto::Post;
use tokio::sync::watch;

use crate::common::{Fault, RecordingBus, account, fast_client, fixture_json, serve};

async fn hits(Query(params): Query<HashMap<String, String>>) -> Response {
    let mut body = fixture_json("hackernews/search_by_date.json");
    if params.contains_key("numericFilters") {
        body["hits"] = serde_json::json!([]);
    }
    axum::Json(body).into_response()
}

fn hn(base: &str, name: &str) -> SourceConfig {
    SourceConfig::HackerNews(Box::new(HackerNewsConfig {
        name: name.into(),
        query: "skyways".into(),
        tags: "(story,comment)".into(),
        base_url: base.into(),
        hits_per_page: 100,
        scan: ScanLimits { initial_pages: 1, max_pages: 2 },
        polling: Polling::every(1),
    }))
}

#[tokio::test]
async fn the_cursor_moves_only_after_the_broker_confirmed() {
    let server = serve(Router::new().route("/api/v1/search_by_date", get(hits))).await;
    let bus = Arc::new(RecordingBus::default());
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Ingestor::new(account(), bus.clone(), checkpoints.clone());
    let mut source = hn(&server.base, "hn").build_with(&account(), fast_client()).unwrap();

    bus.fail.store(true, Ordering::SeqCst);
    let err = ingestor.run_until_exhausted(source.as_mut(), &|| false).await.unwrap_err();
    assert!(matches!(err, IngestError::Bus(_)), "{err}");
    let state = checkpoints.get(&account(), "hackernews:hn").unwrap();
    assert_eq!(state.cursor, None, "nothing confirmed, nothing checkpointed");
    assert!(state.last_error.unwrap().contains("broker unreachable"));
    assert!(
        smo_runtime::metrics::render()
            .contains(r#"smo_ingest_source_healthy{account="acme",source="hackernews:hn"} 0"#)
    );

    bus.fail.store(false, Ordering::SeqCst);
    let stats = ingestor.run_until_exhausted(source.as_mut(), &|| false).await.unwrap();
    assert_eq!(stats.published, 5, "seven hits: one deleted comment, one unreadable");
    assert_eq!(stats.rejected, 1);
    let state = checkpoints.get(&account(), "hackernews:hn").unwrap();
    assert!(state.cursor.is_some() && state.last_error.is_none());
    assert_eq!(state.posts_fetched, 5);
    let metrics = smo_runtime::metrics::render();
    assert!(
        metrics.contains(r#"smo_ingest_posts_fetched_total{account="acme",source="hackernews:hn"} 5"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"smo_ingest_source_healthy{account="acme",source="hackernews:hn"} 1"#));
    assert!(
        metrics.contains(r#"smo_ingest_errors_total{account="acme",source="hackernews:hn",kind="bus"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("smo_ingest_http_requests_total{host=\"127.0.0.1\",status=\"200\"}"));
}

#[tokio::test]
async fn a_failing_source_is_marked_unhealthy_while_the_others_keep_running() {
    let good = serve(Router::new().route("/api/v1/search_by_date", get(hits))).await;
    let bad = serve(Router::new()).await;
    bad.push_n(100, Fault::html(500, "500 Internal Server Error"));
    let bus = Arc::new(RecordingBus::default());
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Arc::new(Ingestor::new(account(), bus.clone(), checkpoints.clone()));
    let (stop, stopped) = watch::channel(false);
    let http = fast_client();
    let tasks = [hn(&good.base, "good"), hn(&bad.base, "bad")].map(|config| {
        tokio::spawn(poll_forever(Arc::clone(&ingestor), config, Arc::clone(&http), stopped.clone()))
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.send(true).unwrap();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("stops on shutdown").unwrap();
    }
    let good_state = checkpoints.get(&account(), "hackernews:good").unwrap();
    assert_eq!(good_state.posts_fetched, 5);
    assert!(good_state.last_error.is_none());
    assert!(good.log().len() >= 2, "polled on its interval: {}", good.log().len());
    let bad_state = checkpoints.get(&account(), "hackernews:bad").unwrap();
    assert!(bad_state.cursor.is_none());
    assert!(bad_state.last_error.unwrap().contains("500"));
    assert_eq!(bus.posts().len(), 5, "the good source's posts, published once (ids are stable)");
}

struct Hung;

#[async_trait]
impl Source for Hung {
    fn name(&self) -> &str {
        "test:hung"
    }
    async fn poll(&mut self, _cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(SourceBatch::default())
    }
}

#[tokio::test]
async fn a_hung_poll_times_out_instead_of_holding_the_worker() {
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Ingestor::new(account(), Arc::new(RecordingBus::default()), checkpoints.clone())
        .with_poll_timeout(Duration::from_millis(100));
    let err = ingestor.run_until_exhausted(&mut Hung, &|| false).await.unwrap_err();
    assert!(matches!(err, IngestError::Timeout { .. }), "{err}");
    assert!(checkpoints.get(&account(), "test:hung").unwrap().last_error.unwrap().contains("did not finish"));
}

/// A bus that holds back the posts of file sources until the test opens its
/// gate, standing for a backfill too long to finish before polling is due.
struct GatedBus {
    inner: RecordingBus,
    open: watch::Receiver<bool>,
}

#[async_trait]
impl Bus for GatedBus {
    async fn declare_exchange(&self, name: &str) -> Result<(), BusError> {
        self.inner.declare_exchange(name).await
    }
    async fn declare_queue(&self, spec: &QueueSpec) -> Result<(), BusError> {
        self.inner.declare_queue(spec).await
    }
    async fn bind(&self, queue: &str, exchange: &str, pattern: &str) -> Result<(), BusError> {
        self.inner.bind(queue, exchange, pattern).await
    }
    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
        let from_file = messages.iter().any(|m| {
            serde_json::from_slice::<Post>(&m.payload).is_ok_and(|post| post.source.starts_with("file:"))
        });
        if from_file {
            let mut open = self.open.clone();
            open.wait_for(|open| *open).await.map_err(|_| BusError::Connection("gate dropped".into()))?;
        }
        self.inner.publish(exchange, messages).await
    }
    async fn consume(&self, spec: &ConsumeSpec) -> Result<Box<dyn Consumer>, BusError> {
        self.inner.consume(spec).await
    }
    async fn queue_depth(&self, queue: &str) -> Result<u64, BusError> {
        self.inner.queue_depth(queue).await
    }
}

/// Waits until `done` holds; a generous cap turns a hang into a failure.
async fn until(what: &str, done: impl Fn() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "never happened: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_backfill_does_not_hold_up_polled_sources() {
    let server = serve(Router::new().route("/api/v1/search_by_date", get(hits))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.ndjson");
    let lines: String = (0..3)
        .map(|i| {
            format!(
                "{{\"id\": \"a{i}\", \"text\": \"old complaint {i}\", \"author_handle\": \"u{i}\", \"created_at\": \"2025-01-0{}T10:00:00Z\"}}\n",
                i + 1
            )
        })
        .collect();
    std::fs::write(&path, lines).unwrap();
    let file =
        SourceConfig::File(FileSourceConfig { name: "archive".into(), path, format: None, batch_size: 1 });

    let (gate, open) = watch::channel(false);
    let bus = Arc::new(GatedBus { inner: RecordingBus::default(), open });
    let checkpoints = Arc::new(MemoryCheckpoints::default());
    let ingestor = Arc::new(Ingestor::new(account(), bus.clone(), checkpoints.clone()));
    let (stop, stopped) = watch::channel(false);
    // The backfill comes first, as in the config; it cannot publish yet.
    let run = tokio::spawn(run_sources(ingestor, vec![file, hn(&server.base, "hn")], fast_client(), stopped));

    let polled = || checkpoints.get(&account(), "hackernews:hn").is_some_and(|s| s.posts_fetched == 5);
    until("the polled source publishes while the backfill is in progress", polled).await;
    assert_eq!(
        checkpoints.get(&account(), "file:archive").and_then(|s| s.cursor),
        None,
        "the backfill is still held at its first batch"
    );

    gate.send(true).unwrap();
    let backfilled = || checkpoints.get(&account(), "file:archive").is_some_and(|s| s.posts_fetched == 3);
    until("the backfill finishes", backfilled).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), run).await.expect("stops on shutdown").unwrap();
    let posts = bus.inner.posts();
    assert_eq!(posts.iter().filter(|p| p.source == "file:archive").count(), 3);
    assert_eq!(posts.iter().filter(|p| p.source == "hackernews").count(), 5, "polled once (ids are stable)");
}
