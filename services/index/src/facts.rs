//! Numbers for reports over a period: posts per UTC day, counts per
//! language, sentiment, intent and tag, and the most engaging posts. One pass
//! over the period's posts with a collector reading fast fields only
//! (columnar, no stored document is touched except for the top posts), so a
//! week of a busy account costs milliseconds. Counts are exact.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smo_proto::EnrichedPost;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::RangeQuery;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use crate::error::IndexError;
use crate::schema::{PostFields, names, to_tantivy_date};

const MILLIS_PER_DAY: i64 = 86_400_000;
/// Periods up to this many days list every day, empty ones with a zero count;
/// longer periods list only the days that have posts.
pub const MAX_ZERO_FILLED_DAYS: i64 = 3_660;

/// Report numbers of one account over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexFacts {
    /// Start of the period, inclusive.
    pub from: DateTime<Utc>,
    /// End of the period, exclusive.
    pub to: DateTime<Utc>,
    /// Posts created in the period.
    pub total: u64,
    /// Posts per UTC day, in date order.
    pub per_day: Vec<DayCount>,
    /// Posts per language code, most frequent first.
    pub languages: Vec<TermCount>,
    /// Posts per sentiment, most frequent first.
    pub sentiments: Vec<TermCount>,
    /// Posts per intent, most frequent first.
    pub intents: Vec<TermCount>,
    /// The most frequent tags (at most `top_n`), most frequent first.
    pub top_tags: Vec<TermCount>,
    /// The posts with most engagement (at most `top_n`), highest first,
    /// newer first on ties.
    pub top_posts: Vec<TopPost>,
}

/// Posts of one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// The day.
    pub day: NaiveDate,
    /// Posts created that day.
    pub count: u64,
}

/// Posts having one value of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermCount {
    /// The value, e.g. `en`, `negative`, `complaint`, `delivery`.
    pub term: String,
    /// How many posts have it.
    pub count: u64,
}

/// A post ranked by engagement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopPost {
    /// Likes + reposts + replies at fetch time.
    pub engagement: u64,
    /// The post with everything classify found.
    pub post: EnrichedPost,
}

/// The keyword fields counted, in the order of [`Counts::keywords`].
const COUNTED_FIELDS: [&str; 4] = [names::LANG, names::SENTIMENT, names::INTENT, names::TAGS];

pub(crate) fn collect_facts(
    searcher: &Searcher,
    fields: &PostFields,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    top_n: usize,
    load: impl Fn(DocAddress) -> Result<EnrichedPost, IndexError>,
) -> Result<IndexFacts, IndexError> {
    let period = RangeQuery::new(
        Bound::Included(Term::from_field_date(fields.created_at, to_tantivy_date(from))),
        Bound::Excluded(Term::from_field_date(fields.created_at, to_tantivy_date(to))),
    );
    let counts = searcher.search(&period, &FactsCollector { top_n })?;
    let [languages, sentiments, intents, tags] = counts.keywords.map(sorted_counts);
    let top_posts = counts
        .top
        .iter()
        .map(|ranked| Ok(TopPost { engagement: ranked.engagement, post: load(ranked.address())? }))
        .collect::<Result<Vec<_>, IndexError>>()?;
    Ok(IndexFacts {
        from,
        to,
        total: counts.total,
        per_day: per_day(&counts.days, from, to),
        languages,
        sentiments,
        intents,
        top_tags: tags.into_iter().take(top_n).collect(),
        top_posts,
    })
}

fn sorted_counts(counts: HashMap<String, u64>) -> Vec<TermCount> {
    let mut counts: Vec<TermCount> =
        counts.into_iter().map(|(term, count)| TermCount { term, count }).collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.term.cmp(&b.term)));
    counts
}

fn per_day(days: &HashMap<i64, u64>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DayCount> {
    let first = from.timestamp_millis().div_euclid(MILLIS_PER_DAY);
    let last = (to.timestamp_millis() - 1).div_euclid(MILLIS_PER_DAY);
    let day_numbers: Vec<i64> = if last - first < MAX_ZERO_FILLED_DAYS {
        (first..=last).collect()
    } else {
        let mut present: Vec<i64> = days.keys().copied().collect();
        present.sort_unstable();
        present
    };
    day_numbers
        .into_iter()
        .filter_map(|number| {
            let day = DateTime::from_timestamp(number.checked_mul(86_400)?, 0)?.date_naive();
            Some(DayCount { day, count: days.get(&number).copied().unwrap_or(0) })
        })
        .collect()
}

/// Rank of a post for "top posts": more engagement, then newer, then lower
/// address (deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked {
    engagement: u64,
    created_millis: i64,
    address: Reverse<(SegmentOrdinal, DocId)>,
}

impl Ranked {
    fn address(&self) -> DocAddress {
        let (segment_ord, doc_id) = self.address.0;
        DocAddress::new(segment_ord, doc_id)
    }
}

/// Counts of one segment, then of all merged.
#[derive(Debug, Default)]
struct Counts {
    total: u64,
    /// Posts per day number since the Unix epoch.
    days: HashMap<i64, u64>,
    /// Posts per value of each of [`COUNTED_FIELDS`].
    keywords: [HashMap<String, u64>; 4],
    /// Best first, at most `top_n`.
    top: Vec<Ranked>,
}

