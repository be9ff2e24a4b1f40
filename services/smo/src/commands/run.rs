//! `smo run`: long-running workers for chosen roles and accounts.

use std::path::Path;

use anyhow::{Context, bail};
use clap::Args;
use smo_proto::AccountId;
use smo_proto::topology::Stage;
use smo_runtime::Shutdown;

use smo_pipeline::{Launch, Pipeline};

/// Arguments of `smo run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Roles to run: ingest, classify, index, community (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "ingest,classify,index,community")]
    roles: Vec<String>,
    /// Accounts to serve (comma-separated); default: every configured account.
    #[arg(long, value_delimiter = ',')]
    accounts: Vec<String>,
    /// Serve /healthz and Prometheus /metrics on this address (e.g. 127.0.0.1:9464).
    #[arg(long, env = "SMO_METRICS_ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
}

/// Runs until SIGTERM/Ctrl-C, then finishes in-flight batches and exits.
pub async fn run(config: &Path, args: RunArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    let mut roles = Vec::new();
    for role in &args.roles {
        match Stage::parse(role.trim()) {
            Some(stage) => roles.push(stage),
            None => bail!("unknown role {role:?}: expected ingest, classify, index or community"),
        }
    }
    let accounts: Vec<AccountId> = settings.select_accounts(&args.accounts)?;
    let pipeline = Pipeline::open(settings).await?;
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let mut running = pipeline.launch(Launch::new(&roles, &accounts), &shutdown.subscribe())?;
    if let Some(addr) = args.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding metrics address {addr}"))?;
        let stop = shutdown.subscribe();
        running.spawn(async move {
            if let Err(error) = smo_api::serve(listener, smo_api::ops_router(), stop).await {
                tracing::error!(%error, "metrics endpoint failed");
            }
        });
        tracing::info!(%addr, "serving /healthz and /metrics");
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    tracing::info!(roles = ?names, accounts = accounts.len(), "running; SIGTERM or Ctrl-C stops gracefully");
    running.join().await?;
    pipeline.store.close().await;
    tracing::info!("stopped");
    Ok(())
}
