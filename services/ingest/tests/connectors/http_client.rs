//! The shared HTTP client against a local server: gzip, redirects, size
//! caps, timeouts, `Retry-After` dates, rate limits and redaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use reqwest::Url;
use smo_ingest::IngestError;
use smo_ingest::http::{HttpClient, HttpOptions, HttpRequest, Rate, Validators};

use crate::common::{Fault, TestServer, fast_options, serve};

/// CRC-32 (IEEE), for a hand-made gzip member.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// `data` as a gzip member with one stored (uncompressed) deflate block.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let len = data.len() as u16;
    out.push(1);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

async fn gzipped(headers: HeaderMap) -> Response {
    let accepts = headers.get("accept-encoding").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(accepts.contains("gzip"), "the client asks for gzip: {accepts:?}");
    ([("content-type", "application/json"), ("content-encoding", "gzip")], gzip(br#"{"ok": true}"#))
        .into_response()
}

async fn hop(Path(n): Path<u32>) -> Redirect {
    Redirect::temporary(&format!("/hop/{}", n + 1))
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(3)).await;
    "{}"
}

async fn big() -> String {
    format!("[{}]", vec!["1"; 5000].join(","))
}

async fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        [("content-type", "application/json")],
        r#"{"error": "The access token is invalid"}"#,
    )
        .into_response()
}

async fn spent() -> Response {
    ([("x-ratelimit-remaining", "0.0"), ("x-ratelimit-reset", "2"), ("x-ratelimit-used", "100")], "{}")
        .into_response()
}

async fn server() -> TestServer {
    let router = Router::new()
        .route("/gzip", get(gzipped))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/hop/{n}", get(hop))
        .route("/slow", get(slow))
        .route("/big", get(big))
        .route("/forbidden", get(forbidden))
        .route("/spent", get(spent))
        .route("/ok", get(|| async { ([("content-type", "application/json")], "{}") }));
    serve(router).await
}

fn client(options: HttpOptions) -> Arc<HttpClient> {
    Arc::new(HttpClient::new(options).unwrap())
}

fn request(server: &TestServer, path: &str) -> HttpRequest {
    HttpRequest::get(Url::parse(&format!("{}{path}", server.base)).unwrap())
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let server = server().await;
    let response = client(fast_options()).get("t", &request(&server, "/gzip")).await.unwrap();
    assert_eq!(response.json::<serde_json::Value>("t").unwrap(), serde_json::json!({"ok": true}));
}

#[tokio::test]
async fn redirect_loops_and_chains_are_errors() {
    let server = server().await;
    let http = client(fast_options());
    let err = http.get("t", &request(&server, "/loop")).await.unwrap_err().to_string();
    assert!(err.contains("redirect loop"), "{err}");
    let err = http.get("t", &request(&server, "/hop/0")).await.unwrap_err().to_string();
    assert!(err.contains("more than 5 redirects"), "{err}");
    assert!(server.log().len() < 10, "not retried: {}", server.log().len());
}

#[tokio::test]
async fn huge_bodies_and_slow_servers_are_errors_not_hangs() {
    let server = server().await;
    let http =
        client(HttpOptions { max_body_bytes: 1000, timeout: Duration::from_millis(300), ..fast_options() });
    match http.get("t", &request(&server, "/big")).await {
        Err(IngestError::BadResponse { reason, .. }) => {
            assert!(reason.contains("larger than 1000 bytes"), "{reason}")
        }
        other => panic!("expected a size error, got {other:?}"),
    }
    let started = Instant::now();
    match http.get("t", &request(&server, "/slow")).await {
        Err(IngestError::Http { reason, .. }) => assert!(reason.contains("timed out"), "{reason}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn retry_after_dates_are_honoured_and_long_waits_end_the_poll() {
    let server = server().await;
    let http = client(fast_options());
    let in_two_seconds = chrono::Utc::now() + chrono::Duration::seconds(2);
    let date = in_two_seconds.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let mut unavailable = Fault::html(503, "Maintenance");
    unavailable.headers.push(("retry-after", date));
    server.push(unavailable);
    let started = Instant::now();
    http.get("t", &request(&server, "/ok")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());

    server.push(Fault::rate_limited("3600", r#"{"error": "slow down"}"#));
    let started = Instant::now();
    match http.get("t", &request(&server, "/ok")).await {
        Err(error @ IngestError::RateLimited { .. }) => {
            assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
            assert!(error.to_string().contains("retry after 3600s"), "{error}");
        }
        other => panic!("expected a rate-limit error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1), "an hour is not slept inside a poll");
}

#[tokio::test]
async fn errors_carry_the_api_message_and_never_a_credential() {
    let server = server().await;
    let http = client(fast_options());
    let mut secret_url = request(&server, "/forbidden?access_token=tok_SECRET&q=1");
    secret_url.bearer = Some(smo_ingest::credentials::Secret::new("bearer_SECRET"));
    let err = http.get("t", &secret_url).await.unwrap_err().to_string();
    assert!(err.contains("403") && err.contains("The access token is invalid"), "{err}");
    assert!(!err.contains("SECRET") && err.contains("access_token=***"), "{err}");

    let unreachable = HttpRequest::get(Url::parse("http://127.0.0.1:1/x?key=AIzaSECRET").unwrap());
    let err =
        client(HttpOptions { max_attempts: 1, ..fast_options() }).get("t", &unreachable).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("connection failed") && !text.contains("AIzaSECRET"), "{text}");
}

#[tokio::test]
async fn hosts_are_rate_limited_and_spent_budgets_pause_them() {
    let server = server().await;
    let http = client(fast_options());
    let rate = Some(Rate::new(120.0, 1));
    let started = Instant::now();
    for _ in 0..3 {
        http.get("t", &request(&server, "/ok").rate(rate)).await.unwrap();
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "two waits of 0.5s: {elapsed:?}");

    // Reddit-style headers saying the budget is spent hold the next request.
    let http = client(fast_options());
    http.get("t", &request(&server, "/spent")).await.unwrap();
    let started = Instant::now();
    http.get("t", &request(&server, "/ok")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1900), "{:?}", started.elapsed());
}

#[tokio::test]
async fn conditional_requests_send_the_validators() {
    let server = server().await;
    let http = client(fast_options());
    let validators = Validators {
        etag: Some("\"abc\"".into()),
        last_modified: Some("Mon, 02 Nov 2026 10:00:00 GMT".into()),
    };
    server.push(Fault::new(304, "text/plain", ""));
    let response = http.get("t", &request(&server, "/ok").validators(validators)).await.unwrap();
    assert!(response.not_modified());
    let seen = server.last().headers;
    assert_eq!(seen.get("if-none-match").unwrap(), "\"abc\"");
    assert_eq!(seen.get("if-modified-since").unwrap(), "Mon, 02 Nov 2026 10:00:00 GMT");
}
