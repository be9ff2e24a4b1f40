//! The Customer Support on Twitter file as the replay needs it: its tweets,
//! the threads their reply links make, the brand each customer tweet talks
//! to, the busiest window of the data and the brands' real reply delays,
//! which the simulated agents draw from.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};

/// `created_at` as the TWCS file writes it: `Tue Oct 31 22:10:47 +0000 2017`.
pub(super) const TWCS_TIME: &str = "%a %b %d %H:%M:%S %z %Y";

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tweet {
    pub(super) id: String,
    /// The customer's id, or the brand's handle for outbound tweets.
    pub(super) author: String,
    /// A customer's tweet (`True`) or a brand's (`False`).
    pub(super) inbound: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) text: String,
    pub(super) in_reply_to: Option<String>,
}

/// The file's tweets with their reply structure: parents, replies, thread
/// roots and which brand each customer tweet talks to.
#[derive(Debug)]
pub(super) struct Corpus {
    pub(super) tweets: Vec<Tweet>,
    /// Rows that could not be read (bad time, duplicate id, broken CSV).
    pub(super) skipped: usize,
    pub(super) parent: Vec<Option<usize>>,
    pub(super) replies: Vec<Vec<usize>>,
    pub(super) roots: Vec<usize>,
    /// Brand handles by lower case, as written in the data.
    pub(super) brands: HashMap<String, String>,
    /// The brand of each thread's earliest brand tweet, by root.
    pub(super) thread_brand: HashMap<usize, String>,
    /// A customer's tweets in a thread, by (root, customer).
    pub(super) conversations: HashMap<(usize, String), Vec<usize>>,
}

pub(super) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

pub(super) fn parse_twcs_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(value.trim(), TWCS_TIME)
        .or_else(|_| DateTime::parse_from_rfc3339(value.trim()))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

impl Corpus {
    /// Reads the file; see [`Corpus::parse`].
    pub(super) fn read(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Self::parse(std::io::BufReader::new(file)).with_context(|| format!("reading {}", path.display()))
    }

