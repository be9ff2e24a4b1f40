//! Shared test plumbing: a local server with scripted faults and a request
//! log, fixtures, a fast HTTP client, draining a source, an in-memory bus,
//! and a log capture.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use smo_bus::{Bus, BusError, ConsumeSpec, Consumer, OutgoingMessage, QueueSpec};
use smo_ingest::http::{HttpClient, HttpOptions, Rate};
use smo_ingest::{IngestError, Rejected, Source};
use smo_proto::{AccountId, Post};

pub fn account() -> AccountId {
    AccountId::new("acme").unwrap()
}

/// A fixture file's text.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"))
}

/// A fixture parsed as JSON.
pub fn fixture_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(path)).unwrap()
}

/// A client with millisecond backoffs so fault tests run fast (but real
/// `Retry-After` waits).
pub fn fast_client() -> Arc<HttpClient> {
    Arc::new(HttpClient::new(fast_options()).unwrap())
}

pub fn fast_options() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_attempts: 4,
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
        default_rate: Rate::new(60_000.0, 1000),
        ..HttpOptions::default()
    }
}

/// A scripted response served instead of the real one.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Fault {
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Self { status, headers: vec![("content-type", content_type.to_owned())], body: body.into() }
    }

    /// 429 with `Retry-After` and the API's own error body.
    pub fn rate_limited(retry_after: &str, json_body: impl Into<String>) -> Self {
        let mut fault = Self::new(429, "application/json", json_body);
        fault.headers.push(("retry-after", retry_after.to_owned()));
        fault
    }

    /// An HTML error page, as load balancers send them.
    pub fn html(status: u16, title: &str) -> Self {
        Self::new(
            status,
            "text/html; charset=utf-8",
            format!(
                "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            ),
        )
    }
}

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        let mut response =
            (StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), self.body)
                .into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value.parse().unwrap());
        }
        response
    }
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub status: u16,
}

#[derive(Clone, Default)]
struct ServerState {
    faults: Arc<Mutex<VecDeque<Fault>>>,
    log: Arc<Mutex<Vec<Logged>>>,
}

/// A local server: the router, behind a layer serving scripted faults first.
pub struct TestServer {
    pub base: String,
    state: ServerState,
}

impl TestServer {
    pub fn push(&self, fault: Fault) {
        self.state.faults.lock().unwrap().push_back(fault);
    }

    pub fn push_n(&self, n: usize, fault: Fault) {
        for _ in 0..n {
            self.push(fault.clone());
        }
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn last(&self) -> Logged {
        self.log().last().cloned().expect("a request")
    }
}

async fn inject(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let path_and_query = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers = request.headers().clone();
    let fault = state.faults.lock().unwrap().pop_front();
    let response = match fault {
        Some(fault) => fault.into_response(),
        None => next.run(request).await,
    };
    state.log.lock().unwrap().push(Logged { path_and_query, headers, status: response.status().as_u16() });
    response
}

pub async fn serve(router: Router) -> TestServer {
    let state = ServerState::default();
    let app = router.layer(axum::middleware::from_fn_with_state(state.clone(), inject));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestServer { base: format!("http://{addr}"), state }
}

/// Answers 304 when the request's `If-None-Match` matches `etag`, else the
/// body with that ETag, the way servers do conditional GET.
pub fn with_etag(headers: &HeaderMap, etag: &str, content_type: &str, body: String) -> Response {
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = ([("content-type", content_type.to_owned())], body).into_response();
    response.headers_mut().insert("etag", etag.parse().unwrap());
    response
}

/// What polling a source to exhaustion gave.
#[derive(Debug, Default)]
pub struct Drained {
    pub posts: Vec<Post>,
    pub rejected: Vec<Rejected>,
    pub cursor: Option<String>,
    pub polls: usize,
}

impl Drained {
    pub fn native_ids(&self) -> Vec<&str> {
        self.posts.iter().map(|p| p.native_id.as_str()).collect()
    }
}

/// Polls until the source says it is exhausted (as one ingest pass does).
pub async fn drain(source: &mut dyn Source, cursor: Option<String>) -> Drained {
    let mut drained = Drained { cursor, ..Drained::default() };
    loop {
        let batch = source.poll(drained.cursor.as_deref()).await.unwrap();
        drained.polls += 1;
        drained.posts.extend(batch.posts);
        drained.rejected.extend(batch.rejected);
        drained.cursor = batch.next_cursor.or(drained.cursor);
        if batch.exhausted {
            return drained;
        }
        assert!(drained.polls < 50, "the source never drains");
    }
}

/// The fault handling every connector must show: a 429 with `Retry-After`
/// is waited out, a burst of 5xx is retried through, a longer one is a clear
/// HTTP error, and a malformed page is a clear bad-response error.
pub async fn check_fault_handling(
    server: &TestServer,
    source: &mut dyn Source,
    cursor: Option<&str>,
    rate_limited_body: &str,
    malformed: Fault,
    malformed_says: &str,
) {
    server.push(Fault::rate_limited("1", rate_limited_body));
    let started = Instant::now();
    source.poll(cursor).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "Retry-After waited: {:?}", started.elapsed());
    assert_eq!(server.log().iter().filter(|l| l.status == 429).count(), 1);

