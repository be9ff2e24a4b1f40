//! The single writer of an account's index. Upserts are idempotent: each post
//! replaces any document with the same id, so redelivered messages and
//! re-classified posts never duplicate a hit. A batch is one commit, so the
//! caller can ack the batch's messages once [`AccountWriter::upsert_batch`]
//! returns `Ok`.

use smo_proto::{AccountId, EnrichedPost, PostId};
use tantivy::{IndexWriter, Term};

use crate::error::IndexError;
use crate::schema::PostFields;

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// Posts written (each replacing any earlier version with its id).
    pub indexed: usize,
    /// Posts of another account, not written. Reaching this writer is a
    /// routing bug upstream; the caller should dead-letter them.
    pub rejected_other_account: Vec<PostId>,
}

/// Owns the index writer of one account. Opened with
/// [`crate::IndexRoot::open_writer`]; holding it holds the account's index
/// lock, released on drop. `Send`, so it can move to a blocking thread
/// (indexing and commits are CPU and disk work, not for an async runtime).
pub struct AccountWriter {
    account: AccountId,
    writer: IndexWriter,
    fields: PostFields,
}

impl std::fmt::Debug for AccountWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountWriter").field("account", &self.account).finish_non_exhaustive()
    }
}

impl AccountWriter {
    pub(crate) fn new(account: AccountId, writer: IndexWriter) -> Result<Self, IndexError> {
        let fields = PostFields::new(&writer.index().schema())?;
        Ok(Self { account, writer, fields })
    }

    /// The account this writer writes.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// Indexes `posts` of this writer's account and commits once. Each post
    /// replaces any document with its id, including an earlier post of the
    /// same batch, so a post indexed twice is one document.
    ///
    /// Posts of another account are never written: they are listed in
    /// [`UpsertOutcome::rejected_other_account`] and the rest of the batch
    /// proceeds, so one misrouted message cannot block an account's queue.
    /// Nothing is committed when no post is accepted.
    ///
    /// On error nothing of the batch is committed (the writer rolls back to
    /// the last commit), so the caller can retry the whole batch.
    pub fn upsert_batch(&mut self, posts: &[EnrichedPost]) -> Result<UpsertOutcome, IndexError> {
        let mut outcome = UpsertOutcome::default();
        let result = self.stage(posts, &mut outcome).and_then(|()| {
            if outcome.indexed > 0 {
                self.writer.commit()?;
            }
            Ok(())
        });
        if let Err(err) = result {
            if let Err(rollback_err) = self.writer.rollback() {
                tracing::error!(account = %self.account, error = %rollback_err, "rollback after failed upsert failed");
            }
            return Err(err);
        }
        if !outcome.rejected_other_account.is_empty() {
            tracing::warn!(
                account = %self.account,
                rejected = outcome.rejected_other_account.len(),
                "posts of another account reached this index writer and were not indexed"
            );
        }
        Ok(outcome)
    }

    fn stage(&self, posts: &[EnrichedPost], outcome: &mut UpsertOutcome) -> Result<(), IndexError> {
        for enriched in posts {
            if enriched.post.account != self.account {
                outcome.rejected_other_account.push(enriched.post.id.clone());
                continue;
            }
            let document = self.fields.document(enriched)?;
            self.writer.delete_term(Term::from_field_text(self.fields.id, enriched.post.id.as_str()));
            self.writer.add_document(document)?;
            outcome.indexed += 1;
        }
        Ok(())
    }

    /// Waits for background segment merges to finish; call before dropping
    /// the writer at shutdown to leave a compact index behind.
    pub fn wait_merging_threads(self) -> Result<(), IndexError> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}
