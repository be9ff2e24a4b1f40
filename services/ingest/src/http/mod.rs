//! HTTP done once for every connector: one client per process (connection
//! pool, rustls, gzip), timeouts, a per-host token-bucket [`RateLimiter`],
//! retries of 429 and 5xx with `Retry-After` honoured and otherwise
//! exponential backoff with jitter, conditional requests (ETag /
//! `If-Modified-Since`), a body size cap and a redirect limit with loop
//! detection. Failures are typed [`IngestError`]s with a clear reason (an
//! API's message, the title of an HTML error page) and never carry
//! credentials: URLs in messages have secret query parameters redacted.

pub mod headers;
mod rate_limit;
mod redact;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use smo_runtime::backoff::Backoff;

pub use rate_limit::{Rate, RateLimiter};
pub use redact::{redact_str, redact_url};

use crate::IngestError;
use crate::credentials::Secret;

/// Limits and retry policy of the HTTP client.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Largest body read (after decompression); larger ones are an error.
    pub max_body_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Tries per request, the first included, for retryable failures.
    pub max_attempts: u32,
    /// First backoff delay after a retryable failure.
    pub backoff_initial: Duration,
    /// Cap of the backoff delay.
    pub backoff_max: Duration,
    /// Longest `Retry-After` slept inside a request; a longer one ends the
    /// poll with [`IngestError::RateLimited`] so the worker is not held.
    pub max_retry_after: Duration,
    /// Rate of hosts whose source names none.
    pub default_rate: Rate,
    /// `User-Agent` sent (Reddit refuses generic ones).
    pub user_agent: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 16 * 1024 * 1024,
            max_redirects: 5,
            max_attempts: 4,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            default_rate: Rate::new(60.0, 5),
            user_agent: concat!("smo/", env!("CARGO_PKG_VERSION"), " (social-media monitoring)").to_owned(),
        }
    }
}

/// Validators of a previous response, sent back as `If-None-Match` /
/// `If-Modified-Since` so an unchanged resource costs a 304. Connectors keep
/// them in their cursor, so they are only reused once the posts of that
/// response are confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// `ETag` of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// One GET to make.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The URL, query included.
    pub url: Url,
    /// Extra headers (`Accept`, …).
    pub headers: Vec<(&'static str, String)>,
    /// Bearer token for `Authorization`.
    pub bearer: Option<Secret>,
    /// Validators for a conditional request.
    pub validators: Validators,
    /// Rate of the URL's host; the client's default when `None`.
    pub rate: Option<Rate>,
    /// Whole-request timeout overriding the client's.
    pub timeout: Option<Duration>,
}

