//! `smo-tools bench pipeline`: end-to-end throughput of the whole pipeline in one
//! process on the configured bus and store (embedded by default; set
//! `SMO_BUS__URL` / `SMO_STORE__URL` for RabbitMQ and PostgreSQL), next to the
//! limits measured on the same posts in the same run: classification alone
//! and tantivy indexing alone.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use smo_ingest::{FileSourceConfig, SourceConfig};
use smo_proto::topology::Stage;
use smo_proto::{AccountId, Post};
use smo_runtime::Shutdown;

use smo_pipeline::settings::AccountSettings;
use smo_pipeline::stages;
use smo_pipeline::{Launch, Pipeline};

#[derive(Debug, Args)]
pub(super) struct PipelineArgs {
    /// Posts per account.
    #[arg(long, default_value_t = 20_000)]
    pub(super) posts: usize,
    /// Number of accounts (each gets its own queues, index and cases).
    #[arg(long, default_value_t = 2)]
    pub(super) accounts: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct StageLatency {
    pub(super) stage: &'static str,
    pub(super) batches: u64,
    pub(super) p50_ms_at_most: f64,
    pub(super) p90_ms_at_most: f64,
    pub(super) p99_ms_at_most: f64,
}

#[derive(Debug, Serialize)]
pub(super) struct BenchReport {
    pub(super) bus: String,
    pub(super) store: String,
    pub(super) posts: u64,
    pub(super) accounts: usize,
    pub(super) ingest_seconds: f64,
    pub(super) end_to_end_seconds: f64,
    pub(super) end_to_end_posts_per_second: f64,
    pub(super) limit_classify_posts_per_second: f64,
    pub(super) limit_index_posts_per_second: f64,
    pub(super) batch_latency: Vec<StageLatency>,
}

pub(super) async fn pipeline(config: &Path, args: PipelineArgs) -> anyhow::Result<()> {
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
                // A source name of its own per run: on a persistent store the
                // previous run's cursor would otherwise mark the new file as read.
                name: format!("bench-{}", &run_id[..12]),
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
pub(super) fn limits(
    pipeline: &Pipeline,
    texts: &[String],
    count: usize,
    scratch: &Path,
    template: &AccountSettings,
) -> anyhow::Result<(f64, f64)> {
    let account = AccountId::new("bench-limit")?;
    let posts: Vec<Post> = (0..count).map(|i| synthetic_post(&account, texts, i, "limit")).collect();
    let profile = std::sync::Arc::clone(&template.profile);
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
pub(super) async fn sample_texts(accounts: &[AccountSettings]) -> anyhow::Result<Vec<String>> {
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

pub(super) fn synthetic_post(account: &AccountId, texts: &[String], i: usize, run: &str) -> Post {
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

pub(super) fn write_posts(path: &Path, texts: &[String], count: usize, run: &str) -> anyhow::Result<()> {
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

pub(super) fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("smo-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
