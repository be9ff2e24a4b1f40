//! The [`Bus`] trait on the RabbitMQ backend: declarations on the control
//! channel, publishing and starting consumers.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use lapin::ExchangeKind;
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;

use super::consumer::RabbitConsumer;
use super::topology::{queue_arguments, short_topology, topology_error};
use super::{RabbitBus, lock};
use crate::{Bus, BusError, ConsumeSpec, Consumer, OutgoingMessage, QueueSpec};

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
