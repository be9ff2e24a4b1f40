//! The `smo` command line: runs the pipeline (embedded demo or long-running
//! workers per role and account) and reads its results (search, cases,
//! reports). Library crates do the work (the pipeline crate spawns every
//! stage); each command here parses its arguments, loads the settings, opens
//! what it needs and makes one call, turning typed errors into messages with
//! context. Benchmarks, evaluation and training live in `smo-tools`.

mod commands;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Social-media monitoring and community management pipeline.
#[derive(Debug, Parser)]
#[command(name = "smo", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML); every key can be overridden by an
    /// environment variable, e.g. SMO_BUS__URL for `bus.url`.
    #[arg(long, global = true, env = "SMO_CONFIG", default_value = "config/smo.toml")]
    config: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole pipeline once, embedded (no server needed), on the
    /// sample data of the configured accounts, and show what each stage did.
    Demo(commands::demo::DemoArgs),
    /// Run pipeline roles for accounts until SIGTERM or Ctrl-C.
    Run(commands::run::RunArgs),
    /// Search an account's posts.
    Search(commands::search::SearchArgs),
    /// List an account's cases, most urgent first.
    Cases(commands::cases::CasesArgs),
    /// Write an account's monitoring report for a period.
    Report(commands::report::ReportArgs),
    /// Manage agents: sync the configured roster and settings, list, set presence.
    Agents(commands::agents::AgentsArgs),
    /// Serve the HTTP API (cases, agents, presence) until SIGTERM or Ctrl-C.
    Serve(commands::serve::ServeArgs),
    /// Manage API bearer tokens: create (secret shown once), list, revoke.
    Tokens(commands::tokens::TokensArgs),
    /// List an account's sources: last run, cursor, posts fetched, last error.
    Sources(commands::sources::SourcesArgs),
    /// Run one pass of every source (`--once`), publishing with confirms.
    Ingest(commands::ingest::IngestArgs),
    /// Import an NDJSON or CSV file into an account, resumably.
    Backfill(commands::backfill::BackfillArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The demo prints its own summary; workers log their progress.
    let log_level =
        if matches!(cli.command, Command::Demo(_)) { "warn" } else { "warn,smo=info,smo_pipeline=info" };
    smo_runtime::telemetry::init_logging(log_level);
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(&cli.config, args).await,
        Command::Run(args) => commands::run::run(&cli.config, args).await,
        Command::Search(args) => commands::search::run(&cli.config, args).await,
        Command::Cases(args) => commands::cases::run(&cli.config, args).await,
        Command::Report(args) => commands::report::run(&cli.config, args).await,
        Command::Agents(args) => commands::agents::run(&cli.config, args).await,
        Command::Serve(args) => commands::serve::run(&cli.config, args).await,
        Command::Tokens(args) => commands::tokens::run(&cli.config, args).await,
        Command::Sources(args) => commands::sources::run(&cli.config, args).await,
        Command::Ingest(args) => commands::ingest::run(&cli.config, args).await,
        Command::Backfill(args) => commands::backfill::run(&cli.config, args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
