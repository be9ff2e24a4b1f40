//! The wire contract of smo. Every stage talks to the next through these plain
//! serde structs and through the names in [`topology`], never through each
//! other's crates, so a stage can be rewritten or scaled without touching the
//! rest. Readers ignore unknown fields so that a newer writer never breaks an
//! older reader; `schema_version` says which shape a writer meant.

mod account;
mod case;
mod post;
pub mod schema;
pub mod signature;
pub mod topology;

pub use account::{AccountId, AccountIdError};
pub use case::{CaseEvent, CaseEventKind, CasePriority, CaseStatus, SlaTarget};
pub use post::{
    Author, Engagement, EnrichedPost, Intent, Language, Post, PostId, Sentiment, SentimentScore, SpamSignals,
    Urgency,
};

/// Version of the wire shapes below; bumped on any change a reader must know about.
pub const SCHEMA_VERSION: u32 = 1;

/// Serde default for `schema_version` so that messages written before the field
/// existed still parse.
fn default_schema_version() -> u32 {
    SCHEMA_VERSION
}
