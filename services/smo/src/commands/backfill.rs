//! `smo backfill ACCOUNT FILE`: imports an NDJSON or CSV file of posts into
//! an account, publishing each batch with confirms before checkpointing its
//! byte offset, so an interrupted import (Ctrl-C, crash) resumes where the
//! last confirmed batch ended when run again. Progress goes to stderr.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use smo_ingest::{FileFormat, FileSource, FileSourceConfig, IngestProgress, Source};
use smo_runtime::Shutdown;

use smo_pipeline::Pipeline;
use smo_pipeline::stages;

/// Arguments of `smo backfill`.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The account to import into.
    account: String,
    /// The file: NDJSON (one post per line) or CSV with a header row, with
    /// the fields id, text, author_handle, created_at (and optional others).
    file: PathBuf,
    /// Source name (checkpoints and post ids use `file:NAME`); default: the
    /// file's stem. Reuse the name to resume an import.
    #[arg(long)]
    name: Option<String>,
    /// File format; default: from the extension (`.csv`, else NDJSON).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Posts per published and checkpointed batch.
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Ndjson,
    Csv,
}

/// Imports the file.
pub async fn run(config: &Path, args: BackfillArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    let account = settings.account(&args.account)?.id.clone();
    let size =
        std::fs::metadata(&args.file).with_context(|| format!("reading {}", args.file.display()))?.len();
    let name = match args.name {
        Some(name) => name,
        None => default_name(&args.file)?,
    };
    let file_config = FileSourceConfig {
        name,
        path: args.file.clone(),
        format: args.format.map(|f| match f {
            Format::Ndjson => FileFormat::Ndjson,
            Format::Csv => FileFormat::Csv,
        }),
        batch_size: args.batch_size.max(1),
    };
    let mut source = FileSource::new(account.clone(), &file_config);
    let pipeline = Pipeline::open(settings).await?;
    let ingestor = stages::ingest::ingestor(&account, pipeline.bus.clone(), pipeline.store.clone());
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let stopped = shutdown.subscribe();
    let stop = move || *stopped.borrow();

    let mut meter = Meter::new(source.name().to_owned(), account.to_string(), size);
    let result = ingestor.run_with_progress(&mut source, &stop, &mut |progress| meter.update(progress)).await;
    meter.finish();
    pipeline.store.close().await;
    let stats = result.with_context(|| format!("importing {}", args.file.display()))?;
    if shutdown.subscribe().borrow().to_owned() {
        println!(
            "interrupted after {} posts ({} rejected); run the same command again to resume",
            stats.published, stats.rejected
        );
    } else if stats.published == 0 && stats.rejected == 0 {
        println!(
            "nothing new in {}: already imported into {account} as {} (its cursor is at the end)",
            args.file.display(),
            source.name()
        );
    } else {
        println!(
            "imported {} posts ({} rejected to the dead-letter queue) from {} into {account} as {}",
            stats.published,
            stats.rejected,
            args.file.display(),
            source.name()
        );
    }
    Ok(())
}

/// The file's stem as a source name.
fn default_name(file: &Path) -> anyhow::Result<String> {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    anyhow::ensure!(
        !name.trim_matches('-').is_empty(),
        "cannot name a source after {}; pass --name",
        file.display()
    );
    Ok(name)
}

/// A progress line on stderr: redrawn in place on a terminal, a new line
/// every few seconds otherwise (logs).
struct Meter {
    source: String,
    account: String,
    size: u64,
    started: Instant,
    last_draw: Option<Instant>,
    terminal: bool,
    line: String,
}

impl Meter {
    fn new(source: String, account: String, size: u64) -> Self {
        Self {
            source,
            account,
            size,
            started: Instant::now(),
            last_draw: None,
            terminal: std::io::stderr().is_terminal(),
            line: String::new(),
        }
    }

    fn update(&mut self, progress: &IngestProgress<'_>) {
        let offset: u64 = progress.cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let percent = if self.size == 0 { 100.0 } else { offset as f64 * 100.0 / self.size as f64 };
        self.line = format!(
            "backfill {} {}: {percent:5.1}% ({:.1}/{:.1} MB), {} posts, {} rejected, {:.0} posts/s",
            self.account,
            self.source,
            offset as f64 / 1e6,
            self.size as f64 / 1e6,
            progress.stats.published,
            progress.stats.rejected,
            progress.stats.published as f64 / elapsed,
        );
        let every = if self.terminal { Duration::from_millis(200) } else { Duration::from_secs(5) };
        if self.last_draw.is_none_or(|at| at.elapsed() >= every) {
            self.draw();
        }
    }

    fn draw(&mut self) {
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r\x1b[2K{}", self.line)
        } else {
            writeln!(err, "{}", self.line)
        };
        let _ = err.flush();
        self.last_draw = Some(Instant::now());
    }

    fn finish(&mut self) {
        if !self.line.is_empty() {
            self.draw();
            if self.terminal {
                let _ = writeln!(std::io::stderr());
            }
        }
    }
}
