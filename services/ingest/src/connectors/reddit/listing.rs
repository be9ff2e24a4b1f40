//! Listing mode: a subreddit's new posts or a search, one page per poll,
//! scanned back to the mark with the shared [`ScanCursor`].

use reqwest::Url;

use super::things::{Link, Listing, Thing};
use super::{Mode, RedditSource};
use crate::connectors::{
    Conditional, Keyed, ScanCursor, item, push_post, raw_str, read_cursor, unchanged, write_cursor,
};
use crate::{IngestError, SourceBatch};

impl RedditSource {
    fn page_url(&self, after: Option<&str>) -> Result<Url, IngestError> {
        let (mut url, search) = match &self.mode {
            Mode::New(sub) => (self.url(&format!("/r/{sub}/new.json"))?, None),
            Mode::Search { subreddit: Some(sub), query } => {
                (self.url(&format!("/r/{sub}/search.json"))?, Some((query, true)))
            }
            Mode::Search { subreddit: None, query } => (self.url("/search.json")?, Some((query, false))),
            Mode::Thread { .. } => return self.thread_url(None),
        };
        {
            let mut query = url.query_pairs_mut();
            if let Some((q, restrict)) = search {
                query.append_pair("q", q).append_pair("sort", "new").append_pair("type", "link");
                if restrict {
                    query.append_pair("restrict_sr", "1");
                }
            }
            query.append_pair("limit", &self.config.limit.to_string()).append_pair("raw_json", "1");
            if let Some(after) = after {
                query.append_pair("after", after);
            }
        }
        Ok(url)
    }

    /// One page of a listing (new posts or search), scanned back to the mark.
    pub(super) async fn poll_listing(&mut self, cursor: Option<&str>) -> Result<SourceBatch, IngestError> {
        let state: ScanCursor = read_cursor(&self.name, cursor)?;
        let url = self.page_url(state.page())?;
        let request = self.request(url.clone()).validators(state.validators_for(&url));
        let response = self.http.get(&self.name, &request).await?;
        if response.not_modified() {
            return Ok(unchanged(cursor));
        }
        let listing: Listing = response.json(&self.name)?;
        if listing.kind != "Listing" {
            return Err(response.bad(&self.name, format!("expected a Listing, got kind {:?}", listing.kind)));
        }
        let mut batch = SourceBatch::default();
        let mut memory = state.rejected.clone();
        let mut keyed = Vec::new();
        for (index, raw) in listing.data.children.iter().enumerate() {
            let location = format!("{} child {index}", response.url);
            let thing: Thing<Link> = match item(raw) {
                Ok(thing) => thing,
                Err(reason) => {
                    memory.reject(&mut batch, raw_str(raw, &["data", "name"]), location, raw, reason);
                    continue;
                }
            };
            if thing.kind != "t3" {
                continue;
            }
            let Some(created) = thing.data.created() else {
                let id = Some(thing.data.name.as_str());
                memory.reject(&mut batch, id, location, raw, "missing or unreadable created_utc");
                continue;
            };
            let id = thing.data.name.clone();
            keyed.push(Keyed { at: created.timestamp_millis(), id, item: (location, raw, thing.data) });
        }
        let limits = self.config.scan;
        let first = state.page().is_none();
        let conditional = if first { Conditional::of(&url, &response.validators) } else { None };
        let (kept, mut next, exhausted) =
            state.advance(&self.name, keyed, listing.data.after, conditional, limits);
        next.rejected = memory;
        for (location, raw, link) in kept {
            push_post(&mut batch, link.into_new_post().build(&self.account, "reddit"), location, raw);
        }
        batch.next_cursor = Some(write_cursor(&next));
        batch.exhausted = exhausted;
        Ok(batch)
    }
}
