//! One module per subcommand.

pub mod bench;
pub mod cases;
pub mod demo;
pub mod report;
pub mod run;
pub mod search;

use std::path::Path;

use anyhow::Context;

use crate::config::Settings;

/// Loads and validates the configuration, naming the file in errors.
pub fn load_settings(path: &Path) -> anyhow::Result<Settings> {
    Settings::load(path).with_context(|| format!("loading configuration {}", path.display()))
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value).context("serializing output")?);
    Ok(())
}
