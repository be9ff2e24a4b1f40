//! The backend-neutral half of [`crate::CaseStore::open_cases_with`]: which
//! posts are new, which conversation (thread and customer) each belongs to,
//! whether it opens, joins or reopens a case, what the audit log says and
//! what each input turned into. The backends only run the SQL, so PostgreSQL
//! and SQLite make the same decisions.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::{CaseEventKind, CaseStatus, PostId, SlaTarget};

use crate::lifecycle::{is_active, start_clock};
use crate::{CaseRow, NewCase, OpenedCase, StoreError};

/// The actor recorded for decisions the router makes on its own.
pub const SYSTEM_ACTOR: &str = "system";

/// PostgreSQL rejects NUL in text and SQLite stores NaN as NULL: remove both
/// so that one odd post cannot fail a whole batch forever.
pub(crate) fn cleaned(case: &NewCase) -> NewCase {
    fn text(value: &str) -> String {
        value.replace('\0', "")
    }
    NewCase {
        post_id: PostId(text(case.post_id.as_str())),
        thread_id: PostId(text(case.thread_id.as_str())),
        intent: case.intent,
        priority: if case.priority.is_finite() { case.priority.clamp(0.0, 1.0) } else { 0.0 },
        level: case.level,
        team: case.team.as_deref().map(text),
        author_handle: text(&case.author_handle),
        lang: text(&case.lang),
        tags: case.tags.iter().map(|tag| text(tag)).collect(),
        text_excerpt: text(&case.text_excerpt),
        opened_at: case.opened_at,
        first_response_due_at: case.first_response_due_at,
        next_response_due_at: case.next_response_due_at,
    }
}

/// The first occurrence of each post, cleaned, in the order conversations
/// happened: by the post's time, then input order. Written in this order, a
/// reply that arrives in the same batch as the post that started its
/// conversation joins that post's case.
pub(crate) fn plan_inputs(cases: &[NewCase]) -> Vec<NewCase> {
    let mut seen = HashSet::new();
    let mut unique: Vec<(usize, NewCase)> =
        cases.iter().map(cleaned).enumerate().filter(|(_, case)| seen.insert(case.post_id.clone())).collect();
    unique.sort_by(|(i, a), (j, b)| a.opened_at.cmp(&b.opened_at).then(i.cmp(j)));
    unique.into_iter().map(|(_, case)| case).collect()
}

/// A case a post goes to: one that exists, or the n-th new case of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CaseRef {
    Existing(i64),
    New(usize),
}

/// What a new post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Opened(usize),
    Joined(CaseRef),
    Reopened(i64),
}

/// An audit entry whose case may not have an id yet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeferredEvent {
    pub(crate) case: CaseRef,
    pub(crate) event: CaseEventKind,
    pub(crate) reason: String,
}

/// A case this batch creates, with the follow-ups it already got.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewCaseRow {
    pub(crate) case: NewCase,
    pub(crate) message_count: i64,
    pub(crate) last_message_at: DateTime<Utc>,
}

/// A post to record in its case.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MessageRow {
    pub(crate) case_id: i64,
    pub(crate) post_id: String,
    pub(crate) author_handle: String,
    pub(crate) intent: &'static str,
    pub(crate) text_excerpt: String,
    pub(crate) at: DateTime<Utc>,
}

/// Everything the batch writes, decided before writing.
#[derive(Debug, Default)]
pub(crate) struct ThreadPlan {
    pub(crate) new_cases: Vec<NewCaseRow>,
    /// Every new post (index into the planned inputs) and its case.
    pub(crate) messages: Vec<(usize, CaseRef)>,
    /// Existing cases this batch changed.
    pub(crate) changed: HashMap<i64, CaseRow>,
    /// Existing cases handed back to their agent (the customer replied while
    /// the case waited on them); routing checks that agent is still online.
    pub(crate) returned: Vec<i64>,
    /// Reopened cases and the agent who last held them, preferred by routing.
    pub(crate) prefer: HashMap<i64, String>,
    /// Post id → what it did.
    pub(crate) fates: HashMap<String, Fate>,
    pub(crate) events: Vec<DeferredEvent>,
}

