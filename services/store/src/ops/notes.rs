//! Internal notes on cases: seen by agents and supervisors, never sent.

use chrono::{DateTime, Utc};
use smo_proto::{AccountId, CaseEventKind};

use crate::lifecycle::Journal;
use crate::ops::cases::{load_case_locked, save_all};
use crate::records::{NoteRecord, sql_text};
use crate::sql::Sql;
use crate::{CaseNote, StoreError};

/// See [`ResponseStore::add_note`](crate::ResponseStore::add_note).
pub(crate) async fn add_note<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
    author: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<CaseNote, StoreError> {
    if body.trim().is_empty() {
        return Err(StoreError::InvalidInput("a note needs a text".to_owned()));
    }
    let mut tx = store.begin_write().await?;
    S::lock_routing(&mut tx, account).await?;
    let mut case = load_case_locked::<S>(&mut tx, account, case_id).await?;
    let author = sql_text(author);
    let id = S::insert_note(&mut tx, account, case_id, &author, &sql_text(body), now).await?;
    let mut journal = Journal::new(now);
    journal.record(case_id, CaseEventKind::NoteAdded { note_id: id }, &author, "note")?;
    if case.assigned_agent.as_deref() == Some(author.as_str()) {
        case.agent_acted_at = Some(now);
        save_all::<S>(&mut tx, account, std::slice::from_mut(&mut case), now).await?;
    }
    S::append_events(&mut tx, account, &journal.events).await?;
    tx.commit().await?;
    Ok(CaseNote { id, case_id, author, body: sql_text(body), created_at: now })
}

/// See [`ResponseStore::case_notes`](crate::ResponseStore::case_notes).
pub(crate) async fn case_notes<S: Sql>(
    store: &S,
    account: &AccountId,
    case_id: i64,
) -> Result<Vec<CaseNote>, StoreError> {
    Ok(store.select_notes(account, case_id).await?.into_iter().map(NoteRecord::into_note).collect())
}