    /// Parses TWCS CSV; columns are found by header name. Unreadable rows
    /// (bad time or `inbound`, empty or repeated id) are skipped and counted.
    pub(super) fn parse(reader: impl std::io::Read) -> anyhow::Result<Self> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = csv.headers().context("reading the CSV header")?.clone();
        let column = |name: &str| {
            headers.iter().position(|h| h.trim() == name).with_context(|| format!("no `{name}` column"))
        };
        let columns = [
            column("tweet_id")?,
            column("author_id")?,
            column("inbound")?,
            column("created_at")?,
            column("text")?,
            column("in_response_to_tweet_id")?,
        ];
        let mut tweets: Vec<Tweet> = Vec::new();
        let mut seen = HashSet::new();
        let mut skipped = 0;
        for record in csv.records() {
            let Ok(record) = record else {
                skipped += 1;
                continue;
            };
            let [id, author, inbound, created_at, text, in_reply_to] =
                columns.map(|i| record.get(i).unwrap_or("").trim().to_owned());
            let (Some(inbound), Some(created_at)) = (parse_bool(&inbound), parse_twcs_time(&created_at))
            else {
                skipped += 1;
                continue;
            };
            if id.is_empty() || author.is_empty() || !seen.insert(id.clone()) {
                skipped += 1;
                continue;
            }
            let in_reply_to = Some(in_reply_to).filter(|parent| !parent.is_empty());
            tweets.push(Tweet { id, author, inbound, created_at, text, in_reply_to });
        }
        if skipped > 0 {
            tracing::warn!(skipped, "unreadable rows skipped");
        }
        Ok(Self::new(tweets, skipped))
    }

    pub(super) fn new(tweets: Vec<Tweet>, skipped: usize) -> Self {
        let by_id: HashMap<&str, usize> =
            tweets.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
        let parent: Vec<Option<usize>> =
            tweets.iter().map(|t| t.in_reply_to.as_deref().and_then(|p| by_id.get(p).copied())).collect();
        let mut replies = vec![Vec::new(); tweets.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = *p {
                replies[p].push(i);
            }
        }
        let roots: Vec<usize> = (0..tweets.len()).map(|i| root_of(&parent, i)).collect();
        let brands: HashMap<String, String> = tweets
            .iter()
            .filter(|t| !t.inbound)
            .map(|t| (t.author.to_lowercase(), t.author.clone()))
            .collect();
        let mut thread_brand: HashMap<usize, (DateTime<Utc>, String)> = HashMap::new();
        let mut conversations: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (i, t) in tweets.iter().enumerate() {
            if t.inbound {
                conversations.entry((roots[i], t.author.clone())).or_default().push(i);
            } else {
                let earliest = thread_brand.get(&roots[i]).is_none_or(|(at, _)| t.created_at < *at);
                if earliest {
                    thread_brand.insert(roots[i], (t.created_at, t.author.clone()));
                }
            }
        }
        let thread_brand = thread_brand.into_iter().map(|(root, (_, brand))| (root, brand)).collect();
        Self { tweets, skipped, parent, replies, roots, brands, thread_brand, conversations }
    }

    /// The brand a customer tweet talks to: the brand it replies to, else
    /// the brand that replied to it first, else the first brand it mentions,
    /// else the brand of its thread. `None` for brand tweets and for tweets
    /// no brand can be found for.
    pub(super) fn brand_of(&self, i: usize) -> Option<&str> {
        let tweet = self.tweets.get(i).filter(|t| t.inbound)?;
        if let Some(p) = self.parent[i]
            && !self.tweets[p].inbound
        {
            return Some(&self.tweets[p].author);
        }
        if let Some(&j) = self.replies[i]
            .iter()
            .filter(|&&j| !self.tweets[j].inbound)
            .min_by_key(|&&j| self.tweets[j].created_at)
        {
            return Some(&self.tweets[j].author);
        }
        for word in tweet.text.split_whitespace() {
            if let Some(handle) = word.strip_prefix('@') {
                let handle = handle.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
                if let Some(brand) = self.brands.get(&handle.to_lowercase()) {
                    return Some(brand);
                }
            }
        }
        self.thread_brand.get(&self.roots[i]).map(String::as_str)
    }

    /// Seconds from customer tweet `i` to the earliest brand tweet replying
    /// to it (the first reply to that tweet), if any.
    pub(super) fn reply_delay(&self, i: usize) -> Option<i64> {
        let tweet = self.tweets.get(i).filter(|t| t.inbound)?;
        self.replies[i]
            .iter()
            .map(|&j| &self.tweets[j])
            .filter(|reply| !reply.inbound && reply.created_at >= tweet.created_at)
            .map(|reply| (reply.created_at - tweet.created_at).num_seconds())
            .min()
    }

    /// Every customer tweet's first-reply delay in seconds, sorted: the
    /// distribution simulated agents draw from.
    pub(super) fn reply_delays(&self) -> Vec<i64> {
        let mut delays: Vec<i64> = (0..self.tweets.len()).filter_map(|i| self.reply_delay(i)).collect();
        delays.sort_unstable();
        delays
    }

    /// The data's own first response to the conversation customer tweet `i`
    /// opens (its thread, its customer, its brand): seconds to the earliest
    /// brand tweet, at or after `i`, that replies to any of the customer's
    /// tweets in the thread. What a case opened by `i` is compared with.
    pub(super) fn conversation_first_response(&self, i: usize) -> Option<i64> {
        let brand = self.brand_of(i)?;
        let tweet = &self.tweets[i];
        self.conversations
            .get(&(self.roots[i], tweet.author.clone()))?
            .iter()
            .flat_map(|&k| self.replies[k].iter().map(|&j| &self.tweets[j]))
            .filter(|reply| !reply.inbound && reply.author == brand && reply.created_at >= tweet.created_at)
            .map(|reply| (reply.created_at - tweet.created_at).num_seconds())
            .min()
    }

    /// Customer tweets that have a brand, in time order (then id order).
    pub(super) fn customer_tweets(&self) -> Vec<usize> {
        let mut customer: Vec<usize> =
            (0..self.tweets.len()).filter(|&i| self.brand_of(i).is_some()).collect();
        customer.sort_by(|&a, &b| {
            let (a, b) = (&self.tweets[a], &self.tweets[b]);
            a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id))
        });
        customer
    }

    /// The first tweet of each conversation among `tweets` (time ordered):
    /// per (thread, customer, brand), the earliest.
    pub(super) fn conversation_openings(&self, tweets: &[usize]) -> Vec<usize> {
        let mut seen = HashSet::new();
        tweets
            .iter()
            .copied()
            .filter(|&i| {
                let brand = self.brand_of(i).unwrap_or_default().to_owned();
                seen.insert((self.roots[i], self.tweets[i].author.clone(), brand))
            })
            .collect()
    }
}

