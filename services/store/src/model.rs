//! The typed rows the store reads and writes.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use smo_proto::{AccountId, CasePriority, CaseStatus, Intent, PostId, SlaTarget};

/// A post that needs a human answer. Built by community management from an
/// enriched post: the store appends it to the open case of its conversation
/// (same thread, same customer), reopens a recently resolved one, or opens a
/// new case, then assigns the id, status and agent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// The post that needs an answer; at most one case per (account, post).
    pub post_id: PostId,
    /// The conversation the post belongs to, so agents see threads together.
    pub thread_id: PostId,
    /// Why the post needs an answer.
    pub intent: Intent,
    /// Urgency in `[0, 1]`; orders cases of the same level. Non-finite
    /// values are stored as 0.
    pub priority: f32,
    /// Priority level: queues serve higher levels first and SLA targets
    /// depend on it.
    pub level: CasePriority,
    /// The team whose queue a new case goes to (chosen by the account's
    /// routing rules); `None` is the general queue, which every agent serves.
    pub team: Option<String>,
    /// The author's handle, shown in the agent's queue.
    pub author_handle: String,
    /// Language code of the post, so it can be routed to agents who read it.
    pub lang: String,
    /// The account's topic tags that matched the post.
    pub tags: Vec<String>,
    /// The start of the post's text, for the queue view.
    pub text_excerpt: String,
    /// When the case counts as opened (usually the post's creation time, so
    /// SLA clocks start when the customer spoke).
    pub opened_at: DateTime<Utc>,
    /// When the first response is due if this post opens a case (computed on
    /// the account's business hours); `None`: no SLA.
    pub first_response_due_at: Option<DateTime<Utc>>,
    /// When the next response is due if this post is a follow-up that starts
    /// a new clock; `None`: no SLA.
    pub next_response_due_at: Option<DateTime<Utc>>,
}

/// How long after a case was resolved a follow-up of the same customer in the
/// same thread reopens it rather than opening a new case, unless configured.
pub const DEFAULT_REOPEN_WINDOW: TimeDelta = TimeDelta::days(7);

/// Settings of one [`crate::CaseStore::open_cases_with`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// A follow-up written at most this long after its conversation's case
    /// was resolved reopens that case.
    pub reopen_window: TimeDelta,
    /// The time recorded on audit events and routing decisions.
    pub now: DateTime<Utc>,
}

impl OpenOptions {
    /// The default reopen window, deciding at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { reopen_window: DEFAULT_REOPEN_WINDOW, now }
    }
}

/// What [`crate::CaseStore::open_cases`] did with one input, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpenedCase {
    /// A new case was opened, and given to `agent` unless the account has none.
    Created {
        /// The new case.
        case_id: i64,
        /// The agent it was assigned to; `None` means it waits in the queue.
        agent: Option<String>,
    },
    /// The post already belonged to a case (redelivery, or twice in one batch).
    Duplicate {
        /// The existing case.
        case_id: i64,
    },
    /// The post is a follow-up and joined its conversation's open case.
    Joined {
        /// The open case.
        case_id: i64,
    },
    /// The post is a follow-up that reopened its conversation's resolved case.
    Reopened {
        /// The reopened case.
        case_id: i64,
        /// The agent now holding it; `None` means it waits in the queue.
        agent: Option<String>,
    },
}

impl OpenedCase {
    /// The case the input ended up in, new or existing.
    pub fn case_id(&self) -> i64 {
        match self {
            Self::Created { case_id, .. }
            | Self::Duplicate { case_id }
            | Self::Joined { case_id }
            | Self::Reopened { case_id, .. } => *case_id,
        }
    }

    /// Whether this input opened a new case.
    pub fn is_created(&self) -> bool {
        matches!(self, Self::Created { .. })
    }
}

/// Which cases [`crate::CaseStore::list_cases`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Only cases in this status.
    pub status: Option<CaseStatus>,
    /// Only cases held by this agent.
    pub agent: Option<String>,
    /// At most this many rows; `None` returns all.
    pub limit: Option<u32>,
}

