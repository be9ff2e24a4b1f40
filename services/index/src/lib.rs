//! Search indexes of smo: one tantivy index per account, on disk under a
//! root directory ([`IndexRoot`]). The index stage owns the single
//! [`AccountWriter`] of each account and feeds it batches of enriched posts
//! (upsert by post id, one commit per batch, then the batch's messages are
//! acked); the API and reports open [`AccountReader`]s to search with the
//! [query language](query) and to gather [`IndexFacts`] for a period.
//!
//! Tenancy is structural: an index is a directory named after the account,
//! a writer refuses posts of other accounts, and a reader only ever opens its
//! own account's directory.
//!
//! Everything here is synchronous and CPU/disk bound; async callers run it on
//! a blocking thread pool. Writers and readers are `Send`, readers also
//! `Sync`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod facts;
pub mod query;
mod reader;
mod root;
mod schema;
mod writer;

pub use error::IndexError;
pub use facts::{DayCount, IndexFacts, MAX_ZERO_FILLED_DAYS, TermCount, TopPost};
pub use reader::{AccountReader, MAX_SEARCH_LIMIT, SearchHit, SearchOrder};
pub use root::{DEFAULT_WRITER_MEMORY_BUDGET, IndexRoot, MIN_WRITER_MEMORY_BUDGET};
pub use writer::{AccountWriter, UpsertOutcome};
