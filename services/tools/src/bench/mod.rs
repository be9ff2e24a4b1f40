//! `smo-tools bench …`: throughput and latency of smo's parts, each printed
//! next to the limits measured on the same posts in the same run, so a
//! figure says how far the whole is from what its slowest part allows.

use std::path::Path;

use clap::{Args, Subcommand};

use classify::{ClassifyArgs, classify};
use pipeline::{PipelineArgs, pipeline};

mod classify;
mod ingest;
mod pipeline;

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