/// Decides, for each new post in `planned` order, whether it joins its
/// conversation's active case (one in `conversations`, or one this batch
/// opened), reopens the conversation's case resolved at most `reopen_window`
/// before the post, or opens a new case.
pub(crate) fn plan_threads(
    planned: &[NewCase],
    fresh: &[usize],
    conversations: Vec<CaseRow>,
    reopen_window: TimeDelta,
    now: DateTime<Utc>,
) -> Result<ThreadPlan, StoreError> {
    let key = |thread: &PostId, author: &str| (thread.as_str().to_owned(), author.to_owned());
    let mut active: HashMap<(String, String), CaseRef> = HashMap::new();
    let mut resolved: HashMap<(String, String), i64> = HashMap::new();
    let mut plan = ThreadPlan::default();
    for case in conversations {
        let k = key(&case.thread_id, &case.author_handle);
        if is_active(case.status) {
            active.insert(k, CaseRef::Existing(case.id));
        } else if case.status == CaseStatus::Resolved {
            let newer = resolved
                .get(&k)
                .and_then(|id| plan.changed.get(id))
                .is_none_or(|other| other.resolved_at < case.resolved_at);
            if newer {
                resolved.insert(k, case.id);
            }
        }
        plan.changed.insert(case.id, case);
    }
    let mut touched: HashSet<i64> = HashSet::new();

    for &index in fresh {
        let Some(post) = planned.get(index) else { continue };
        let k = key(&post.thread_id, &post.author_handle);
        let post_key = post.post_id.as_str().to_owned();
        if let Some(&case_ref) = active.get(&k) {
            join(&mut plan, case_ref, post, now, &mut touched)?;
            plan.messages.push((index, case_ref));
            plan.fates.insert(post_key, Fate::Joined(case_ref));
            continue;
        }
        let reopenable = resolved.get(&k).copied().filter(|id| {
            plan.changed
                .get(id)
                .and_then(|case| case.resolved_at)
                .is_some_and(|at| post.opened_at <= at + reopen_window)
        });
        if let Some(case_id) = reopenable {
            reopen(&mut plan, case_id, post)?;
            touched.insert(case_id);
            resolved.remove(&k);
            active.insert(k, CaseRef::Existing(case_id));
            plan.messages.push((index, CaseRef::Existing(case_id)));
            plan.fates.insert(post_key, Fate::Reopened(case_id));
            continue;
        }
        let new_index = plan.new_cases.len();
        plan.new_cases.push(NewCaseRow {
            case: post.clone(),
            message_count: 1,
            last_message_at: post.opened_at,
        });
        let case_ref = CaseRef::New(new_index);
        let reason = format!("{} post {} needs a response", post.intent.as_str(), post.post_id);
        plan.events.push(DeferredEvent {
            case: case_ref,
            event: CaseEventKind::Opened { post_id: post.post_id.clone() },
            reason,
        });
        active.insert(k, case_ref);
        plan.messages.push((index, case_ref));
        plan.fates.insert(post_key, Fate::Opened(new_index));
    }
    // Only the cases the batch changed are written back.
    plan.changed.retain(|id, _| touched.contains(id));
    Ok(plan)
}

/// A follow-up joins an active case: counted, and if the customer was the
/// one awaited, the case goes back to its agent with a next-response clock.
fn join(
    plan: &mut ThreadPlan,
    case_ref: CaseRef,
    post: &NewCase,
    now: DateTime<Utc>,
    touched: &mut HashSet<i64>,
) -> Result<(), StoreError> {
    let reason = format!("follow-up {} of {} in the same thread", post.post_id, post.author_handle);
    plan.events.push(DeferredEvent {
        case: case_ref,
        event: CaseEventKind::MessageAdded { post_id: post.post_id.clone() },
        reason,
    });
    let case = match case_ref {
        CaseRef::New(index) => {
            if let Some(row) = plan.new_cases.get_mut(index) {
                row.message_count += 1;
                row.last_message_at = row.last_message_at.max(post.opened_at);
            }
            return Ok(());
        }
        CaseRef::Existing(id) => plan
            .changed
            .get_mut(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("case {id} vanished while planning")))?,
    };
    touched.insert(case.id);
    case.message_count += 1;
    case.last_message_at = case.last_message_at.max(post.opened_at);
    let clock_idle = case.sla_due_at.is_none() && case.sla_paused_secs.is_none();
    if case.status == CaseStatus::WaitingOnCustomer {
        case.sla_paused_secs = None;
        start_clock(case, SlaTarget::NextResponse, post.next_response_due_at);
        let to = if case.assigned_agent.is_some() { CaseStatus::Assigned } else { CaseStatus::Queued };
        case.status = to;
        case.assigned_at = case.assigned_agent.as_ref().map(|_| now);
        case.agent_acted_at = None;
        if to == CaseStatus::Assigned {
            plan.returned.push(case.id);
        }
        plan.events.push(DeferredEvent {
            case: case_ref,
            event: CaseEventKind::StatusChanged { from: CaseStatus::WaitingOnCustomer, to },
            reason: format!("the customer replied with {}", post.post_id),
        });
    } else if clock_idle && case.first_response_at.is_some() {
        start_clock(case, SlaTarget::NextResponse, post.next_response_due_at);
    }
    Ok(())
}

