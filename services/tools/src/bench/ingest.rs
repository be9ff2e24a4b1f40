//! `smo-tools bench ingest`: ingest throughput (backfill and HTTP polling,
//! published with confirms) next to raw publish-with-confirms of the same
//! messages, on the configured bus (embedded by default; set SMO_BUS__URL
//! for RabbitMQ) in a scratch account: the same posts through backfill,
//! through HTTP polling (a local server speaking Algolia's Hacker News
//! format), and as raw publishes with confirms, the limit both approach.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use smo_bus::OutgoingMessage;
use smo_ingest::http::{HttpClient, HttpOptions, Rate};
use smo_ingest::{FileSourceConfig, HackerNewsConfig, IngestStats, Polling, ScanLimits, SourceConfig};
use smo_proto::{AccountId, topology};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use smo_pipeline::Pipeline;
use smo_pipeline::settings::AccountSettings;
use smo_pipeline::stages;

#[derive(Debug, Serialize)]
struct Figures {
    bus: String,
    posts: usize,
    batch: usize,
    backfill_posts_per_second: f64,
    polling_posts_per_second: f64,
    raw_publish_posts_per_second: f64,
}

pub async fn run(config: &Path, posts: usize, batch: usize, json: bool) -> anyhow::Result<()> {
    let mut settings = crate::load_settings(config)?;
    let template = settings.accounts.first().cloned().context("the config needs at least one account")?;
    let scratch = std::env::temp_dir().join(format!("smo-ingest-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let account = AccountId::new(format!("bench-ingest-{}", &run[..8]))?;
    if settings.bus_url.starts_with("sqlite:") {
        settings.bus_url = format!("sqlite://{}", scratch.join("bus.sqlite").display());
    }
    if settings.store_url.starts_with("sqlite:") {
        settings.store_url = format!("sqlite://{}", scratch.join("smo.sqlite").display());
    }
    settings.data_dir = scratch.clone();
    settings.index_dir = scratch.join("index");
    settings.accounts = vec![AccountSettings {
        id: account.clone(),
        name: "Ingest benchmark".into(),
        sources: Vec::new(),
        ..template
    }];
    let bus_name = smo_runtime::redact::redact_url(&settings.bus_url);
    let pipeline = Pipeline::open(settings).await?;
    let ingestor = stages::ingest::ingestor(&account, pipeline.bus.clone(), pipeline.store.clone());
    let never = || false;

    // 1. Backfill: an NDJSON file through FileSource.
    let file = scratch.join("posts.ndjson");
    let mut lines = String::new();
    for i in 0..posts {
        let line = serde_json::json!({"id": format!("{run}-{i}"), "text": text(i), "author_handle": format!("u{}", i % 97),
                                      "created_at": "2026-11-02T10:00:00Z"});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    std::fs::write(&file, lines).with_context(|| format!("writing {}", file.display()))?;
    let backfill = SourceConfig::File(FileSourceConfig {
        name: "bench".into(),
        path: file,
        format: None,
        batch_size: batch,
    });
    let started = Instant::now();
    let stats = stages::ingest::poll_config(&ingestor, &backfill, &never).await?;
    let backfill_rate = rate(stats, started);

    // 2. Polling: Algolia-format pages from a local server.
    let (base, server) = serve(Arc::new(hits(&run, posts)), batch).await?;
    let http = Arc::new(HttpClient::new(HttpOptions {
        default_rate: Rate::new(1e7, 1000),
        ..HttpOptions::default()
    })?);
    let polling = SourceConfig::HackerNews(Box::new(HackerNewsConfig {
        name: "bench".into(),
        query: String::new(),
        tags: "(story,comment)".into(),
        base_url: base,
        hits_per_page: batch as u32,
        scan: ScanLimits::starting_with((posts / batch + 2) as u32),
        polling: Polling { interval_secs: 3600, requests_per_minute: Some(1e7) },
    }));
    let started = Instant::now();
    let stats = smo_ingest::scheduler::poll_once(&ingestor, &polling, http, &never).await?;
    let polling_rate = rate(stats, started);
    server.abort();

    // 3. The limit: the same posts, serialized, published in the same
    //    batches with confirms and nothing else.
    let key = topology::raw_key(&account);
    let messages: Vec<OutgoingMessage> = (0..posts)
        .map(|i| {
            let post = smo_ingest::PostRecord {
                id: Some(format!("{run}-raw-{i}")),
                text: Some(text(i)),
                author_handle: Some(format!("u{}", i % 97)),
                created_at: Some("2026-11-02T10:00:00Z".into()),
                ..Default::default()
            }
            .into_post(&account, "file:bench")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(OutgoingMessage::new(key.clone(), serde_json::to_vec(&post)?))
        })
        .collect::<anyhow::Result<_>>()?;
    let started = Instant::now();
    for chunk in messages.chunks(batch) {
        pipeline.bus.publish(topology::POSTS_EXCHANGE, chunk).await?;
    }
    let raw_rate = posts as f64 / started.elapsed().as_secs_f64().max(1e-9);
    pipeline.store.close().await;
    let _ = std::fs::remove_dir_all(&scratch);

    let figures = Figures {
        bus: bus_name,
        posts,
        batch,
        backfill_posts_per_second: backfill_rate,
        polling_posts_per_second: polling_rate,
        raw_publish_posts_per_second: raw_rate,
    };
    if json {
        return crate::print_json(&figures);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ingest throughput on {} ({} posts, batches of {}), published with confirms:",
        figures.bus, posts, batch
    )?;
    writeln!(
        out,
        "  backfill (NDJSON file)         {:>10.0} posts/s  ({:.0}% of the limit)",
        backfill_rate,
        100.0 * backfill_rate / raw_rate
    )?;
    writeln!(
        out,
        "  HTTP polling (Algolia format)  {:>10.0} posts/s  ({:.0}% of the limit)",
        polling_rate,
        100.0 * polling_rate / raw_rate
    )?;
    writeln!(out, "  raw publish with confirms      {:>10.0} posts/s  (the limit)", raw_rate)?;
    if figures.bus.starts_with("amqp") {
        writeln!(
            out,
            "note: the queues smo.{{classify,index,community}}.{account} hold the published posts; delete them with `rabbitmqctl delete_queue`"
        )?;
    }
    Ok(())
}

fn rate(stats: IngestStats, started: Instant) -> f64 {
    stats.published as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

fn text(i: usize) -> String {
    const TEXTS: [&str; 3] =
        ["my flight was cancelled and nobody answers", "how do I change my booking?", "lovely crew today"];
    format!("{} #{i}", TEXTS[i % TEXTS.len()])
}

/// Algolia hits, newest first.
fn hits(run: &str, posts: usize) -> Vec<serde_json::Value> {
    (0..posts)
        .rev()
        .map(|i| {
            serde_json::json!({"_tags": ["comment"], "author": format!("u{}", i % 97), "comment_text": text(i),
                               "created_at_i": 1_793_000_000 + i as i64, "objectID": format!("{run}-{i}"),
                               "parent_id": 1, "story_id": 1})
        })
        .collect()
}

/// A minimal HTTP/1.1 server of `search_by_date` pages (`page` query
/// parameter), one request per connection.
async fn serve(
    hits: Arc<Vec<serde_json::Value>>,
    per_page: usize,
) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let hits = Arc::clone(&hits);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let target = head.split_whitespace().nth(1).unwrap_or("/");
                let page: usize = target
                    .split(['?', '&'])
                    .find_map(|pair| pair.strip_prefix("page="))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let body = serde_json::json!({
                    "hits": hits.iter().skip(page * per_page).take(per_page).collect::<Vec<_>>(),
                    "nbHits": hits.len(), "page": page, "nbPages": hits.len().div_ceil(per_page), "hitsPerPage": per_page,
                })
                .to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok((base, task))
}
