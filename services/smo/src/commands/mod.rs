//! One module per subcommand.

pub mod agents;
pub mod backfill;
pub mod cases;
pub mod demo;
pub mod ingest;
pub mod report;
pub mod run;
pub mod search;
pub mod serve;
pub mod sources;
pub mod tokens;

use std::path::Path;

use anyhow::Context;

use smo_pipeline::Settings;

/// Loads and validates the configuration, naming the file in errors.
pub fn load_settings(path: &Path) -> anyhow::Result<Settings> {
    Settings::load(path).with_context(|| format!("loading configuration {}", path.display()))
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    smo_runtime::output::print_json(value).context("writing output")
}