impl HttpRequest {
    /// A plain GET of `url`.
    pub fn get(url: Url) -> Self {
        Self {
            url,
            headers: Vec::new(),
            bearer: None,
            validators: Validators::default(),
            rate: None,
            timeout: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sends `Authorization: Bearer …` when a token is given.
    pub fn bearer(mut self, token: Option<&Secret>) -> Self {
        self.bearer = token.cloned();
        self
    }

    /// Makes the request conditional.
    pub fn validators(mut self, validators: Validators) -> Self {
        self.validators = validators;
        self
    }

    /// Sets the host's rate.
    pub fn rate(mut self, rate: Option<Rate>) -> Self {
        self.rate = rate;
        self
    }

    /// Sets this request's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// A successful (2xx) or not-modified (304) response, body read.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The URL finally answered (after redirects), secrets redacted.
    pub url: String,
    /// Validators to send next time.
    pub validators: Validators,
    /// The `Link` header, for RFC 8288 pagination.
    pub link: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body (decompressed; empty for 304).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// True for 304 Not Modified: nothing changed since the validators.
    pub fn not_modified(&self) -> bool {
        self.status == StatusCode::NOT_MODIFIED.as_u16()
    }

    /// The body parsed as `T`; an HTML page, malformed JSON or a document of
    /// the wrong shape is a [`IngestError::BadResponse`] saying which.
    pub fn json<T: DeserializeOwned>(&self, source_name: &str) -> Result<T, IngestError> {
        if headers::looks_like_html(self.content_type.as_deref(), &self.body) {
            return Err(self.bad(
                source_name,
                format!("expected JSON, got {}", headers::describe_body(Some("text/html"), &self.body)),
            ));
        }
        serde_json::from_slice(&self.body).map_err(|error| {
            let what = if error.is_syntax() || error.is_eof() { "malformed JSON" } else { "unexpected JSON" };
            self.bad(
                source_name,
                format!(
                    "{what}: {error}; {}",
                    headers::describe_body(self.content_type.as_deref(), &self.body)
                ),
            )
        })
    }

    /// A [`IngestError::BadResponse`] about this response.
    pub fn bad(&self, source_name: &str, reason: impl Into<String>) -> IngestError {
        IngestError::BadResponse {
            source_name: source_name.to_owned(),
            url: self.url.clone(),
            reason: reason.into(),
        }
    }
}

/// The HTTP client of the process, shared by every source.
#[derive(Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    options: HttpOptions,
    limiter: RateLimiter,
}

/// What one attempt gave.
enum Attempt {
    Done(HttpResponse),
    Retry { reason: String, wait: Option<Duration>, rate_limited: bool },
}

impl HttpClient {
    /// A client with `options`; tests make their own with short delays.
    pub fn new(options: HttpOptions) -> Result<Self, IngestError> {
        let max_redirects = options.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().iter().any(|seen| seen == attempt.url()) {
                let target = redact_url(attempt.url());
                attempt.error(format!("redirect loop back to {target}"))
            } else if attempt.previous().len() > max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(options.user_agent.clone())
            .redirect(redirects)
            .build()
            .map_err(|e| IngestError::Config {
                source_name: "http".into(),
                key: "http".into(),
                reason: format!("cannot build the HTTP client: {}", e.without_url()),
            })?;
        Ok(Self { client, options, limiter: RateLimiter::new() })
    }