/// A case as stored: what an agent's queue shows, and the state its
/// lifecycle, routing and SLA clock work on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRow {
    /// The case's id, unique within the database.
    pub id: i64,
    /// The account the case belongs to.
    pub account: AccountId,
    /// The post that opened the case.
    pub post_id: PostId,
    /// The conversation the post belongs to.
    pub thread_id: PostId,
    /// Why the post needed an answer.
    pub intent: Intent,
    /// Where the case stands.
    pub status: CaseStatus,
    /// Urgency in `[0, 1]`.
    pub priority: f32,
    /// Priority level; queues serve higher levels first.
    pub level: CasePriority,
    /// The team whose queue holds the case; `None` is the general queue.
    pub team: Option<String>,
    /// The agent holding the case, if any.
    pub assigned_agent: Option<String>,
    /// The author's handle.
    pub author_handle: String,
    /// Language code of the post.
    pub lang: String,
    /// Matched topic tags.
    pub tags: Vec<String>,
    /// The start of the post's text.
    pub text_excerpt: String,
    /// When the case was opened.
    pub opened_at: DateTime<Utc>,
    /// When the case last changed.
    pub updated_at: DateTime<Utc>,
    /// When the customer last wrote in this case.
    pub last_message_at: DateTime<Utc>,
    /// How many of the customer's posts the case holds.
    pub message_count: u64,
    /// When the current agent got the case.
    pub assigned_at: Option<DateTime<Utc>>,
    /// When the current agent last acted on it; an agent who does not act
    /// within the account's time after assignment loses the case.
    pub agent_acted_at: Option<DateTime<Utc>>,
    /// When the case was last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the case was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When an agent first answered.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Which response the SLA clock counts towards, while one runs or is paused.
    pub sla_target: Option<SlaTarget>,
    /// When the running SLA clock is due; `None` while paused or stopped.
    pub sla_due_at: Option<DateTime<Utc>>,
    /// Business seconds left on the clock while it is paused (waiting on
    /// the customer); negative when it was already breached.
    pub sla_paused_secs: Option<i64>,
    /// Counts SLA targets started on this case, so each escalation rule
    /// fires once per target.
    pub sla_round: i64,
    /// When the current SLA target was breached.
    pub sla_breached_at: Option<DateTime<Utc>>,
    /// Bumped on every write; pass it back as an expected version to update
    /// only what you read.
    pub version: i64,
}

/// One customer post of a case, oldest first in [`crate::CaseStore::case_messages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseMessage {
    /// The case.
    pub case_id: i64,
    /// The post.
    pub post_id: PostId,
    /// Its author.
    pub author_handle: String,
    /// Why it needed an answer.
    pub intent: Intent,
    /// The start of its text.
    pub text_excerpt: String,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// When the store received it.
    pub received_at: DateTime<Utc>,
}

/// Whether an agent is taking cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Taking cases.
    Online,
    /// Briefly away: keeps no assigned case, gets no new one.
    Away,
    /// Gone: keeps no assigned case, gets no new one.
    Offline,
}

impl Presence {
    /// Lowercase name, as stored in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    /// Parses the SQL name back.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "online" => Some(Self::Online),
            "away" => Some(Self::Away),
            "offline" => Some(Self::Offline),
            _ => None,
        }
    }
}

/// An agent as configured: who they are and what they can take.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct AgentSpec {
    /// The agent's name, unique in the account.
    pub name: String,
    /// Languages the agent answers in (codes as detected); empty: any.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Topic tags the agent handles; empty: any case. An agent with topics
    /// takes only cases carrying at least one of them.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Most open (assigned or waiting) cases at once; `None`: no limit.
    #[serde(default)]
    pub capacity: Option<u32>,
}

impl AgentSpec {
    /// A generalist with no limit, as the plain agent list configures.
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }
}

/// A team: a queue of cases and the agents serving it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct TeamSpec {
    /// The team's name, unique in the account.
    pub name: String,
    /// Its agents; each must be in the roster's agents.
    #[serde(default)]
    pub members: Vec<String>,
}

/// The agents and teams of an account, applied by [`crate::RosterStore::sync_roster`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Roster {
    /// Active agents, in rotation order.
    pub agents: Vec<AgentSpec>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<TeamSpec>,
}

/// An agent as stored, with its current load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRow {
    /// The agent's name.
    pub name: String,
    /// Whether the agent is in the roster (inactive ones keep their history).
    pub active: bool,
    /// Languages; empty: any.
    pub languages: Vec<String>,
    /// Topics; empty: any.
    pub topics: Vec<String>,
    /// Most open cases at once; `None`: no limit.
    pub capacity: Option<u32>,
    /// Whether the agent is taking cases.
    pub presence: Presence,
    /// The teams the agent serves.
    pub teams: Vec<String>,
    /// Cases the agent holds (assigned or waiting on the customer).
    pub open_cases: u64,
    /// When the agent last got a case.
    pub last_assigned_at: Option<DateTime<Utc>>,
}

/// What an SLA clock does when a case changes status. Business-hour
/// arithmetic happens in community management; the store records results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlaClock {
    /// Pause or resume as the status implies, counting wall-clock time (for
    /// callers without a business calendar).
    #[default]
    Auto,
    /// Pause with this many business seconds left (entering waiting on customer).
    Pause {
        /// Seconds left; negative when already breached.
        remaining_secs: i64,
    },
    /// Resume with this due time (leaving waiting on customer).
    Resume {
        /// The new due time.
        due_at: DateTime<Utc>,
    },
}

/// A change to one case, with who asked for it and why (for the audit log).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseCommand {
    /// Who: an agent's or supervisor's name, or `system`.
    pub actor: String,
    /// Why, in words an auditor can read.
    pub reason: String,
    /// Refuse with [`crate::StoreError::Conflict`] unless the case is still
    /// at this version.
    pub expected_version: Option<i64>,
    /// What to do.
    pub action: CaseAction,
}

