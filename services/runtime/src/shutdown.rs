//! Graceful shutdown. A single [`Shutdown`] is created at start; SIGTERM or
//! Ctrl-C flips it, and every worker holding a receiver stops taking new work,
//! finishes what it has in hand (commit, ack) and returns.

use tokio::sync::watch;

/// The trigger side of the shutdown signal; cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Self {
        let (sender, _) = watch::channel(false);
        Self { sender }
    }

    /// A receiver for a worker; its value becomes `true` once shutdown starts.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.sender.subscribe()
    }

    /// Starts the shutdown.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether shutdown has started.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Triggers this signal on SIGTERM or Ctrl-C, from a background task.
    pub fn trigger_on_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received: finishing in-flight work");
            this.trigger();
        });
    }
}

/// Completes when the receiver's shutdown has fired, or when its sender is
/// gone: then nobody can ask for a stop any more (the owner is tearing down),
/// and a worker waiting forever would hold the process up. The one helper
/// every loop uses, so they all agree.
pub async fn fired(receiver: &mut watch::Receiver<bool>) {
    let _ = receiver.wait_for(|stop| *stop).await;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn receivers_see_the_trigger() {
        let shutdown = Shutdown::new();
        let mut rx = shutdown.subscribe();
        assert!(!*rx.borrow());
        shutdown.trigger();
        fired(&mut rx).await;
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn a_dropped_sender_counts_as_shutdown() {
        let shutdown = Shutdown::new();
        let mut rx = shutdown.subscribe();
        drop(shutdown);
        tokio::time::timeout(std::time::Duration::from_secs(5), fired(&mut rx)).await.expect("fired");
    }
}