    /// The process-wide client with default options, built on first use.
    pub fn shared() -> Result<Arc<Self>, IngestError> {
        static SHARED: OnceLock<Arc<HttpClient>> = OnceLock::new();
        if let Some(client) = SHARED.get() {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(Self::new(HttpOptions::default())?);
        Ok(Arc::clone(SHARED.get_or_init(|| client)))
    }

    /// The client's options.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// The per-host rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// GETs `request` for `source_name`: waits for the host's rate limiter,
    /// retries timeouts, connection failures, 429 and 5xx (honouring
    /// `Retry-After`, else backing off with jitter), and returns a 2xx or
    /// 304 response with its body, or an error saying what went wrong.
    pub async fn get(&self, source_name: &str, request: &HttpRequest) -> Result<HttpResponse, IngestError> {
        let safe_url = redact_url(&request.url);
        let host = request.url.host_str().unwrap_or("").to_owned();
        let mut backoff = Backoff::new(self.options.backoff_initial, self.options.backoff_max);
        let attempts = self.options.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            self.limiter.acquire_or_default(&host, request.rate, self.options.default_rate).await;
            match self.attempt(source_name, request, &safe_url, &host).await? {
                Attempt::Done(response) => return Ok(response),
                Attempt::Retry { reason, wait, rate_limited } => {
                    if let Some(wait) = wait {
                        self.limiter.pause(&host, wait);
                        if wait > self.options.max_retry_after || (rate_limited && attempt >= attempts) {
                            return Err(IngestError::RateLimited {
                                source_name: source_name.to_owned(),
                                url: safe_url,
                                retry_after_secs: wait.as_secs().max(1),
                            });
                        }
                    }
                    if attempt >= attempts {
                        return Err(IngestError::Http {
                            source_name: source_name.to_owned(),
                            url: safe_url,
                            reason: format!("{reason} (gave up after {attempts} attempts)"),
                        });
                    }
                    let delay = wait.unwrap_or_else(|| backoff.next_delay());
                    tracing::warn!(source = source_name, url = %safe_url, %reason, attempt, delay_ms = delay.as_millis() as u64, "retrying request");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        source_name: &str,
        request: &HttpRequest,
        safe_url: &str,
        host: &str,
    ) -> Result<Attempt, IngestError> {
        let http_error = |reason: String| IngestError::Http {
            source_name: source_name.to_owned(),
            url: safe_url.to_owned(),
            reason,
        };
        let mut builder = self.client.get(request.url.clone());
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(token) = &request.bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| http_error("the bearer token is not a valid header value".into()))?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(etag) = &request.validators.etag {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &request.validators.last_modified {
            builder = builder.header(header::IF_MODIFIED_SINCE, modified);
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                crate::metrics::count_request(host, None);
                let reason = transport_reason(&error);
                return if error.is_redirect() || error.is_builder() {
                    Err(http_error(reason))
                } else {
                    Ok(Attempt::Retry { reason, wait: None, rate_limited: false })
                };
            }
        };
        let status = response.status();
        crate::metrics::count_request(host, Some(status.as_u16()));
        let headers = response.headers().clone();
        let final_url = redact_url(response.url());
        let now = SystemTime::now();
        if let Some(wait) = headers::exhausted_budget(&headers, now) {
            // The budget is spent: hold the host until it refills.
            self.limiter.pause(host, wait);
        }
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Attempt::Done(HttpResponse {
                status: status.as_u16(),
                url: final_url,
                validators: request.validators.clone(),
                link: None,
                content_type: None,
                body: Vec::new(),
            }));
        }
        let content_type = headers::header_str(&headers, "content-type").map(str::to_owned);
        let body = match self.read_body(&mut response).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Err(IngestError::BadResponse {
                    source_name: source_name.to_owned(),
                    url: final_url,
                    reason: format!("body larger than {} bytes", self.options.max_body_bytes),
                });
            }
            Err(BodyError::Read(error)) => {
                return Ok(Attempt::Retry {
                    reason: format!("reading the body failed: {}", transport_reason(&error)),
                    wait: None,
                    rate_limited: false,
                });
            }
        };
        if status.is_success() {
            return Ok(Attempt::Done(HttpResponse {
                status: status.as_u16(),
                url: final_url,
                validators: validators_of(&headers),
                link: headers::header_str(&headers, "link").map(str::to_owned),
                content_type,
                body,
            }));
        }
        let reason = format!("status {status}: {}", headers::describe_body(content_type.as_deref(), &body));
        let retry_after =
            headers::header_str(&headers, "retry-after").and_then(|v| headers::parse_retry_after(v, now));
        let rate_limited = status == StatusCode::TOO_MANY_REQUESTS;
        if rate_limited || status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            let wait =
                retry_after.or(if rate_limited { headers::exhausted_budget(&headers, now) } else { None });
            return Ok(Attempt::Retry { reason, wait, rate_limited: rate_limited || wait.is_some() });
        }
        Err(IngestError::Http { source_name: source_name.to_owned(), url: final_url, reason })
    }

    async fn read_body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, BodyError> {
        let limit = self.options.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit as u64) {
            return Err(BodyError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
            if body.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

fn validators_of(headers: &HeaderMap) -> Validators {
    Validators {
        etag: headers::header_str(headers, "etag").map(str::to_owned),
        last_modified: headers::header_str(headers, "last-modified").map(str::to_owned),
    }
}

/// A transport error in words, without the URL (which may hold a key) and
/// with its causes, which is where reqwest keeps the useful part.
fn transport_reason(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let mut reason = kind.to_owned();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let text = redact_inline(&inner.to_string());
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        cause = inner.source();
    }
    reason
}

/// Redacts URLs that appear inside free text (error causes quoting them).
fn redact_inline(text: &str) -> String {
    text.split(' ')
        .map(
            |word| {
                if word.contains("://") { redact_str(word.trim_matches(['(', ')'])) } else { word.to_owned() }
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the URL of a connector points: joins `path` onto `base` (which may
/// carry a path prefix) and checks it is http(s).
pub fn join_url(source_name: &str, key: &str, base: &str, path: &str) -> Result<Url, IngestError> {
    let config = |reason: String| IngestError::Config {
        source_name: source_name.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let mut url =
        Url::parse(base.trim()).map_err(|e| config(format!("{:?} is not a URL: {e}", redact_str(base))))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(config(format!("{:?} is not an http(s) URL", redact_str(base))));
    }
    let prefix = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/{}", path.trim_start_matches('/')));
    Ok(url)
}
