//! Connection management of the RabbitMQ backend: connecting, lazy reconnect
//! with backoff, the control channel, closing, and which errors are worth a retry.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::LongString;
use lapin::{Channel, Connection, ConnectionProperties, ErrorKind};
use smo_runtime::redact::redact_url;
use tracing::{debug, info, warn};

use super::{Inner, Live, RabbitBus, RabbitBusOptions, lock};
use crate::BusError;

/// Why an AMQP call failed, as far as retrying is concerned.
pub(super) enum Failure {
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
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn connection_properties(&self) -> ConnectionProperties {
        ConnectionProperties::default().with_connection_name(LongString::from(self.name.clone()))
    }

    pub(super) fn backoff(&self, attempt: u32) -> Duration {
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

    pub(super) async fn open_channel(&self) -> Result<Channel, BusError> {
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
    pub(super) async fn control_op<T, F, Fut>(&self, op: F) -> Result<T, Failure>
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
}

/// Errors after which a new connection or channel may well succeed.
pub(super) fn is_connection_error(error: &lapin::Error) -> bool {
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

pub(super) fn is_soft(error: &lapin::Error, soft: AMQPSoftError) -> bool {
    matches!(error.kind(), ErrorKind::ProtocolError(amqp) if *amqp.kind() == AMQPErrorKind::Soft(soft))
}
