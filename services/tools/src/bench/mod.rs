//! `smo-tools bench pipeline`: end-to-end throughput of the whole pipeline in one
//! process on the configured bus and store (embedded by default; set
//! `SMO_BUS__URL` / `SMO_STORE__URL` for RabbitMQ and PostgreSQL), next to the
//! limits measured on the same posts in the same run: classification alone
//! and tantivy indexing alone.
//!
//! `smo-tools bench classify`: the classifier alone on one core, per post, with an
//! account's worth of topic rules, next to whatlang alone (see below).

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use smo_ingest::{FileSourceConfig, SourceConfig};
use smo_proto::topology::Stage;
use smo_proto::{AccountId, Post};
use smo_runtime::Shutdown;

use smo_pipeline::settings::AccountSettings;
use smo_pipeline::stages;
use smo_pipeline::{Launch, Pipeline};

mod ingest;

/// Arguments of `smo-tools bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchKind,
}

#[derive(Debug, Subcommand)]
enum BenchKind {
    /// Ingest → classify → index → community, end to end.
    Pipeline(PipelineArgs),
    /// Classification alone, one thread: the full enrichment with topic
    /// rules next to whatlang alone on the same posts.
    Classify(ClassifyArgs),
    /// Customer-support threads replayed through the pipeline with simulated
    /// agents: publish → assignable latency, first response, SLA.
    Replay(crate::replay::ReplayArgs),
    /// Ingest alone: backfill and HTTP polling next to raw publishes with
    /// confirms of the same messages.
    Ingest(IngestArgs),
}

#[derive(Debug, Args)]
struct IngestArgs {
    /// Posts per run.
    #[arg(long, default_value_t = 50_000)]
    posts: usize,
    /// Posts per batch (file batch, HTTP page, publish call).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PipelineArgs {
    /// Posts per account.
    #[arg(long, default_value_t = 20_000)]
    posts: usize,
    /// Number of accounts (each gets its own queues, index and cases).
    #[arg(long, default_value_t = 2)]
    accounts: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct StageLatency {
    stage: &'static str,
    batches: u64,
    p50_ms_at_most: f64,
    p90_ms_at_most: f64,
    p99_ms_at_most: f64,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    bus: String,
    store: String,
    posts: u64,
    accounts: usize,
    ingest_seconds: f64,
    end_to_end_seconds: f64,
    end_to_end_posts_per_second: f64,
    limit_classify_posts_per_second: f64,
    limit_index_posts_per_second: f64,
    batch_latency: Vec<StageLatency>,
}

/// Runs a benchmark.
pub async fn run(config: &Path, args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchKind::Pipeline(args) => pipeline(config, args).await,
        BenchKind::Classify(args) => classify(args),
        BenchKind::Replay(args) => crate::replay::run(config, args).await,
        BenchKind::Ingest(args) => {
            ingest::run(config, args.posts.max(1), args.batch.clamp(1, 1000), args.json).await
        }
    }
}

