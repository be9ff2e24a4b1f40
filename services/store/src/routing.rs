//! Who gets a case, as a pure function of the agents' loads: among agents
//! who are online, serve the case's team, read its language, handle one of
//! its topics (when they list topics) and are below capacity, the one with the
//! most free capacity, ties broken by longest idle (lowest ticket of their
//! last assignment), then rotation position. With equal capacities this is
//! round-robin. Shared by both backends.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::{CaseRow, Presence};

/// Free capacity of an agent without a limit: more than any real limit, less
/// what they hold, so unlimited agents still balance by load.
const UNLIMITED: i64 = 1 << 40;

/// An active agent with what routing needs to know.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgentLoad {
    pub(crate) name: String,
    pub(crate) position: i64,
    pub(crate) capacity: Option<i64>,
    pub(crate) languages: Vec<String>,
    pub(crate) topics: Vec<String>,
    pub(crate) presence: Presence,
    pub(crate) teams: HashSet<String>,
    /// Cases held (assigned or waiting on the customer).
    pub(crate) open: i64,
    /// Ticket of the last assignment; `None`: never assigned.
    pub(crate) last_seq: Option<i64>,
}

impl AgentLoad {
    pub(crate) fn free(&self) -> i64 {
        self.capacity.unwrap_or(UNLIMITED) - self.open
    }

    /// Online and below capacity.
    pub(crate) fn can_take_more(&self) -> bool {
        self.presence == Presence::Online && self.free() > 0
    }

    /// Whether the agent may hold `case` at all (team and skills), whatever
    /// their load and presence.
    pub(crate) fn serves(&self, case: &CaseRow) -> bool {
        let team_ok = case.team.as_ref().is_none_or(|team| self.teams.contains(team));
        let lang = case.lang.trim();
        let lang_ok = self.languages.is_empty()
            || lang.is_empty()
            || lang.eq_ignore_ascii_case("und")
            || self.languages.iter().any(|l| l.eq_ignore_ascii_case(lang));
        let topic_ok = self.topics.is_empty()
            || case.tags.iter().any(|tag| self.topics.iter().any(|t| t.eq_ignore_ascii_case(tag)));
        team_ok && lang_ok && topic_ok
    }

    /// Sort key: most free capacity first, then longest idle, then position.
    fn rank_cmp(&self, other: &Self) -> Ordering {
        other
            .free()
            .cmp(&self.free())
            .then_with(|| self.last_seq.unwrap_or(i64::MIN).cmp(&other.last_seq.unwrap_or(i64::MIN)))
            .then_with(|| self.position.cmp(&other.position))
            .then_with(|| self.name.cmp(&other.name))
    }
}

/// The agent `case` goes to, as an index into `agents`: `prefer` (the agent
/// who last held it) when eligible, else the best ranked eligible agent;
/// `exclude` is never chosen (the agent it was just taken from).
pub(crate) fn pick(
    agents: &[AgentLoad],
    case: &CaseRow,
    exclude: Option<&str>,
    prefer: Option<&str>,
) -> Option<usize> {
    let eligible = |agent: &AgentLoad| {
        agent.can_take_more() && agent.serves(case) && exclude.is_none_or(|name| name != agent.name)
    };
    if let Some(preferred) = prefer
        && let Some(index) = agents.iter().position(|a| a.name == preferred && eligible(a))
    {
        return Some(index);
    }
    agents
        .iter()
        .enumerate()
        .filter(|(_, agent)| eligible(agent))
        .min_by(|(_, a), (_, b)| a.rank_cmp(b))
        .map(|(index, _)| index)
}

/// How many agents could take `case` now.
pub(crate) fn eligible_count(agents: &[AgentLoad], case: &CaseRow) -> usize {
    agents.iter().filter(|agent| agent.can_take_more() && agent.serves(case)).count()
}

/// Hold-queue order: higher level first, then earlier SLA due time (cases
/// without one last), then higher priority score, then oldest, then id. The
/// SQL of the queue orders the same way.
pub(crate) fn queue_cmp(a: &CaseRow, b: &CaseRow) -> Ordering {
    b.level
        .cmp(&a.level)
        .then_with(|| match (a.sla_due_at, b.sla_due_at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| b.priority.total_cmp(&a.priority))
        .then_with(|| a.opened_at.cmp(&b.opened_at))
        .then_with(|| a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use smo_proto::{AccountId, CasePriority, CaseStatus, Intent, PostId};

    use super::*;

    fn agent(name: &str, capacity: Option<i64>, open: i64, last_seq: Option<i64>) -> AgentLoad {
        AgentLoad {
            name: name.to_owned(),
            position: 0,
            capacity,
            languages: vec![],
            topics: vec![],
            presence: Presence::Online,
            teams: HashSet::new(),
            open,
            last_seq,
        }
    }

    fn case(lang: &str, tags: &[&str]) -> CaseRow {
        let at = Utc.timestamp_opt(0, 0).single().expect("epoch");
        CaseRow {
            id: 1,
            account: AccountId::new("acme").expect("account"),
            post_id: PostId("p".to_owned()),
            thread_id: PostId("p".to_owned()),
            intent: Intent::Complaint,
            status: CaseStatus::Queued,
            priority: 0.5,
            level: CasePriority::Normal,
            team: None,
            assigned_agent: None,
            author_handle: "c".to_owned(),
            lang: lang.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            text_excerpt: String::new(),
            opened_at: at,
            updated_at: at,
            last_message_at: at,
            message_count: 1,
            assigned_at: None,
            agent_acted_at: None,
            resolved_at: None,
            closed_at: None,
            first_response_at: None,
            sla_target: None,
            sla_due_at: None,
            sla_paused_secs: None,
            sla_round: 0,
            sla_breached_at: None,
            version: 0,
        }
    }

    #[test]
    fn most_free_capacity_wins_then_longest_idle() {
        let agents = [
            agent("ann", Some(5), 4, None),
            agent("bob", Some(3), 0, Some(9)),
            agent("cy", Some(3), 0, Some(2)),
        ];
        assert_eq!(pick(&agents, &case("en", &[]), None, None), Some(2));
        assert_eq!(pick(&agents, &case("en", &[]), Some("cy"), None), Some(1));
        assert_eq!(pick(&agents, &case("en", &[]), None, Some("ann")), Some(0));
        let full = [agent("ann", Some(1), 1, None)];
        assert_eq!(pick(&full, &case("en", &[]), None, None), None);
    }

    #[test]
    fn skills_filter_by_language_and_topic() {
        let mut es = agent("es", None, 0, None);
        es.languages = vec!["es".to_owned()];
        let mut billing = agent("billing", None, 0, None);
        billing.topics = vec!["billing".to_owned()];
        assert!(es.serves(&case("ES", &[])));
        assert!(!es.serves(&case("en", &[])));
        assert!(es.serves(&case("und", &[])));
        assert!(billing.serves(&case("en", &["outage", "billing"])));
        assert!(!billing.serves(&case("en", &["outage"])));
    }
}
