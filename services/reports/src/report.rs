//! The completed report: every day present, totals and shares computed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smo_proto::AccountId;

use crate::{DayVolume, ReportInput, ReportPeriod, Tally, TopPost};

/// Version of the report's JSON shape; bumped on any change a reader must
/// know about.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// A count with its share of a whole, for breakdown tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// What was counted.
    pub name: String,
    /// How many.
    pub count: u64,
    /// Fraction of the whole in `[0, 1]`, rounded to 4 decimals (so the JSON
    /// reads well and parses back to the same value).
    pub share: f64,
}

/// The headline numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Posts collected in the period.
    pub total_posts: u64,
    /// Days in the period.
    pub days: u32,
    /// Posts per day, rounded to 2 decimals.
    pub average_posts_per_day: f64,
    /// The busiest day (the earliest on ties), unless there were no posts.
    pub peak_day: Option<DayVolume>,
    /// Cases opened during the period.
    pub complaints_opened: u64,
    /// The account's cases, all statuses.
    pub cases: u64,
}

/// A monitoring report, ready to render. Built only by [`Report::build`] or
/// read back from its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_FORMAT_VERSION`] at the time of writing.
    pub format_version: u32,
    /// The client the report is for.
    pub account: AccountId,
    /// The days it covers.
    pub period: ReportPeriod,
    /// When the numbers were gathered.
    pub generated_at: DateTime<Utc>,
    /// The headline numbers.
    pub summary: Summary,
    /// Posts per day, one entry for every day of the period, in order.
    pub volume_by_day: Vec<DayVolume>,
    /// Posts per language; shares of all posts with a language.
    pub languages: Vec<Share>,
    /// Posts per sentiment; shares of all posts with a sentiment.
    pub sentiment: Vec<Share>,
    /// Posts per intent; shares of all posts with an intent.
    pub intents: Vec<Share>,
    /// Posts per tag; shares of all posts in the period (a post may carry
    /// several tags, so these need not add up to 1).
    pub top_tags: Vec<Share>,
    /// The most engaging posts, most engaging first.
    pub top_posts: Vec<TopPost>,
    /// The account's cases per status; shares of all cases.
    pub cases_by_status: Vec<Share>,
}

impl Report {
    /// Completes `input`: one volume entry per day of the period (zero where
    /// none was given; days outside the period dropped; repeated days summed),
    /// breakdowns merged by name and sorted by count (then name), shares and
    /// totals computed, top posts sorted by engagement.
    pub fn build(input: ReportInput) -> Self {
        let period = input.period;
        let mut per_day: BTreeMap<_, u64> = period.days().map(|day| (day, 0)).collect();
        for entry in &input.volume_by_day {
            if let Some(posts) = per_day.get_mut(&entry.date) {
                *posts = posts.saturating_add(entry.posts);
            }
        }
        let volume_by_day: Vec<DayVolume> =
            per_day.into_iter().map(|(date, posts)| DayVolume { date, posts }).collect();
        let total_posts = volume_by_day.iter().fold(0_u64, |sum, day| sum.saturating_add(day.posts));
        let peak_day = volume_by_day.iter().filter(|day| day.posts > 0).fold(
            None::<DayVolume>,
            |best, day| match best {
                Some(best) if best.posts >= day.posts => Some(best),
                _ => Some(*day),
            },
        );
        let cases_by_status = shares(&input.cases_by_status, None);
        let cases = cases_by_status.iter().fold(0_u64, |sum, share| sum.saturating_add(share.count));
        let mut top_posts = input.top_posts;
        top_posts.sort_by(|a, b| {
            b.engagement.cmp(&a.engagement).then(a.created_at.cmp(&b.created_at)).then(a.id.cmp(&b.id))
        });
        let days = period.day_count();
        Self {
            format_version: REPORT_FORMAT_VERSION,
            account: input.account,
            period,
            generated_at: input.generated_at,
            summary: Summary {
                total_posts,
                days,
                average_posts_per_day: rounded(ratio(total_posts, u64::from(days)), 2),
                peak_day,
                complaints_opened: input.complaints_opened,
                cases,
            },
            volume_by_day,
            languages: shares(&input.languages, None),
            sentiment: shares(&input.sentiment, None),
            intents: shares(&input.intents, None),
            top_tags: shares(&input.top_tags, Some(total_posts)),
            top_posts,
            cases_by_status,
        }
    }
}

/// Merges tallies by name, sorts them by count then name, and gives each its
/// share of `whole` (default: the sum of the tallies).
fn shares(tallies: &[Tally], whole: Option<u64>) -> Vec<Share> {
    let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
    for tally in tallies {
        let count = merged.entry(tally.name.as_str()).or_default();
        *count = count.saturating_add(tally.count);
    }
    let whole = whole.unwrap_or_else(|| merged.values().fold(0, |a, b| a.saturating_add(*b)));
    let mut shares: Vec<Share> = merged
        .into_iter()
        .map(|(name, count)| Share { name: name.to_owned(), count, share: rounded(ratio(count, whole), 4) })
        .collect();
    shares.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    shares
}

/// `part / whole`, 0 when there is no whole.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn rounded(value: f64, decimals: i32) -> f64 {
    let scale = 10_f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_merge_sort_and_round() {
        let tallies: Vec<Tally> = vec![("fr", 1).into(), ("en", 1).into(), ("en", 1).into()];
        let result = shares(&tallies, None);
        assert_eq!(result[0].name, "en");
        assert_eq!(result[0].count, 2);
        assert_eq!(result[0].share, 0.6667);
        assert_eq!(result[1].share, 0.3333);
        assert_eq!(shares(&tallies, Some(0))[0].share, 0.0);
    }
}