    server.push_n(3, Fault::html(503, "503 Service Temporarily Unavailable"));
    source.poll(cursor).await.unwrap();

    server.push_n(4, Fault::html(502, "502 Bad Gateway"));
    match source.poll(cursor).await {
        Err(IngestError::Http { reason, .. }) => {
            assert!(reason.contains("502") && reason.contains("502 Bad Gateway"), "{reason}")
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }

    server.push(malformed);
    match source.poll(cursor).await {
        Err(IngestError::BadResponse { reason, .. }) => assert!(reason.contains(malformed_says), "{reason}"),
        other => panic!("expected a bad-response error, got {other:?}"),
    }

    server.push(Fault::html(200, "Sign in"));
    match source.poll(cursor).await {
        Err(IngestError::BadResponse { reason, .. }) => {
            assert!(reason.contains("HTML page titled \"Sign in\""), "{reason}")
        }
        other => panic!("expected a bad-response error, got {other:?}"),
    }
}

/// A bus that records what was published, and can be told to fail.
#[derive(Default)]
pub struct RecordingBus {
    pub published: Mutex<Vec<(String, OutgoingMessage)>>,
    pub fail: AtomicBool,
}

impl RecordingBus {
    pub fn posts(&self) -> Vec<Post> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|(exchange, _)| exchange == smo_proto::topology::POSTS_EXCHANGE)
            .map(|(_, m)| serde_json::from_slice(&m.payload).unwrap())
            .collect()
    }

    pub fn dead_letters(&self) -> Vec<OutgoingMessage> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|(exchange, _)| exchange == smo_proto::topology::DEAD_LETTER_EXCHANGE)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

#[async_trait]
impl Bus for RecordingBus {
    async fn declare_exchange(&self, _name: &str) -> Result<(), BusError> {
        Ok(())
    }
    async fn declare_queue(&self, _spec: &QueueSpec) -> Result<(), BusError> {
        Ok(())
    }
    async fn bind(&self, _queue: &str, _exchange: &str, _pattern: &str) -> Result<(), BusError> {
        Ok(())
    }
    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(BusError::Connection("broker unreachable (test)".into()));
        }
        let mut published = self.published.lock().unwrap();
        published.extend(messages.iter().map(|m| (exchange.to_owned(), m.clone())));
        Ok(())
    }
    async fn consume(&self, _spec: &ConsumeSpec) -> Result<Box<dyn Consumer>, BusError> {
        Err(BusError::Connection("the test bus does not consume".into()))
    }
    async fn queue_depth(&self, _queue: &str) -> Result<u64, BusError> {
        Ok(0)
    }
}

/// Every tracing event (level, target, message and fields, as a subscriber
/// printing them would show) emitted on this thread while the guard lives;
/// tests use it to prove a credential never reaches a log line.
pub struct CapturedLogs {
    lines: Arc<Mutex<Vec<String>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

/// Starts capturing (for `#[tokio::test]`, whose runtime and server run on
/// the test's thread).
pub fn capture_logs() -> CapturedLogs {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let subscriber = LineSubscriber { lines: Arc::clone(&lines), spans: AtomicU64::new(1) };
    CapturedLogs { lines, _guard: tracing::subscriber::set_default(subscriber) }
}

struct LineSubscriber {
    lines: Arc<Mutex<Vec<String>>>,
    spans: AtomicU64,
}

/// Writes fields as `name=value`.
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for LineSubscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = Fields(format!("span {}", span.metadata().name()));
        span.record(&mut fields);
        self.lines.lock().unwrap().push(fields.0);
        tracing::span::Id::from_u64(self.spans.fetch_add(1, Ordering::SeqCst))
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut fields = Fields("span record".into());
        values.record(&mut fields);
        self.lines.lock().unwrap().push(fields.0);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let meta = event.metadata();
        let mut fields = Fields(format!("{} {}", meta.level(), meta.target()));
        event.record(&mut fields);
        self.lines.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
