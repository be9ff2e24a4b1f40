//! The RabbitMQ backend (lapin 4, on tokio). It keeps the bus promises with the
//! broker's own machinery: durable topic exchanges, quorum queues with
//! dead-letter arguments, publisher confirms with `mandatory` (so an
//! unroutable message is an error, not a silent drop), manual acks with a
//! bounded prefetch.
//!
//! Connection loss is handled lazily: the next call on the bus reconnects with
//! exponential backoff, and a consumer whose channel died opens a new one in
//! [`Consumer::next`]; the broker redelivers what the dead channel held, and
//! the tags of the dead channel are refused (never sent to the new channel,
//! where they would mean other messages).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, BasicRejectOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    Acker, BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ErrorKind, ExchangeKind,
};
use smo_proto::topology::{ORIGINAL_KEY_HEADER, REASON_HEADER};
use smo_runtime::redact::redact_url;
use tracing::{debug, info, warn};

use crate::{
    Bus, BusError, ConsumeSpec, Consumer, Delivery, Headers, OutgoingMessage, QueueSpec,
    topology::dead_letter_target_for_queue,
};

/// Persistent delivery mode of AMQP 0-9-1: the broker writes the message to disk.
const PERSISTENT: u8 = 2;
/// Publisher channels kept for reuse; more concurrent publishers open more.
const MAX_IDLE_PUBLISHERS: usize = 16;

/// Tuning of [`RabbitBus`]: how it names its connection and how hard it tries
/// to get the broker back.
#[derive(Debug, Clone)]
pub struct RabbitBusOptions {
    /// Connection name shown by the broker (`rabbitmqctl list_connections
    /// client_properties`); `None` gives `smo-<uuid>`, unique per bus.
    pub connection_name: Option<String>,
    /// Extra attempts after a failed (re)connect within one call.
    pub reconnect_attempts: u32,
    /// Delay before the first retry; doubles up to `reconnect_max_backoff`.
    pub reconnect_initial_backoff: Duration,
    /// Upper bound of the delay between retries.
    pub reconnect_max_backoff: Duration,
    /// How long `publish` waits for the broker's confirms of a batch.
    pub confirm_timeout: Duration,
}

impl Default for RabbitBusOptions {
    fn default() -> Self {
        Self {
            connection_name: None,
            reconnect_attempts: 8,
            reconnect_initial_backoff: Duration::from_millis(100),
            reconnect_max_backoff: Duration::from_secs(5),
            confirm_timeout: Duration::from_secs(30),
        }
    }
}

/// The RabbitMQ [`Bus`]. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct RabbitBus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RabbitBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitBus")
            .field("url", &redact_url(&self.inner.url))
            .field("connection_name", &self.inner.name)
            .finish()
    }
}

struct Live {
    connection: Connection,
    control: Option<Channel>,
}

struct Inner {
    url: String,
    name: String,
    options: RabbitBusOptions,
    live: tokio::sync::Mutex<Option<Live>>,
    publishers: Mutex<Vec<Channel>>,
    /// Set by [`RabbitBus::close`]: no reconnecting, consumers end.
    closed: AtomicBool,
    /// Dead-letter target of every queue declared through this bus.
    dead_letters: Mutex<HashMap<String, Option<(String, String)>>>,
}

/// Why an AMQP call failed, as far as retrying is concerned.
enum Failure {
    /// The bus could not get a channel at all.
    Bus(BusError),
    /// The broker or the channel answered with an error.
    Amqp(lapin::Error),
}

