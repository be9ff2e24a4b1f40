//! Publishing on the RabbitMQ backend: a pool of confirm-mode channels and
//! batches sent `mandatory` that succeed only once every confirm is an ack.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::ShortString;
use lapin::{BasicProperties, Channel, Confirmation};
use tracing::warn;

use super::connection::is_connection_error;
use super::headers::headers_to_table;
use super::{Inner, lock};
use crate::{BusError, OutgoingMessage};

/// Persistent delivery mode of AMQP 0-9-1: the broker writes the message to disk.
const PERSISTENT: u8 = 2;
/// Publisher channels kept for reuse; more concurrent publishers open more.
const MAX_IDLE_PUBLISHERS: usize = 16;

impl Inner {
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

    pub(super) async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
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
