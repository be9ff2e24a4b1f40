//! Logging setup. Logs go to stderr through `tracing`, filtered by `RUST_LOG`
//! (or the level given), so that stdout stays free for command output and
//! `--json` data.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call is a no-op.
pub fn init_logging(default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
