//! `smo ingest --once [--accounts …]`: one pass of every source of the
//! chosen accounts (files to their end, polled sources until drained), each
//! batch published with confirms before its cursor is saved; webhooks are
//! skipped (they are pushed to under `smo run`). A failing source is reported
//! and recorded on its health while the others run; the exit status says
//! whether any failed.

use std::path::Path;

use anyhow::bail;
use clap::Args;
use smo_ingest::http::HttpClient;
use smo_ingest::{SourceConfig, scheduler};
use smo_proto::AccountId;
use smo_runtime::Shutdown;

use smo_pipeline::Pipeline;
use smo_pipeline::stages;

/// Arguments of `smo ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Run one pass and exit (the only mode; `smo run --roles ingest`
    /// polls continuously).
    #[arg(long)]
    once: bool,
    /// Accounts (comma-separated); default: every configured account.
    #[arg(long, value_delimiter = ',')]
    accounts: Vec<String>,
}

/// Runs one pass of every source.
pub async fn run(config: &Path, args: IngestArgs) -> anyhow::Result<()> {
    if !args.once {
        bail!("`smo ingest` runs one pass with --once; for continuous polling use `smo run --roles ingest`");
    }
    let settings = super::load_settings(config)?;
    let accounts: Vec<AccountId> = settings.select_accounts(&args.accounts)?;
    let pipeline = Pipeline::open(settings).await?;
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let stopped = shutdown.subscribe();
    let stop = move || *stopped.borrow();
    let http = HttpClient::shared()?;
    let (mut failed, mut total) = (0, 0);
    for account in &accounts {
        let ingestor = stages::ingest::ingestor(account, pipeline.bus.clone(), pipeline.store.clone());
        for config in &pipeline.account(account)?.sources {
            if matches!(config, SourceConfig::Webhook(_)) {
                println!(
                    "{account:<16} {:<28} skipped (webhooks are served by `smo run`)",
                    config.source_name()
                );
                continue;
            }
            total += 1;
            match scheduler::poll_once(&ingestor, config, http.clone(), &stop).await {
                Ok(stats) => println!(
                    "{account:<16} {:<28} ok: {} posts published, {} rejected, {} batches",
                    config.source_name(),
                    stats.published,
                    stats.rejected,
                    stats.batches
                ),
                Err(error) => {
                    failed += 1;
                    println!("{account:<16} {:<28} FAILED: {error}", config.source_name());
                }
            }
        }
    }
    pipeline.store.close().await;
    if failed > 0 {
        bail!("{failed} of {total} sources failed (see `smo sources ACCOUNT`)");
    }
    Ok(())
}
