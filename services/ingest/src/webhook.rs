//! The webhook receiver: platforms and glue services POST posts to
//! `/webhooks/{account}/{name}` (or a configured path). Each request must be
//! signed: `X-Smo-Timestamp` is the Unix time in seconds, and
//! `X-Smo-Signature` is `sha256=` followed by the hex HMAC-SHA256 of
//! `{timestamp}.{body}` with the source's shared secret. The signature is
//! compared in constant time; timestamps outside the tolerance window are
//! refused so a captured request cannot be replayed later, and a replay
//! inside the window is answered without publishing again.
//!
//! The body is JSON: one post, an array of posts, or `{"posts": [...]}`, each
//! with the backfill field names (`id`, `text`, `author_handle`,
//! `created_at`, …). The response is sent only after the broker confirmed
//! the posts (`200 {"accepted": n, "rejected": m}`); if publishing fails the
//! sender gets a 503 and retries, so nothing is lost.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use smo_proto::AccountId;
use smo_runtime::FieldError;
use tokio::sync::watch;

use crate::credentials::Secret;
use crate::http::HttpClient;
use crate::record::PostRecord;
use crate::{Connector, Source};
use crate::{IngestError, Ingestor, Rejected, SourceBatch};

/// The signing scheme is the wire contract's, shared with smo's outbound
/// webhooks; re-exported for senders that only know this module.
pub use smo_proto::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

/// Configuration of a webhook source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name of the source within its account; posts and checkpoints use `webhook:{name}`.
    pub name: String,
    /// Address to listen on, e.g. `0.0.0.0:8088` (sources may share one).
    pub listen: String,
    /// Route path; default `/webhooks/{account}/{name}`.
    #[serde(default)]
    pub path: Option<String>,
    /// Shared secret inline (prefer `secret_env`).
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Environment variable holding the shared secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Largest accepted clock difference, in seconds.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: u64,
    /// Largest accepted body.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
}

fn default_tolerance() -> u64 {
    300
}
fn default_max_body() -> usize {
    1024 * 1024
}

impl WebhookConfig {
    /// Checks the config; errors name the key.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.listen_addr().map_err(|reason| FieldError::new("listen", reason))?;
        if let Some(path) = &self.path
            && !path.starts_with('/')
        {
            return Err(FieldError::new("path", format!("{path:?} must start with /")));
        }
        if !crate::credentials::is_configured(self.secret.as_ref(), &self.secret_env) {
            return Err(FieldError::new(
                "secret_env",
                "a shared secret is required: set secret_env (or secret)",
            ));
        }
        if self.tolerance_secs == 0 {
            return Err(FieldError::new("tolerance_secs", "must be at least 1"));
        }
        if self.max_body_bytes == 0 {
            return Err(FieldError::new("max_body_bytes", "must be at least 1"));
        }
        Ok(())
    }

    /// The address to listen on.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen
            .trim()
            .parse()
            .map_err(|e| format!("{:?} is not an address like 127.0.0.1:8088: {e}", self.listen))
    }
}

impl Connector for WebhookConfig {
    fn kind(&self) -> &'static str {
        "webhook"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interval_secs(&self) -> Option<u64> {
        None
    }
    fn validate(&self) -> Result<(), FieldError> {
        WebhookConfig::validate(self)
    }
    fn build(&self, _: AccountId, _: Arc<HttpClient>) -> Result<Box<dyn Source>, IngestError> {
        Err(IngestError::Config {
            source_name: format!("webhook:{}", self.name),
            key: "kind".into(),
            reason: "a webhook is served (smo run --roles ingest), not polled".into(),
        })
    }
}

/// One configured webhook of one account, ready to serve.
pub struct WebhookEndpoint {
    account: AccountId,
    source_name: String,
    path: String,
    secret: Secret,
    tolerance_secs: u64,
    max_body_bytes: usize,
    ingestor: Arc<Ingestor>,
    /// Signatures accepted recently (within the tolerance window), by the
    /// timestamp they carried.
    accepted: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("source", &self.source_name)
            .field("path", &self.path)
            .finish()
    }
}

