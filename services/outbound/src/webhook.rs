//! The signed-webhook connector: POSTs each outbox message's JSON to its
//! destination, signed with the account's secret, with an idempotency key
//! so the receiver can drop the copies at-least-once delivery may send.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use smo_proto::AccountId;
use smo_proto::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use smo_runtime::Secret;
use smo_store::OutboxMessage;

use crate::{DeliveryError, Outbound};

/// Header naming the message kind (`reply`, `escalation`).
pub const EVENT_HEADER: &str = "x-smo-event";
/// Header carrying the key receivers deduplicate on; the same for every
/// attempt of one message.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Longest `Retry-After` honoured; a receiver asking for more is retried
/// at this interval instead of parking the message for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// POSTs messages as signed JSON. One per process; cheap to share.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    client: reqwest::Client,
    secrets: HashMap<AccountId, Secret>,
}

impl SignedWebhook {
    /// A connector signing each account's messages with its secret;
    /// accounts without one (escalation hooks only) send unsigned.
    /// Redirects are not followed: a moved endpoint is a configuration
    /// change, not something to chase with a signed body.
    pub fn new(secrets: HashMap<AccountId, Secret>, timeout: Duration) -> Result<Self, DeliveryError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("smo-outbound/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| DeliveryError::Permanent { reason: format!("HTTP client: {error}") })?;
        Ok(Self { client, secrets })
    }

    /// The idempotency key of a message: stable across attempts and
    /// workers, unique across accounts.
    pub fn idempotency_key(account: &AccountId, message: &OutboxMessage) -> String {
        match message.payload.get("idempotency_key").and_then(|key| key.as_str()) {
            Some(key) if message.kind == "reply" => format!("{account}:reply:{key}"),
            _ => format!("{account}:{}:{}", message.kind, message.id),
        }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    wait.to_std().ok().map(|wait| wait.min(MAX_RETRY_AFTER))
}

/// What a response status means for the message.
fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> Result<(), DeliveryError> {
    if status.is_success() {
        return Ok(());
    }
    let excerpt: String = body.chars().take(200).collect();
    let reason = format!("HTTP {}: {}", status.as_u16(), excerpt.trim());
    let transient = status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS | StatusCode::CONFLICT
        )
        || status.as_u16() == 425;
    if transient {
        Err(DeliveryError::Transient { reason, retry_after: retry_after(headers) })
    } else {
        Err(DeliveryError::Permanent { reason })
    }
}

#[async_trait]
impl Outbound for SignedWebhook {
    async fn deliver(&self, account: &AccountId, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(&message.payload)
            .map_err(|error| DeliveryError::Permanent { reason: format!("unencodable payload: {error}") })?;
        let timestamp = chrono::Utc::now().timestamp();
        let mut request = self
            .client
            .post(&message.destination)
            .header(CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, &message.kind)
            .header(IDEMPOTENCY_HEADER, Self::idempotency_key(account, message))
            .header(TIMESTAMP_HEADER, timestamp.to_string());
        if let Some(secret) = self.secrets.get(account) {
            request = request.header(SIGNATURE_HEADER, sign(secret.expose().as_bytes(), timestamp, &body));
        }
        let response = request.body(body).send().await.map_err(|error| {
            // reqwest's errors name the URL, never headers: no secret leaks.
            let reason = format!("sending to {}: {error}", message.destination);
            if error.is_builder() {
                DeliveryError::Permanent { reason }
            } else {
                DeliveryError::Transient { reason, retry_after: None }
            }
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let text =
            if status.is_success() { String::new() } else { response.text().await.unwrap_or_default() };
        classify(status, &headers, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_split_into_transient_and_permanent() {
        let none = HeaderMap::new();
        assert_eq!(classify(StatusCode::OK, &none, ""), Ok(()));
        assert_eq!(classify(StatusCode::ACCEPTED, &none, ""), Ok(()));
        let mut later = HeaderMap::new();
        later.insert(RETRY_AFTER, "30".parse().expect("header"));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &later, "slow down"),
            Err(DeliveryError::Transient {
                reason: "HTTP 429: slow down".to_owned(),
                retry_after: Some(Duration::from_secs(30))
            })
        );
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &none, ""),
            Err(DeliveryError::Transient { retry_after: None, .. })
        ));
        assert!(matches!(classify(StatusCode::GONE, &none, ""), Err(DeliveryError::Permanent { .. })));
        assert!(matches!(
            classify(StatusCode::MOVED_PERMANENTLY, &none, ""),
            Err(DeliveryError::Permanent { .. })
        ));
        let mut huge = HeaderMap::new();
        huge.insert(RETRY_AFTER, "999999".parse().expect("header"));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &huge, ""),
            Err(DeliveryError::Transient { retry_after: Some(wait), .. }) if wait == MAX_RETRY_AFTER
        ));
    }
}
