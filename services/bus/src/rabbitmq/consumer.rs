//! The RabbitMQ consumer: one channel per consumer, re-established when it
//! dies, with our own tags so that tags of a dead channel are refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions, QueueDeclareOptions,
};
use lapin::protocol::AMQPSoftError;
use lapin::types::{FieldTable, ShortString};
use lapin::{Acker, Channel};
use smo_proto::topology::{ORIGINAL_KEY_HEADER, REASON_HEADER};
use tracing::{debug, info, warn};

use super::Inner;
use super::connection::{is_connection_error, is_soft};
use super::headers::headers_from_table;
use crate::{BusError, ConsumeSpec, Consumer, Delivery, OutgoingMessage};

pub(super) struct ActiveConsumer {
    channel: Channel,
    stream: lapin::Consumer,
}

/// A consumer on its own channel, so that `ack(multiple)` covers exactly this
/// consumer's deliveries and closing the channel returns exactly them.
pub(super) struct RabbitConsumer {
    pub(super) bus: Arc<Inner>,
    pub(super) spec: ConsumeSpec,
    pub(super) queue: ShortString,
    pub(super) active: Option<ActiveConsumer>,
    /// Unsettled deliveries of the current channel, by our tag.
    pub(super) outstanding: BTreeMap<u64, Acker>,
    pub(super) next_tag: u64,
    pub(super) cancelled: bool,
}

impl RabbitConsumer {
    /// Opens a channel and starts consuming. `Ok(false)` when the queue does
    /// not exist.
    pub(super) async fn establish(&mut self) -> Result<bool, BusError> {
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
