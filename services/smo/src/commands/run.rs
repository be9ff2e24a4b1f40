//! `smo run`: long-running workers for chosen roles and accounts.

use std::path::Path;

use anyhow::{Context, bail};
use clap::Args;
use smo_proto::AccountId;
use smo_proto::topology::Stage;
use smo_runtime::Shutdown;
use tokio::task::JoinSet;

use crate::pipeline::Pipeline;
use crate::stages;

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
    let mut tasks = JoinSet::new();
    if let Some(addr) = args.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding metrics address {addr}"))?;
        let stop = shutdown.subscribe();
        tasks.spawn(async move {
            if let Err(error) = smo_api::serve(listener, smo_api::ops_router(), stop).await {
                tracing::error!(%error, "metrics endpoint failed");
            }
        });
        tracing::info!(%addr, "serving /healthz and /metrics");
    }
    pipeline.spawn_workers(&roles, &accounts, &shutdown.subscribe(), &mut tasks)?;
    if roles.contains(&Stage::Ingest) {
        for account in &accounts {
            let sources = pipeline.account(account)?.sources.clone();
            let (bus, store, account) = (pipeline.bus.clone(), pipeline.store.clone(), account.clone());
            let stop = shutdown.subscribe();
            tasks.spawn(async move {
                // File backfills run alongside the polled sources, so a long
                // backfill does not hold up polling.
                stages::ingest::run_sources(account, sources, bus, store, stop.clone()).await;
                // A worker process stays up until told to stop, also when its
                // sources are done: supervisors treat an exit as a failure.
                let mut stop = stop;
                smo_runtime::shutdown::fired(&mut stop).await;
            });
        }
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    tracing::info!(roles = ?names, accounts = accounts.len(), "running; SIGTERM or Ctrl-C stops gracefully");
    while let Some(joined) = tasks.join_next().await {
        joined.context("a worker task panicked")?;
    }
    pipeline.store.close().await;
    tracing::info!("stopped");
    Ok(())
}
