//! What the replay publishes and when: the smo account of each brand, the
//! posts made from the customer tweets (moved by whole weeks so weekday and
//! time of day are kept), or `--rate`'s flat stream of complaints; and
//! publishing them on time through the ingest stage's path.

use std::collections::{BTreeMap, HashSet};
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use smo_ingest::{Ingestor, SourceBatch};
use smo_proto::{AccountId, Post, PostId};

use super::clock::scaled;
use super::corpus::{Corpus, busiest_window};
use super::latency::SharedMarks;
use super::{ReplayArgs, SOURCE};

/// Seconds in a week: the data moves forward by whole weeks.
pub(super) const WEEK_SECS: i64 = 7 * 86_400;

/// The smo account of each brand: `replay-{brand}` each (`accounts == 0`),
/// or `replay-1` … `replay-N`, brands dealt largest first to the account
/// with the fewest tweets so far.
pub(super) fn group_brands(
    volumes: &[(String, usize)],
    accounts: usize,
) -> anyhow::Result<BTreeMap<String, AccountId>> {
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

/// A post to publish `at` after the start (wall time).
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) tweet: usize,
    pub(super) account: usize,
    pub(super) at: Duration,
    pub(super) post: Post,
}

/// What is replayed, for whom and when.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) posts: Vec<Planned>,
    pub(super) accounts: Vec<AccountId>,
    /// Brands of each account, in `accounts` order.
    pub(super) brands: Vec<Vec<String>>,
    /// Simulated time at the start.
    pub(super) sim_origin: DateTime<Utc>,
    /// The data window replayed (replay mode).
    pub(super) window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Data time moved forward by this to become simulated time.
    pub(super) shift: TimeDelta,
}

/// The post of customer tweet `tweet` for `account`, without thread links
/// (the caller sets them).
pub(super) fn make_post(
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
pub(super) struct Tenancy {
    pub(super) account_of: BTreeMap<String, AccountId>,
    /// The accounts, `replay-1` before `replay-10`.
    pub(super) accounts: Vec<AccountId>,
    /// Brands of each account, in `accounts` order.
    pub(super) brands: Vec<Vec<String>>,
}

impl Tenancy {
    /// The account of `tweet`'s brand, as an index into `accounts`.
    pub(super) fn account(&self, corpus: &Corpus, tweet: usize) -> anyhow::Result<(usize, &AccountId)> {
        let brand = corpus.brand_of(tweet).unwrap_or_default();
        let id = self.account_of.get(brand).with_context(|| format!("brand {brand} has no account"))?;
        let index = self.accounts.iter().position(|a| a == id).context("unknown account")?;
        Ok((index, id))
    }
}

pub(super) fn accounts_of(corpus: &Corpus, tweets: &[usize], accounts: usize) -> anyhow::Result<Tenancy> {
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
pub(super) fn plan_replay(
    corpus: &Corpus,
    args: &ReplayArgs,
    run: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Plan> {
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
pub(super) fn plan_rate(
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

/// Publishes every planned post at its time through each account's
/// [`Ingestor`] (the ingest stage's publish path), posts due together in one
/// batch per account. Returns posts published per account and how late
/// publishes started (ms, sorted).
pub(super) async fn publish(
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::replay::corpus::tests::corpus;
    use crate::replay::{ReplayArgs, parse_instant};

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
