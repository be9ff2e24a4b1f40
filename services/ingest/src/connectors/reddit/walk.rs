//! One poll's walk over a thread: flattening the comment tree into posts,
//! queueing `more` stubs above the cursor, and the thread cursor itself.

use std::collections::{HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smo_proto::AccountId;

use super::things::{Comment, Link, More, Thing};
use crate::SourceBatch;
use crate::connectors::{RejectMemory, id_after, item, push_post, raw_str, write_cursor};

/// Ids `/api/morechildren` takes per request.
const MORE_CHILDREN_PER_REQUEST: usize = 100;

/// Cursor of a thread source.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct ThreadCursor {
    /// Highest comment id (base 36) up to which every comment was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    through: Option<String>,
    /// Whether the thread's own post was taken (by the first poll).
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) post_taken: bool,
    /// Items dead-lettered lately.
    #[serde(default, skip_serializing_if = "RejectMemory::is_empty")]
    rejected: RejectMemory,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// Comments still to fetch.
#[derive(Debug)]
pub(super) enum Expansion {
    /// Ids listed by a `more` stub (at most [`MORE_CHILDREN_PER_REQUEST`]).
    More(Vec<String>),
    /// The replies below a comment at the depth limit ("continue this thread").
    Continue(String),
}

impl Expansion {
    /// An id at or below every comment it stands for: the cursor must stay
    /// under it until the expansion is fetched.
    fn lowest_id(&self) -> Option<&str> {
        match self {
            Self::More(ids) => {
                ids.iter().map(String::as_str).reduce(|a, b| if id_after(a, b) { b } else { a })
            }
            Self::Continue(parent) => Some(parent),
        }
    }
}

/// A comment found, not yet a post.
struct Found {
    location: String,
    raw: Value,
    comment: Comment,
}

/// One poll's walk over a thread.
pub(super) struct ThreadWalk {
    article: String,
    through: Option<String>,
    /// Comment ids met in this poll (each is taken once per poll).
    seen: HashSet<String>,
    found: Vec<Found>,
    pub(super) pending: VecDeque<Expansion>,
    memory: RejectMemory,
    batch: SourceBatch,
    located: usize,
}

impl ThreadWalk {
    pub(super) fn new(article: &str, state: &ThreadCursor) -> Self {
        Self {
            article: article.to_owned(),
            through: state.through.clone(),
            seen: HashSet::new(),
            found: Vec::new(),
            pending: VecDeque::new(),
            memory: state.rejected.clone(),
            batch: SourceBatch::default(),
            located: 0,
        }
    }

    /// Whether comment `id` was taken by an earlier poll.
    fn taken_before(&self, id: &str) -> bool {
        self.through.as_deref().is_some_and(|through| !id_after(id, through))
    }

    /// The thread's own post (a `t3`).
    pub(super) fn post(&mut self, account: &AccountId, location: String, raw: &Value) {
        let link = match item::<Thing<Link>>(raw) {
            Ok(thing) if thing.kind == "t3" => thing.data,
            Ok(_) => return,
            Err(reason) => {
                let id = raw_str(raw, &["data", "name"]);
                return self.memory.reject(&mut self.batch, id, location, raw, reason);
            }
        };
        if link.created().is_none() {
            let id = Some(link.name.as_str());
            return self.memory.reject(
                &mut self.batch,
                id,
                location,
                raw,
                "missing or unreadable created_utc",
            );
        }
        push_post(&mut self.batch, link.into_new_post().build(account, "reddit"), location, raw);
    }

    /// Takes `children` (comments and stubs, nested replies included).
    pub(super) fn walk(&mut self, url: &str, children: Vec<Value>) {
        let mut stack: Vec<Value> = children;
        stack.reverse();
        while let Some(mut child) = stack.pop() {
            self.located += 1;
            let location = format!("{url} comment {}", self.located);
            match child.get("kind").and_then(Value::as_str) {
                Some("t1") => {
                    let replies = child.get_mut("data").and_then(|d| d.get_mut("replies")).map(Value::take);
                    if let Some(Value::Array(mut nested)) = replies.and_then(|mut r| {
                        r.get_mut("data").and_then(|d| d.get_mut("children")).map(Value::take)
                    }) {
                        nested.reverse();
                        stack.extend(nested);
                    }
                    self.comment(location, child);
                }
                Some("more") => self.stub(location, &child),
                _ => {} // Not a comment (Reddit sends nothing else here).
            }
        }
    }

