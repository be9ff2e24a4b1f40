//! `smo-tools bench replay`: the customer threads of a Customer Support on Twitter
//! file (`../shared/data/support/twcs_dev.csv`) replayed through the real
//! pipeline (ingest publish → classify → index and community → cases in the
//! store) on the configured bus and store, with simulated agents answering
//! the cases. It measures what the community-management issue asks for:
//! the latency from a complaint's publish to its case being assignable, and
//! the first-response time and SLA attainment the agents reach.
//!
//! **Posts.** Every inbound (customer) tweet becomes a [`Post`] of the smo
//! account of the brand it talks to (the brand it replies to, else the brand
//! that answered it, else the brand it mentions, else the brand of its
//! thread); its thread is the root of its reply chain and its author the
//! customer, so a follow-up joins or reopens the customer's case as it would
//! live. Brands are spread over `--accounts` smo accounts (balanced by
//! volume) or get one account each (`--accounts 0`); every post, queue and
//! case stays in its brand's account.
//!
//! **Two clocks.** The bench runs a simulated clock in data time: it starts
//! at the first replayed tweet and runs `--speed` times faster than the
//! wall clock. Post times, SLA due times and every agent action are stamped
//! on it, so first-response times come out in real (data) minutes without
//! rescaling and the SLA clock works on the data's real weekdays and hours:
//! the data is moved forward by a whole number of weeks (at least one week
//! ahead of the wall clock), which keeps the UTC weekday and time of day of
//! every tweet. Compressing timestamps to the wall clock instead would squeeze
//! an 8-hour business day into under five wall minutes and make a 1-hour
//! target 36 seconds, which SLA policies (whole minutes, business hours)
//! cannot express. Keeping sim time ahead of the wall clock also means the
//! pipeline's own upkeep, which runs on the wall clock, never sees an SLA
//! clock due; the bench runs the same upkeep ([`CaseOpener::upkeep`]) on the
//! simulated clock instead, every second. The stages stamp their routing
//! decisions with the wall clock (assignment times of cases they route);
//! the agents map those back onto the simulated clock.
//!
//! **Agents.** `--agents` per account with `--capacity` each take the cases
//! routing gives them and pull queued ones with [`smo_store::CaseStore::next_case`];
//! each answers ([`CaseAction::Respond`]) a delay after getting the case,
//! drawn from the real reply delays of the file (customer tweet → the brand
//! tweet replying to it), then resolves it. Those delays already contain
//! the brands' own queueing, so the default capacity is high enough that the
//! simulated team is not a second bottleneck; lower it to see queueing.
//! The store routes a queued case the moment an answer frees capacity, so
//! pulls seldom find one; they are counted all the same.
//! Once every post is published and the pipeline has settled, nothing but
//! agent answers can happen, so the clock jumps from one answer to the next
//! instead of waiting out the long tail of delays in wall time.
//!
//! **Latency.** The community stage's handler is wrapped (unchanged) to note
//! when each batch's transaction returned: from then on the case of each of
//! its complaints and questions exists, queued or assigned. The latency of a
//! post is that moment minus the moment its publish call started.
//! `--rate N` publishes N complaints per second flat instead (texts the same
//! classifier marks as complaint or question, each a new conversation) for
//! the latency aim: p99 under one second at 1,000 complaints per second. A
//! flat rate is a wall-clock rate, so there the agents and SLA clocks run in
//! real time (at 100× the same agents would answer, and SLA clocks expire,
//! a hundred times as often per second as any real team's would).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use serde::{Deserialize, Serialize};
use smo_bus::Delivery;
use smo_bus::worker::{BatchHandler, HandlerError, Outcome};
use smo_community::{CaseOpener, CommunitySettings, HoursConfig, SlaPolicy, SlaPolicyConfig, TargetConfig};
use smo_ingest::{Ingestor, SourceBatch};
use smo_proto::topology::Stage;
use smo_proto::{AccountId, CasePriority, CaseStatus, Intent, Post, PostId};
use smo_runtime::Shutdown;
use smo_store::{AgentSpec, CaseAction, CaseCommand, CaseFilter, NextCase, Roster, SlaClock, Store};
use tokio::sync::watch;

use smo_pipeline::settings::AccountSettings;
use smo_pipeline::stages;
use smo_pipeline::{HandlerHook, Launch, Pipeline};

/// The `source` of replayed posts (their ids derive from it).
const SOURCE: &str = "replay:twcs";
/// `created_at` as the TWCS file writes it: `Tue Oct 31 22:10:47 +0000 2017`.
const TWCS_TIME: &str = "%a %b %d %H:%M:%S %z %Y";
/// How often the agents look at their queues while the clock runs paced.
const AGENT_TICK: Duration = Duration::from_millis(50);
/// How often (wall) the agents run the accounts' upkeep on the simulated clock.
const UPKEEP_EVERY: Duration = Duration::from_secs(1);
/// Longest the bench waits for the pipeline to settle, and for the drain.
const SETTLE_LIMIT: Duration = Duration::from_secs(1800);
/// Seconds in a week: the data moves forward by whole weeks.
const WEEK_SECS: i64 = 7 * 86_400;

/// Arguments of `smo-tools bench replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Customer Support on Twitter CSV (columns tweet_id, author_id, inbound,
    /// created_at, text, response_tweet_id, in_response_to_tweet_id).
    #[arg(long, default_value = "../shared/data/support/twcs_dev.csv")]
    file: PathBuf,
    /// How many times faster than real time the data is replayed (`--rate`
    /// runs in real time).
    #[arg(long, default_value_t = 100.0)]
    speed: f64,
    /// Publish this many complaints per second, flat, instead of following
    /// the data's timestamps (measures the publish → assignable latency).
    #[arg(long)]
    rate: Option<f64>,
    /// How long `--rate` publishes, in seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Start of the replayed window, data time (RFC 3339 or YYYY-MM-DD);
    /// default: the start of the busiest window of `--hours`.
    #[arg(long, value_parser = parse_instant)]
    from: Option<DateTime<Utc>>,
    /// Hours of data to replay.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// Replay the whole file (ignores `--from` and `--hours`).
    #[arg(long)]
    all: bool,
    /// At most this many customer tweets (the first of the window).
    #[arg(long)]
    limit: Option<usize>,
    /// Smo accounts the brands are spread over (balanced by volume); 0: one
    /// account per brand.
    #[arg(long, default_value_t = 4)]
    accounts: usize,
    /// Simulated agents per account (0 with `--rate`: nobody takes cases).
    #[arg(long, default_value_t = 5)]
    agents: usize,
    /// Most open cases per agent at once; 0: no limit.
    #[arg(long, default_value_t = 100)]
    capacity: u32,
    /// First- and next-response SLA target in minutes, every priority level.
    #[arg(long, default_value_t = 60)]
    sla_minutes: u32,
    /// Business hours of the SLA clock, Monday to Friday, `HH:MM-HH:MM`;
    /// default: around the clock (the brands in the data answer at all hours).
    #[arg(long)]
    business_hours: Option<String>,
    /// IANA time zone of the business hours.
    #[arg(long, default_value = "UTC")]
    time_zone: String,
    /// Seed of the reply-delay draws (same seed, same draws).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_instant(value: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| format!("{value:?} is neither RFC 3339 nor YYYY-MM-DD"))
}