impl RabbitBus {
    /// Connects to `url` (`amqp://user:pass@host:port/vhost`) now, so a wrong
    /// URL or a broker that is down fails at start rather than at first use.
    /// Later connection losses are repaired lazily.
    pub async fn connect(url: &str, options: RabbitBusOptions) -> Result<Self, BusError> {
        if url.starts_with("amqps://") {
            return Err(BusError::Connection(
                "amqps:// needs TLS, which this build of smo-bus does not include".to_owned(),
            ));
        }
        let name = options.connection_name.clone().unwrap_or_else(|| format!("smo-{}", uuid::Uuid::new_v4()));
        let inner = Arc::new(Inner {
            url: url.to_owned(),
            name,
            options,
            live: tokio::sync::Mutex::new(None),
            publishers: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            dead_letters: Mutex::new(HashMap::new()),
        });
        inner.control().await?;
        Ok(Self { inner })
    }

    /// The name this bus gives its connection, so ops (and tests) can find it
    /// among the broker's connections, e.g. to close exactly this one.
    pub fn connection_name(&self) -> &str {
        &self.inner.name
    }

    /// Deletes a queue and the messages in it; returns how many there were.
    /// For tests and ops: nothing in the pipeline deletes queues.
    pub async fn delete_queue(&self, name: &str) -> Result<u64, BusError> {
        let queue = short_topology(name)?;
        let count = self
            .inner
            .control_op(|channel| {
                let queue = queue.clone();
                async move { channel.queue_delete(queue, QueueDeleteOptions::default()).await }
            })
            .await
            .map_err(|failure| topology_error(name, failure))?;
        lock(&self.inner.dead_letters).remove(name);
        Ok(u64::from(count))
    }

    /// Deletes an exchange and its bindings. For tests and ops.
    pub async fn delete_exchange(&self, name: &str) -> Result<(), BusError> {
        let exchange = short_topology(name)?;
        self.inner
            .control_op(|channel| {
                let exchange = exchange.clone();
                async move { channel.exchange_delete(exchange, ExchangeDeleteOptions::default()).await }
            })
            .await
            .map_err(|failure| topology_error(name, failure))
    }

    /// Closes the connection politely, with every consumer's channel (their
    /// unacked deliveries go back to the queues; their `next` gives `None`).
    /// Every later call on the bus fails with [`BusError::Connection`].
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        lock(&self.inner.publishers).clear();
        let live = self.inner.live.lock().await.take();
        if let Some(live) = live
            && let Err(error) = live.connection.close(200, "closing".into()).await
        {
            debug!(%error, "closing the RabbitMQ connection failed");
        }
    }
}

impl Inner {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn connection_properties(&self) -> ConnectionProperties {
        ConnectionProperties::default().with_connection_name(LongString::from(self.name.clone()))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.options.reconnect_initial_backoff.saturating_mul(factor).min(self.options.reconnect_max_backoff)
    }

