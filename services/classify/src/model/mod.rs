//! Trained models: hashed text features ([`features`]), linear classifiers
//! ([`linear`]), the model file format ([`file`]), labelled training data
//! ([`dataset`], read with [`crate::labelled_csv`]) and cross-validated
//! training ([`train`]), scored with the measures of [`crate::eval::metrics`].
//!
//! The classifier loads `sentiment.smo` and `complaint.smo` from a models
//! directory (`config/models/` by default, see [`crate::Classifier::with_models`]);
//! `smo-tools train` writes them. Prediction is pure and allocation-light; only
//! loading and training do I/O.

pub mod dataset;
pub mod features;
pub mod file;
pub mod linear;
pub mod train;

pub use features::{FeatureConfig, FeatureExtractor, Features};
pub use file::{ModelError, ModelFile, ModelHeader, Task, TextModel};
pub use linear::{LinearModel, Probabilities};