/// A follow-up reopens a resolved case: back to the queue, preferring the
/// agent who resolved it, with a next-response clock.
fn reopen(plan: &mut ThreadPlan, case_id: i64, post: &NewCase) -> Result<(), StoreError> {
    let case = plan
        .changed
        .get_mut(&case_id)
        .ok_or_else(|| StoreError::Corrupt(format!("case {case_id} vanished while planning")))?;
    case.message_count += 1;
    case.last_message_at = case.last_message_at.max(post.opened_at);
    case.status = CaseStatus::Queued;
    case.assigned_at = None;
    case.agent_acted_at = None;
    if let Some(agent) = case.assigned_agent.take() {
        plan.prefer.insert(case_id, agent);
    }
    start_clock(case, SlaTarget::NextResponse, post.next_response_due_at);
    let case_ref = CaseRef::Existing(case_id);
    plan.events.push(DeferredEvent {
        case: case_ref,
        event: CaseEventKind::Reopened { post_id: post.post_id.clone() },
        reason: format!("follow-up {} arrived within the reopen window", post.post_id),
    });
    plan.events.push(DeferredEvent {
        case: case_ref,
        event: CaseEventKind::StatusChanged { from: CaseStatus::Resolved, to: CaseStatus::Queued },
        reason: "reopened by the customer".to_owned(),
    });
    Ok(())
}

/// What each input turned into, in input order. `known` maps posts that
/// already belonged to a case before the batch; `new_ids` are the ids of the
/// batch's new cases; `agents` the agent holding each case after routing.
pub(crate) fn outcomes(
    inputs: &[NewCase],
    known: &HashMap<String, i64>,
    fates: &HashMap<String, Fate>,
    new_ids: &[i64],
    agents: &HashMap<i64, String>,
) -> Result<Vec<OpenedCase>, StoreError> {
    let id_of = |case_ref: CaseRef| match case_ref {
        CaseRef::Existing(id) => Some(id),
        CaseRef::New(index) => new_ids.get(index).copied(),
    };
    let mut reported = HashSet::new();
    inputs
        .iter()
        .map(|case| {
            let key = case.post_id.as_str().replace('\0', "");
            let missing = || StoreError::Corrupt(format!("post {} has no case after opening", case.post_id));
            if let Some(case_id) = known.get(&key) {
                return Ok(OpenedCase::Duplicate { case_id: *case_id });
            }
            let fate = fates.get(&key).copied().ok_or_else(missing)?;
            let case_id = match fate {
                Fate::Opened(index) => id_of(CaseRef::New(index)),
                Fate::Joined(case_ref) => id_of(case_ref),
                Fate::Reopened(id) => Some(id),
            }
            .ok_or_else(missing)?;
            if !reported.insert(key) {
                return Ok(OpenedCase::Duplicate { case_id });
            }
            let agent = agents.get(&case_id).cloned();
            Ok(match fate {
                Fate::Opened(_) => OpenedCase::Created { case_id, agent },
                Fate::Joined(_) => OpenedCase::Joined { case_id },
                Fate::Reopened(_) => OpenedCase::Reopened { case_id, agent },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use smo_proto::{CasePriority, Intent};

    use super::*;

    fn case(post: &str, thread: &str, second: i64) -> NewCase {
        NewCase {
            post_id: PostId(post.to_owned()),
            thread_id: PostId(thread.to_owned()),
            intent: Intent::Complaint,
            priority: f32::NAN,
            level: CasePriority::Normal,
            team: None,
            author_handle: "someone".to_owned(),
            lang: "en".to_owned(),
            tags: vec![],
            text_excerpt: "broken\0".to_owned(),
            opened_at: Utc.timestamp_opt(second, 0).single().expect("time"),
            first_response_due_at: None,
            next_response_due_at: None,
        }
    }

    #[test]
    fn inputs_are_unique_clean_and_in_time_order() {
        let planned =
            plan_inputs(&[case("b", "b", 5), case("a", "a", 9), case("b", "b", 1), case("c", "c", 5)]);
        let posts: Vec<&str> = planned.iter().map(|c| c.post_id.as_str()).collect();
        assert_eq!(posts, ["b", "c", "a"]);
        assert_eq!(planned[0].priority, 0.0);
        assert_eq!(planned[0].text_excerpt, "broken");
    }

    #[test]
    fn a_reply_in_the_same_batch_joins_the_case_its_thread_opened() {
        let planned =
            plan_inputs(&[case("reply", "root", 9), case("root", "root", 1), case("other", "x", 2)]);
        let plan = plan_threads(&planned, &[0, 1, 2], vec![], TimeDelta::days(1), Utc::now()).expect("plan");
        assert_eq!(plan.new_cases.len(), 2);
        assert_eq!(plan.new_cases[0].message_count, 2);
        assert_eq!(plan.fates.get("reply"), Some(&Fate::Joined(CaseRef::New(0))));
        let inputs = [case("root", "root", 1), case("reply", "root", 9), case("root", "root", 1)];
        let result =
            outcomes(&inputs, &HashMap::new(), &plan.fates, &[7, 8], &HashMap::new()).expect("outcomes");
        assert_eq!(
            result,
            [
                OpenedCase::Created { case_id: 7, agent: None },
                OpenedCase::Joined { case_id: 7 },
                OpenedCase::Duplicate { case_id: 7 }
            ]
        );
    }
}
