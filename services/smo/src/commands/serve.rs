//! `smo serve`: the HTTP API (agents' case API under `/api/v1`, its OpenAPI
//! document, `/healthz`, `/metrics`) until SIGTERM or Ctrl-C. Tokens come
//! from `smo tokens create`. Replies are written to the outbox here and
//! delivered by the community role of `smo run`.

use std::path::Path;

use anyhow::Context;
use clap::Args;
use smo_runtime::Shutdown;

/// Arguments of `smo serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
}

/// Serves until a signal.
pub async fn run(config: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    let store = smo_store::connect(&settings.store_url).await?;
    store.migrate().await.context("running store migrations")?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(listen = %args.listen, "serving the API");
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let state = smo_api::v1::ApiState::new(store.clone())
        .with_reply_destinations(smo_pipeline::stages::upkeep::reply_destinations(&settings));
    let router = smo_api::ops_router().merge(smo_api::v1::router(state));
    smo_api::serve(listener, router, shutdown.subscribe()).await.context("serving the API")?;
    store.close().await;
    Ok(())
}
