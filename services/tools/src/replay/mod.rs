//! `smo-tools bench replay`: the customer threads of a Customer Support on Twitter
//! file (`../shared/data/support/twcs_dev.csv`) replayed through the real
//! pipeline (ingest publish → classify → index and community → cases in the
//! store) on the configured bus and store, with simulated agents answering
//! the cases. It measures what the community-management issue asks for:
//! the latency from a complaint's publish to its case being assignable, and
//! the first-response time and SLA attainment the agents reach.
//!
//! **Posts.** Every inbound (customer) tweet becomes a [`Post`](smo_proto::Post) of the smo
//! account of the brand it talks to (the brand it replies to, else the brand
//! that answered it, else the brand it mentions, else the brand of its
//! thread); its thread is the root of its reply chain and its author the
//! customer, so a follow-up joins or reopens the customer's case as it would
//! live. Brands are spread over `--accounts` smo accounts (balanced by
//! volume) or get one account each (`--accounts 0`); every post, queue and
//! case stays in its brand's account.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use smo_community::{CaseOpener, CommunitySettings};
use smo_ingest::Ingestor;
use smo_proto::topology::Stage;
use smo_proto::{AccountId, CaseStatus, PostId};
use smo_runtime::Shutdown;
use smo_store::{AgentSpec, CaseAction, CaseCommand, CaseFilter, Roster, SlaClock, Store};
use tokio::sync::watch;

use agents::{AgentStats, Agents, Desk};
use clock::SimClock;
use corpus::{Corpus, DelaySampler};
use latency::{SharedMarks, TimeCommunity};
use plan::{Plan, make_post, plan_rate, plan_replay, publish};
use report::{AccountReport, Attainment, FirstResponse, ReplayReport, SlaClocks, Spread, print_report};
use smo_pipeline::settings::AccountSettings;
use smo_pipeline::stages;
use smo_pipeline::{Launch, Pipeline};

mod agents;
mod clock;
mod corpus;
mod latency;
mod plan;
mod report;

/// The `source` of replayed posts (their ids derive from it).
const SOURCE: &str = "replay:twcs";

/// Longest the bench waits for the pipeline to settle, and for the drain.
const SETTLE_LIMIT: Duration = Duration::from_secs(1800);

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
            let profile = std::sync::Arc::clone(&template.profile);
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
