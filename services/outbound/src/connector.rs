//! The stage boundary: one trait every outbound connector implements.

use std::time::Duration;

use async_trait::async_trait;
use smo_proto::AccountId;
use smo_store::OutboxMessage;

/// Why a delivery attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying (network error, timeout, 5xx, 429); the receiver may
    /// have said when.
    #[error("{reason}")]
    Transient {
        /// What went wrong, without credentials.
        reason: String,
        /// The receiver's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (the receiver refused the message itself, or the
    /// destination is unusable).
    #[error("{reason}")]
    Permanent {
        /// What went wrong, without credentials.
        reason: String,
    },
}

/// Delivers one outbox message of one account. Implementations must be
/// safe to call again for the same message (at-least-once): they pass the
/// message's idempotency key on to the receiver.
#[async_trait]
pub trait Outbound: Send + Sync {
    /// Sends `message`; `Ok` only once the receiver accepted it.
    async fn deliver(&self, account: &AccountId, message: &OutboxMessage) -> Result<(), DeliveryError>;
}