async fn pipeline(config: &Path, args: PipelineArgs) -> anyhow::Result<()> {
    let mut settings = crate::load_settings(config)?;
    let template = settings.accounts.first().cloned().context("the config needs at least one account")?;
    let texts = sample_texts(&settings.accounts).await?;
    let scratch = tempfile_dir()?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut accounts = Vec::new();
    for n in 1..=args.accounts.max(1) {
        let id = AccountId::new(format!("bench-{n}"))?;
        let path = scratch.join(format!("{id}.ndjson"));
        write_posts(&path, &texts, args.posts, &format!("{run_id}-{n}"))?;
        accounts.push(AccountSettings {
            id: id.clone(),
            name: format!("Benchmark {n}"),
            sources: vec![SourceConfig::File(FileSourceConfig {
                name: "bench".into(),
                path,
                format: None,
                batch_size: 1000,
            })],
            ..template.clone()
        });
    }
    if settings.bus_url.starts_with("sqlite:") {
        settings.bus_url = format!("sqlite://{}", scratch.join("bus.sqlite").display());
    }
    if settings.store_url.starts_with("sqlite:") {
        settings.store_url = format!("sqlite://{}", scratch.join("smo.sqlite").display());
    }
    settings.index_dir = scratch.join("index");
    settings.data_dir = scratch.clone();
    settings.accounts = accounts;
    let ids: Vec<AccountId> = settings.accounts.iter().map(|a| a.id.clone()).collect();

    let pipeline = Pipeline::open(settings).await?;
    let shutdown = Shutdown::new();
    let roles = [Stage::Ingest, Stage::Classify, Stage::Index, Stage::Community];
    let started = Instant::now();
    let launch = Launch { files_only: true, ..Launch::new(&roles, &ids) };
    let mut running = pipeline.launch(launch, &shutdown.subscribe())?;
    let ingested: Vec<u64> = running.files_done(&ids).await?.iter().map(|stats| stats.published).collect();
    let ingest_seconds = started.elapsed().as_secs_f64();
    stages::wait_until_settled(&ids, &ingested, Duration::from_secs(3600)).await?;
    let end_to_end_seconds = started.elapsed().as_secs_f64();
    shutdown.trigger();
    running.join().await?;
    let posts: u64 = ingested.iter().sum();

    let batch_latency = ["classify", "index", "community"]
        .into_iter()
        .map(|stage| {
            let quantile = |q| {
                ids.iter()
                    .filter_map(|id| {
                        smo_runtime::metrics::histogram(
                            &stages::STAGE_BATCH_SECONDS,
                            &[("stage", stage), ("account", id.as_str())],
                        )
                        .quantile_upper_bound(q)
                    })
                    .fold(0.0_f64, f64::max)
                    * 1000.0
            };
            let batches = ids
                .iter()
                .map(|id| {
                    smo_runtime::metrics::histogram(
                        &stages::STAGE_BATCH_SECONDS,
                        &[("stage", stage), ("account", id.as_str())],
                    )
                    .count()
                })
                .sum();
            StageLatency {
                stage,
                batches,
                p50_ms_at_most: quantile(0.5),
                p90_ms_at_most: quantile(0.9),
                p99_ms_at_most: quantile(0.99),
            }
        })
        .collect();

    let (classify_rate, index_rate) = limits(&pipeline, &texts, args.posts, &scratch, &template)?;
    let report = BenchReport {
        bus: smo_runtime::redact::redact_url(&pipeline.settings.bus_url),
        store: smo_runtime::redact::redact_url(&pipeline.settings.store_url),
        posts,
        accounts: ids.len(),
        ingest_seconds,
        end_to_end_seconds,
        end_to_end_posts_per_second: posts as f64 / end_to_end_seconds,
        limit_classify_posts_per_second: classify_rate,
        limit_index_posts_per_second: index_rate,
        batch_latency,
    };
    pipeline.store.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    if args.json {
        return crate::print_json(&report);
    }
    println!("smo-tools bench pipeline: {} posts over {} accounts", report.posts, report.accounts);
    println!("  bus   {}\n  store {}", report.bus, report.store);
    println!(
        "  end to end   {:>9.0} posts/s  ({:.2}s; ingest finished publishing after {:.2}s)",
        report.end_to_end_posts_per_second, report.end_to_end_seconds, report.ingest_seconds
    );
    println!(
        "  limit: classify alone, 1 thread      {:>9.0} posts/s",
        report.limit_classify_posts_per_second
    );
    println!("  limit: tantivy upsert+commit alone   {:>9.0} posts/s", report.limit_index_posts_per_second);
    println!("  batch handling time (upper bucket bounds, ms):");
    for l in &report.batch_latency {
        println!(
            "    {:<10} {:>6} batches  p50 ≤ {:>7.1}  p90 ≤ {:>7.1}  p99 ≤ {:>7.1}",
            l.stage, l.batches, l.p50_ms_at_most, l.p90_ms_at_most, l.p99_ms_at_most
        );
    }
    Ok(())
}

