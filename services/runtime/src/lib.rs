//! Process plumbing every smo service shares and none of them owns:
//! configuration loading (TOML plus `SMO_…` environment overrides, errors that
//! name the offending key), logging, Prometheus metrics, graceful shutdown,
//! retry backoff, and credentials and URLs that never print. Nothing here knows about posts or cases; each service defines
//! its own config shapes and uses these pieces to load and run them.

pub mod backoff;
pub mod config;
pub mod metrics;
pub mod output;
pub mod redact;
pub mod secret;
pub mod shutdown;
pub mod telemetry;

pub use config::{ConfigError, EnvOverrides, FieldError, load_config, parse_config};
pub use secret::Secret;
pub use shutdown::Shutdown;
