//! Tuning of the RabbitMQ backend: connection naming, reconnect backoff and
//! the confirm timeout, kept apart from the code that uses them.

use std::time::Duration;

/// Tuning of [`RabbitBus`](super::RabbitBus): how it names its connection and how hard it tries
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
