//! Pure, synchronous classification of posts for smo: the language a post is
//! written in, its sentiment, what the author wants (complaint, question,
//! praise), the account's topic tags that match, and a priority for agents'
//! queues. It does no I/O: the classify stage feeds it posts from the bus and
//! publishes the [`smo_proto::EnrichedPost`]s it returns, so it can be tested,
//! benchmarked and evaluated on labelled data without any server.
//!
//! One module per concern, so that a trained model can later replace one of
//! them without touching the others: [`text`] (normalisation of tweet noise,
//! shared by all), [`language`], [`sentiment`], [`intent`], [`tags`],
//! [`priority`], and [`classifier`] which ties them together. The built-in
//! lexicons and cue lists are plain text under `lexicons/`, compiled in.
//! Build one [`Classifier`] per process and one [`AccountProfile`] per
//! account; both are `Send + Sync`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod classifier;
mod error;
pub mod eval;
mod hashing;
pub mod intent;
pub mod labelled_csv;
pub mod language;
mod lexicons;
pub mod model;
pub mod near_duplicates;
mod phrases;
pub mod priority;
pub mod rules;
pub mod sentiment;
pub mod spam;
pub mod tags;
pub mod text;
mod whatlang_fast;

pub use classifier::{AccountProfile, CLASSIFIER_VERSION, Classifier};
pub use error::ClassifyError;
pub use near_duplicates::{Fingerprint, NearDuplicateConfig, NearDuplicateWindow};
pub use rules::{PostView, Rule, RuleError, RuleSet, RuleSetError};
pub use spam::{SpamScorer, SpamVerdict};
pub use tags::{CompiledTags, TagRule};
