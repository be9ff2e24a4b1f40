//! What can go wrong while opening or running the pipeline.

use std::path::PathBuf;

use smo_proto::AccountId;

/// Failures of [`crate::Pipeline`]; each names what it was doing, and the
/// binaries add the command's context.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The settings are invalid (names the key).
    #[error(transparent)]
    Config(#[from] smo_runtime::ConfigError),
    /// The embedded data directory cannot be created.
    #[error("creating data dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bus is unreachable or refused a declaration.
    #[error("{what}: {source}")]
    Bus {
        /// What was being done, with the redacted URL.
        what: String,
        /// The bus error.
        source: smo_bus::BusError,
    },
    /// The store is unreachable or refused a statement.
    #[error("{what}: {source}")]
    Store {
        /// What was being done.
        what: String,
        /// The store error.
        source: smo_store::StoreError,
    },
    /// An account's community settings do not compile or save.
    #[error("community settings of {account}: {source}")]
    Community {
        /// The account.
        account: AccountId,
        /// The error.
        source: smo_community::CommunityError,
    },
    /// The trained models cannot be loaded.
    #[error("loading models from {dir} (config key `classify.models_dir`): {source}")]
    Models {
        /// The models directory.
        dir: PathBuf,
        /// The classifier's error.
        source: smo_classify::ClassifyError,
    },
    /// A role was asked for an account this process does not configure.
    #[error("account {0} is not configured")]
    UnknownAccount(AccountId),
    /// The outbound webhook client cannot be built.
    #[error("outbound webhook client: {0}")]
    Outbound(String),
    /// A source of an account cannot be built or failed for good.
    #[error("ingesting {account}: {source}")]
    Ingest {
        /// The account.
        account: AccountId,
        /// The ingest error.
        source: smo_ingest::IngestError,
    },
    /// The stages did not settle what upstream produced in time (demo, benchmarks).
    #[error("the pipeline did not settle every message within {0:?}")]
    NotSettled(std::time::Duration),
    /// A worker task panicked.
    #[error("a worker task panicked: {0}")]
    Panicked(String),
}
