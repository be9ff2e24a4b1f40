//! Opening cases from posts that need an answer: each post joins its
//! conversation's active case, reopens a recently resolved one or opens a new
//! case (the plan is `opening`'s), then the hold queue is routed.

use std::collections::{HashMap, HashSet};

use smo_proto::{AccountId, CaseEventKind};

use crate::lifecycle::Journal;
use crate::opening::{CaseRef, MessageRow, outcomes, plan_inputs, plan_threads};
use crate::ops::cases::{records_to_rows, save_all};
use crate::ops::route::{Hints, route_locked};
use crate::sql::Sql;
use crate::{CaseRow, NewCase, OpenOptions, OpenedCase, SYSTEM_ACTOR, StoreError};

/// See [`CaseStore::open_cases_with`](crate::CaseStore::open_cases_with).
pub(crate) async fn open_cases_with<S: Sql>(
    store: &S,
    account: &AccountId,
    cases: &[NewCase],
    options: &OpenOptions,
) -> Result<Vec<OpenedCase>, StoreError> {
    let planned = plan_inputs(cases);
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let now = options.now;
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let post_ids: Vec<&str> = planned.iter().map(|case| case.post_id.as_str()).collect();
    let known = S::find_messages(&mut tx, account, &post_ids).await?;
    let fresh: Vec<usize> = planned
        .iter()
        .enumerate()
        .filter(|(_, case)| !known.contains_key(case.post_id.as_str()))
        .map(|(index, _)| index)
        .collect();
    let mut pairs: Vec<(String, String)> = fresh
        .iter()
        .filter_map(|&index| planned.get(index))
        .map(|case| (case.thread_id.as_str().to_owned(), case.author_handle.clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let conversations = if pairs.is_empty() {
        Vec::new()
    } else {
        records_to_rows(S::load_conversations(&mut tx, account, &pairs).await?, account)?
    };
    let plan = plan_threads(&planned, &fresh, conversations, options.reopen_window, now)?;
    let new_ids = if plan.new_cases.is_empty() {
        Vec::new()
    } else {
        S::insert_cases(&mut tx, account, &plan.new_cases, now).await?
    };
    let id_of = |case_ref: CaseRef| match case_ref {
        CaseRef::Existing(id) => Ok(id),
        CaseRef::New(index) => {
            new_ids.get(index).copied().ok_or_else(|| StoreError::Corrupt("a new case got no id".to_owned()))
        }
    };
    let messages = plan
        .messages
        .iter()
        .filter_map(|(index, case_ref)| planned.get(*index).map(|post| (post, *case_ref)))
        .map(|(post, case_ref)| {
            Ok(MessageRow {
                case_id: id_of(case_ref)?,
                post_id: post.post_id.as_str().to_owned(),
                author_handle: post.author_handle.clone(),
                intent: post.intent.as_str(),
                text_excerpt: post.text_excerpt.clone(),
                at: post.opened_at,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    S::insert_messages(&mut tx, account, &messages, now).await?;

    let mut journal = Journal::new(now);
    let mut opened_event: HashMap<i64, usize> = HashMap::new();
    for deferred in plan.events {
        let case_id = id_of(deferred.case)?;
        if matches!(deferred.event, CaseEventKind::Opened { .. }) {
            opened_event.insert(case_id, journal.events.len());
        }
        journal.record(case_id, deferred.event, SYSTEM_ACTOR, deferred.reason)?;
    }
    let mut changed: Vec<CaseRow> = plan.changed.into_values().collect();
    save_all::<S>(&mut tx, account, &mut changed, now).await?;
    let returned: HashSet<i64> = plan.returned.into_iter().collect();
    let hints = Hints {
        prefer: plan.prefer,
        exclude: HashMap::new(),
        returned: changed.into_iter().filter(|case| returned.contains(&case.id)).collect(),
    };
    let routing = route_locked::<S>(&mut tx, account, hints, &mut journal).await?;
    for case_id in &new_ids {
        if routing.holders.contains_key(case_id) {
            continue;
        }
        if let Some(event) = opened_event.get(case_id).and_then(|i| journal.events.get_mut(*i)) {
            event.reason.push_str(if routing.agents_known {
                "; queued: no eligible agent is online with free capacity"
            } else {
                "; queued because the account has no active agents"
            });
        }
    }
    S::append_events(&mut tx, account, &journal.events).await?;
    tx.commit().await?;
    outcomes(cases, &known, &plan.fates, &new_ids, &routing.holders)
}
