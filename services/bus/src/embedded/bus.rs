//! The [`Bus`] trait on the embedded backend: declarations, routed publishing
//! in one transaction, starting consumers and queue depth.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use async_trait::async_trait;
use sqlx::Row;

use super::consumer::EmbeddedConsumer;
use super::leases::heartbeat_loop;
use super::{EmbeddedBus, Inner, db_error, encode_headers, now_ms};
use crate::{Bus, BusError, ConsumeSpec, Consumer, OutgoingMessage, QueueSpec};

#[async_trait]
impl Bus for EmbeddedBus {
    async fn declare_exchange(&self, name: &str) -> Result<(), BusError> {
        if name.is_empty() {
            return Err(BusError::Topology {
                name: String::new(),
                reason: "exchange name must not be empty".to_owned(),
            });
        }
        let (_gate, mut tx) = self.inner.write().await?;
        sqlx::query("INSERT OR IGNORE INTO bus_exchanges (name) VALUES (?1)")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn declare_queue(&self, spec: &QueueSpec) -> Result<(), BusError> {
        if spec.name.is_empty() {
            return Err(BusError::Topology {
                name: String::new(),
                reason: "queue name must not be empty".to_owned(),
            });
        }
        let (dead_letter_exchange, dead_letter_key) = match &spec.dead_letter {
            Some((exchange, key)) => (Some(exchange.as_str()), Some(key.as_str())),
            None => (None, None),
        };
        let limit = spec.delivery_limit.map(i64::from);
        let (_gate, mut tx) = self.inner.write().await?;
        let existing = sqlx::query(
            "SELECT dead_letter_exchange, dead_letter_key, single_active_consumer, delivery_limit
             FROM bus_queues WHERE name = ?1",
        )
        .bind(&spec.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(row) = existing {
            let same = row.try_get::<Option<String>, _>(0).map_err(db_error)?.as_deref()
                == dead_letter_exchange
                && row.try_get::<Option<String>, _>(1).map_err(db_error)?.as_deref() == dead_letter_key
                && row.try_get::<bool, _>(2).map_err(db_error)? == spec.single_active_consumer
                && row.try_get::<Option<i64>, _>(3).map_err(db_error)? == limit;
            if !same {
                return Err(BusError::Topology {
                    name: spec.name.clone(),
                    reason: "queue already declared with different arguments".to_owned(),
                });
            }
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO bus_queues (name, dead_letter_exchange, dead_letter_key, single_active_consumer, delivery_limit)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&spec.name)
        .bind(dead_letter_exchange)
        .bind(dead_letter_key)
        .bind(spec.single_active_consumer)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn bind(&self, queue: &str, exchange: &str, pattern: &str) -> Result<(), BusError> {
        let (_gate, mut tx) = self.inner.write().await?;
        for (table, name) in [("queue", queue), ("exchange", exchange)] {
            let sql = if table == "queue" {
                "SELECT 1 FROM bus_queues WHERE name = ?1"
            } else {
                "SELECT 1 FROM bus_exchanges WHERE name = ?1"
            };
            let found = sqlx::query(sql).bind(name).fetch_optional(&mut *tx).await.map_err(db_error)?;
            if found.is_none() {
                return Err(BusError::Topology {
                    name: name.to_owned(),
                    reason: format!("{table} not found"),
                });
            }
        }
        sqlx::query("INSERT OR IGNORE INTO bus_bindings (exchange, pattern, queue) VALUES (?1, ?2, ?3)")
            .bind(exchange)
            .bind(pattern)
            .bind(queue)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn publish(&self, exchange: &str, messages: &[OutgoingMessage]) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        let (_gate, mut tx) = self.inner.write().await?;
        let Some(bindings) = Inner::bindings(&mut tx, exchange).await? else {
            return Err(BusError::NotConfirmed {
                exchange: exchange.to_owned(),
                routing_key: messages.first().map(|message| message.routing_key.clone()).unwrap_or_default(),
                reason: "exchange not found".to_owned(),
            });
        };
        let mut routes: HashMap<&str, BTreeSet<String>> = HashMap::new();
        let mut unroutable = None;
        for message in messages {
            let queues = routes
                .entry(message.routing_key.as_str())
                .or_insert_with(|| Inner::route(&bindings, &message.routing_key));
            if queues.is_empty() {
                unroutable.get_or_insert_with(|| message.routing_key.clone());
                continue;
            }
            let headers = encode_headers(&message.headers)?;
            for queue in queues.iter() {
                Inner::insert_message(
                    &mut tx,
                    queue,
                    exchange,
                    &message.routing_key,
                    &message.payload,
                    &headers,
                )
                .await?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        self.inner.notify.notify_waiters();
        match unroutable {
            Some(routing_key) => Err(BusError::NotConfirmed {
                exchange: exchange.to_owned(),
                routing_key,
                reason: "unroutable: no queue bound for this routing key".to_owned(),
            }),
            None => Ok(()),
        }
    }

    async fn consume(&self, spec: &ConsumeSpec) -> Result<Box<dyn Consumer>, BusError> {
        let id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4());
        {
            let (_gate, mut tx) = self.inner.write().await?;
            let found = sqlx::query("SELECT 1 FROM bus_queues WHERE name = ?1")
                .bind(&spec.queue)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            if found.is_none() {
                return Err(BusError::Topology {
                    name: spec.queue.clone(),
                    reason: "queue not found".to_owned(),
                });
            }
            self.inner.register_in(&mut tx, &id, &spec.queue, now_ms()).await?;
            tx.commit().await.map_err(db_error)?;
        }
        let lease_lost = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat_loop(
            Arc::clone(&self.inner),
            id.clone(),
            spec.queue.clone(),
            Arc::clone(&lease_lost),
        ));
        Ok(Box::new(EmbeddedConsumer {
            inner: Arc::clone(&self.inner),
            id,
            queue: spec.queue.clone(),
            max_in_flight: if spec.prefetch == 0 { usize::MAX } else { usize::from(spec.prefetch) },
            next_tag: 1,
            in_flight: BTreeMap::new(),
            buffer: VecDeque::new(),
            pending: None,
            heartbeat,
            lease_lost,
            cancelled: false,
        }))
    }

    async fn queue_depth(&self, queue: &str) -> Result<u64, BusError> {
        let row = sqlx::query(
            "SELECT EXISTS(SELECT 1 FROM bus_queues WHERE name = ?1),
                    (SELECT COUNT(*) FROM bus_messages WHERE queue = ?1 AND consumer IS NULL)",
        )
        .bind(queue)
        .fetch_one(&self.inner.pool)
        .await
        .map_err(db_error)?;
        let exists: bool = row.try_get(0).map_err(db_error)?;
        if !exists {
            return Err(BusError::Topology { name: queue.to_owned(), reason: "queue not found".to_owned() });
        }
        let count: i64 = row.try_get(1).map_err(db_error)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