// ------------------------------------------------------------------ the data

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
struct Tweet {
    id: String,
    /// The customer's id, or the brand's handle for outbound tweets.
    author: String,
    /// A customer's tweet (`True`) or a brand's (`False`).
    inbound: bool,
    created_at: DateTime<Utc>,
    text: String,
    in_reply_to: Option<String>,
}

/// The file's tweets with their reply structure: parents, replies, thread
/// roots and which brand each customer tweet talks to.
#[derive(Debug)]
struct Corpus {
    tweets: Vec<Tweet>,
    /// Rows that could not be read (bad time, duplicate id, broken CSV).
    skipped: usize,
    parent: Vec<Option<usize>>,
    replies: Vec<Vec<usize>>,
    roots: Vec<usize>,
    /// Brand handles by lower case, as written in the data.
    brands: HashMap<String, String>,
    /// The brand of each thread's earliest brand tweet, by root.
    thread_brand: HashMap<usize, String>,
    /// A customer's tweets in a thread, by (root, customer).
    conversations: HashMap<(usize, String), Vec<usize>>,
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_twcs_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(value.trim(), TWCS_TIME)
        .or_else(|_| DateTime::parse_from_rfc3339(value.trim()))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

impl Corpus {
    /// Reads the file; see [`Corpus::parse`].
    fn read(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Self::parse(std::io::BufReader::new(file)).with_context(|| format!("reading {}", path.display()))
    }

