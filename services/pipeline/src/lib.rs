//! The assembled pipeline of one process: the `smo.toml` settings validated
//! into types, the stage workers that adapt each stage library to the bus
//! (`stages/`), and [`Pipeline`], which opens the bus, store and indexes and
//! is the only code that spawns stage workers. The `smo` binary and the
//! `smo-tools` benchmarks both run stages through it, so they cannot drift.

mod error;
mod pipeline;
pub mod settings;
pub mod stages;

pub use error::PipelineError;
pub use pipeline::{HandlerHook, Launch, Pipeline, Running, load_classifier};
pub use settings::{AccountSettings, Settings};
