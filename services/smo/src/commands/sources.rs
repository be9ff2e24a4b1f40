//! `smo sources ACCOUNT [--json]`: the account's configured sources with
//! their state in the store: last run, cursor, posts fetched, last error.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

/// Arguments of `smo sources`.
#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// The account.
    account: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One source's row.
#[derive(Debug, Serialize)]
struct SourceRow {
    source: String,
    kind: &'static str,
    /// Seconds between polls; absent for files and webhooks.
    interval_secs: Option<u64>,
    /// `ok`, `failing` or `never run`.
    health: &'static str,
    last_run: Option<DateTime<Utc>>,
    posts_fetched: u64,
    cursor: Option<String>,
    last_error: Option<String>,
}

/// Lists the sources of the account.
pub async fn run(config: &Path, args: SourcesArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    let account = settings.account(&args.account)?.clone();
    let store = smo_store::connect(&settings.store_url).await.with_context(|| {
        format!("connecting to store {}", smo_runtime::redact::redact_url(&settings.store_url))
    })?;
    store.migrate().await.context("running store migrations")?;
    let mut rows = Vec::with_capacity(account.sources.len());
    for config in &account.sources {
        let source = config.source_name();
        let state = store
            .get_cursor(&account.id, &source)
            .await
            .with_context(|| format!("reading the state of {source}"))?;
        let health = match &state {
            None => "never run",
            Some(state) if state.last_error.is_some() => "failing",
            Some(_) => "ok",
        };
        rows.push(SourceRow {
            kind: config.kind(),
            interval_secs: config.interval().map(|i| i.as_secs()),
            health,
            last_run: state.as_ref().map(|s| s.updated_at),
            posts_fetched: state.as_ref().map_or(0, |s| s.posts_fetched),
            cursor: state.as_ref().and_then(|s| s.cursor.clone()),
            last_error: state.and_then(|s| s.last_error),
            source,
        });
    }
    store.close().await;
    if args.json {
        return super::print_json(&rows);
    }
    if rows.is_empty() {
        println!("account {} has no sources", account.id);
        return Ok(());
    }
    println!(
        "{:<28} {:<10} {:>7} {:<9} {:<20} {:>9}  {:<32} LAST ERROR",
        "SOURCE", "KIND", "EVERY", "HEALTH", "LAST RUN", "POSTS", "CURSOR"
    );
    for row in rows {
        let every = row.interval_secs.map_or_else(|| "-".to_owned(), |s| format!("{s}s"));
        let last_run =
            row.last_run.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        println!(
            "{:<28} {:<10} {:>7} {:<9} {:<20} {:>9}  {:<32} {}",
            row.source,
            row.kind,
            every,
            row.health,
            last_run,
            row.posts_fetched,
            shorten(row.cursor.as_deref().unwrap_or("-"), 32),
            row.last_error.as_deref().map_or_else(|| "-".to_owned(), |e| shorten(e, 200)),
        );
    }
    Ok(())
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}
