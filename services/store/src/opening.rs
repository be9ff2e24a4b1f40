//! The backend-neutral half of [`crate::CaseStore::open_cases`]: which rows to
//! insert in which order, who gets each new case, what the audit log says and
//! what each input turned into. The backends only run the SQL, so PostgreSQL
//! and SQLite make the same decisions.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use smo_proto::{CaseEventKind, CaseStatus, PostId};

use crate::records::PendingEvent;
use crate::{NewCase, OpenedCase, StoreError};

/// The actor recorded for decisions the router makes on its own.
pub const SYSTEM_ACTOR: &str = "system";

/// The first occurrence of each post, cleaned for storage and sorted by post
/// id. Every writer inserts in this order, so concurrent batches that share
/// posts take their row locks in the same order and cannot deadlock.
pub(crate) fn insert_order(cases: &[NewCase]) -> Vec<NewCase> {
    let mut seen = HashSet::new();
    let mut unique: Vec<NewCase> =
        cases.iter().filter(|case| seen.insert(&case.post_id)).map(cleaned).collect();
    unique.sort_by(|a, b| a.post_id.cmp(&b.post_id));
    unique
}

/// PostgreSQL rejects NUL in text and SQLite stores NaN as NULL: remove both
/// so that one odd post cannot fail a whole batch forever.
fn cleaned(case: &NewCase) -> NewCase {
    fn text(value: &str) -> String {
        value.replace('\0', "")
    }
    NewCase {
        post_id: PostId(text(case.post_id.as_str())),
        thread_id: PostId(text(case.thread_id.as_str())),
        intent: case.intent,
        priority: if case.priority.is_finite() { case.priority.clamp(0.0, 1.0) } else { 0.0 },
        author_handle: text(&case.author_handle),
        lang: text(&case.lang),
        tags: case.tags.iter().map(|tag| text(tag)).collect(),
        text_excerpt: text(&case.text_excerpt),
        opened_at: case.opened_at,
    }
}

/// The status new cases start in: held by an agent, or waiting for one.
pub(crate) fn initial_status(active_agents: usize) -> CaseStatus {
    if active_agents == 0 { CaseStatus::Queued } else { CaseStatus::Assigned }
}

/// The cases this batch created, in the order their posts first appear in
/// the input, so that a single writer hands out agents in input order.
pub(crate) fn created_in_input_order<'a>(
    inputs: &'a [NewCase],
    created: &HashMap<String, i64>,
) -> Vec<(i64, &'a NewCase)> {
    let mut seen = HashSet::new();
    inputs
        .iter()
        .filter(|case| seen.insert(case.post_id.as_str()))
        .filter_map(|case| {
            let key = case.post_id.as_str().replace('\0', "");
            created.get(&key).map(|id| (*id, case))
        })
        .collect()
}

/// One round-robin decision: which agent gets a case, and on which ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub(crate) case_id: i64,
    pub(crate) agent: String,
    pub(crate) ticket: i64,
}

/// Hands the created cases to `agents` (ordered by position) starting at
/// `first_ticket` of the account's counter: ticket `t` goes to agent
/// `t mod agents.len()`. Tickets come from one atomic counter, so cases spread
/// evenly across agents however many processes open them.
pub(crate) fn assign_round_robin(
    created: &[(i64, &NewCase)],
    agents: &[String],
    first_ticket: i64,
) -> Vec<Assignment> {
    let Ok(count) = i64::try_from(agents.len()) else {
        return Vec::new();
    };
    if count == 0 {
        return Vec::new();
    }
    created
        .iter()
        .zip(first_ticket..)
        .filter_map(|((case_id, _), ticket)| {
            let index = usize::try_from(ticket.rem_euclid(count)).ok()?;
            let agent = agents.get(index)?;
            Some(Assignment { case_id: *case_id, agent: agent.clone(), ticket })
        })
        .collect()
}

