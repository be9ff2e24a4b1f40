//! Tuning of the embedded bus, apart from the queue so that its defaults and
//! the lease/heartbeat relation are in one place.

use std::time::Duration;

/// Tuning of [`EmbeddedBus`](super::EmbeddedBus): leases, polling and SQLite settings.
#[derive(Debug, Clone)]
pub struct EmbeddedBusOptions {
    /// How long a consumer may go without a heartbeat before its in-flight
    /// messages are redelivered to others.
    pub lease: Duration,
    /// How often a consumer renews its heartbeat (and reaps expired
    /// consumers); well below `lease`.
    pub heartbeat_interval: Duration,
    /// How often an idle consumer looks for messages published by other
    /// processes (publishes in this process wake it at once).
    pub poll_interval: Duration,
    /// How long a write waits for another process's write lock.
    pub busy_timeout: Duration,
    /// Connections in the pool.
    pub max_connections: u32,
    /// `synchronous=FULL` (durable across power loss) rather than `NORMAL`
    /// (durable across process crashes only, faster).
    pub synchronous_full: bool,
}

impl Default for EmbeddedBusOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            busy_timeout: Duration::from_secs(30),
            max_connections: 4,
            synchronous_full: true,
        }
    }
}

impl EmbeddedBusOptions {
    /// Sets the lease and a heartbeat interval of a third of it.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self.heartbeat_interval = (lease / 3).max(Duration::from_millis(10));
        self
    }
}