    /// Opens a channel, (re)connecting first when the connection is gone.
    /// The caller holds the connection lock.
    async fn open_channel_locked(&self, live: &mut Option<Live>) -> Result<Channel, BusError> {
        if self.is_closed() {
            return Err(BusError::Connection("the bus was closed".to_owned()));
        }
        let mut last_error = String::from("no attempt made");
        for attempt in 0..=self.options.reconnect_attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff(attempt)).await;
            }
            let connected = live.as_ref().is_some_and(|live| live.connection.status().connected());
            if !connected {
                if live.take().is_some() {
                    warn!(connection = %self.name, "RabbitMQ connection lost; reconnecting");
                }
                match Connection::connect(&self.url, self.connection_properties()).await {
                    Ok(connection) => {
                        info!(connection = %self.name, url = %redact_url(&self.url), "connected to RabbitMQ");
                        *live = Some(Live { connection, control: None });
                    }
                    Err(error) => {
                        warn!(connection = %self.name, url = %redact_url(&self.url), attempt, %error, "connecting to RabbitMQ failed");
                        last_error = error.to_string();
                        continue;
                    }
                }
            }
            let Some(current) = live.as_ref() else {
                continue;
            };
            match current.connection.create_channel().await {
                Ok(channel) => return Ok(channel),
                Err(error) => {
                    warn!(connection = %self.name, attempt, %error, "opening a RabbitMQ channel failed");
                    last_error = error.to_string();
                    if is_connection_error(&error) {
                        *live = None;
                    }
                }
            }
        }
        Err(BusError::Connection(format!(
            "RabbitMQ at {} unreachable after {} attempts: {last_error}",
            redact_url(&self.url),
            self.options.reconnect_attempts.saturating_add(1)
        )))
    }

    async fn open_channel(&self) -> Result<Channel, BusError> {
        let mut live = self.live.lock().await;
        self.open_channel_locked(&mut live).await
    }

    /// The channel used for topology operations, reopened when it was closed
    /// (a refused declaration closes it) or the connection was lost.
    async fn control(&self) -> Result<Channel, BusError> {
        let mut live = self.live.lock().await;
        if self.is_closed() {
            return Err(BusError::Connection("the bus was closed".to_owned()));
        }
        if let Some(current) = live.as_ref()
            && current.connection.status().connected()
            && let Some(control) = current.control.as_ref()
            && control.status().connected()
        {
            return Ok(control.clone());
        }
        let channel = self.open_channel_locked(&mut live).await?;
        if let Some(current) = live.as_mut() {
            current.control = Some(channel.clone());
        }
        Ok(channel)
    }

    /// Runs a topology operation on the control channel, once more on a fresh
    /// connection when the first try hit a dead one.
    async fn control_op<T, F, Fut>(&self, op: F) -> Result<T, Failure>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = lapin::Result<T>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let channel = self.control().await.map_err(Failure::Bus)?;
            match op(channel).await {
                Ok(value) => return Ok(value),
                Err(error) if attempt < 2 && is_connection_error(&error) => {
                    warn!(connection = %self.name, %error, "RabbitMQ operation hit a lost connection; retrying");
                }
                Err(error) => return Err(Failure::Amqp(error)),
            }
        }
    }

    async fn take_publisher(&self) -> Result<Channel, BusError> {
        if self.is_closed() {
            return Err(BusError::Connection("the bus was closed".to_owned()));
        }
        loop {
            let pooled = lock(&self.publishers).pop();
            match pooled {
                Some(channel) if channel.status().connected() && channel.status().confirm() => {
                    return Ok(channel);
                }
                Some(_) => continue,
                None => break,
            }
        }
        let channel = self.open_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|error| BusError::Connection(format!("enabling publisher confirms failed: {error}")))?;
        Ok(channel)
    }

    fn return_publisher(&self, channel: Channel) {
        let mut pool = lock(&self.publishers);
        if pool.len() < MAX_IDLE_PUBLISHERS && channel.status().connected() {
            pool.push(channel);
        }
    }

    fn dead_letter_target(&self, queue: &str) -> Option<(String, String)> {
        match lock(&self.dead_letters).get(queue) {
            Some(target) => target.clone(),
            None => dead_letter_target_for_queue(queue),
        }
    }

    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        let not_confirmed = |routing_key: &str, reason: String| BusError::NotConfirmed {
            exchange: exchange.to_owned(),
            routing_key: routing_key.to_owned(),
            reason,
        };
        let exchange_name = ShortString::try_new(exchange)
            .map_err(|_| not_confirmed("", "exchange name longer than 255 bytes".to_owned()))?;
        let mut prepared = Vec::with_capacity(messages.len());
        for message in messages {
            let key = ShortString::try_new(message.routing_key.as_str()).map_err(|_| {
                not_confirmed(&message.routing_key, "routing key longer than 255 bytes".to_owned())
            })?;
            let headers = headers_to_table(&message.headers)
                .map_err(|reason| not_confirmed(&message.routing_key, reason))?;
            let properties = BasicProperties::default().with_delivery_mode(PERSISTENT).with_headers(headers);
            prepared.push((key, message.payload.as_slice(), properties));
        }

        let mut attempt = 0;
        loop {
            attempt += 1;
            let channel = self.take_publisher().await?;
            match self.publish_batch(&channel, &exchange_name, &prepared).await {
                Ok(()) => {
                    self.return_publisher(channel);
                    return Ok(());
                }
                Err((key, error)) => {
                    // The channel may hold a half-finished batch: never reuse it.
                    drop(channel);
                    match error {
                        PublishFailure::Refused(reason) => {
                            return Err(not_confirmed(key.as_str(), reason));
                        }
                        PublishFailure::ConnectionLost(error) if attempt < 2 => {
                            warn!(connection = %self.name, exchange, %error, "publish interrupted by a lost connection; publishing the batch again");
                        }
                        PublishFailure::ConnectionLost(error) => {
                            return Err(not_confirmed(
                                key.as_str(),
                                format!("connection lost before the broker confirmed: {error}"),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Sends the whole batch, then waits for every confirm.
    async fn publish_batch(
        &self,
        channel: &Channel,
        exchange: &ShortString,
        prepared: &[(ShortString, &[u8], BasicProperties)],
    ) -> Result<(), (ShortString, PublishFailure)> {
        let options = BasicPublishOptions { mandatory: true, immediate: false };
        let mut confirms = Vec::with_capacity(prepared.len());
        for (key, payload, properties) in prepared {
            match channel
                .basic_publish(exchange.clone(), key.clone(), options, payload, properties.clone())
                .await
            {
                Ok(confirm) => confirms.push((key, confirm)),
                Err(error) => return Err((key.clone(), PublishFailure::from_error(error))),
            }
        }
        let deadline = tokio::time::Instant::now() + self.options.confirm_timeout;
        let mut first_failure = None;
        for (key, confirm) in confirms {
            let failure = match tokio::time::timeout_at(deadline, confirm).await {
                Err(_elapsed) => {
                    return Err((
                        key.clone(),
                        PublishFailure::Refused(format!(
                            "no confirm within {:?}",
                            self.options.confirm_timeout
                        )),
                    ));
                }
                Ok(Ok(Confirmation::Ack(None))) => continue,
                Ok(Ok(Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)))) => {
                    PublishFailure::Refused(format!(
                        "unroutable, returned by the broker ({} {}) for routing key {}",
                        returned.reply_code, returned.reply_text, returned.delivery.routing_key
                    ))
                }
                Ok(Ok(Confirmation::Nack(None))) => {
                    PublishFailure::Refused("nacked by the broker".to_owned())
                }
                Ok(Ok(Confirmation::NotRequested)) => {
                    PublishFailure::Refused("publisher confirms are not enabled on the channel".to_owned())
                }
                Ok(Err(error)) => PublishFailure::from_error(error),
            };
            if first_failure.is_none() {
                first_failure = Some((key.clone(), failure));
            }
        }
        match first_failure {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }
}

enum PublishFailure {
    /// The broker said no (nack, return, missing exchange, timeout).
    Refused(String),
    /// The connection or channel died under the publish.
    ConnectionLost(lapin::Error),
}

impl PublishFailure {
    fn from_error(error: lapin::Error) -> Self {
        if is_connection_error(&error) {
            Self::ConnectionLost(error)
        } else {
            Self::Refused(error.to_string())
        }
    }
}

#[async_trait]
impl Bus for RabbitBus {
    async fn declare_exchange(&self, name: &str) -> Result<(), BusError> {
        let exchange = short_topology(name)?;
        let options = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
        self.inner
            .control_op(|channel| {
                let exchange = exchange.clone();
                async move {
                    channel
                        .exchange_declare(exchange, ExchangeKind::Topic, options, FieldTable::default())
                        .await
                }
            })
            .await
            .map_err(|failure| topology_error(name, failure))
    }

    async fn declare_queue(&self, spec: &QueueSpec) -> Result<(), BusError> {
        let queue = short_topology(&spec.name)?;
        let arguments = queue_arguments(spec)?;
        let options = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
        self.inner
            .control_op(|channel| {
                let queue = queue.clone();
                let arguments = arguments.clone();
                async move { channel.queue_declare(queue, options, arguments).await }
            })
            .await
            .map_err(|failure| topology_error(&spec.name, failure))?;
        lock(&self.inner.dead_letters).insert(spec.name.clone(), spec.dead_letter.clone());
        Ok(())
    }

    async fn bind(&self, queue: &str, exchange: &str, pattern: &str) -> Result<(), BusError> {
        let queue_name = short_topology(queue)?;
        let exchange_name = short_topology(exchange)?;
        let key = short_topology(pattern)?;
        self.inner
            .control_op(|channel| {
                let (queue, exchange, key) = (queue_name.clone(), exchange_name.clone(), key.clone());
                async move {
                    channel
                        .queue_bind(queue, exchange, key, QueueBindOptions::default(), FieldTable::default())
                        .await
                }
            })
            .await
            .map_err(|failure| topology_error(&format!("{queue} <- {exchange}/{pattern}"), failure))
    }

    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
        self.inner.publish(exchange, messages).await
    }

    async fn consume(&self, spec: &ConsumeSpec) -> Result<Box<dyn Consumer>, BusError> {
        let mut consumer = RabbitConsumer {
            bus: Arc::clone(&self.inner),
            queue: short_topology(&spec.queue)?,
            spec: spec.clone(),
            active: None,
            outstanding: BTreeMap::new(),
            next_tag: 1,
            cancelled: false,
        };
        if !consumer.establish().await? {
            return Err(BusError::Topology {
                name: spec.queue.clone(),
                reason: "queue not found".to_owned(),
            });
        }
        Ok(Box::new(consumer))
    }

    async fn queue_depth(&self, queue: &str) -> Result<u64, BusError> {
        let name = short_topology(queue)?;
        let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
        let declared = self
            .inner
            .control_op(|channel| {
                let name = name.clone();
                async move { channel.queue_declare(name, options, FieldTable::default()).await }
            })
            .await
            .map_err(|failure| topology_error(queue, failure))?;
        Ok(u64::from(declared.message_count()))
    }
}

struct ActiveConsumer {
    channel: Channel,
    stream: lapin::Consumer,
}

/// A consumer on its own channel, so that `ack(multiple)` covers exactly this
/// consumer's deliveries and closing the channel returns exactly them.
struct RabbitConsumer {
    bus: Arc<Inner>,
    spec: ConsumeSpec,
    queue: ShortString,
    active: Option<ActiveConsumer>,
    /// Unsettled deliveries of the current channel, by our tag.
    outstanding: BTreeMap<u64, Acker>,
    next_tag: u64,
    cancelled: bool,
}

impl RabbitConsumer {
    /// Opens a channel and starts consuming. `Ok(false)` when the queue does
    /// not exist.
    async fn establish(&mut self) -> Result<bool, BusError> {
        self.drop_active();
        let mut last_error = String::new();
        for attempt in 0..=self.bus.options.reconnect_attempts {
            if attempt > 0 {
                tokio::time::sleep(self.bus.backoff(attempt)).await;
            }
            let channel = self.bus.open_channel().await?;
            let consumer_tag = ShortString::from(format!("smo-{}", uuid::Uuid::new_v4()));
            let started = async {
                channel.basic_qos(self.spec.prefetch, BasicQosOptions::default()).await?;
                channel
                    .basic_consume(
                        self.queue.clone(),
                        consumer_tag,
                        BasicConsumeOptions::default(),
                        FieldTable::default(),
                    )
                    .await
            }
            .await;
            match started {
                Ok(stream) => {
                    debug!(queue = %self.spec.queue, channel = channel.id(), "consumer started");
                    self.active = Some(ActiveConsumer { channel, stream });
                    return Ok(true);
                }
                Err(error) if is_soft(&error, AMQPSoftError::NOTFOUND) => return Ok(false),
                Err(error) if is_connection_error(&error) => {
                    warn!(queue = %self.spec.queue, attempt, %error, "starting the consumer hit a lost connection; retrying");
                    last_error = error.to_string();
                }
                Err(error) => {
                    return Err(BusError::Topology {
                        name: self.spec.queue.clone(),
                        reason: format!("consuming refused: {error}"),
                    });
                }
            }
        }
        Err(BusError::Connection(format!("could not start consuming {}: {last_error}", self.spec.queue)))
    }

    /// Forgets the current channel (closing it if it still lives, which
    /// returns its unacked deliveries to the queue) and its tags.
    fn drop_active(&mut self) {
        self.active = None;
        self.outstanding.clear();
    }

    fn stale(tag: u64) -> BusError {
        BusError::Settle {
            tag,
            reason: "unknown or stale delivery tag (already settled, or received on a channel \
                     that has since closed; the broker redelivers such messages)"
                .to_owned(),
        }
    }

    fn settled(tag: u64, result: lapin::Result<bool>) -> Result<(), BusError> {
        match result {
            Ok(true) => Ok(()),
            Ok(false) => Err(BusError::Settle {
                tag,
                reason: "the delivery's channel closed; the broker redelivers the message".to_owned(),
            }),
            Err(error) => Err(BusError::Settle { tag, reason: error.to_string() }),
        }
    }

    /// After the broker ended our consumer while the channel lives: the queue
    /// was deleted (then we are done) or something else happened (restart).
    async fn queue_still_exists(&self, channel: &Channel) -> bool {
        let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
        match channel.queue_declare(self.queue.clone(), options, FieldTable::default()).await {
            Ok(_) => true,
            Err(error) => !is_soft(&error, AMQPSoftError::NOTFOUND),
        }
    }
}

#[async_trait]
impl Consumer for RabbitConsumer {
    async fn next(&mut self) -> Result<Option<Delivery>, BusError> {
        loop {
            if self.cancelled || self.bus.is_closed() {
                self.drop_active();
                return Ok(None);
            }
            let Some(active) = self.active.as_mut() else {
                if !self.establish().await? {
                    info!(queue = %self.spec.queue, "queue is gone; consumer ends");
                    self.cancelled = true;
                }
                continue;
            };
            match active.stream.next().await {
                Some(Ok(delivery)) => {
                    if delivery.acker.poisoned() {
                        // Buffered from a channel that died: the broker redelivers it.
                        continue;
                    }
                    let tag = self.next_tag;
                    self.next_tag += 1;
                    self.outstanding.insert(tag, delivery.acker.clone());
                    return Ok(Some(Delivery {
                        tag,
                        exchange: delivery.exchange.to_string(),
                        routing_key: delivery.routing_key.to_string(),
                        headers: headers_from_table(delivery.properties.headers().as_ref()),
                        payload: delivery.data,
                        redelivered: delivery.redelivered,
                    }));
                }
                Some(Err(error)) => {
                    warn!(queue = %self.spec.queue, %error, "consumer channel failed; re-establishing the consumer");
                    self.drop_active();
                }
                None => {
                    let channel = active.channel.clone();
                    if channel.status().connected() && !self.queue_still_exists(&channel).await {
                        info!(queue = %self.spec.queue, "queue deleted; consumer ends");
                        self.drop_active();
                        self.cancelled = true;
                    } else {
                        warn!(queue = %self.spec.queue, "consumer ended by the broker; re-establishing it");
                        self.drop_active();
                    }
                }
            }
        }
    }

    async fn ack(&mut self, tag: u64, multiple: bool) -> Result<(), BusError> {
        let Some(acker) = self.outstanding.get(&tag).cloned() else {
            return Err(Self::stale(tag));
        };
        let result = acker.ack(BasicAckOptions { multiple }).await;
        if multiple {
            self.outstanding.retain(|&other, _| other > tag);
        } else {
            self.outstanding.remove(&tag);
        }
        Self::settled(tag, result)
    }

    async fn requeue(&mut self, tag: u64) -> Result<(), BusError> {
        let Some(acker) = self.outstanding.remove(&tag) else {
            return Err(Self::stale(tag));
        };
        Self::settled(tag, acker.reject(BasicRejectOptions { requeue: true }).await)
    }

    async fn dead_letter(&mut self, delivery: &Delivery, reason: &str) -> Result<(), BusError> {
        let tag = delivery.tag;
        let Some(acker) = self.outstanding.get(&tag).cloned() else {
            return Err(Self::stale(tag));
        };
        if !acker.usable() {
            self.outstanding.remove(&tag);
            return Err(Self::stale(tag));
        }
        let Some((exchange, routing_key)) = self.bus.dead_letter_target(&self.spec.queue) else {
            warn!(queue = %self.spec.queue, tag, reason, "no dead-letter target known for the queue; rejecting the message (the broker applies the queue's own dead-lettering, if any)");
            self.outstanding.remove(&tag);
            return Self::settled(tag, acker.reject(BasicRejectOptions { requeue: false }).await);
        };
        let mut headers = delivery.headers.clone();
        headers.insert(REASON_HEADER.to_owned(), reason.to_owned());
        headers.insert(ORIGINAL_KEY_HEADER.to_owned(), delivery.routing_key.clone());
        let copy = OutgoingMessage { routing_key, payload: delivery.payload.clone(), headers };
        // Durable dead letter first, then the original goes.
        self.bus.publish(&exchange, std::slice::from_ref(&copy)).await?;
        self.ack(tag, false).await
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn short_topology(name: &str) -> Result<ShortString, BusError> {
    ShortString::try_new(name).map_err(|_| BusError::Topology {
        name: name.chars().take(64).collect(),
        reason: "name longer than 255 bytes".to_owned(),
    })
}

fn topology_error(name: &str, failure: Failure) -> BusError {
    match failure {
        Failure::Bus(error) => error,
        Failure::Amqp(error) if is_connection_error(&error) => {
            BusError::Connection(format!("{name}: {error}"))
        }
        Failure::Amqp(error) => BusError::Topology { name: name.to_owned(), reason: error.to_string() },
    }
}

/// Errors after which a new connection or channel may well succeed.
fn is_connection_error(error: &lapin::Error) -> bool {
    match error.kind() {
        ErrorKind::IOError(_)
        | ErrorKind::InvalidConnectionState(_)
        | ErrorKind::InvalidChannelState(..)
        | ErrorKind::InvalidChannel(_)
        | ErrorKind::MissingHeartbeatError
        | ErrorKind::ChannelsLimitReached => true,
        ErrorKind::ProtocolError(amqp) => matches!(amqp.kind(), AMQPErrorKind::Hard(_)),
        _ => false,
    }
}

fn is_soft(error: &lapin::Error, soft: AMQPSoftError) -> bool {
    matches!(error.kind(), ErrorKind::ProtocolError(amqp) if *amqp.kind() == AMQPErrorKind::Soft(soft))
}

fn queue_arguments(spec: &QueueSpec) -> Result<FieldTable, BusError> {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    if let Some((exchange, routing_key)) = &spec.dead_letter {
        arguments.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(exchange.as_str().into()));
        arguments
            .insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(routing_key.as_str().into()));
    }
    if spec.single_active_consumer {
        arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    }
    if let Some(limit) = spec.delivery_limit {
        let limit = i64::from(limit);
        arguments.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(limit));
    }
    if spec.name.is_empty() {
        return Err(BusError::Topology {
            name: String::new(),
            reason: "queue name must not be empty (server-named queues are not supported)".to_owned(),
        });
    }
    Ok(arguments)
}

fn headers_to_table(headers: &Headers) -> Result<FieldTable, String> {
    let mut table = FieldTable::default();
    for (name, value) in headers {
        let key = ShortString::try_new(name.as_str())
            .map_err(|_| format!("header name {name:.40}… longer than 255 bytes"))?;
        table.insert(key, AMQPValue::LongString(value.as_str().into()));
    }
    Ok(table)
}

fn value_to_string(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::LongString(text) => String::from_utf8_lossy(text.as_bytes()).into_owned(),
        AMQPValue::ShortString(text) => text.as_str().to_owned(),
        AMQPValue::Boolean(flag) => flag.to_string(),
        AMQPValue::ShortShortInt(number) => number.to_string(),
        AMQPValue::ShortShortUInt(number) => number.to_string(),
        AMQPValue::ShortInt(number) => number.to_string(),
        AMQPValue::ShortUInt(number) => number.to_string(),
        AMQPValue::LongInt(number) => number.to_string(),
        AMQPValue::LongUInt(number) => number.to_string(),
        AMQPValue::LongLongInt(number) => number.to_string(),
        AMQPValue::Timestamp(number) => number.to_string(),
        AMQPValue::Float(number) => number.to_string(),
        AMQPValue::Double(number) => number.to_string(),
        _ => return None,
    })
}

/// String-valued headers of a delivery. Dead letters made by the broker
/// itself (delivery limit) carry `x-death` instead of our headers; their
/// reason and original key are copied into [`REASON_HEADER`] and
/// [`ORIGINAL_KEY_HEADER`] so consumers see the same shape from both backends.
fn headers_from_table(table: Option<&FieldTable>) -> Headers {
    let mut headers = Headers::new();
    let Some(table) = table else {
        return headers;
    };
    for (name, value) in table {
        if let Some(text) = value_to_string(value) {
            headers.insert(name.as_str().to_owned(), text);
        }
    }
    if !headers.contains_key(REASON_HEADER)
        && let Some(reason) = table.inner().get("x-first-death-reason").and_then(value_to_string)
    {
        let reason = match reason.as_str() {
            "delivery_limit" => "delivery limit exceeded".to_owned(),
            "rejected" => "rejected by a consumer".to_owned(),
            "expired" => "expired".to_owned(),
            "maxlen" => "queue length limit".to_owned(),
            _ => reason,
        };
        headers.insert(REASON_HEADER.to_owned(), reason);
        let original_key = match table.inner().get("x-death") {
            Some(AMQPValue::FieldArray(deaths)) => match deaths.as_slice().first() {
                Some(AMQPValue::FieldTable(death)) => match death.inner().get("routing-keys") {
                    Some(AMQPValue::FieldArray(keys)) => keys.as_slice().first().and_then(value_to_string),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        if let Some(key) = original_key {
            headers.entry(ORIGINAL_KEY_HEADER.to_owned()).or_insert(key);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_dead_letters_get_our_headers() {
        let mut death = FieldTable::default();
        death.insert(
            "routing-keys".into(),
            AMQPValue::FieldArray(vec![AMQPValue::LongString("acme.raw".into())].into()),
        );
        let mut table = FieldTable::default();
        table.insert("x-first-death-reason".into(), AMQPValue::LongString("delivery_limit".into()));
        table.insert("x-death".into(), AMQPValue::FieldArray(vec![AMQPValue::FieldTable(death)].into()));
        table.insert("x-delivery-count".into(), AMQPValue::LongLongInt(3));
        let headers = headers_from_table(Some(&table));
        assert_eq!(headers.get(REASON_HEADER).map(String::as_str), Some("delivery limit exceeded"));
        assert_eq!(headers.get(ORIGINAL_KEY_HEADER).map(String::as_str), Some("acme.raw"));
        assert_eq!(headers.get("x-delivery-count").map(String::as_str), Some("3"));
        assert!(!headers.contains_key("x-death"));
    }
}
