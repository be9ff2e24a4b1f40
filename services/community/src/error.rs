//! Errors of community management.

use smo_proto::{AccountId, PostId};
use smo_runtime::FieldError;
use smo_store::StoreError;

/// Why a batch could not be handled; the caller should not ack it.
#[derive(Debug, thiserror::Error)]
pub enum CommunityError {
    /// The store failed; usually transient, so redeliver the batch.
    #[error("case store: {0}")]
    Store(#[from] StoreError),
    /// A key of the account's community settings is invalid.
    #[error("configuration: {0}")]
    Invalid(FieldError),
    /// The stored settings document cannot be encoded or decoded.
    #[error("configuration: {0}")]
    Config(String),
    /// The store answered fewer outcomes than cases it was given: a bug,
    /// reported rather than guessed around. The cases it did write are
    /// durable and show up as duplicates when the batch is redelivered.
    #[error("the store returned {returned} outcomes for {expected} cases")]
    MissingOutcomes {
        /// Cases sent.
        expected: usize,
        /// Outcomes returned.
        returned: usize,
    },
}

/// Why one post of a batch was refused without writing anything. Per post,
/// so that one foreign post does not block its batch; the caller dead-letters
/// it with this message as the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PostRejected {
    /// The post belongs to another account than the batch: writing it would
    /// leak one client's data into another's cases.
    #[error("post {post_id} belongs to account {found}, not {expected}; refused")]
    WrongAccount {
        /// The post.
        post_id: PostId,
        /// The account the batch is for.
        expected: AccountId,
        /// The account the post says it belongs to.
        found: AccountId,
    },
}
