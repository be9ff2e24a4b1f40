//! Opening cases for a batch of enriched posts of one account, under the
//! account's policy (routing rules, SLA, reopen window), and the periodic
//! upkeep of its queues (inactive agents, escalations).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use smo_proto::{AccountId, EnrichedPost, Intent, PostId};
use smo_store::{NewCase, OpenOptions, OpenedCase, Requeued, Store};

use crate::policy::{AccountPolicy, CommunitySettings};
use crate::{CommunityError, PostRejected, new_case_with};

/// How long a policy loaded from the store is used before it is read again,
/// so settings changed through the API reach every worker.
pub const POLICY_REFRESH: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
struct CachedPolicy {
    policy: Arc<AccountPolicy>,
    loaded: Option<Instant>,
}

/// Turns enriched posts into cases through the store. Cheap to clone; one per
/// process is enough.
#[derive(Clone)]
pub struct CaseOpener {
    store: Store,
    policies: Arc<Mutex<HashMap<AccountId, CachedPolicy>>>,
}

impl std::fmt::Debug for CaseOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseOpener").field("store", &self.store).finish_non_exhaustive()
    }
}

/// What one upkeep round of an account did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Upkeep {
    /// Cases taken from agents who did not act in time.
    pub requeued: Vec<Requeued>,
    /// (case, rule) of escalations that fired.
    pub escalated: Vec<(i64, String)>,
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
    /// The post is a follow-up that joined its conversation's open case.
    Joined {
        /// The post.
        post_id: PostId,
        /// The open case.
        case_id: i64,
    },
    /// The post is a follow-up that reopened its conversation's resolved case.
    Reopened {
        /// The post.
        post_id: PostId,
        /// The case.
        case_id: i64,
        /// The agent now holding it; `None` when it waits in the queue.
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

    /// How many follow-ups joined or reopened a case.
    pub fn follow_ups(&self) -> usize {
        self.count(|o| matches!(o, PostOutcome::Joined { .. } | PostOutcome::Reopened { .. }))
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
    /// An opener writing through `store`; each account's policy is read from
    /// its stored community settings (refreshed every [`POLICY_REFRESH`]).
    pub fn new(store: Store) -> Self {
        Self { store, policies: Arc::default() }
    }

    /// Uses `policy` for `account` from now on instead of its stored settings.
    pub fn set_policy(&self, account: &AccountId, policy: AccountPolicy) {
        let cached = CachedPolicy { policy: Arc::new(policy), loaded: None };
        if let Ok(mut policies) = self.policies.lock() {
            policies.insert(account.clone(), cached);
        }
    }

    /// Validates `settings` and stores them as the account's community
    /// settings, for every process.
    pub async fn save_settings(
        &self,
        account: &AccountId,
        settings: &CommunitySettings,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        let policy = AccountPolicy::compile(settings)?;
        let json = serde_json::to_value(settings)
            .map_err(|e| CommunityError::Config(format!("unencodable settings: {e}")))?;
        self.store.put_community_settings(account, &json, now).await?;
        if let Ok(mut policies) = self.policies.lock() {
            policies.insert(
                account.clone(),
                CachedPolicy { policy: Arc::new(policy), loaded: Some(Instant::now()) },
            );
        }
        Ok(())
    }

    /// The account's policy: pinned, cached, or read from its stored
    /// settings. Settings that no longer compile are logged and the default
    /// policy is used, so cases still open.
    pub async fn policy(&self, account: &AccountId) -> Result<Arc<AccountPolicy>, CommunityError> {
        if let Ok(policies) = self.policies.lock()
            && let Some(cached) = policies.get(account)
            && cached.loaded.is_none_or(|at| at.elapsed() < POLICY_REFRESH)
        {
            return Ok(Arc::clone(&cached.policy));
        }
        let policy = match self.store.community_settings(account).await? {
            None => AccountPolicy::default(),
            Some(json) => serde_json::from_value::<CommunitySettings>(json)
                .map_err(|e| CommunityError::Config(e.to_string()))
                .and_then(|settings| AccountPolicy::compile(&settings))
                .unwrap_or_else(|error| {
                    tracing::warn!(account = %account, %error, "invalid community settings; using defaults");
                    AccountPolicy::default()
                }),
        };
        let policy = Arc::new(policy);
        if let Ok(mut policies) = self.policies.lock() {
            policies.insert(
                account.clone(),
                CachedPolicy { policy: Arc::clone(&policy), loaded: Some(Instant::now()) },
            );
        }
        Ok(policy)
    }

    /// One upkeep round of the account's queues at `now`: cases whose agent
    /// did not act within the inactivity limit go back to the queue, due SLA
    /// escalations fire, and the hold queue is routed. Run it periodically.
    pub async fn upkeep(&self, account: &AccountId, now: DateTime<Utc>) -> Result<Upkeep, CommunityError> {
        let policy = self.policy(account).await?;
        let mut upkeep = Upkeep::default();
        if let Some(timeout) = policy.inactivity_timeout {
            upkeep.requeued = self.store.requeue_inactive(account, timeout, now).await?;
        }
        if let Some(sla) = &policy.sla {
            upkeep.escalated = sla.sweep(&self.store, account, now).await?;
        }
        self.store.route_queued(account, now).await?;
        Ok(upkeep)
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
        let policy = self.policy(account).await?;
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
                match new_case_with(post, &policy) {
                    Some(case) => {
                        cases.push(case);
                        Plan::Case(post_id)
                    }
                    None => Plan::Done(PostOutcome::NoCaseNeeded { post_id, intent: post.intent }),
                }
            })
            .collect();

        let options = OpenOptions { reopen_window: policy.reopen_window, now: Utc::now() };
        let opened = if cases.is_empty() {
            Vec::new()
        } else {
            self.store.open_cases_with(account, &cases, &options).await?
        };
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
                    Some(OpenedCase::Joined { case_id }) => Ok(PostOutcome::Joined { post_id, case_id }),
                    Some(OpenedCase::Reopened { case_id, agent }) => {
                        Ok(PostOutcome::Reopened { post_id, case_id, agent })
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
            follow_ups = report.follow_ups(),
            duplicates = report.duplicates(),
            skipped = report.no_case_needed(),
            "case batch written"
        );
        Ok(report)
    }
}