/// The root of `i`'s reply chain: follow parents until one is missing from
/// the file. A (malformed) cycle stops after visiting every tweet once.
pub(super) fn root_of(parent: &[Option<usize>], mut i: usize) -> usize {
    for _ in 0..parent.len() {
        match parent.get(i).copied().flatten() {
            Some(p) => i = p,
            None => return i,
        }
    }
    i
}

/// The start of the `length` window holding the most of `times` (sorted);
/// the earliest such window on ties.
pub(super) fn busiest_window(times: &[DateTime<Utc>], length: TimeDelta) -> Option<DateTime<Utc>> {
    let mut best = (0usize, *times.first()?);
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= length {
            start += 1;
        }
        if end + 1 - start > best.0 {
            best = (end + 1 - start, times[start]);
        }
    }
    Some(best.1)
}

/// Draws reply delays uniformly from the observed ones (the empirical
/// distribution), with a small seeded generator (SplitMix64) so runs repeat.
#[derive(Debug, Clone)]
pub(super) struct DelaySampler {
    pub(super) delays: Vec<i64>,
    pub(super) state: u64,
}

impl DelaySampler {
    pub(super) fn new(delays: Vec<i64>, seed: u64) -> Option<Self> {
        (!delays.is_empty()).then_some(Self { delays, state: seed })
    }

    pub(super) fn draw(&mut self) -> i64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let index = usize::try_from(z % self.delays.len() as u64).unwrap_or(0);
        self.delays.get(index).copied().unwrap_or(0)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::replay::parse_instant;

    /// A brand thread (tweets out of order as in the real file), a customer
    /// follow-up, a tweet only mentioning a brand, a reply to a tweet that
    /// is not in the file, and rows that cannot be read.
    const CSV: &str = "\
tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 Please DM us.,2,3
2,115712,True,Tue Oct 31 22:11:45 +0000 2017,@sprintcare and how do you propose we do that,,1
3,115712,True,Tue Oct 31 22:08:27 +0000 2017,\"@sprintcare I have sent several
private messages and no one is responding\",1,
4,200,True,Tue Oct 31 23:00:00 +0000 2017,@SprintCare! my bill is wrong,,
5,300,True,Tue Oct 31 23:30:00 +0000 2017,@nobody hello,,99
6,sprintcare,False,Wed Nov 01 01:00:00 +0000 2017,@300 sorry,,5
7,400,True,not a time,broken,,
2,115712,True,Tue Oct 31 22:12:00 +0000 2017,duplicate id,,
";

    pub(in crate::replay) fn corpus() -> Corpus {
        Corpus::parse(CSV.as_bytes()).expect("parses")
    }

    fn index(c: &Corpus, id: &str) -> usize {
        c.tweets.iter().position(|t| t.id == id).expect("tweet")
    }