    /// Parses TWCS CSV; columns are found by header name. Unreadable rows
    /// (bad time or `inbound`, empty or repeated id) are skipped and counted.
    fn parse(reader: impl std::io::Read) -> anyhow::Result<Self> {
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

    fn new(tweets: Vec<Tweet>, skipped: usize) -> Self {
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
    fn brand_of(&self, i: usize) -> Option<&str> {
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
    fn reply_delay(&self, i: usize) -> Option<i64> {
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
    fn reply_delays(&self) -> Vec<i64> {
        let mut delays: Vec<i64> = (0..self.tweets.len()).filter_map(|i| self.reply_delay(i)).collect();
        delays.sort_unstable();
        delays
    }

    /// The data's own first response to the conversation customer tweet `i`
    /// opens (its thread, its customer, its brand): seconds to the earliest
    /// brand tweet, at or after `i`, that replies to any of the customer's
    /// tweets in the thread. What a case opened by `i` is compared with.
    fn conversation_first_response(&self, i: usize) -> Option<i64> {
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
    fn customer_tweets(&self) -> Vec<usize> {
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
    fn conversation_openings(&self, tweets: &[usize]) -> Vec<usize> {
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
fn root_of(parent: &[Option<usize>], mut i: usize) -> usize {
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
fn busiest_window(times: &[DateTime<Utc>], length: TimeDelta) -> Option<DateTime<Utc>> {
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
struct DelaySampler {
    delays: Vec<i64>,
    state: u64,
}

impl DelaySampler {
    fn new(delays: Vec<i64>, seed: u64) -> Option<Self> {
        (!delays.is_empty()).then_some(Self { delays, state: seed })
    }

    fn draw(&mut self) -> i64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let index = usize::try_from(z % self.delays.len() as u64).unwrap_or(0);
        self.delays.get(index).copied().unwrap_or(0)
    }
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

/// The smo account of each brand: `replay-{brand}` each (`accounts == 0`),
/// or `replay-1` … `replay-N`, brands dealt largest first to the account
/// with the fewest tweets so far.
fn group_brands(volumes: &[(String, usize)], accounts: usize) -> anyhow::Result<BTreeMap<String, AccountId>> {
    let mut sorted: Vec<&(String, usize)> = volumes.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = BTreeMap::new();
    if accounts == 0 {
        let mut used = HashSet::new();
        for (brand, _) in sorted {
            let slug: String = brand
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .split('-')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            let base: String = format!("replay-{slug}").chars().take(56).collect();
            let mut id = base.clone();
            let mut n = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            out.insert(brand.clone(), AccountId::new(id)?);
        }
        return Ok(out);
    }
    let mut load = vec![0usize; accounts];
    for (brand, volume) in sorted {
        let (index, _) = load.iter().enumerate().min_by_key(|(i, l)| (**l, *i)).context("no accounts")?;
        load[index] += volume;
        out.insert(brand.clone(), AccountId::new(format!("replay-{}", index + 1))?);
    }
    Ok(out)
}

// ----------------------------------------------------------------- the clock

/// The simulated clock: `speed` times the wall clock from a base, or
/// stopped at a set instant (the drain, where it jumps from event to event).
#[derive(Debug, Clone, Copy)]
struct ClockState {
    wall: Instant,
    wall_utc: DateTime<Utc>,
    sim: DateTime<Utc>,
    /// `None`: stopped at `sim` until set.
    speed: Option<f64>,
}

fn scaled(seconds: f64, speed: f64) -> TimeDelta {
    TimeDelta::microseconds((seconds * speed * 1e6) as i64)
}

impl ClockState {
    fn sim_at(&self, wall: Instant) -> DateTime<Utc> {
        match self.speed {
            Some(speed) => self.sim + scaled(wall.saturating_duration_since(self.wall).as_secs_f64(), speed),
            None => self.sim,
        }
    }

    /// Simulated time of a wall-clock timestamp (as the stages write them);
    /// while stopped, the current simulated time.
    fn sim_of_wall(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self.speed {
            Some(speed) => self.sim + scaled((at - self.wall_utc).as_seconds_f64(), speed),
            None => self.sim,
        }
    }
}

#[derive(Debug)]
struct SimClock {
    state: Mutex<ClockState>,
}

impl SimClock {
    fn paced(wall: Instant, sim: DateTime<Utc>, speed: f64) -> Self {
        let wall_utc = Utc::now()
            + TimeDelta::from_std(wall.saturating_duration_since(Instant::now())).unwrap_or_default();
        Self { state: Mutex::new(ClockState { wall, wall_utc, sim, speed: Some(speed) }) }
    }

    fn state(&self) -> ClockState {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.state().sim_at(Instant::now())
    }

    /// Stops the clock where it is; from now on only [`SimClock::set`] moves it.
    fn stop(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = state.sim_at(Instant::now());
        *state = ClockState { wall: Instant::now(), wall_utc: Utc::now(), sim: now, speed: None };
    }

    /// Moves a stopped clock forward to `sim`.
    fn set(&self, sim: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.speed.is_none() && sim > state.sim {
            state.sim = sim;
        }
    }
}

// ------------------------------------------------------------------- latency

/// When each post's publish started and when its case became assignable.
#[derive(Debug, Default)]
struct Marks {
    published: HashMap<PostId, Instant>,
    assignable: HashMap<PostId, Instant>,
}

type SharedMarks = Arc<Mutex<Marks>>;

/// The fields of an enriched post the latency hook reads.
#[derive(Deserialize)]
struct Probe {
    post: ProbePost,
    intent: Intent,
}

#[derive(Deserialize)]
struct ProbePost {
    id: PostId,
}

/// Wraps the community stage's own handler, unchanged, in [`TimedCommunity`].
struct TimeCommunity(SharedMarks);

impl HandlerHook for TimeCommunity {
    fn wrap(&self, stage: Stage, _: &AccountId, handler: Box<dyn BatchHandler>) -> Box<dyn BatchHandler> {
        match stage {
            Stage::Community => Box::new(TimedCommunity { inner: handler, marks: Arc::clone(&self.0) }),
            _ => handler,
        }
    }
}

/// The community stage's own handler, unchanged, noting the moment each
/// batch's transaction returned for every complaint and question acked in
/// it: their cases exist from then on, queued or assigned.
struct TimedCommunity {
    inner: Box<dyn BatchHandler>,
    marks: SharedMarks,
}

#[async_trait]
impl BatchHandler for TimedCommunity {
    async fn handle(&mut self, batch: &[Delivery]) -> Result<Vec<Outcome>, HandlerError> {
        let outcomes = self.inner.handle(batch).await?;
        let done = Instant::now();
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        for (delivery, outcome) in batch.iter().zip(&outcomes) {
            if matches!(outcome, Outcome::Ack)
                && let Ok(probe) = serde_json::from_slice::<Probe>(&delivery.payload)
                && probe.intent.needs_response()
            {
                marks.assignable.entry(probe.post.id).or_insert(done);
            }
        }
        Ok(outcomes)
    }
}

// -------------------------------------------------------------------- agents

/// A response an agent will give.
#[derive(Debug, Clone)]
struct Pending {
    agent: String,
    due: DateTime<Utc>,
}

/// The agents of one account.
#[derive(Debug)]
struct Desk {
    account: AccountId,
    agents: Vec<String>,
    /// Cases an agent holds and will answer, by case id.
    pending: HashMap<i64, Pending>,
    /// Refused answers per case; after three the agents leave the case be,
    /// so one odd case cannot keep the drain going.
    refused: HashMap<i64, u32>,
    queued: u64,
    /// When the agents next read their queues (paced mode).
    next_poll: Option<Instant>,
}

/// What the simulated agents did.
#[derive(Debug, Default, Serialize)]
struct AgentStats {
    /// Answers given (first and next responses).
    responses: u64,
    /// Cases taken from the queue with `next_case`.
    pulled: u64,
    /// Escalations the SLA sweep fired (on the simulated clock).
    escalations: u64,
    /// Most cases waiting in the accounts' queues at once.
    max_queued: u64,
    /// Store calls that failed (logged).
    errors: u64,
    /// How late answers were given relative to their drawn time, in
    /// seconds of data time (the simulation's own error).
    lateness_p99_seconds: f64,
    /// The latest answer.
    lateness_max_seconds: f64,
    #[serde(skip)]
    lateness: Vec<f64>,
}

struct Agents {
    store: Store,
    opener: CaseOpener,
    clock: Arc<SimClock>,
    /// Simulated times are at least this; earlier timestamps are wall-clock.
    sim_floor: DateTime<Utc>,
    desks: Vec<Desk>,
    sampler: DelaySampler,
    stats: AgentStats,
}

impl Agents {
    /// Runs paced until `drain` (then jumps from answer to answer until every
    /// case is answered) or until `stop`.
    async fn run(
        mut self,
        mut drain: watch::Receiver<bool>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<AgentStats> {
        let mut last_upkeep: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if *drain.borrow() {
                self.drain().await?;
                break;
            }
            let upkeep = last_upkeep.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY);
            if upkeep {
                last_upkeep = Some(Instant::now());
            }
            self.step(upkeep, false).await;
            tokio::select! {
                () = tokio::time::sleep(AGENT_TICK) => {}
                _ = drain.changed() => {}
                () = smo_runtime::shutdown::fired(&mut stop) => {}
            }
        }
        let mut lateness = std::mem::take(&mut self.stats.lateness);
        lateness.sort_by(f64::total_cmp);
        self.stats.lateness_p99_seconds = quantile(&lateness, 0.99).unwrap_or(0.0);
        self.stats.lateness_max_seconds = lateness.last().copied().unwrap_or(0.0);
        Ok(self.stats)
    }

    /// The clock stops; each round runs at the earliest pending answer.
    async fn drain(&mut self) -> anyhow::Result<()> {
        self.clock.stop();
        let started = Instant::now();
        loop {
            self.step(true, true).await;
            let next = self.desks.iter().flat_map(|d| d.pending.values().map(|p| p.due)).min();
            let queued: u64 = self.desks.iter().map(|d| d.queued).sum();
            match next {
                Some(next) => self.clock.set(next),
                None if queued == 0 => return Ok(()),
                None => anyhow::bail!("{queued} cases queued that no simulated agent can take"),
            }
            if started.elapsed() > SETTLE_LIMIT {
                anyhow::bail!("the agents did not answer every case within {SETTLE_LIMIT:?}");
            }
        }
    }

    /// One look at every account at the current simulated time: upkeep
    /// (SLA sweep, routing) if asked, due answers, newly held cases, pulls
    /// from the queue. Store errors are logged and counted.
    async fn step(&mut self, upkeep: bool, force_poll: bool) {
        for index in 0..self.desks.len() {
            if let Err(error) = self.step_desk(index, upkeep, force_poll).await {
                self.stats.errors += 1;
                tracing::warn!(%error, "simulated agents: store call failed");
            }
        }
        let queued = self.desks.iter().map(|d| d.queued).sum();
        self.stats.max_queued = self.stats.max_queued.max(queued);
    }

    async fn step_desk(&mut self, index: usize, upkeep: bool, force_poll: bool) -> anyhow::Result<()> {
        let now = self.clock.now();
        let desk = &mut self.desks[index];
        if upkeep {
            let done = self.opener.upkeep(&desk.account, now).await?;
            self.stats.escalations += done.escalated.len() as u64;
        }
        let due: Vec<(i64, Pending)> =
            desk.pending.iter().filter(|(_, p)| p.due <= now).map(|(id, p)| (*id, p.clone())).collect();
        for (case_id, pending) in due {
            desk.pending.remove(&case_id);
            self.stats.lateness.push((now - pending.due).as_seconds_f64());
            let command = |action| CaseCommand {
                actor: pending.agent.clone(),
                reason: "replay: simulated agent".to_owned(),
                expected_version: None,
                action,
            };
            let respond = CaseAction::Respond { agent: pending.agent.clone(), wait_on_customer: false };
            if let Err(error) = self.store.update_case(&desk.account, case_id, command(respond), now).await {
                self.stats.errors += 1;
                *desk.refused.entry(case_id).or_default() += 1;
                tracing::warn!(case_id, %error, "simulated answer refused");
                continue;
            }
            self.stats.responses += 1;
            let resolve = CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto };
            if let Err(error) = self.store.update_case(&desk.account, case_id, command(resolve), now).await {
                self.stats.errors += 1;
                tracing::warn!(case_id, %error, "simulated resolve refused");
            }
        }
        if force_poll || self.desks[index].next_poll.is_none_or(|at| Instant::now() >= at) {
            let started = Instant::now();
            self.poll_desk(index, now).await?;
            // The agents' reads take at most a fifth of the time, so a long
            // list of held cases does not load the store the pipeline writes.
            self.desks[index].next_poll = Some(Instant::now() + AGENT_TICK.max(started.elapsed() * 4));
        }
        Ok(())
    }

    /// Newly held cases get an answer time; agents with room pull queued ones.
    async fn poll_desk(&mut self, index: usize, now: DateTime<Utc>) -> anyhow::Result<()> {
        let desk = &mut self.desks[index];
        let filter = CaseFilter { status: Some(CaseStatus::Assigned), ..CaseFilter::default() };
        for case in self.store.list_cases(&desk.account, filter).await? {
            let Some(agent) = case.assigned_agent.clone() else { continue };
            if desk.pending.contains_key(&case.id) || desk.refused.get(&case.id).is_some_and(|n| *n >= 3) {
                continue;
            }
            // Routing by the stages stamps the wall clock; agents and the
            // bench's upkeep stamp the simulated one.
            let assigned = match case.assigned_at {
                Some(at) if at >= self.sim_floor => at,
                Some(at) => self.clock.state().sim_of_wall(at).min(now),
                None => now,
            };
            let due = assigned + TimeDelta::seconds(self.sampler.draw());
            desk.pending.insert(case.id, Pending { agent, due });
        }
        desk.queued = self
            .store
            .cases_by_status(&desk.account)
            .await?
            .into_iter()
            .find(|(status, _)| *status == CaseStatus::Queued)
            .map_or(0, |(_, n)| n);
        if desk.queued == 0 {
            return Ok(());
        }
        for agent in desk.agents.clone() {
            // Until the agent is at capacity or nothing is queued for them.
            while let NextCase::Assigned { case } = self.store.next_case(&desk.account, &agent, now).await? {
                self.stats.pulled += 1;
                let due = now + TimeDelta::seconds(self.sampler.draw());
                desk.pending.insert(case.id, Pending { agent: agent.clone(), due });
                desk.queued = desk.queued.saturating_sub(1);
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ the plan

/// A post to publish `at` after the start (wall time).
#[derive(Debug, Clone)]
struct Planned {
    tweet: usize,
    account: usize,
    at: Duration,
    post: Post,
}

/// What is replayed, for whom and when.
#[derive(Debug)]
struct Plan {
    posts: Vec<Planned>,
    accounts: Vec<AccountId>,
    /// Brands of each account, in `accounts` order.
    brands: Vec<Vec<String>>,
    /// Simulated time at the start.
    sim_origin: DateTime<Utc>,
    /// The data window replayed (replay mode).
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Data time moved forward by this to become simulated time.
    shift: TimeDelta,
}

/// The post of customer tweet `tweet` for `account`, without thread links
/// (the caller sets them).
fn make_post(
    corpus: &Corpus,
    tweet: usize,
    account: &AccountId,
    native_id: String,
    created_at: DateTime<Utc>,
    author: String,
) -> Post {
    Post {
        schema_version: smo_proto::SCHEMA_VERSION,
        id: PostId::derive(SOURCE, &native_id),
        account: account.clone(),
        source: SOURCE.to_owned(),
        native_id,
        author: smo_proto::Author { id: author.clone(), handle: author, ..Default::default() },
        text: corpus.tweets[tweet].text.clone(),
        url: None,
        created_at,
        in_reply_to: None,
        thread_id: None,
        engagement: smo_proto::Engagement::default(),
    }
}

/// Which smo account each brand's posts go to.
struct Tenancy {
    account_of: BTreeMap<String, AccountId>,
    /// The accounts, `replay-1` before `replay-10`.
    accounts: Vec<AccountId>,
    /// Brands of each account, in `accounts` order.
    brands: Vec<Vec<String>>,
}

impl Tenancy {
    /// The account of `tweet`'s brand, as an index into `accounts`.
    fn account(&self, corpus: &Corpus, tweet: usize) -> anyhow::Result<(usize, &AccountId)> {
        let brand = corpus.brand_of(tweet).unwrap_or_default();
        let id = self.account_of.get(brand).with_context(|| format!("brand {brand} has no account"))?;
        let index = self.accounts.iter().position(|a| a == id).context("unknown account")?;
        Ok((index, id))
    }
}

fn accounts_of(corpus: &Corpus, tweets: &[usize], accounts: usize) -> anyhow::Result<Tenancy> {
    let mut volumes: BTreeMap<String, usize> = BTreeMap::new();
    for &i in tweets {
        *volumes.entry(corpus.brand_of(i).unwrap_or_default().to_owned()).or_default() += 1;
    }
    let volumes: Vec<(String, usize)> = volumes.into_iter().collect();
    let map = group_brands(&volumes, accounts)?;
    let mut ids: Vec<AccountId> = map.values().cloned().collect::<HashSet<_>>().into_iter().collect();
    ids.sort_by(|a, b| a.as_str().len().cmp(&b.as_str().len()).then_with(|| a.as_str().cmp(b.as_str())));
    let brands = ids
        .iter()
        .map(|id| map.iter().filter(|(_, a)| *a == id).map(|(brand, _)| brand.clone()).collect())
        .collect();
    Ok(Tenancy { account_of: map, accounts: ids, brands })
}

/// Replay mode: the window's customer tweets at their own times, `speed`
/// times faster, moved forward by whole weeks to just ahead of the wall clock.
fn plan_replay(corpus: &Corpus, args: &ReplayArgs, run: &str, now: DateTime<Utc>) -> anyhow::Result<Plan> {
    let customer = corpus.customer_tweets();
    let times: Vec<DateTime<Utc>> = customer.iter().map(|&i| corpus.tweets[i].created_at).collect();
    let (first, last) = times.first().zip(times.last()).context("the file has no customer tweets")?;
    let (from, to) = if args.all {
        (*first, *last + TimeDelta::seconds(1))
    } else {
        let length = TimeDelta::seconds((args.hours * 3600.0) as i64);
        anyhow::ensure!(length > TimeDelta::zero(), "--hours must be positive");
        let from = match args.from {
            Some(from) => from,
            None => busiest_window(&times, length).context("no customer tweets")?,
        };
        (from, from + length)
    };
    let selected: Vec<usize> = customer
        .into_iter()
        .filter(|&i| (from..to).contains(&corpus.tweets[i].created_at))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    anyhow::ensure!(!selected.is_empty(), "no customer tweets between {from} and {to}");
    let tenancy = accounts_of(corpus, &selected, args.accounts)?;
    let weeks = ((now + TimeDelta::seconds(WEEK_SECS) - from).num_seconds() + WEEK_SECS - 1) / WEEK_SECS;
    let shift = TimeDelta::seconds(weeks.max(0) * WEEK_SECS);
    let posts = selected
        .iter()
        .map(|&i| {
            let t = &corpus.tweets[i];
            let (account, account_id) = tenancy.account(corpus, i)?;
            let offset = (t.created_at - from).to_std().unwrap_or_default().div_f64(args.speed);
            let mut post = make_post(
                corpus,
                i,
                account_id,
                format!("{run}-{}", t.id),
                t.created_at + shift,
                t.author.clone(),
            );
            let id_of = |tweet: usize| PostId::derive(SOURCE, &format!("{run}-{}", corpus.tweets[tweet].id));
            post.thread_id = Some(id_of(corpus.roots[i]));
            post.in_reply_to = corpus.parent[i].map(id_of);
            Ok(Planned { tweet: i, account, at: offset, post })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let to = to.min(selected.last().map_or(to, |&i| corpus.tweets[i].created_at + TimeDelta::seconds(1)));
    let Tenancy { accounts, brands, .. } = tenancy;
    Ok(Plan { posts, accounts, brands, sim_origin: from + shift, window: Some((from, to)), shift })
}

/// Rate mode: `rate` posts per second for `seconds`, cycling through the
/// customer tweets in `pool` (the ones classified as needing a response),
/// each a new conversation, stamped with the simulated time of its publish.
fn plan_rate(
    corpus: &Corpus,
    pool: &[usize],
    args: &ReplayArgs,
    rate: f64,
    run: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Plan> {
    anyhow::ensure!(
        !pool.is_empty(),
        "no customer tweet of the file is classified as a complaint or question"
    );
    let tenancy = accounts_of(corpus, pool, args.accounts)?;
    let sim_origin = now + TimeDelta::seconds(WEEK_SECS);
    let count = (rate * args.seconds).ceil() as usize;
    let posts = (0..count)
        .map(|n| {
            let i = pool[n % pool.len()];
            let cycle = n / pool.len();
            let (account, account_id) = tenancy.account(corpus, i)?;
            let at = Duration::from_secs_f64(n as f64 / rate);
            let created_at = sim_origin + scaled(at.as_secs_f64(), 1.0);
            let author = format!("{}-{cycle}", corpus.tweets[i].author);
            let post = make_post(corpus, i, account_id, format!("{run}-rate-{n}"), created_at, author);
            Ok(Planned { tweet: i, account, at, post })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let Tenancy { accounts, brands, .. } = tenancy;
    Ok(Plan { posts, accounts, brands, sim_origin, window: None, shift: TimeDelta::zero() })
}

// ------------------------------------------------------------------ the run

/// Publishes every planned post at its time through each account's
/// [`Ingestor`] (the ingest stage's publish path), posts due together in one
/// batch per account. Returns posts published per account and how late
/// publishes started (ms, sorted).
async fn publish(
    plan: &Plan,
    ingestors: &[Ingestor],
    marks: &SharedMarks,
    start: Instant,
) -> anyhow::Result<(Vec<u64>, Vec<f64>)> {
    let mut published = vec![0u64; plan.accounts.len()];
    let mut lag_ms = Vec::with_capacity(plan.posts.len());
    let mut next = 0;
    while let Some(first) = plan.posts.get(next) {
        tokio::time::sleep_until((start + first.at).into()).await;
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(planned) = plan.posts.get(next).filter(|p| start + p.at <= now && due.len() < 1000) {
            due.push(planned);
            next += 1;
        }
        for (account, ingestor) in ingestors.iter().enumerate() {
            let posts: Vec<&Planned> = due.iter().copied().filter(|p| p.account == account).collect();
            if posts.is_empty() {
                continue;
            }
            let batch = SourceBatch {
                posts: posts.iter().map(|p| p.post.clone()).collect(),
                rejected: Vec::new(),
                next_cursor: None,
                exhausted: false,
            };
            let at = Instant::now();
            {
                let mut marks = marks.lock().unwrap_or_else(PoisonError::into_inner);
                for p in &posts {
                    marks.published.insert(p.post.id.clone(), at);
                    lag_ms.push(at.saturating_duration_since(start + p.at).as_secs_f64() * 1000.0);
                }
            }
            ingestor
                .deliver(SOURCE, &batch)
                .await
                .with_context(|| format!("publishing for {}", ingestor.account()))?;
            published[account] += posts.len() as u64;
        }
    }
    lag_ms.sort_by(f64::total_cmp);
    Ok((published, lag_ms))
}

/// Closes the active cases an earlier replay left in these accounts (a
/// persistent store), so they hold no agent's capacity; returns how many.
/// Queued cases go first, so that resolving held ones routes nothing new;
/// a few rounds catch a case routing moved meanwhile.
async fn close_leftovers(store: &Store, accounts: &[AccountId]) -> anyhow::Result<u64> {
    let command = |to| CaseCommand {
        actor: "replay".to_owned(),
        reason: "closing a case an earlier replay left open".to_owned(),
        expected_version: None,
        action: CaseAction::SetStatus { to, sla: SlaClock::Auto },
    };
    let mut closed = 0;
    for account in accounts {
        for _round in 0..5 {
            let mut found = 0;
            for status in [CaseStatus::Queued, CaseStatus::Assigned, CaseStatus::WaitingOnCustomer] {
                let filter = CaseFilter { status: Some(status), ..CaseFilter::default() };
                for case in store.list_cases(account, filter).await? {
                    found += 1;
                    let now = Utc::now();
                    let result = async {
                        if status != CaseStatus::Queued {
                            store.update_case(account, case.id, command(CaseStatus::Resolved), now).await?;
                        }
                        store.update_case(account, case.id, command(CaseStatus::Closed), now).await
                    }
                    .await;
                    match result {
                        Ok(_) => closed += 1,
                        Err(error) => {
                            tracing::debug!(case_id = case.id, %error, "leftover case left for the next round")
                        }
                    }
                }
            }
            if found == 0 {
                break;
            }
        }
    }
    Ok(closed)
}

fn sla_config(args: &ReplayArgs, business_hours: Option<&str>) -> anyhow::Result<SlaPolicyConfig> {
    let business_hours = match business_hours {
        None => Vec::new(),
        Some(span) => {
            let (start, end) = span
                .split_once('-')
                .with_context(|| format!("business hours {span:?}: expected HH:MM-HH:MM"))?;
            let days = ["mon", "tue", "wed", "thu", "fri"].map(str::to_owned).to_vec();
            vec![HoursConfig { days, start: start.trim().to_owned(), end: end.trim().to_owned() }]
        }
    };
    let targets = CasePriority::ALL
        .iter()
        .map(|level| TargetConfig {
            priority: level.as_str().to_owned(),
            first_response_minutes: Some(args.sla_minutes),
            next_response_minutes: Some(args.sla_minutes),
        })
        .collect();
    Ok(SlaPolicyConfig {
        time_zone: args.time_zone.clone(),
        business_hours,
        holidays: Vec::new(),
        targets,
        escalations: Vec::new(),
    })
}

/// The SLA clock the accounts run with, and a what-if clock the same
/// answers are also scored on: business hours Monday to Friday 09:00–17:00
/// when the accounts run around the clock, around the clock otherwise.
struct SlaClocks {
    configured: (SlaPolicy, String),
    what_if: (SlaPolicy, String),
}

impl SlaClocks {
    fn new(args: &ReplayArgs) -> anyhow::Result<(Self, SlaPolicyConfig)> {
        let label = |hours: Option<&str>| match hours {
            None => "around the clock".to_owned(),
            Some(span) => format!("Mon–Fri {span} {}", args.time_zone),
        };
        let configured_hours = args.business_hours.as_deref();
        let what_if_hours = if configured_hours.is_some() { None } else { Some("09:00-17:00") };
        let config = sla_config(args, configured_hours)?;
        let configured = SlaPolicy::from_config(&config).context("the SLA options")?;
        let what_if =
            SlaPolicy::from_config(&sla_config(args, what_if_hours)?).context("the what-if SLA clock")?;
        Ok((
            Self {
                configured: (configured, label(configured_hours)),
                what_if: (what_if, label(what_if_hours)),
            },
            config,
        ))
    }
}

/// Percentiles of a set of durations.
#[derive(Debug, Serialize)]
struct Spread {
    n: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let q = |q| quantile(&values, q).unwrap_or(f64::NAN);
        Self {
            n: values.len(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: values.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// First-response times of one population, in minutes of data time.
#[derive(Debug, Serialize)]
struct FirstResponse {
    what: String,
    answered: usize,
    unanswered: usize,
    median_minutes: f64,
    p90_minutes: f64,
    /// Share answered within the SLA target on a clock around the clock.
    within_target: f64,
}

impl FirstResponse {
    fn of(what: impl Into<String>, seconds: &[i64], unanswered: usize, target_secs: i64) -> Self {
        let mut minutes: Vec<f64> = seconds.iter().map(|s| *s as f64 / 60.0).collect();
        minutes.sort_by(f64::total_cmp);
        Self {
            what: what.into(),
            answered: seconds.len(),
            unanswered,
            median_minutes: quantile(&minutes, 0.5).unwrap_or(f64::NAN),
            p90_minutes: quantile(&minutes, 0.9).unwrap_or(f64::NAN),
            within_target: seconds.iter().filter(|s| **s <= target_secs).count() as f64
                / seconds.len().max(1) as f64,
        }
    }
}

/// SLA attainment of the run's cases on one business clock.
#[derive(Debug, Serialize)]
struct Attainment {
    clock: String,
    /// Whether this is the clock the accounts ran with (else a what-if on
    /// the same answers).
    configured: bool,
    met: usize,
    missed: usize,
    /// Unanswered cases whose due time had not come when the run ended.
    pending: usize,
    attainment: f64,
}

#[derive(Debug, Serialize)]
struct AccountReport {
    id: AccountId,
    brands: Vec<String>,
    agents: usize,
    capacity: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ReplayReport {
    mode: &'static str,
    measured: &'static str,
    file: String,
    /// Rows of the file that could not be read.
    rows_skipped: usize,
    bus: String,
    store: String,
    speed: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_to: Option<DateTime<Utc>>,
    accounts: Vec<AccountReport>,
    sla_target_minutes: u32,
    /// Customer tweets published.
    published: u64,
    /// Of those, complaints and questions the community stage turned into
    /// (or added to) cases.
    needed_response: usize,
    cases_opened: usize,
    /// Customer posts the run's cases hold (equals `needed_response` when no
    /// post was lost).
    posts_in_cases: u64,
    publish_seconds: f64,
    /// How late publishes started against their schedule, ms.
    publish_lag_ms: Spread,
    /// Publish started → case assignable (community transaction returned), ms.
    assignable_latency_ms: Spread,
    /// Complaints and questions made assignable per second, first publish to last case.
    assignable_per_second: f64,
    first_response: Vec<FirstResponse>,
    sla: Vec<Attainment>,
    agents: AgentStats,
    leftover_cases_closed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_average: Option<String>,
    notes: Vec<String>,
}

/// Runs `smo-tools bench replay`.
pub async fn run(config: &Path, args: ReplayArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.speed.is_finite() && args.speed > 0.0, "--speed must be positive");
    anyhow::ensure!(
        args.agents > 0 || args.rate.is_some(),
        "--agents must be at least 1 (0 only with --rate: the pipeline without agents)"
    );
    if let Some(rate) = args.rate {
        anyhow::ensure!(rate.is_finite() && rate > 0.0, "--rate must be positive");
        anyhow::ensure!(args.seconds > 0.0, "--seconds must be positive");
    }
    let mut settings = crate::load_settings(config)?;
    let template = settings.accounts.first().cloned().context("the config needs at least one account")?;
    let corpus = Corpus::read(&args.file)?;
    let delays = corpus.reply_delays();
    let sampler = DelaySampler::new(delays.clone(), args.seed)
        .context("the file has no customer tweet with a brand reply to draw delays from")?;
    let run_id = uuid::Uuid::new_v4().simple().to_string().chars().take(12).collect::<String>();
    let now = Utc::now();
    let plan = match args.rate {
        None => plan_replay(&corpus, &args, &run_id, now)?,
        Some(rate) => {
            // The same classifier and account profile as the classify stage.
            let classifier = smo_pipeline::load_classifier(&settings.classify_models_dir)?;
            let profile = smo_pipeline::profile_of(&template)?;
            let probe = AccountId::new("replay-probe")?;
            let pool: Vec<usize> = corpus
                .customer_tweets()
                .into_iter()
                .filter(|&i| {
                    let post = make_post(&corpus, i, &probe, format!("probe-{i}"), now, String::new());
                    classifier.classify(&post, &profile, now).intent.needs_response()
                })
                .collect();
            plan_rate(&corpus, &pool, &args, rate, &run_id, now)?
        }
    };

    let (clocks, sla) = SlaClocks::new(&args)?;
    let capacity = (args.capacity > 0).then_some(args.capacity);
    let agent_names: Vec<String> = (1..=args.agents).map(|n| format!("agent-{n}")).collect();
    let scratch = std::env::temp_dir().join(format!("smo-replay-{run_id}"));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    settings.accounts = plan
        .accounts
        .iter()
        .zip(&plan.brands)
        .map(|(id, brands)| AccountSettings {
            id: id.clone(),
            name: format!("Replay: {}", brands.join(", ")),
            sources: Vec::new(),
            roster: Roster {
                agents: agent_names
                    .iter()
                    .map(|name| AgentSpec { capacity, ..AgentSpec::named(name.clone()) })
                    .collect(),
                teams: Vec::new(),
            },
            community: CommunitySettings { sla: Some(sla.clone()), ..CommunitySettings::default() },
            ..template.clone()
        })
        .collect();
    if settings.bus_url.starts_with("sqlite:") {
        settings.bus_url = format!("sqlite://{}", scratch.join("bus.sqlite").display());
    }
    let persistent_store = !settings.store_url.starts_with("sqlite:");
    if !persistent_store {
        settings.store_url = format!("sqlite://{}", scratch.join("smo.sqlite").display());
    }
    settings.index_dir = scratch.join("index");
    settings.data_dir = scratch.clone();
    let result = replay(settings, &args, &corpus, &plan, sampler, persistent_store, &clocks).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let mut report = result?;
    if args.rate.is_none() {
        report.first_response.push(FirstResponse::of(
            "real brands: every tweet of the file (drawn from)",
            &delays,
            corpus.tweets.iter().filter(|t| t.inbound).count() - delays.len(),
            i64::from(args.sla_minutes) * 60,
        ));
    }
    if args.json {
        return crate::print_json(&report);
    }
    print_report(&report);
    Ok(())
}

async fn replay(
    settings: smo_pipeline::settings::Settings,
    args: &ReplayArgs,
    corpus: &Corpus,
    plan: &Plan,
    sampler: DelaySampler,
    persistent_store: bool,
    clocks: &SlaClocks,
) -> anyhow::Result<ReplayReport> {
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    let pipeline = Pipeline::open(settings).await?;
    let ids = plan.accounts.clone();
    let leftover_cases_closed =
        if persistent_store { close_leftovers(&pipeline.store, &ids).await? } else { 0 };
    let shutdown = Shutdown::new();
    let marks: SharedMarks = Arc::default();
    let timed = TimeCommunity(Arc::clone(&marks));
    let roles = [Stage::Classify, Stage::Index, Stage::Community];
    let running =
        pipeline.launch(Launch { hook: Some(&timed), ..Launch::new(&roles, &ids) }, &shutdown.subscribe())?;
    let ingestors: Vec<Ingestor> = ids
        .iter()
        .map(|id| stages::ingest::ingestor(id, Arc::clone(&pipeline.bus), pipeline.store.clone()))
        .collect();

    let last_at = plan.posts.last().map_or(Duration::ZERO, |p| p.at);
    if !args.json {
        eprintln!(
            "smo-tools bench replay: publishing {} customer tweets over {:.1} wall minutes{}",
            plan.posts.len(),
            last_at.as_secs_f64() / 60.0,
            if args.rate.is_none() { ", then answering what is left…" } else { "…" }
        );
    }
    let start = Instant::now() + Duration::from_millis(500);
    // A flat rate is wall time: its agents and SLA clocks run in real time.
    let speed = if args.rate.is_some() { 1.0 } else { args.speed };
    let clock = Arc::new(SimClock::paced(start, plan.sim_origin, speed));
    let (drain_tx, drain_rx) = watch::channel(false);
    let agents_stop = Shutdown::new();
    let agents = Agents {
        store: pipeline.store.clone(),
        opener: CaseOpener::new(pipeline.store.clone()),
        clock: Arc::clone(&clock),
        sim_floor: plan.sim_origin - TimeDelta::days(1),
        desks: ids
            .iter()
            .map(|id| Desk {
                account: id.clone(),
                agents: (1..=args.agents).map(|n| format!("agent-{n}")).collect(),
                pending: HashMap::new(),
                refused: HashMap::new(),
                queued: 0,
                next_poll: None,
            })
            .collect(),
        sampler,
        stats: AgentStats::default(),
    };
    let agents_task = tokio::spawn(agents.run(drain_rx, agents_stop.subscribe()));

    let (published, lag_ms) = publish(plan, &ingestors, &marks, start).await?;
    let publish_seconds = start.elapsed().as_secs_f64();
    stages::wait_until_settled(&ids, &published, SETTLE_LIMIT).await?;

    if args.rate.is_none() {
        let _ = drain_tx.send(true);
    } else {
        agents_stop.trigger();
    }
    let agent_stats = agents_task.await.context("the simulated agents panicked")??;
    let end_sim = clock.now();
    shutdown.trigger();
    running.join().await?;

    // Latency: publish started → case assignable.
    let (latency_ms, first_publish, last_assignable) = {
        let marks = marks.lock().unwrap_or_else(PoisonError::into_inner);
        // Only this run's posts: a persistent bus may still deliver an
        // earlier run's.
        let ours: Vec<(Instant, Instant)> = marks
            .assignable
            .iter()
            .filter_map(|(id, done)| marks.published.get(id).map(|at| (*at, *done)))
            .collect();
        let latency =
            ours.iter().map(|(at, done)| done.saturating_duration_since(*at).as_secs_f64() * 1000.0);
        (
            latency.collect::<Vec<f64>>(),
            marks.published.values().min().copied(),
            ours.iter().map(|(_, done)| *done).max(),
        )
    };
    let needed_response = latency_ms.len();
    let assignable_per_second = match (first_publish, last_assignable) {
        (Some(a), Some(b)) if b > a => needed_response as f64 / (b - a).as_secs_f64(),
        _ => 0.0,
    };

    // The run's cases, read back from the store.
    let run_posts: HashMap<&PostId, usize> = plan.posts.iter().map(|p| (&p.post.id, p.tweet)).collect();
    let mut cases = Vec::new();
    for id in &ids {
        for case in pipeline.store.list_cases(id, CaseFilter::default()).await? {
            if let Some(&tweet) = run_posts.get(&case.post_id) {
                cases.push((tweet, case));
            }
        }
    }
    let target_secs = i64::from(args.sla_minutes) * 60;
    let mut first_response = Vec::new();
    let mut sla = Vec::new();
    if args.rate.is_none() {
        let simulated: Vec<i64> = cases
            .iter()
            .filter_map(|(_, c)| c.first_response_at.map(|at| (at - c.opened_at).num_seconds()))
            .collect();
        let unanswered = cases.len() - simulated.len();
        first_response.push(FirstResponse::of(
            "simulated agents: this run's cases",
            &simulated,
            unanswered,
            target_secs,
        ));
        let real: Vec<Option<i64>> =
            cases.iter().map(|(t, _)| corpus.conversation_first_response(*t)).collect();
        let real_answered: Vec<i64> = real.iter().flatten().copied().collect();
        first_response.push(FirstResponse::of(
            "real brands: the same conversations",
            &real_answered,
            real.len() - real_answered.len(),
            target_secs,
        ));
        let window_tweets: Vec<usize> = plan.posts.iter().map(|p| p.tweet).collect();
        let openings = corpus.conversation_openings(&window_tweets);
        let opened: Vec<Option<i64>> =
            openings.iter().map(|&t| corpus.conversation_first_response(t)).collect();
        let opened_answered: Vec<i64> = opened.iter().flatten().copied().collect();
        first_response.push(FirstResponse::of(
            "real brands: every conversation of the window",
            &opened_answered,
            opened.len() - opened_answered.len(),
            target_secs,
        ));
        for ((clock, label), configured) in [(&clocks.configured, true), (&clocks.what_if, false)] {
            let (mut met, mut missed, mut pending) = (0, 0, 0);
            for (_, case) in &cases {
                let Some(due) = clock.first_response_due(case.level, case.opened_at) else { continue };
                match case.first_response_at {
                    Some(at) if at <= due => met += 1,
                    Some(_) => missed += 1,
                    None if due < end_sim => missed += 1,
                    None => pending += 1,
                }
            }
            sla.push(Attainment {
                clock: label.clone(),
                configured,
                met,
                missed,
                pending,
                attainment: met as f64 / (met + missed).max(1) as f64,
            });
        }
    }
    let report = ReplayReport {
        mode: if args.rate.is_some() { "rate" } else { "replay" },
        measured: "publish→assignable: from the start of the ingest publish call to the return of the \
                   community stage's case transaction, per complaint/question; first response: case \
                   opened_at → first_response_at as the store recorded them, in data time",
        file: args.file.display().to_string(),
        rows_skipped: corpus.skipped,
        bus: smo_runtime::redact::redact_url(&pipeline.settings.bus_url),
        store: smo_runtime::redact::redact_url(&pipeline.settings.store_url),
        speed,
        rate_per_second: args.rate,
        window_from: plan.window.map(|(from, _)| from),
        window_to: plan.window.map(|(_, to)| to),
        accounts: ids
            .iter()
            .zip(&plan.brands)
            .map(|(id, brands)| AccountReport {
                id: id.clone(),
                brands: brands.clone(),
                agents: args.agents,
                capacity: (args.capacity > 0).then_some(args.capacity),
            })
            .collect(),
        sla_target_minutes: args.sla_minutes,
        published: published.iter().sum(),
        needed_response,
        cases_opened: cases.len(),
        posts_in_cases: cases.iter().map(|(_, c)| c.message_count).sum(),
        publish_seconds,
        publish_lag_ms: Spread::of(lag_ms),
        assignable_latency_ms: Spread::of(latency_ms),
        assignable_per_second,
        first_response,
        sla,
        agents: agent_stats,
        leftover_cases_closed,
        load_average,
        notes: if args.rate.is_some() {
            vec![
                "each complaint is a new conversation; texts are the file's customer tweets the classifier \
                 marks as complaint or question, cycled"
                    .to_owned(),
                "agents take cases meanwhile, on the real-time clock; first-response and SLA figures are \
                 not reported, a flat rate is not the data's"
                    .to_owned(),
            ]
        } else {
            vec![
                format!(
                    "data time moved forward by {} weeks (UTC weekday and time of day kept); the SLA clock and \
                     every agent action run on the simulated clock",
                    plan.shift.num_weeks()
                ),
                "agents answer after a delay drawn from the file's real first-reply delays, counted from the \
                 moment they hold the case; after the last publish the clock jumps from answer to answer"
                    .to_owned(),
                "the file is a snapshot of threads active at its end, so conversations opened earlier in it \
                 were answered later than the file-wide delays suggest"
                    .to_owned(),
            ]
        },
    };
    pipeline.store.close().await;
    Ok(report)
}

fn print_report(r: &ReplayReport) {
    let minutes = |m: f64| {
        if m >= 120.0 { format!("{:.1} h", m / 60.0) } else { format!("{m:.1} min") }
    };
    println!("smo-tools bench replay ({}): {}", r.mode, r.file);
    if r.rows_skipped > 0 {
        println!("  {} unreadable rows of the file skipped", r.rows_skipped);
    }
    println!("  bus   {}\n  store {}", r.bus, r.store);
    match (r.rate_per_second, r.window_from, r.window_to) {
        (Some(rate), _, _) => println!(
            "  published {} complaints at {rate:.0}/s flat in {:.1}s (agents and SLA clock in real time)",
            r.published, r.publish_seconds
        ),
        (None, Some(from), Some(to)) => println!(
            "  replayed {} customer tweets of {} – {} ({:.1} h of data) at {}× real time in {:.1}s",
            r.published,
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M UTC"),
            (to - from).as_seconds_f64() / 3600.0,
            r.speed,
            r.publish_seconds
        ),
        _ => {}
    }
    let brands: usize = r.accounts.iter().map(|a| a.brands.len()).sum();
    println!(
        "  {} accounts ({brands} brands), {} agents × capacity {} each; SLA first response {} min",
        r.accounts.len(),
        r.accounts.first().map_or(0, |a| a.agents),
        r.accounts.first().and_then(|a| a.capacity).map_or("unlimited".to_owned(), |c| c.to_string()),
        r.sla_target_minutes
    );
    println!(
        "  {} needed a response (complaint/question) → {} cases opened, {} posts in them",
        r.needed_response, r.cases_opened, r.posts_in_cases
    );
    let l = &r.assignable_latency_ms;
    println!(
        "  publish → case assignable (ms): p50 {:.0}  p90 {:.0}  p99 {:.0}  max {:.0}  (n = {}; aim: p99 < 1000)",
        l.p50, l.p90, l.p99, l.max, l.n
    );
    println!(
        "  {:.1} complaints/questions made assignable per second over the run; publish lag p99 {:.0} ms",
        r.assignable_per_second, r.publish_lag_ms.p99
    );
    if !r.first_response.is_empty() {
        println!(
            "  first response (case opened → first answer, data time)  {:>6} {:>9} {:>9} {:>9}",
            "n", "median", "p90", "≤ target"
        );
        for f in &r.first_response {
            println!(
                "    {:<52} {:>6} {:>9} {:>9} {:>8.1}%{}",
                f.what,
                f.answered,
                minutes(f.median_minutes),
                minutes(f.p90_minutes),
                100.0 * f.within_target,
                if f.unanswered > 0 { format!("  ({} never answered)", f.unanswered) } else { String::new() }
            );
        }
    }
    for s in &r.sla {
        println!(
            "  SLA attainment, clock {}{}: {:.1}% ({} met, {} missed, {} pending)",
            s.clock,
            if s.configured { " (configured)" } else { " (what-if on the same answers)" },
            100.0 * s.attainment,
            s.met,
            s.missed,
            s.pending
        );
    }
    let a = &r.agents;
    println!(
        "  agents: {} answers, {} pulled with next_case, queue peak {}, {} escalations, lateness p99 {:.0}s data time, {} store errors",
        a.responses, a.pulled, a.max_queued, a.escalations, a.lateness_p99_seconds, a.errors
    );
    if r.leftover_cases_closed > 0 {
        println!("  closed {} cases an earlier replay left open", r.leftover_cases_closed);
    }
    if let Some(load) = &r.load_average {
        println!("  load average before the run: {load}");
    }
    for note in &r.notes {
        println!("  note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn corpus() -> Corpus {
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
    fn quantiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), Some(5.0));
        assert_eq!(quantile(&values, 0.9), Some(9.0));
        assert_eq!(quantile(&values, 0.99), Some(10.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn the_busiest_window_is_found() {
        let at = |h: i64| parse_instant("2017-10-31T00:00:00Z").expect("time") + TimeDelta::hours(h);
        let times = [at(0), at(10), at(11), at(12), at(40)];
        assert_eq!(busiest_window(&times, TimeDelta::hours(3)), Some(at(10)));
        assert_eq!(busiest_window(&[], TimeDelta::hours(3)), None);
    }

    #[test]
    fn brands_are_spread_over_accounts_by_volume() {
        let volumes: Vec<(String, usize)> =
            [("A", 10), ("B", 6), ("C", 5), ("D", 1)].iter().map(|(b, n)| ((*b).to_owned(), *n)).collect();
        let map = group_brands(&volumes, 2).expect("grouped");
        let of = |b: &str| map.get(b).map(|a| a.as_str().to_owned()).unwrap_or_default();
        assert_eq!(of("A"), "replay-1");
        assert_eq!(of("B"), "replay-2");
        assert_eq!(of("C"), "replay-2");
        assert_eq!(of("D"), "replay-1");
        let volumes = vec![("Uber_Support".to_owned(), 3), ("uber-support".to_owned(), 1)];
        let map = group_brands(&volumes, 0).expect("per brand");
        let ids: HashSet<&str> = map.values().map(AccountId::as_str).collect();
        assert_eq!(ids, HashSet::from(["replay-uber-support", "replay-uber-support-2"]));
    }

    #[test]
    fn the_simulated_clock_maps_wall_time_at_its_speed() {
        let wall = Instant::now();
        let wall_utc = Utc::now();
        let sim = parse_instant("2026-11-03T22:00:00Z").expect("time");
        let state = ClockState { wall, wall_utc, sim, speed: Some(100.0) };
        assert_eq!(state.sim_at(wall + Duration::from_secs(3)), sim + TimeDelta::minutes(5));
        assert_eq!(state.sim_of_wall(wall_utc + TimeDelta::seconds(36)), sim + TimeDelta::hours(1));
        let stopped = ClockState { speed: None, ..state };
        assert_eq!(stopped.sim_at(wall + Duration::from_secs(3)), sim);
    }

    #[test]
    fn the_replay_keeps_weekday_and_time_and_paces_by_speed() {
        let c = corpus();
        let args = ReplayArgs {
            file: PathBuf::new(),
            speed: 100.0,
            rate: None,
            seconds: 1.0,
            from: None,
            hours: 24.0,
            all: false,
            limit: None,
            accounts: 1,
            agents: 1,
            capacity: 0,
            sla_minutes: 60,
            business_hours: None,
            time_zone: "UTC".to_owned(),
            seed: 1,
            json: false,
        };
        let now = parse_instant("2026-11-22T10:00:00Z").expect("time");
        let plan = plan_replay(&c, &args, "run", now).expect("plan");
        assert_eq!(plan.posts.len(), 4);
        assert_eq!(plan.shift.num_seconds() % WEEK_SECS, 0);
        assert!(plan.sim_origin >= now + TimeDelta::days(7));
        let first = &plan.posts[0];
        assert_eq!(first.post.created_at.format("%a %H:%M:%S").to_string(), "Tue 22:08:27");
        // Tweet 2 came 198 s after tweet 3: 1.98 s later at 100×.
        assert_eq!(plan.posts[1].at, Duration::from_millis(1980));
        // One thread, one customer: the follow-up shares the first post's thread.
        assert_eq!(plan.posts[0].post.thread_id, plan.posts[1].post.thread_id);
        assert_eq!(plan.posts[0].post.account.as_str(), "replay-1");
        assert!(
            plan_replay(&c, &ReplayArgs { limit: Some(2), ..args }, "run", now)
                .is_ok_and(|p| p.posts.len() == 2)
        );
    }
}
