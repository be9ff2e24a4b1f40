//! The RabbitMQ backend (lapin 4, on tokio). It keeps the bus promises with the
//! broker's own machinery: durable topic exchanges, quorum queues with
//! dead-letter arguments, publisher confirms with `mandatory` (so an
//! unroutable message is an error, not a silent drop), manual acks with a
//! bounded prefetch.
//!
//! Connection loss is handled lazily: the next call on the bus reconnects with
//! exponential backoff, and a consumer whose channel died opens a new one in
//! [`Consumer::next`](crate::Consumer::next); the broker redelivers what the dead channel held, and
//! the tags of the dead channel are refused (never sent to the new channel,
//! where they would mean other messages).

mod bus;
mod connection;
mod consumer;
mod headers;
mod options;
mod publish;
mod topology;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use lapin::{Channel, Connection};
use smo_runtime::redact::redact_url;

pub use options::RabbitBusOptions;

/// The RabbitMQ [`Bus`](crate::Bus). Cheap to clone: clones share one connection.
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
