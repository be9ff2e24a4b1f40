//! Opening cases for a batch of enriched posts of one account.

use serde::Serialize;
use smo_proto::{AccountId, EnrichedPost, Intent, PostId};
use smo_store::{NewCase, OpenedCase, Store};

use crate::{CommunityError, PostRejected, new_case_from};

/// Turns enriched posts into cases through the store. Cheap to clone; one per
/// process is enough.
#[derive(Debug, Clone)]
pub struct CaseOpener {
    store: Store,
}

/// What happened to one post of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PostOutcome {
    /// A new case was opened for the post.
    Opened {
        /// The post.
        post_id: PostId,
        /// The new case.
        case_id: i64,
        /// The agent it went to; `None` when it waits in the queue.
        agent: Option<String>,
    },
    /// The post already had a case (redelivery or a repeat in the batch).
    Duplicate {
        /// The post.
        post_id: PostId,
        /// The existing case.
        case_id: i64,
    },
    /// The post needs no answer, so no case.
    NoCaseNeeded {
        /// The post.
        post_id: PostId,
        /// Its intent.
        intent: Intent,
    },
    /// The post was refused and nothing was written for it.
    Rejected {
        /// Why.
        reason: PostRejected,
    },
}

/// One outcome per input post, in input order, so the caller can ack,
/// dead-letter and count per message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpenBatchReport {
    /// Per-post outcomes, in input order.
    pub outcomes: Vec<PostOutcome>,
}

impl OpenBatchReport {
    /// How many new cases the batch opened.
    pub fn opened(&self) -> usize {
        self.count(|o| matches!(o, PostOutcome::Opened { .. }))
    }

    /// How many posts already had a case.
    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, PostOutcome::Duplicate { .. }))
    }

    /// How many posts needed no case.
    pub fn no_case_needed(&self) -> usize {
        self.count(|o| matches!(o, PostOutcome::NoCaseNeeded { .. }))
    }

    /// The refused posts, for dead-lettering with their reason.
    pub fn rejected(&self) -> impl Iterator<Item = &PostRejected> {
        self.outcomes.iter().filter_map(|o| match o {
            PostOutcome::Rejected { reason } => Some(reason),
            _ => None,
        })
    }

    fn count(&self, wanted: impl Fn(&PostOutcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| wanted(o)).count()
    }
}

impl CaseOpener {
    /// An opener writing through `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store, for queries around the cases (queues, audit log).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Makes `agents`, in order, the account's round-robin rotation; call at
    /// start and whenever the account's configuration changes.
    pub async fn sync_agents(&self, account: &AccountId, agents: &[String]) -> Result<(), CommunityError> {
        self.store.sync_agents(account, agents).await?;
        Ok(())
    }

    /// Opens cases for the posts of `account` that need an answer, in one
    /// store transaction. Posts of another account are refused one by one
    /// (tenancy) and posts that need no answer are skipped; neither fails the
    /// batch. `Ok` means every case is durable and the batch may be acked.
    pub async fn open_batch(
        &self,
        account: &AccountId,
        posts: &[EnrichedPost],
    ) -> Result<OpenBatchReport, CommunityError> {
        enum Plan {
            Done(PostOutcome),
            Case(PostId),
        }
        let mut cases: Vec<NewCase> = Vec::new();
        let plans: Vec<Plan> = posts
            .iter()
            .map(|post| {
                let post_id = post.post.id.clone();
                if &post.post.account != account {
                    return Plan::Done(PostOutcome::Rejected {
                        reason: PostRejected::WrongAccount {
                            post_id,
                            expected: account.clone(),
                            found: post.post.account.clone(),
                        },
                    });
                }
                match new_case_from(post) {
                    Some(case) => {
                        cases.push(case);
                        Plan::Case(post_id)
                    }
                    None => Plan::Done(PostOutcome::NoCaseNeeded { post_id, intent: post.intent }),
                }
            })
            .collect();

        let opened =
            if cases.is_empty() { Vec::new() } else { self.store.open_cases(account, &cases).await? };
        let returned = opened.len();
        let mut opened = opened.into_iter();
        let outcomes = plans
            .into_iter()
            .map(|plan| match plan {
                Plan::Done(outcome) => Ok(outcome),
                Plan::Case(post_id) => match opened.next() {
                    Some(OpenedCase::Created { case_id, agent }) => {
                        Ok(PostOutcome::Opened { post_id, case_id, agent })
                    }
                    Some(OpenedCase::Duplicate { case_id }) => {
                        Ok(PostOutcome::Duplicate { post_id, case_id })
                    }
                    None => Err(CommunityError::MissingOutcomes { expected: cases.len(), returned }),
                },
            })
            .collect::<Result<Vec<_>, _>>()?;
        let report = OpenBatchReport { outcomes };
        for rejection in report.rejected() {
            tracing::warn!(account = %account, %rejection, "post refused");
        }
        tracing::debug!(
            account = %account,
            opened = report.opened(),
            duplicates = report.duplicates(),
            skipped = report.no_case_needed(),
            "case batch written"
        );
        Ok(report)
    }
}
