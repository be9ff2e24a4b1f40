//! `smo demo`: the whole job, embedded, on the shipped sample. Starts every
//! stage for every configured account in this process on a fresh data
//! directory, imports the accounts' file sources, waits until every stage
//! has settled every message, and shows what each stage did.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use serde::Serialize;
use smo_proto::topology::Stage;
use smo_proto::{AccountId, Intent};
use smo_runtime::Shutdown;
use smo_store::CaseFilter;

use super::search::one_line;
use smo_pipeline::stages;
use smo_pipeline::{Launch, Pipeline};

/// Arguments of `smo demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Fresh data directory for the demo (wiped first).
    #[arg(long, default_value = ".smo-demo")]
    data_dir: PathBuf,
    /// First day of the demo report.
    #[arg(long, default_value = "2026-11-01")]
    from: NaiveDate,
    /// Last day of the demo report.
    #[arg(long, default_value = "2026-11-07")]
    to: NaiveDate,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// What the demo did for one account.
#[derive(Debug, Serialize)]
struct AccountSummary {
    account: String,
    ingested: u64,
    rejected_at_ingest: u64,
    classified: u64,
    complaints: u64,
    questions: u64,
    indexed_documents: u64,
    cases: u64,
    report_markdown: PathBuf,
    report_json: PathBuf,
}

/// Runs the demo.
pub async fn run(config: &Path, args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut settings = super::load_settings(config)?;
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("wiping the demo data dir {}", args.data_dir.display()))?;
    }
    settings.bus_url = format!("sqlite://{}", args.data_dir.join("bus.sqlite").display());
    settings.store_url = format!("sqlite://{}", args.data_dir.join("smo.sqlite").display());
    settings.index_dir = args.data_dir.join("index");
    settings.data_dir = args.data_dir.clone();
    if settings.accounts.is_empty() {
        bail!("{} configures no accounts: nothing to demo", config.display());
    }
    let pipeline = Pipeline::open(settings).await?;
    let accounts: Vec<AccountId> = pipeline.settings.accounts.iter().map(|a| a.id.clone()).collect();
    let shutdown = Shutdown::new();
    let roles = [Stage::Ingest, Stage::Classify, Stage::Index, Stage::Community];
    let launch = Launch { files_only: true, ..Launch::new(&roles, &accounts) };
    let mut running = pipeline.launch(launch, &shutdown.subscribe())?;
    let ingested = running.files_done(&accounts).await.context("ingesting the sample")?;
    let ingest_done = started.elapsed();
    let raw: Vec<u64> = ingested.iter().map(|stats| stats.published).collect();
    stages::wait_until_settled(&accounts, &raw, Duration::from_secs(300)).await?;
    shutdown.trigger();
    running.join().await?;
    let elapsed = started.elapsed();

    let period = smo_reports::ReportPeriod::new(args.from, args.to)?;
    let mut summaries = Vec::new();
    for (account, stats) in accounts.iter().zip(&ingested) {
        let reader = pipeline.index_root.open_reader(account)?;
        let (_, paths) = super::report::write(
            &pipeline.settings,
            &pipeline.store,
            account,
            period,
            &args.data_dir.join("reports"),
        )
        .await?;
        summaries.push(AccountSummary {
            account: account.to_string(),
            ingested: stats.published,
            rejected_at_ingest: stats.rejected,
            classified: stages::settled("classify", account, "ack"),
            complaints: stages::published(account, Intent::Complaint),
            questions: stages::published(account, Intent::Question),
            indexed_documents: reader.num_docs(),
            cases: pipeline.store.count_cases(account).await?,
            report_markdown: paths.markdown,
            report_json: paths.json,
        });
    }
    let total: u64 = summaries.iter().map(|s| s.ingested).sum();
    if args.json {
        super::print_json(&summaries)?;
        return Ok(());
    }
    println!(
        "smo demo: embedded pipeline (SQLite queue + SQLite store + tantivy) in {}",
        args.data_dir.display()
    );
    println!(
        "{total} posts through ingest → classify → index → community in {:.2}s ({:.0} posts/s end to end; ingest alone {:.2}s)\n",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        ingest_done.as_secs_f64()
    );
    for summary in &summaries {
        let account = AccountId::new(summary.account.clone())?;
        println!("== account {} ({})", summary.account, pipeline.account(&account)?.name);
        println!(
            "  ingest     {:>5} published, {} rejected to smo.dead.ingest",
            summary.ingested, summary.rejected_at_ingest
        );
        println!(
            "  classify   {:>5} classified: {} complaints, {} questions",
            summary.classified, summary.complaints, summary.questions
        );
        println!("  index      {:>5} documents", summary.indexed_documents);
        println!("  community  {:>5} cases", summary.cases);
        let reader = pipeline.index_root.open_reader(&account)?;
        let query = "intent:complaint";
        println!("  search {query:?}:");
        for hit in reader.search(query, 3)? {
            println!(
                "    @{:<10} [{} {}] {}",
                hit.author_handle,
                hit.lang,
                hit.sentiment.as_str(),
                one_line(&hit.text, 80)
            );
        }
        println!("  case queue (top 5):");
        let cases = pipeline
            .store
            .list_cases(&account, CaseFilter { limit: Some(5), ..CaseFilter::default() })
            .await?;
        for case in &cases {
            println!(
                "    #{:<4} {:<9} prio {:.2} → {:<7} @{:<10} {}",
                case.id,
                case.intent.as_str(),
                case.priority,
                case.assigned_agent.as_deref().unwrap_or("queued"),
                case.author_handle,
                one_line(&case.text_excerpt, 60)
            );
        }
        println!("  report: {}\n", summary.report_markdown.display());
    }
    println!(
        "try: SMO_DATA_DIR={} smo search {} 'delay* OR late'",
        args.data_dir.display(),
        summaries[0].account
    );
    Ok(())
}