struct FactsCollector {
    top_n: usize,
}

impl Collector for FactsCollector {
    type Fruit = Counts;
    type Child = FactsSegmentCollector;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast_fields = segment.fast_fields();
        let mut keyword_columns = Vec::with_capacity(COUNTED_FIELDS.len());
        for field in COUNTED_FIELDS {
            keyword_columns.push(fast_fields.str(field)?);
        }
        let ord_counts = keyword_columns
            .iter()
            .map(|column| vec![0u64; column.as_ref().map_or(0, |column| column.num_terms())])
            .collect();
        Ok(FactsSegmentCollector {
            segment_ord,
            top_n: self.top_n,
            created_at: fast_fields.date(names::CREATED_AT)?,
            engagement: fast_fields.u64(names::ENGAGEMENT)?,
            keyword_columns,
            ord_counts,
            total: 0,
            days: HashMap::new(),
            top: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segment_fruits: Vec<std::io::Result<Counts>>) -> tantivy::Result<Counts> {
        let mut merged = Counts::default();
        for fruit in segment_fruits {
            let segment = fruit?;
            merged.total += segment.total;
            for (day, count) in segment.days {
                *merged.days.entry(day).or_default() += count;
            }
            for (merged_counts, segment_counts) in merged.keywords.iter_mut().zip(segment.keywords) {
                for (term, count) in segment_counts {
                    *merged_counts.entry(term).or_default() += count;
                }
            }
            merged.top.extend(segment.top);
        }
        merged.top.sort_unstable_by(|a, b| b.cmp(a));
        merged.top.truncate(self.top_n);
        Ok(merged)
    }
}

struct FactsSegmentCollector {
    segment_ord: SegmentOrdinal,
    top_n: usize,
    created_at: Column<tantivy::DateTime>,
    engagement: Column<u64>,
    keyword_columns: Vec<Option<StrColumn>>,
    /// Per keyword column, posts per term ordinal.
    ord_counts: Vec<Vec<u64>>,
    total: u64,
    days: HashMap<i64, u64>,
    /// Min-heap of the best `top_n` seen so far.
    top: BinaryHeap<Reverse<Ranked>>,
}

impl SegmentCollector for FactsSegmentCollector {
    type Fruit = std::io::Result<Counts>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.total += 1;
        let created_millis = self.created_at.first(doc).map(|date| date.into_timestamp_millis());
        if let Some(millis) = created_millis {
            *self.days.entry(millis.div_euclid(MILLIS_PER_DAY)).or_default() += 1;
        }
        for (column, counts) in self.keyword_columns.iter().zip(&mut self.ord_counts) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    if let Some(count) = usize::try_from(ord).ok().and_then(|ord| counts.get_mut(ord)) {
                        *count += 1;
                    }
                }
            }
        }
        if self.top_n > 0 {
            let ranked = Ranked {
                engagement: self.engagement.first(doc).unwrap_or(0),
                created_millis: created_millis.unwrap_or(i64::MIN),
                address: Reverse((self.segment_ord, doc)),
            };
            if self.top.len() < self.top_n {
                self.top.push(Reverse(ranked));
            } else if self.top.peek().is_some_and(|Reverse(worst)| ranked > *worst) {
                self.top.pop();
                self.top.push(Reverse(ranked));
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        let mut keywords: [HashMap<String, u64>; 4] = Default::default();
        for ((column, counts), terms) in self.keyword_columns.iter().zip(&self.ord_counts).zip(&mut keywords)
        {
            let Some(column) = column else { continue };
            for (ord, &count) in counts.iter().enumerate() {
                if count == 0 {
                    continue;
                }
                let mut term = String::new();
                if column.ord_to_str(ord as u64, &mut term)? {
                    *terms.entry(term).or_default() += count;
                }
            }
        }
        let mut top: Vec<Ranked> = self.top.into_iter().map(|Reverse(ranked)| ranked).collect();
        top.sort_unstable_by(|a, b| b.cmp(a));
        Ok(Counts { total: self.total, days: self.days, keywords, top })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn days_are_zero_filled_over_the_period() {
        let from = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2025, 3, 4, 0, 0, 0).unwrap();
        let march_2 = from.timestamp_millis() / MILLIS_PER_DAY + 1;
        let days = HashMap::from([(march_2, 5)]);
        let listed: Vec<(String, u64)> =
            per_day(&days, from, to).into_iter().map(|d| (d.day.to_string(), d.count)).collect();
        assert_eq!(
            listed,
            vec![("2025-03-01".to_owned(), 0), ("2025-03-02".to_owned(), 5), ("2025-03-03".to_owned(), 0)]
        );
    }

    #[test]
    fn very_long_periods_list_only_days_with_posts() {
        let from = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
        let day = Utc.with_ymd_and_hms(2025, 3, 2, 12, 0, 0).unwrap().timestamp_millis() / MILLIS_PER_DAY;
        let listed = per_day(&HashMap::from([(day, 2)]), from, to);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].day.to_string(), "2025-03-02");
    }
}
