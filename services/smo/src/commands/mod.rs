//! One module per subcommand.

pub mod agents;
pub mod backfill;
pub mod bench;
pub mod cases;
pub mod demo;
pub mod eval;
pub mod ingest;
pub mod replay;
pub mod report;
pub mod run;
pub mod search;
pub mod serve;
pub mod sources;
pub mod tokens;
pub mod train;

use std::path::Path;

use anyhow::Context;

use crate::config::Settings;

/// Loads and validates the configuration, naming the file in errors.
pub fn load_settings(path: &Path) -> anyhow::Result<Settings> {
    Settings::load(path).with_context(|| format!("loading configuration {}", path.display()))
}

/// Prints `value` as pretty JSON on stdout.
/// A reader that stops early (`smo sources --json | head`) is not an error.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut text = serde_json::to_string_pretty(value).context("serializing output")?;
    text.push('\n');
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error).context("writing output"),
        _ => Ok(()),
    }
}
