//! What the binary gathers for a report.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smo_proto::{AccountId, PostId};

use crate::ReportPeriod;

/// A named count: posts in a language, cases in a status, etc.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// What was counted, e.g. `en`, `negative`, `billing`.
    pub name: String,
    /// How many.
    pub count: u64,
}

impl<S: Into<String>> From<(S, u64)> for Tally {
    fn from((name, count): (S, u64)) -> Self {
        Self { name: name.into(), count }
    }
}

/// Posts collected on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayVolume {
    /// The day.
    pub date: NaiveDate,
    /// Posts created that day.
    pub posts: u64,
}

/// A post that drew the most engagement, quoted in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopPost {
    /// The post's id.
    pub id: PostId,
    /// The author's handle, without `@`.
    pub author_handle: String,
    /// The post's text as written.
    pub text: String,
    /// Link to the post, when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Likes + reposts + replies at fetch time.
    pub engagement: u64,
    /// When it was published.
    pub created_at: DateTime<Utc>,
}

/// The raw numbers of a report, as gathered from the index and the store.
/// Missing days, unsorted or repeated breakdown entries are fine:
/// [`crate::Report::build`] completes and normalizes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// The client the report is for.
    pub account: AccountId,
    /// The days it covers.
    pub period: ReportPeriod,
    /// When the numbers were gathered.
    pub generated_at: DateTime<Utc>,
    /// Posts per day; days without posts may be left out.
    pub volume_by_day: Vec<DayVolume>,
    /// Posts per language code.
    pub languages: Vec<Tally>,
    /// Posts per sentiment (`negative`, `neutral`, `positive`).
    pub sentiment: Vec<Tally>,
    /// Posts per intent (`complaint`, `question`, `praise`, `other`).
    pub intents: Vec<Tally>,
    /// Posts per topic tag, the most frequent ones.
    pub top_tags: Vec<Tally>,
    /// The most engaging posts.
    pub top_posts: Vec<TopPost>,
    /// Cases opened during the period.
    pub complaints_opened: u64,
    /// The account's cases per status.
    pub cases_by_status: Vec<Tally>,
}