/// Throughput of classification alone (one thread) and of tantivy indexing
/// alone on posts like the benchmark's.
fn limits(
    pipeline: &Pipeline,
    texts: &[String],
    count: usize,
    scratch: &Path,
    template: &AccountSettings,
) -> anyhow::Result<(f64, f64)> {
    let account = AccountId::new("bench-limit")?;
    let posts: Vec<Post> = (0..count).map(|i| synthetic_post(&account, texts, i, "limit")).collect();
    let profile = smo_pipeline::profile_of(template)?;
    let classifier = smo_pipeline::load_classifier(&pipeline.settings.classify_models_dir)?;
    let now = chrono::Utc::now();
    let started = Instant::now();
    let enriched: Vec<_> = posts.iter().map(|post| classifier.classify(post, &profile, now)).collect();
    let classify_rate = count as f64 / started.elapsed().as_secs_f64();

    let root = smo_index::IndexRoot::new(scratch.join("limit-index"));
    let mut writer = root.open_writer(&account)?;
    let started = Instant::now();
    for chunk in enriched.chunks(stages::batch_policy(Stage::Index, &pipeline.settings.batches).max_messages)
    {
        writer.upsert_batch(chunk)?;
    }
    let index_rate = count as f64 / started.elapsed().as_secs_f64();
    Ok((classify_rate, index_rate))
}

/// Texts of the configured accounts' file sources: real posts to cycle through.
async fn sample_texts(accounts: &[AccountSettings]) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    for account in accounts {
        for config in &account.sources {
            if let SourceConfig::File(_) = config {
                let mut source = config.build(&account.id)?;
                let mut cursor = None;
                loop {
                    let batch = source.poll(cursor.as_deref()).await?;
                    texts.extend(batch.posts.into_iter().map(|post| post.text));
                    cursor = batch.next_cursor;
                    if batch.exhausted {
                        break;
                    }
                }
            }
        }
    }
    anyhow::ensure!(
        !texts.is_empty(),
        "the configured accounts' file sources have no posts to benchmark with"
    );
    Ok(texts)
}

fn synthetic_post(account: &AccountId, texts: &[String], i: usize, run: &str) -> Post {
    let native_id = format!("{run}-{i}");
    Post {
        schema_version: smo_proto::SCHEMA_VERSION,
        id: smo_proto::PostId::derive("file:bench", &native_id),
        account: account.clone(),
        source: "file:bench".into(),
        native_id,
        author: smo_proto::Author {
            id: format!("u{}", i % 1000),
            handle: format!("user{}", i % 1000),
            ..Default::default()
        },
        text: texts[i % texts.len()].clone(),
        url: None,
        created_at: chrono::Utc::now() - chrono::Duration::seconds((i % 604_800) as i64),
        in_reply_to: None,
        thread_id: None,
        engagement: smo_proto::Engagement {
            likes: (i % 17) as u64,
            reposts: (i % 5) as u64,
            replies: (i % 3) as u64,
        },
    }
}

