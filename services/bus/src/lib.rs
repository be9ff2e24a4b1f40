//! The message bus between smo's stages. One small [`Bus`] trait with two
//! backends that keep the same promises: RabbitMQ through lapin for
//! distributed deployments, and an embedded durable queue in SQLite for the
//! single-process default. Both give at-least-once delivery: publishes return
//! only once the message is durable (publisher confirms / committed
//! transaction), consumers ack explicitly after their effect is durable,
//! unacked messages come back after a consumer dies, and rejected messages go
//! to a dead-letter queue with the reason in a header. No lapin or sqlx type
//! leaks out of this crate. A conformance suite (`tests/conformance.rs`) runs
//! the same checks against both backends.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

pub mod embedded;
pub mod rabbitmq;
pub mod topology;
pub mod worker;

pub use embedded::{EmbeddedBus, EmbeddedBusOptions};
pub use rabbitmq::{RabbitBus, RabbitBusOptions};
pub use topology::{declare_account, stage_queue_spec};
pub use worker::{BatchHandler, BatchPolicy, HandlerError, Outcome, WorkerStats, run_batches};

/// Headers of a message: plain strings so that both backends can carry them.
pub type Headers = BTreeMap<String, String>;

/// Errors of the bus, whatever the backend.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker or database could not be reached or dropped the connection.
    #[error("bus connection failed: {0}")]
    Connection(String),
    /// The broker refused or failed to confirm a publish (nack, return, timeout).
    #[error("publish to {exchange}/{routing_key} not confirmed: {reason}")]
    NotConfirmed {
        /// Exchange published to.
        exchange: String,
        /// Routing key used.
        routing_key: String,
        /// What the broker said.
        reason: String,
    },
    /// Declaring an exchange, queue or binding failed.
    #[error("topology error on {name}: {reason}")]
    Topology {
        /// The exchange or queue concerned.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// Acknowledging, requeueing or dead-lettering a delivery failed; the
    /// message will be redelivered.
    #[error("settling delivery {tag} failed: {reason}")]
    Settle {
        /// Delivery tag concerned.
        tag: u64,
        /// What went wrong.
        reason: String,
    },
    /// Any other backend failure.
    #[error("bus backend error: {0}")]
    Backend(String),
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    /// Topic routing key, e.g. `acme.raw`.
    pub routing_key: String,
    /// Body bytes, usually JSON of a `smo-proto` type.
    pub payload: Vec<u8>,
    /// Extra headers.
    pub headers: Headers,
}

impl OutgoingMessage {
    /// A message with no headers.
    pub fn new(routing_key: impl Into<String>, payload: impl Into<Vec<u8>>) -> Self {
        Self { routing_key: routing_key.into(), payload: payload.into(), headers: Headers::new() }
    }
}

/// How a queue is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// Queue name, e.g. `smo.classify.acme`.
    pub name: String,
    /// Where rejected messages go: (exchange, routing key). `None` for the
    /// dead-letter queues themselves.
    pub dead_letter: Option<(String, String)>,
    /// Only one consumer receives at a time; the others are hot standbys.
    /// Used where one process must own a resource (a tantivy index writer).
    pub single_active_consumer: bool,
    /// After this many deliveries the broker dead-letters the message on its
    /// own, so a poison message that kills its consumer cannot loop forever.
    pub delivery_limit: Option<u32>,
}

/// Whether [`Consumer`] receives from a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeSpec {
    /// The queue (see [`QueueSpec::name`]).
    pub queue: String,
    /// Maximum unacked deliveries held by this consumer.
    pub prefetch: u16,
}

/// A received message. It must be settled exactly once through its
/// [`Consumer`]: acked, requeued or dead-lettered. Dropping it unsettled leaves
/// it with the consumer; it is redelivered when the consumer goes away.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Per-consumer, increasing tag used to settle it.
    pub tag: u64,
    /// Exchange it was published to.
    pub exchange: String,
    /// Routing key it was published with.
    pub routing_key: String,
    /// Body bytes.
    pub payload: Vec<u8>,
    /// Headers, including [`smo_proto::topology::REASON_HEADER`] on dead letters.
    pub headers: Headers,
    /// True when an earlier delivery of this message was not acked.
    pub redelivered: bool,
}

