//! Thread mode's requests: the thread (or the subtree of one comment), the
//! `/api/morechildren` expansions of `more` stubs, and the shapes of their answers.

use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;

use super::things::Listing;
use super::walk::{Expansion, ThreadCursor, ThreadWalk};
use super::{Mode, RedditSource};
use crate::connectors::read_cursor;
use crate::http::HttpResponse;
use crate::{IngestError, SourceBatch};

impl RedditSource {
    /// The thread's comments, newest first, or (`focus`) the subtree of one
    /// comment, for "continue this thread" stubs.
    pub(super) fn thread_url(&self, focus: Option<&str>) -> Result<Url, IngestError> {
        let Mode::Thread { subreddit, article } = &self.mode else {
            return Err(IngestError::Config {
                source_name: self.name.clone(),
                key: "thread".into(),
                reason: "not a thread source".into(),
            });
        };
        let mut url = self.url(&format!("/r/{subreddit}/comments/{article}.json"))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("sort", "new")
                .append_pair("limit", &self.config.limit.to_string())
                .append_pair("raw_json", "1");
            if let Some(comment) = focus {
                query.append_pair("comment", comment);
            }
        }
        Ok(url)
    }

    fn more_children_url(&self, article: &str, ids: &[String]) -> Result<Url, IngestError> {
        let mut url = self.url("/api/morechildren.json")?;
        url.query_pairs_mut()
            .append_pair("api_type", "json")
            .append_pair("link_id", &format!("t3_{article}"))
            .append_pair("children", &ids.join(","))
            .append_pair("sort", "new")
            .append_pair("limit_children", "false")
            .append_pair("raw_json", "1");
        Ok(url)
    }

    /// The whole thread: its post (on the first poll), the comment tree and
    /// the `more` stubs above the cursor, in at most `max_pages` requests.
    pub(super) async fn poll_thread(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ThreadCursor = read_cursor(&self.name, cursor)?;
        let Mode::Thread { article, .. } = self.mode.clone() else {
            return self.poll_listing(cursor).await;
        };
        let mut walk = ThreadWalk::new(&article, &state);
        let response = self.http.get(&self.name, &self.request(self.thread_url(None)?)).await?;
        let (post, comments) = thread_listings(&self.name, &response)?;
        if !state.post_taken {
            for (index, raw) in post.data.children.iter().enumerate() {
                walk.post(&self.account, format!("{} post {index}", response.url), raw);
            }
        }
        walk.walk(&response.url, comments.data.children);
        let mut requests = 1;
        while let Some(expansion) = walk.pending.pop_front() {
            if requests >= self.config.scan.max_pages {
                walk.pending.push_front(expansion);
                break;
            }
            requests += 1;
            match expansion {
                Expansion::More(ids) => {
                    let url = self.more_children_url(&article, &ids)?;
                    let response = self.http.get(&self.name, &self.request(url)).await?;
                    let things = more_children(&self.name, &response)?;
                    walk.walk(&response.url, things);
                }
                Expansion::Continue(parent) => {
                    let url = self.thread_url(Some(&parent))?;
                    let response = self.http.get(&self.name, &self.request(url)).await?;
                    let (_, comments) = thread_listings(&self.name, &response)?;
                    walk.walk(&response.url, comments.data.children);
                }
            }
        }
        if !walk.pending.is_empty() {
            tracing::warn!(
                source = %self.name,
                requests,
                left = walk.pending.len(),
                "thread has more comments than max_pages requests fetch; the next poll fetches the rest (raise max_pages or poll more often)"
            );
        }
        Ok(walk.finish(&self.account, state))
    }
}

/// The two Listings of a thread response: the post and the comments.
fn thread_listings(source_name: &str, response: &HttpResponse) -> Result<(Listing, Listing), IngestError> {
    let document: Value = response.json(source_name)?;
    let shape = |what: &str| {
        response.bad(source_name, format!("expected [post Listing, comment Listing], got {what}"))
    };
    let Value::Array(mut parts) = document else {
        return Err(shape(&format!("a JSON {}", json_kind(&document))));
    };
    if parts.len() != 2 {
        return Err(shape(&format!("an array of {}", parts.len())));
    }
    let comments = parts.pop().unwrap_or_default();
    let post = parts.pop().unwrap_or_default();
    let listing = |value: Value| match Listing::deserialize(value) {
        Ok(listing) if listing.kind == "Listing" => Ok(listing),
        Ok(listing) => Err(shape(&format!("kind {:?}", listing.kind))),
        Err(error) => Err(shape(&format!("an unreadable Listing ({error})"))),
    };
    Ok((listing(post)?, listing(comments)?))
}

/// The things of a `/api/morechildren` answer
/// (`{"json": {"errors": [], "data": {"things": [...]}}}`).
fn more_children(source_name: &str, response: &HttpResponse) -> Result<Vec<Value>, IngestError> {
    #[derive(Deserialize)]
    struct Answer {
        json: AnswerJson,
    }
    #[derive(Deserialize)]
    struct AnswerJson {
        #[serde(default)]
        errors: Vec<Value>,
        #[serde(default)]
        data: Option<AnswerData>,
    }
    #[derive(Deserialize)]
    struct AnswerData {
        things: Vec<Value>,
    }
    let answer: Answer = response.json(source_name)?;
    if !answer.json.errors.is_empty() {
        let errors = Value::Array(answer.json.errors).to_string();
        return Err(response.bad(
            source_name,
            format!("morechildren refused: {}", errors.chars().take(300).collect::<String>()),
        ));
    }
    answer
        .json
        .data
        .map(|data| data.things)
        .ok_or_else(|| response.bad(source_name, "morechildren answer without data.things"))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
