//! `smo-tools`: what developers run against smo, kept out of the product
//! binary so `smo` ships only operational commands (and none of the CSV,
//! TOML and whatlang code the tools need). Benchmarks print throughput and
//! latency percentiles next to the limits measured in the same run;
//! evaluations score the classifier on labelled files it was not trained on.

mod bench;
mod eval;
mod replay;
mod train;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use smo_pipeline::Settings;

/// Benchmarks, evaluation and training for smo.
#[derive(Debug, Parser)]
#[command(name = "smo-tools", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML), as for `smo`; every key can be overridden
    /// by an environment variable, e.g. SMO_BUS__URL for `bus.url`.
    #[arg(long, global = true, env = "SMO_CONFIG", default_value = "config/smo.toml")]
    config: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure throughput and latency against the limits of the same run.
    Bench(bench::BenchArgs),
    /// Score the classifier on a labelled CSV (sentiment, complaint, language, topics).
    Eval(eval::EvalArgs),
    /// Train a sentiment or complaint model from labelled CSVs.
    Train(train::TrainArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Tools print their own figures; library logs stay quiet.
    smo_runtime::telemetry::init_logging("warn");
    let result = match cli.command {
        Command::Bench(args) => bench::run(&cli.config, args).await,
        Command::Eval(args) => eval::run(args),
        Command::Train(args) => train::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Loads and validates the configuration, naming the file in errors.
fn load_settings(path: &Path) -> anyhow::Result<Settings> {
    Settings::load(path).with_context(|| format!("loading configuration {}", path.display()))
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    smo_runtime::output::print_json(value).context("writing output")
}