/// Receives deliveries from one queue and settles them.
#[async_trait]
pub trait Consumer: Send {
    /// Waits for the next delivery. `Ok(None)` means the consumer was
    /// cancelled (queue deleted, bus closing) and will yield nothing more.
    /// Cancel-safe: dropping the future (e.g. in a `timeout`) loses nothing.
    async fn next(&mut self) -> Result<Option<Delivery>, BusError>;

    /// Acks `tag`; with `multiple`, also every earlier unsettled tag of this
    /// consumer. Call only once the message's effect is durable.
    async fn ack(&mut self, tag: u64, multiple: bool) -> Result<(), BusError>;

    /// Returns the delivery to its queue for another try (it comes back with
    /// `redelivered = true`).
    async fn requeue(&mut self, tag: u64) -> Result<(), BusError>;

    /// Moves `delivery` to its queue's dead-letter target with `reason` in
    /// [`smo_proto::topology::REASON_HEADER`] and the original routing key in
    /// [`smo_proto::topology::ORIGINAL_KEY_HEADER`], then settles it. The dead
    /// letter is durable before the original is removed.
    async fn dead_letter(&mut self, delivery: &Delivery, reason: &str) -> Result<(), BusError>;
}

/// The bus: topology, confirmed publishing and consuming.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Declares a durable topic exchange; idempotent.
    async fn declare_exchange(&self, name: &str) -> Result<(), BusError>;

    /// Declares a durable queue; idempotent.
    async fn declare_queue(&self, spec: &QueueSpec) -> Result<(), BusError>;

    /// Binds `queue` to `exchange` for routing keys matching `pattern`
    /// (AMQP topic syntax: `*` one word, `#` zero or more words); idempotent.
    async fn bind(&self, queue: &str, exchange: &str, pattern: &str) -> Result<(), BusError>;

    /// Publishes a batch and returns once every message is durable (all
    /// confirms received). On error, any subset may have been published;
    /// callers publish again, which is safe because every write downstream is
    /// idempotent.
    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError>;

    /// Starts consuming a declared queue.
    async fn consume(&self, spec: &ConsumeSpec) -> Result<Box<dyn Consumer>, BusError>;

    /// Number of messages ready (not in flight) in a queue; for ops and tests.
    async fn queue_depth(&self, queue: &str) -> Result<u64, BusError>;
}

/// A shared handle to whichever backend is configured.
pub type SharedBus = Arc<dyn Bus>;

/// Options of both backends, so [`connect`] can pick either from a URL.
#[derive(Debug, Clone, Default)]
pub struct BusOptions {
    /// Used for `amqp://` URLs.
    pub rabbitmq: RabbitBusOptions,
    /// Used for `sqlite://` URLs and plain paths.
    pub embedded: EmbeddedBusOptions,
}

/// Opens the bus a configuration names, so services need not know the
/// backend: `amqp://user:pass@host:port/vhost` is RabbitMQ;
/// `sqlite://path/to/bus.db`, `sqlite:path` or a plain file path is the
/// embedded queue.
pub async fn connect(url: &str, options: &BusOptions) -> Result<SharedBus, BusError> {
    let url = url.trim();
    if url.starts_with("amqp://") || url.starts_with("amqps://") {
        let bus = RabbitBus::connect(url, options.rabbitmq.clone()).await?;
        return Ok(Arc::new(bus));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.contains("://") {
        let scheme = url.split("://").next().unwrap_or_default();
        return Err(BusError::Connection(format!(
            "unsupported bus URL scheme {scheme:?}: use amqp://, sqlite:// or a file path"
        )));
    } else {
        url
    };
    // `sqlite://bus.db?mode=rwc`: options are ours to choose, drop the query.
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(BusError::Connection(format!("no file path in bus URL {url:?}")));
    }
    let bus = EmbeddedBus::open(Path::new(path), options.embedded.clone()).await?;
    Ok(Arc::new(bus))
}
