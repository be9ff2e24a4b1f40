use std::path::PathBuf;

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, PostId};
use thiserror::Error;

/// Everything that can go wrong with an account's index. Variants a caller
/// acts on differently are separate: `Locked` means another process owns the
/// account (back off, do not ack), `Query` is the user's mistake (answer 400),
/// the rest are infrastructure failures (retry, alert).
#[derive(Debug, Error)]
pub enum IndexError {
    /// Another `IndexWriter`, in this process or another, holds the account's
    /// index. Only one writer per account may exist at a time.
    #[error("index of account {account} at {path} is locked by another writer")]
    Locked {
        /// The account whose index is busy.
        account: AccountId,
        /// The index directory.
        path: PathBuf,
    },
    /// The search query does not parse.
    #[error("invalid query {query:?}: {reason}")]
    Query {
        /// The query as given.
        query: String,
        /// What the parser objected to.
        reason: String,
    },
    /// The index on disk was created with another schema (an older smo);
    /// it must be rebuilt from the enriched posts.
    #[error("index of account {account} at {path} has an incompatible schema: {reason}")]
    SchemaMismatch {
        /// The account whose index is incompatible.
        account: AccountId,
        /// The index directory.
        path: PathBuf,
        /// What tantivy reported.
        reason: String,
    },
    /// A report period whose start is not before its end.
    #[error("invalid period: {from} is not before {to}")]
    InvalidPeriod {
        /// Requested start (inclusive).
        from: DateTime<Utc>,
        /// Requested end (exclusive).
        to: DateTime<Utc>,
    },
    /// A setting of [`crate::IndexRoot`] is out of range.
    #[error("invalid index configuration: {0}")]
    InvalidConfig(String),
    /// The index directory could not be created or read.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path being accessed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A post could not be serialised for storage.
    #[error("post {id} could not be serialised: {source}")]
    Serialize {
        /// The post.
        id: PostId,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored document is not a valid enriched post (corruption, or a
    /// document written by something other than this crate).
    #[error("stored document is not a valid enriched post: {0}")]
    CorruptDocument(String),
    /// Any other failure of the search engine (disk full, corrupted files…).
    #[error("search engine error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}