/// What a [`CaseCommand`] does.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseAction {
    /// Give the case to `agent` (a supervisor's decision: capacity and skills
    /// are not checked, presence is).
    Assign {
        /// The agent.
        agent: String,
    },
    /// Take the case from its agent and put it back in its team's queue; it
    /// goes to another eligible agent if one has capacity.
    Requeue,
    /// Move the case to another status (validated against the lifecycle).
    SetStatus {
        /// The new status.
        to: CaseStatus,
        /// What its SLA clock does.
        sla: SlaClock,
    },
    /// Record that `agent` answered the customer: the first response if none
    /// yet; the running clock stops. With `wait_on_customer`, the case then
    /// waits on the customer.
    Respond {
        /// The agent who answered.
        agent: String,
        /// Move to `waiting_on_customer` afterwards.
        wait_on_customer: bool,
    },
    /// Move the case to another team's queue (unassigning it if its agent
    /// does not serve that team).
    MoveToTeam {
        /// The team; `None` is the general queue.
        team: Option<String>,
    },
    /// Change the priority level.
    SetPriority {
        /// The new level.
        level: CasePriority,
    },
    /// The holding agent acted (opened it, wrote a note): resets the
    /// inactivity timer.
    Touch,
}

/// A case given to an agent by routing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routed {
    /// The case.
    pub case_id: i64,
    /// The agent now holding it.
    pub agent: String,
}

/// A case taken from an agent and put back in its queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requeued {
    /// The case.
    pub case_id: i64,
    /// The agent who held it.
    pub from_agent: String,
    /// The agent who got it instead, if any had capacity.
    pub to_agent: Option<String>,
}

/// What [`crate::RosterStore::set_presence`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PresenceChange {
    /// Cases the agent held that went back to the queue (going away).
    pub requeued: Vec<Requeued>,
    /// Queued cases routed because the agent came online.
    pub routed: Vec<Routed>,
}

/// The answer to an agent asking for their next case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum NextCase {
    /// The most urgent queued case the agent can take, now theirs.
    Assigned {
        /// The case.
        case: Box<CaseRow>,
    },
    /// The agent already holds as many cases as their capacity.
    AtCapacity,
    /// No queued case the agent can take.
    NothingQueued,
}

/// One escalation rule firing on one case, decided by community management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The rule's name; fires at most once per case and SLA round.
    pub rule: String,
    /// The case's SLA round the rule was evaluated for; a stale round
    /// (a new target started since) fires nothing.
    pub sla_round: i64,
    /// What to do.
    pub actions: Vec<EscalationAction>,
    /// Why, for the audit log.
    pub reason: String,
}

/// One thing an escalation does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EscalationAction {
    /// Record the SLA breach on the case.
    MarkBreached,
    /// Raise the priority level by one.
    RaisePriority,
    /// Move the case to `team` (e.g. supervisors).
    MoveToTeam {
        /// The team.
        team: String,
    },
    /// Queue a webhook notification in the outbox.
    Notify {
        /// Where to send it (a URL or a configured destination name).
        destination: String,
    },
}

/// A message waiting in the outbox to be delivered at least once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxMessage {
    /// Its id; also the idempotency key receivers can deduplicate on.
    pub id: i64,
    /// The case it is about, if any.
    pub case_id: Option<i64>,
    /// What kind of message, e.g. `escalation`.
    pub kind: String,
    /// Where it goes.
    pub destination: String,
    /// The body.
    pub payload: serde_json::Value,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: u64,
}

/// An ingest checkpoint: where a source of an account resumes after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCursor {
    /// The source's name, e.g. `http:status-feed`.
    pub source: String,
    /// Opaque resume token; `None` until the first successful poll.
    pub cursor: Option<String>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// Posts fetched from this source so far.
    pub posts_fetched: u64,
    /// The last poll's error, cleared by the next successful save.
    pub last_error: Option<String>,
}

/// What an API token may do (see the design's tenancy rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRole {
    /// Everything, on every account.
    Admin,
    /// All cases and agents of one account.
    Supervisor,
    /// The cases of one account, acting as one agent.
    Agent,
    /// Search and reports of one account; never cases.
    Client,
}

impl ApiRole {
    /// Lowercase name, as stored in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
            Self::Client => "client",
        }
    }

    /// Parses the SQL name back.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Admin, Self::Supervisor, Self::Agent, Self::Client].into_iter().find(|r| r.as_str() == value)
    }
}

/// A token to create; the caller hashes the secret and keeps only the hash here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Hex SHA-256 of the secret.
    pub token_hash: String,
    /// The account it is bound to; `None` only for admins.
    pub account: Option<AccountId>,
    /// Its role.
    pub role: ApiRole,
    /// The agent it acts as; required for (and only for) agent tokens.
    pub agent: Option<String>,
    /// A label for people, e.g. who holds it.
    pub name: String,
}

/// A stored token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    /// Its id, for revoking.
    pub id: i64,
    /// The account it is bound to; `None` for admins.
    pub account: Option<AccountId>,
    /// Its role.
    pub role: ApiRole,
    /// The agent it acts as.
    pub agent: Option<String>,
    /// Its label.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; revoked tokens authenticate nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}