    fn comment(&mut self, location: String, raw: Value) {
        let id = raw_str(&raw, &["data", "name"])
            .or_else(|| raw_str(&raw, &["data", "id"]))
            .map(|id| id.strip_prefix("t1_").unwrap_or(id).to_owned());
        if let Some(id) = &id
            && (!self.seen.insert(id.clone()) || self.taken_before(id))
        {
            return;
        }
        match item::<Thing<Comment>>(&raw) {
            Ok(thing) if thing.data.created().is_some() => {
                self.found.push(Found { location, raw, comment: thing.data })
            }
            Ok(thing) => {
                let id = Some(thing.data.name.as_str());
                self.memory.reject(&mut self.batch, id, location, &raw, "missing or unreadable created_utc")
            }
            Err(reason) => self.memory.reject(&mut self.batch, id.as_deref(), location, &raw, reason),
        }
    }

    fn stub(&mut self, location: String, raw: &Value) {
        let more = match item::<Thing<More>>(raw) {
            Ok(thing) => thing.data,
            Err(reason) => {
                let id = raw_str(raw, &["data", "name"]);
                return self.memory.reject(
                    &mut self.batch,
                    id,
                    location,
                    raw,
                    format!("unreadable `more` stub: {reason}"),
                );
            }
        };
        if more.children.is_empty() {
            // "Continue this thread": the parent's replies are one level
            // too deep to be listed; ask for the thread focused on it.
            if let Some(parent) = more.parent_id.strip_prefix("t1_").filter(|p| !p.is_empty()) {
                self.pending.push_back(Expansion::Continue(parent.to_owned()));
            }
            return;
        }
        let unseen: Vec<String> = more
            .children
            .into_iter()
            .map(|id| id.strip_prefix("t1_").map(str::to_owned).unwrap_or(id))
            .filter(|id| !id.is_empty() && !self.seen.contains(id) && !self.taken_before(id))
            .collect();
        // Listed ids go before "continue this thread" stubs: those are
        // fetched by every poll, listed ids only until the cursor passes
        // them, so this order lets a thread with more stubs than a poll's
        // requests still make progress.
        let at = self
            .pending
            .iter()
            .position(|e| matches!(e, Expansion::Continue(_)))
            .unwrap_or(self.pending.len());
        for (n, ids) in unseen.chunks(MORE_CHILDREN_PER_REQUEST).enumerate() {
            self.pending.insert(at + n, Expansion::More(ids.to_vec()));
        }
    }

    /// The batch: new comments as posts, and the cursor past them (but below
    /// any comment still behind an unfetched stub).
    pub(super) fn finish(mut self, account: &AccountId, state: ThreadCursor) -> SourceBatch {
        let thread = format!("t3_{}", self.article);
        let found = std::mem::take(&mut self.found);
        for Found { location, raw, comment } in found {
            let post = comment.into_new_post(&thread).build(account, "reddit");
            push_post(&mut self.batch, post, location, &raw);
        }
        let cap = self
            .pending
            .iter()
            .filter_map(Expansion::lowest_id)
            .reduce(|a, b| if id_after(a, b) { b } else { a });
        let through = self
            .seen
            .iter()
            .map(String::as_str)
            .filter(|id| cap.is_none_or(|cap| id_after(cap, id)))
            .chain(state.through.as_deref())
            .reduce(|a, b| if id_after(a, b) { a } else { b })
            .map(str::to_owned);
        let cursor = ThreadCursor { through, post_taken: true, rejected: self.memory };
        self.batch.next_cursor = Some(write_cursor(&cursor));
        self.batch.exhausted = true;
        self.batch
    }
}