fn write_posts(path: &Path, texts: &[String], count: usize, run: &str) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..count {
        let post = synthetic_post(&AccountId::new("unused")?, texts, i, run);
        let record = serde_json::json!({
            "id": post.native_id,
            "text": post.text,
            "author_handle": post.author.handle,
            "created_at": post.created_at.to_rfc3339(),
            "likes": post.engagement.likes,
            "reposts": post.engagement.reposts,
            "replies": post.engagement.replies,
        });
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("smo-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

// ------------------------------------------------------- smo-tools bench classify

/// `smo-tools bench classify`: posts per second per core of the full enrichment
/// the classify stage does ([`smo_classify::Classifier::enrich`]:
/// classification with an account profile holding generated boolean topic
/// rules, spam signals and the near-duplicate window), of classification
/// alone, of the language stage alone, and of whatlang `detect` alone on the
/// same posts (what language detection cost before smo computed whatlang's
/// answers faster, and what the published whatlang figures describe). One
/// thread, each post timed on its own so the latency percentiles are real,
/// not bucket bounds.
#[derive(Debug, Args)]
struct ClassifyArgs {
    /// Topic rules in the benchmark account's profile.
    #[arg(long, default_value_t = 200)]
    rules: usize,
    /// Posts to classify; the texts are cycled.
    #[arg(long, default_value_t = 50_000)]
    posts: usize,
    /// CSV with a `text` column to take the texts from, instead of the
    /// shipped sample.
    #[arg(long)]
    file: Option<std::path::PathBuf>,
    /// Directory of the shipped sample posts (`*.ndjson`, `*.csv`).
    #[arg(long, default_value = "config/sample")]
    sample: std::path::PathBuf,
    /// Directory of trained model files.
    #[arg(long, default_value = "config/models")]
    models: std::path::PathBuf,
    /// The benchmark account's candidate languages, comma-separated (as
    /// `accounts[].languages`; the demo accounts have `en,es,fr,de,pt,it`);
    /// default: all languages.
    #[arg(long, value_delimiter = ',')]
    languages: Option<Vec<String>>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// Throughput and per-post latency of one measured operation.
#[derive(Debug, Serialize)]
struct ClassifyRun {
    name: &'static str,
    posts_per_second: f64,
    mean_us: f64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
}

#[derive(Debug, Serialize)]
struct ClassifyReport {
    classifier: String,
    texts_from: String,
    texts: usize,
    posts: usize,
    rules: usize,
    /// The account's language allowlist, when one was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    languages: Option<Vec<String>>,
    threads: usize,
    /// Share of posts that got at least one topic tag.
    tagged_share: f64,
    runs: Vec<ClassifyRun>,
    /// 1, 5 and 15 minute load averages before the run (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    load_average: Option<String>,
}

fn classify(args: ClassifyArgs) -> anyhow::Result<()> {
    let (texts, texts_from) = match &args.file {
        Some(file) => (crate::eval::read_text_column(file)?, file.display().to_string()),
        None => (sample_dir_texts(&args.sample)?, args.sample.display().to_string()),
    };
    let classifier = smo_pipeline::load_classifier(&args.models)?;
    let rules = generate_topic_rules(&texts, args.rules);
    let profile = smo_classify::AccountProfile::new(&rules, args.languages.clone())
        .context("compiling the generated topic rules and languages")?;
    let account = AccountId::new("bench-classify")?;
    let posts: Vec<Post> =
        (0..args.posts.max(1)).map(|i| synthetic_post(&account, &texts, i, "classify")).collect();
    let now = chrono::Utc::now();
    // Figures are only comparable on an idle machine; say when it was not.
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" "));

    let languages = profile.languages.as_deref();
    let floor = time_each("whatlang detect alone", &posts, |post| {
        std::hint::black_box(whatlang::detect(&post.text));
    });
    let language = time_each("language stage (normalise + detect)", &posts, |post| {
        std::hint::black_box(classifier.language_of(&post.text, languages));
    });
    let classify = time_each("classify (no spam, no near-duplicates)", &posts, |post| {
        std::hint::black_box(classifier.classify(post, &profile, now));
    });
    // As the classify stage does it: one spam scorer and one near-duplicate
    // window for the account (the window remembers every post).
    let spam = smo_classify::SpamScorer::new();
    let mut window = smo_classify::NearDuplicateWindow::default();
    let full = time_each("full enrichment (+ spam, near-duplicates)", &posts, |post| {
        std::hint::black_box(classifier.enrich(post, &profile, now, &spam, &mut window));
    });
    let tagged =
        posts.iter().filter(|post| !classifier.classify(post, &profile, now).tags.is_empty()).count();
    let report = ClassifyReport {
        classifier: classifier.version().to_owned(),
        texts_from,
        texts: texts.len(),
        posts: posts.len(),
        rules: rules.len(),
        languages: args.languages.clone(),
        threads: 1,
        tagged_share: tagged as f64 / posts.len() as f64,
        runs: vec![floor, language, classify, full],
        load_average,
    };
    if args.json {
        return crate::eval::emit_json(&report);
    }
    use std::fmt::Write as _;
    let mut out = String::new();
    writeln!(
        out,
        "smo-tools bench classify: {} posts (cycling {} texts from {}), {} topic rules, 1 thread",
        report.posts, report.texts, report.texts_from, report.rules
    )?;
    writeln!(out, "  classifier {}", report.classifier)?;
    match &report.languages {
        Some(languages) => writeln!(out, "  account languages: {}", languages.join(","))?,
        None => writeln!(out, "  account languages: all (no allowlist)")?,
    }
    writeln!(
        out,
        "  {:<42} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "", "posts/s", "mean µs", "p50 µs", "p90 µs", "p99 µs", "max µs"
    )?;
    for run in &report.runs {
        writeln!(
            out,
            "  {:<42} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9.1}",
            run.name, run.posts_per_second, run.mean_us, run.p50_us, run.p90_us, run.p99_us, run.max_us
        )?;
    }
    writeln!(out, "  posts with at least one topic tag: {:.1}%", 100.0 * report.tagged_share)?;
    if let Some(load) = &report.load_average {
        writeln!(
            out,
            "  load average before the run: {load} (other work on the machine slows every figure)"
        )?;
    }
    crate::eval::emit(&out)
}

/// Runs `operation` on every post, one at a time, after a warm-up pass over
/// the first few thousand; throughput is posts over the whole timed loop.
fn time_each(name: &'static str, posts: &[Post], mut operation: impl FnMut(&Post)) -> ClassifyRun {
    for post in posts.iter().take(2_000) {
        operation(post);
    }
    let mut nanos: Vec<u64> = Vec::with_capacity(posts.len());
    let started = Instant::now();
    for post in posts {
        let one = Instant::now();
        operation(post);
        nanos.push(u64::try_from(one.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    let seconds = started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    nanos.sort_unstable();
    let micros = |q: f64| {
        let rank = ((nanos.len() as f64 * q).ceil() as usize).clamp(1, nanos.len().max(1)) - 1;
        nanos.get(rank).copied().unwrap_or(0) as f64 / 1000.0
    };
    let mean = nanos.iter().map(|n| *n as f64).sum::<f64>() / nanos.len().max(1) as f64 / 1000.0;
    ClassifyRun {
        name,
        posts_per_second: posts.len() as f64 / seconds,
        mean_us: mean,
        p50_us: micros(0.5),
        p90_us: micros(0.9),
        p99_us: micros(0.99),
        max_us: micros(1.0),
    }
}

/// The `text` of every post of the sample directory's `*.ndjson` and
/// `*.csv` files (malformed lines skipped), in file name order.
fn sample_dir_texts(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the sample directory {} (or pass --file)", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "ndjson" || ext == "csv"))
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for file in &files {
        if file.extension().is_some_and(|ext| ext == "csv") {
            texts.extend(crate::eval::read_text_column(file)?);
            continue;
        }
        let content = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        texts.extend(content.lines().filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            value.get("text")?.as_str().map(str::to_owned)
        }));
    }
    anyhow::ensure!(!texts.is_empty(), "no posts with a `text` in {} (*.ndjson, *.csv)", dir.display());
    Ok(texts)
}

/// `count` boolean topic rules in the shapes agencies write (OR-groups with
/// exclusions, phrases, wildcards, NEAR, hashtags, language filters,
/// case-sensitive brand names) over words that occur in `texts`, so that
/// rules fire on real posts as an account's topics do. Deterministic.
fn generate_topic_rules(texts: &[String], count: usize) -> Vec<smo_classify::TagRule> {
    let mut frequency: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for text in texts {
        for token in smo_classify::text::normalize(text).tokens {
            if token.word.chars().count() >= 4 && token.word.chars().all(char::is_alphabetic) {
                *frequency.entry(token.word).or_default() += 1;
            }
        }
    }
    let mut vocabulary: Vec<(String, usize)> = frequency.into_iter().collect();
    vocabulary.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    // The most frequent words are function words no topic is made of.
    let vocabulary: Vec<String> = vocabulary.into_iter().skip(30).take(1_500).map(|(word, _)| word).collect();
    if vocabulary.len() < 8 {
        return (0..count)
            .map(|i| smo_classify::TagRule::from_rule(format!("topic-{i:03}"), format!("topicword{i}")))
            .collect();
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut word = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let index = usize::try_from(state >> 33).unwrap_or(0) % vocabulary.len();
        vocabulary.get(index).cloned().unwrap_or_default()
    };
    let prefix = |word: &str| word.chars().take(4).collect::<String>();
    // Handles are ASCII letters, digits and `_`.
    let handle = |word: &str| {
        let ascii: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
        if ascii.is_empty() { "user".to_owned() } else { ascii }
    };
    let capitalised = |word: &str| {
        let mut chars = word.chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    (0..count)
        .map(|i| {
            let (a, b, c, d) = (word(), word(), word(), word());
            let expression = match i % 6 {
                0 => format!("({a} OR {b} OR {c}) AND NOT {d}"),
                1 => format!("\"{a} {b}\" OR {}* OR #{c}", prefix(&c)),
                2 => format!("{a} NEAR/3 ({b} OR {c})"),
                3 => format!("(#{a} OR @{} OR {c}) AND NOT lang:de", handle(&b)),
                4 => format!("lang:en AND ({a} OR {}* OR \"{b} {c}\")", prefix(&d)),
                _ => format!("{{{}}} OR ({a} AND {b})", capitalised(&c)),
            };
            smo_classify::TagRule::from_rule(format!("topic-{i:03}"), expression)
        })
        .collect()
}

#[cfg(test)]
mod classify_bench_tests {
    use super::*;

    #[test]
    fn generated_rules_compile_and_fire_on_their_texts() {
        let texts: Vec<String> = [
            "My flight was delayed again and the airline lost my luggage",
            "Great service today, the crew was friendly and the flight arrived early",
            "Refund still not processed after three weeks, terrible customer support",
            "Anyone watching the football tonight? Amazing goal in the second half",
        ]
        .iter()
        .cycle()
        .take(200)
        .enumerate()
        .map(|(i, text)| format!("{text} word{i}x amitié{i}"))
        .collect();
        let rules = generate_topic_rules(&texts, 200);
        assert_eq!(rules.len(), 200);
        let profile = smo_classify::AccountProfile::new(&rules, None);
        assert!(profile.is_ok(), "{:?}", profile.err());
        // Too few words for a vocabulary still gives compilable rules.
        let rules = generate_topic_rules(&["ok".to_owned()], 10);
        assert!(smo_classify::AccountProfile::new(&rules, None).is_ok());
    }

    #[test]
    fn latency_percentiles_come_from_every_post() {
        let account = AccountId::new("t").unwrap_or_else(|err| panic!("{err}"));
        let texts = vec!["hello world".to_owned()];
        let posts: Vec<Post> = (0..100).map(|i| synthetic_post(&account, &texts, i, "t")).collect();
        let run = time_each("noop", &posts, |post| {
            std::hint::black_box(post.text.len());
        });
        assert!(run.posts_per_second > 0.0);
        assert!(run.p50_us <= run.p90_us && run.p90_us <= run.p99_us && run.p99_us <= run.max_us);
    }
}
