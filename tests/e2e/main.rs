//! End-to-end tests: they start the real `smo` binary against the real
//! RabbitMQ and PostgreSQL of the machine (or the embedded backends) and check
//! the pipeline's guarantees from the outside: every post indexed exactly once
//! in its own account, every complaint exactly one case, nothing lost when a
//! worker is SIGKILLed, bad input dead-lettered while the rest flows.

#![allow(clippy::unwrap_used, missing_docs)]

mod bad_input;
mod crash;
mod demo;
mod harness;
mod ingest_sources;
mod two_accounts;
