//! Topology of the RabbitMQ backend: name checks, quorum-queue arguments,
//! deletes for tests and ops, and the dead-letter target of each queue.

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};

use super::connection::{Failure, is_connection_error};
use super::{Inner, RabbitBus, lock};
use crate::topology::dead_letter_target_for_queue;
use crate::{BusError, QueueSpec};

impl RabbitBus {
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
}

impl Inner {
    pub(super) fn dead_letter_target(&self, queue: &str) -> Option<(String, String)> {
        match lock(&self.dead_letters).get(queue) {
            Some(target) => target.clone(),
            None => dead_letter_target_for_queue(queue),
        }
    }
}

pub(super) fn short_topology(name: &str) -> Result<ShortString, BusError> {
    ShortString::try_new(name).map_err(|_| BusError::Topology {
        name: name.chars().take(64).collect(),
        reason: "name longer than 255 bytes".to_owned(),
    })
}

pub(super) fn topology_error(name: &str, failure: Failure) -> BusError {
    match failure {
        Failure::Bus(error) => error,
        Failure::Amqp(error) if is_connection_error(&error) => {
            BusError::Connection(format!("{name}: {error}"))
        }
        Failure::Amqp(error) => BusError::Topology { name: name.to_owned(), reason: error.to_string() },
    }
}

pub(super) fn queue_arguments(spec: &QueueSpec) -> Result<FieldTable, BusError> {
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