    #[test]
    fn csv_rows_parse_and_bad_rows_are_counted() {
        let c = corpus();
        assert_eq!(c.tweets.len(), 6);
        assert_eq!(c.skipped, 2);
        let t = &c.tweets[index(&c, "3")];
        assert!(t.inbound);
        assert!(t.text.contains("several\nprivate"), "multi-line text kept: {:?}", t.text);
        assert_eq!(t.created_at, parse_instant("2017-10-31T22:08:27Z").expect("time"));
        assert_eq!(t.in_reply_to, None);
        assert!(!c.tweets[index(&c, "1")].inbound);
        let missing = Corpus::parse("tweet_id,author_id\n1,a\n".as_bytes());
        assert!(missing.is_err_and(|e| e.to_string().contains("inbound")));
    }

    #[test]
    fn threads_are_rebuilt_from_reply_links() {
        let c = corpus();
        let root = index(&c, "3");
        for id in ["1", "2", "3"] {
            assert_eq!(c.roots[index(&c, id)], root, "tweet {id}");
        }
        // A parent missing from the file makes the tweet its own root.
        assert_eq!(c.roots[index(&c, "5")], index(&c, "5"));
        assert_eq!(c.roots[index(&c, "6")], index(&c, "5"));
        // A cycle does not hang.
        assert!(root_of(&[Some(1), Some(0)], 0) < 2);
    }

    #[test]
    fn each_customer_tweet_gets_the_brand_it_talks_to() {
        let c = corpus();
        assert_eq!(c.brand_of(index(&c, "2")), Some("sprintcare"), "replies to the brand");
        assert_eq!(c.brand_of(index(&c, "3")), Some("sprintcare"), "answered by the brand");
        assert_eq!(c.brand_of(index(&c, "4")), Some("sprintcare"), "mentions it");
        assert_eq!(c.brand_of(index(&c, "5")), Some("sprintcare"), "answered by the brand");
        assert_eq!(c.brand_of(index(&c, "1")), None, "brand tweets have none");
        let customer: Vec<&str> = c.customer_tweets().iter().map(|&i| c.tweets[i].id.as_str()).collect();
        assert_eq!(customer, ["3", "2", "4", "5"], "time order");
    }

    #[test]
    fn reply_delays_are_customer_tweet_to_brand_reply() {
        let c = corpus();
        // 3 → 1: 22:08:27 → 22:10:47; 5 → 6: 23:30 → 01:00.
        assert_eq!(c.reply_delays(), vec![140, 5400]);
        assert_eq!(c.reply_delay(index(&c, "2")), None);
        // The conversation 3 opens was first answered by 1; 2 came later
        // and the brand never answered after it.
        assert_eq!(c.conversation_first_response(index(&c, "3")), Some(140));
        assert_eq!(c.conversation_first_response(index(&c, "2")), None);
        let customer = c.customer_tweets();
        let openings: Vec<&str> =
            c.conversation_openings(&customer).iter().map(|&i| c.tweets[i].id.as_str()).collect();
        assert_eq!(openings, ["3", "4", "5"]);
    }

    #[test]
    fn delays_are_drawn_from_the_observed_ones_and_repeat_per_seed() {
        let delays = vec![21, 140, 600, 5400, 86_400];
        let mut a = DelaySampler::new(delays.clone(), 7).expect("sampler");
        let mut b = DelaySampler::new(delays.clone(), 7).expect("sampler");
        let drawn: Vec<i64> = (0..1000).map(|_| a.draw()).collect();
        assert!(drawn.iter().all(|d| delays.contains(d)));
        assert_eq!(drawn, (0..1000).map(|_| b.draw()).collect::<Vec<_>>());
        for d in &delays {
            let share = drawn.iter().filter(|x| *x == d).count() as f64 / 1000.0;
            assert!((0.12..0.28).contains(&share), "{d} drawn {share}");
        }
        assert!(DelaySampler::new(Vec::new(), 1).is_none());
    }

    #[test]
    fn the_busiest_window_is_found() {
        let at = |h: i64| parse_instant("2017-10-31T00:00:00Z").expect("time") + TimeDelta::hours(h);
        let times = [at(0), at(10), at(11), at(12), at(40)];
        assert_eq!(busiest_window(&times, TimeDelta::hours(3)), Some(at(10)));
        assert_eq!(busiest_window(&[], TimeDelta::hours(3)), None);
    }
}