impl WebhookEndpoint {
    /// The endpoint of `config` for `account`, publishing through `ingestor`.
    pub fn new(
        account: AccountId,
        config: &WebhookConfig,
        ingestor: Arc<Ingestor>,
    ) -> Result<Self, IngestError> {
        let source_name = format!("webhook:{}", config.name);
        config.validate().map_err(IngestError::invalid_config(&source_name))?;
        let secret = crate::credentials::resolve(
            &source_name,
            config.secret.as_ref(),
            "secret_env",
            config.secret_env.as_deref(),
        )?
        .ok_or_else(|| IngestError::Config {
            source_name: source_name.clone(),
            key: "secret_env".into(),
            reason: "no shared secret".into(),
        })?;
        let path = config.path.clone().unwrap_or_else(|| format!("/webhooks/{account}/{}", config.name));
        Ok(Self {
            account,
            source_name,
            path,
            secret,
            tolerance_secs: config.tolerance_secs,
            max_body_bytes: config.max_body_bytes,
            ingestor,
            accepted: Mutex::new(HashMap::new()),
        })
    }

    /// The route path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The source name (`webhook:{name}`).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(i64, String), (StatusCode, String)> {
        let unauthorized = |reason: String| (StatusCode::UNAUTHORIZED, reason);
        let timestamp = headers
            .get(TIMESTAMP_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| unauthorized(format!("missing or unreadable {TIMESTAMP_HEADER}")))?;
        if now.abs_diff(timestamp) > self.tolerance_secs {
            return Err(unauthorized(format!(
                "{TIMESTAMP_HEADER} is outside the {}s tolerance window (stale or replayed request)",
                self.tolerance_secs
            )));
        }
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_start_matches("sha256=").to_ascii_lowercase())
            .ok_or_else(|| unauthorized(format!("missing {SIGNATURE_HEADER}")))?;
        // Compared in constant time.
        if !smo_proto::signature::verify(self.secret.expose().as_bytes(), timestamp, body, &signature) {
            return Err(unauthorized("signature does not match".into()));
        }
        Ok((timestamp, signature))
    }

    /// True when this signature was already accepted (a replay within the
    /// window); forgets signatures older than the window.
    fn already_accepted(&self, signature: &str, now: i64) -> bool {
        let mut accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        let window = self.tolerance_secs as i64;
        accepted.retain(|_, at| now.saturating_sub(*at) <= window * 2);
        accepted.contains_key(signature)
    }

    fn remember(&self, signature: String, timestamp: i64) {
        self.accepted.lock().unwrap_or_else(|p| p.into_inner()).insert(signature, timestamp);
    }

    /// Turns a body into a batch: posts and the items that are not posts.
    fn batch_of(&self, body: &[u8]) -> Result<SourceBatch, String> {
        let document: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
        let items = match document {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(mut map) if map.contains_key("posts") => match map.remove("posts") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return Err("`posts` must be an array".into()),
            },
            object @ serde_json::Value::Object(_) => vec![object],
            _ => return Err("expected a post, an array of posts or {\"posts\": [...]}".into()),
        };
        let mut batch = SourceBatch::default();
        for (index, item) in items.iter().enumerate() {
            let built = PostRecord::deserialize(item).map_err(|e| format!("malformed post: {e}")).and_then(
                |record| record.into_post(&self.account, &self.source_name).map_err(|e| e.to_string()),
            );
            match built {
                Ok(post) => batch.posts.push(post),
                Err(reason) => batch.rejected.push(Rejected {
                    location: format!("{} item {index}", self.path),
                    raw: item.to_string().chars().take(16 * 1024).collect(),
                    reason,
                }),
            }
        }
        Ok(batch)
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Handles one delivery to `endpoint`.
async fn receive(endpoint: &WebhookEndpoint, headers: &HeaderMap, body: &[u8]) -> Response {
    if body.len() > endpoint.max_body_bytes {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            serde_json::json!({ "error": format!("body larger than {} bytes", endpoint.max_body_bytes) }),
        );
    }
    let now = chrono::Utc::now().timestamp();
    let (timestamp, signature) = match endpoint.verify(headers, body, now) {
        Ok(verified) => verified,
        Err((status, reason)) => {
            tracing::warn!(source = %endpoint.source_name, account = %endpoint.account, %reason, "webhook refused");
            return reply(status, serde_json::json!({ "error": reason }));
        }
    };
    if endpoint.already_accepted(&signature, now) {
        return reply(StatusCode::OK, serde_json::json!({ "accepted": 0, "rejected": 0, "duplicate": true }));
    }
    let mut batch = match endpoint.batch_of(body) {
        Ok(batch) => batch,
        Err(reason) => return reply(StatusCode::BAD_REQUEST, serde_json::json!({ "error": reason })),
    };
    batch.next_cursor = Some(timestamp.to_string());
    match endpoint.ingestor.deliver(&endpoint.source_name, &batch).await {
        Ok((accepted, rejected)) => {
            endpoint.remember(signature, timestamp);
            reply(StatusCode::OK, serde_json::json!({ "accepted": accepted, "rejected": rejected }))
        }
        Err(error) => {
            tracing::error!(source = %endpoint.source_name, account = %endpoint.account, %error, "webhook delivery not published");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "error": "could not publish the posts; retry later" }),
            )
        }
    }
}