/// The audit entries for the new cases: `Opened` for each, `Assigned` for
/// each that got an agent.
pub(crate) fn opening_events(
    created: &[(i64, &NewCase)],
    assignments: &[Assignment],
    active_agents: usize,
    now: DateTime<Utc>,
) -> Result<Vec<PendingEvent>, StoreError> {
    let mut events = Vec::with_capacity(created.len() + assignments.len());
    for (case_id, case) in created {
        let mut reason = format!("{} post {} needs a response", case.intent.as_str(), case.post_id);
        if active_agents == 0 {
            reason.push_str("; queued because the account has no active agents");
        }
        let opened = CaseEventKind::Opened { post_id: case.post_id.clone() };
        events.push(PendingEvent::new(*case_id, &opened, SYSTEM_ACTOR, reason, now)?);
    }
    for assignment in assignments {
        let reason = format!("round-robin over {active_agents} active agents (ticket {})", assignment.ticket);
        let assigned = CaseEventKind::Assigned { agent: assignment.agent.clone() };
        events.push(PendingEvent::new(assignment.case_id, &assigned, SYSTEM_ACTOR, reason, now)?);
    }
    Ok(events)
}

/// What each input turned into, in input order. `case_ids` maps every
/// (cleaned) post id of the batch to its case; `created` holds the ids this
/// batch inserted. A post twice in the batch is `Created` once, then `Duplicate`.
pub(crate) fn outcomes(
    inputs: &[NewCase],
    case_ids: &HashMap<String, i64>,
    created: &HashSet<i64>,
    assignments: &[Assignment],
) -> Result<Vec<OpenedCase>, StoreError> {
    let agents: HashMap<i64, &str> =
        assignments.iter().map(|assignment| (assignment.case_id, assignment.agent.as_str())).collect();
    let mut reported = HashSet::new();
    inputs
        .iter()
        .map(|case| {
            let key = case.post_id.as_str().replace('\0', "");
            let case_id = *case_ids.get(&key).ok_or_else(|| {
                StoreError::Corrupt(format!("post {} has neither a new nor an existing case", case.post_id))
            })?;
            Ok(if created.contains(&case_id) && reported.insert(case_id) {
                OpenedCase::Created { case_id, agent: agents.get(&case_id).map(|agent| (*agent).to_owned()) }
            } else {
                OpenedCase::Duplicate { case_id }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use smo_proto::Intent;

    use super::*;

    fn case(post: &str) -> NewCase {
        NewCase {
            post_id: PostId(post.to_owned()),
            thread_id: PostId(post.to_owned()),
            intent: Intent::Complaint,
            priority: f32::NAN,
            author_handle: "someone".to_owned(),
            lang: "en".to_owned(),
            tags: vec![],
            text_excerpt: "broken\0".to_owned(),
            opened_at: Utc.timestamp_opt(0, 0).single().expect("epoch"),
        }
    }

    #[test]
    fn insert_order_is_unique_sorted_and_clean() {
        let planned = insert_order(&[case("b"), case("a"), case("b")]);
        let posts: Vec<&str> = planned.iter().map(|c| c.post_id.as_str()).collect();
        assert_eq!(posts, ["a", "b"]);
        assert_eq!(planned[0].priority, 0.0);
        assert_eq!(planned[0].text_excerpt, "broken");
    }

    #[test]
    fn tickets_rotate_over_agents() {
        let inputs = [case("a"), case("b"), case("c"), case("d")];
        let created: Vec<(i64, &NewCase)> = inputs.iter().zip(1..).map(|(c, id)| (id, c)).collect();
        let agents = ["ann".to_owned(), "bob".to_owned(), "cy".to_owned()];
        let assigned = assign_round_robin(&created, &agents, 5);
        let names: Vec<&str> = assigned.iter().map(|a| a.agent.as_str()).collect();
        assert_eq!(names, ["cy", "ann", "bob", "cy"]);
        assert!(assign_round_robin(&created, &[], 0).is_empty());
    }

    #[test]
    fn repeated_post_is_created_once_then_duplicate() {
        let inputs = [case("a"), case("a")];
        let ids = HashMap::from([("a".to_owned(), 7)]);
        let created = HashSet::from([7]);
        let result = outcomes(&inputs, &ids, &created, &[]).expect("outcomes");
        assert_eq!(
            result,
            [OpenedCase::Created { case_id: 7, agent: None }, OpenedCase::Duplicate { case_id: 7 }]
        );
    }
}
