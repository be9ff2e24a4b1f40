//! Outbound connectors: what agents write (replies) and what escalations
//! announce (notifications) leaves smo here. Community management writes
//! each message into the store's outbox in the same transaction as the
//! decision; the [`OutboxWorker`] claims due messages with a lease, hands
//! each to an [`Outbound`] connector and records the outcome, so a message is
//! delivered at least once whatever crashes, with an idempotency key the
//! receiver deduplicates on. A message that keeps failing is retried with
//! growing delays and finally marked failed, which shows on its case.
//!
//! The first connector is [`SignedWebhook`]: an HTTP POST of the message's
//! JSON to the client's system, signed like smo's own webhook receiver
//! expects ([`smo_proto::signature`]).

mod config;
mod connector;
mod webhook;
mod worker;

pub use config::OutboundConfig;
pub use connector::{DeliveryError, Outbound};
pub use webhook::{EVENT_HEADER, IDEMPOTENCY_HEADER, SignedWebhook};
pub use worker::{DrainReport, OutboxWorker, RetryPolicy};