/// Endpoints by path, shared by one listener; endpoints can be added while
/// it serves, so several accounts can share one address.
#[derive(Debug, Clone, Default)]
pub struct WebhookRegistry {
    endpoints: Arc<RwLock<HashMap<String, Arc<WebhookEndpoint>>>>,
}

/// Bodies larger than this are refused before any endpoint's own limit.
const HUB_BODY_LIMIT: usize = 16 * 1024 * 1024;

impl WebhookRegistry {
    /// Adds `endpoint`; false when its path is already taken.
    pub fn insert(&self, endpoint: Arc<WebhookEndpoint>) -> bool {
        let mut endpoints = self.endpoints.write().unwrap_or_else(|p| p.into_inner());
        if endpoints.contains_key(&endpoint.path) {
            return false;
        }
        endpoints.insert(endpoint.path.clone(), endpoint);
        true
    }

    fn get(&self, path: &str) -> Option<Arc<WebhookEndpoint>> {
        self.endpoints.read().unwrap_or_else(|p| p.into_inner()).get(path).cloned()
    }

    /// The router dispatching POSTs to the endpoint of their path.
    pub fn router(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone()).layer(DefaultBodyLimit::max(HUB_BODY_LIMIT))
    }
}

async fn dispatch(
    State(registry): State<WebhookRegistry>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(endpoint) = registry.get(uri.path()) else {
        return reply(StatusCode::NOT_FOUND, serde_json::json!({ "error": "no webhook at this path" }));
    };
    if method != Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, serde_json::json!({ "error": "use POST" }));
    }
    receive(&endpoint, &headers, &body).await
}

/// Serves `endpoints` on `listener` until `shutdown` fires.
pub async fn serve_webhooks(
    listener: tokio::net::TcpListener,
    endpoints: Vec<Arc<WebhookEndpoint>>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let registry = WebhookRegistry::default();
    for endpoint in endpoints {
        if !registry.insert(Arc::clone(&endpoint)) {
            tracing::error!(path = %endpoint.path, "two webhooks share a path; the second is not served");
        }
    }
    serve_registry(listener, registry, shutdown).await
}

/// Serves whatever `registry` holds (now or later) on `listener` until
/// `shutdown` fires.
pub async fn serve_registry(
    listener: tokio::net::TcpListener,
    registry: WebhookRegistry,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, registry.router())
        .with_graceful_shutdown(async move { smo_runtime::shutdown::fired(&mut shutdown).await })
        .await
}
