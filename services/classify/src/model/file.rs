//! The model file (`*.smo`): what a trained model is, how it was made and
//! its weights, in one versioned, checksummed file that loads in
//! milliseconds and is small enough to keep in the repository.
//!
//! Layout (all integers and floats little-endian):
//!
//! | bytes | content |
//! | --- | --- |
//! | 8 | magic `SMOMODEL` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 4 | header length `H` |
//! | `H` | [`ModelHeader`] as JSON: task, classes, feature configuration, training provenance, cross-validated metrics |
//! | 4 × outputs | biases (f32) |
//! | 4 | `N`, the number of features with a non-zero weight |
//! | 4 × N | their indexes (u32, strictly increasing) |
//! | 4 × N × outputs | their weights (f32), feature-major |
//! | 8 | FNV-1a 64 checksum of every byte before it |
//!
//! Weights are stored sparse because most hash buckets are never touched
//! (or are pruned to zero), which keeps a 2^18-bucket, 3-class model to a
//! few MB. Every field is checked on load; a truncated, corrupt or
//! mismatched file is a [`ModelError`], never a panic.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::eval::metrics::{self, ConfusionMatrix, ratio};
use crate::model::features::{FeatureConfig, FeatureExtractor, Features};
use crate::model::linear::{LinearModel, Probabilities};

/// First bytes of every model file.
pub const MAGIC: &[u8; 8] = b"SMOMODEL";
/// The layout version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Inputs a stacked model has after its text features: the probabilities
/// of the sentiment model it is stacked on (negative, neutral, positive),
/// then P(negative) again when the post addresses someone (`@brand`): the
/// language-independent core of a complaint.
pub const STACKED_SENTIMENT_INPUTS: usize = 4;
/// Largest header accepted, so a corrupt length cannot ask for gigabytes.
const MAX_HEADER_BYTES: usize = 1 << 20;

/// What a model predicts; decides which classes it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Negative / neutral / positive.
    Sentiment,
    /// Not a complaint / complaint.
    Complaint,
}

impl Task {
    /// The classes a model for this task has, in output order.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Task::Sentiment => &["negative", "neutral", "positive"],
            Task::Complaint => &["not_complaint", "complaint"],
        }
    }

    /// The task's name as written on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Task::Sentiment => "sentiment",
            Task::Complaint => "complaint",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a model file cannot be used. Carries strings only, so it stays
/// `Clone + Eq` like [`crate::ClassifyError`] which wraps it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The file cannot be read or written.
    #[error("I/O error: {0}")]
    Io(String),
    /// The file does not start with the model magic.
    #[error("not an smo model file (bad magic bytes)")]
    BadMagic,
    /// The file was written by another format version.
    #[error(
        "model format version {found}, this build reads version {expected}; retrain with `smo-tools train`"
    )]
    UnsupportedVersion {
        /// The file's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The file ends early.
    #[error("truncated model file: {0}")]
    Truncated(String),
    /// The header is not valid, or disagrees with the weights.
    #[error("invalid model header: {0}")]
    Header(String),
    /// The model is for another task than the one asked for.
    #[error("model is for task {found}, expected {expected}")]
    WrongTask {
        /// The task asked for.
        expected: String,
        /// The file's task.
        found: String,
    },
    /// The checksum does not match: the file was damaged.
    #[error("checksum mismatch: the file is damaged")]
    Checksum,
    /// The weights are malformed.
    #[error("invalid weights: {0}")]
    Weights(String),
}

/// Metrics of one slice of the data (a file, a language) in cross-validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SliceMetrics {
    /// What the slice is: `all`, a file name, `file lang=xx`.
    pub name: String,
    /// Rows in the slice.
    pub rows: usize,
    /// Macro-averaged recall (sentiment's official measure).
    pub macro_recall: f64,
    /// Macro-averaged F1 (the complaint paper's measure).
    pub macro_f1: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// ROC AUC of the positive class (binary tasks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
    /// Recall per class, in class order.
    pub recall: Vec<f64>,
    /// F1 per class, in class order.
    pub f1: Vec<f64>,
    /// Confusion matrix: `confusion[gold][predicted]`. With repeated
    /// cross-validation it pools every repeat, so its counts add up to
    /// `rows × repeats`.
    pub confusion: Vec<Vec<u64>>,
    /// With repeated cross-validation: the standard deviation of
    /// [`Self::macro_recall`] over the repeats, which says how much of a
    /// difference between two recipes is only the luck of the folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_recall_sd: Option<f64>,
    /// With repeated cross-validation: the standard deviation of
    /// [`Self::macro_f1`] over the repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_f1_sd: Option<f64>,
}

/// Metrics of `predicted` against `gold` (indexes into `classes`, the task's
/// class names in class order), counted by [`ConfusionMatrix`];
/// `positive_scores`, for binary tasks, adds ROC AUC of class 1. Macro
/// recall runs over the classes present in gold, macro F1 over those present
/// in gold or predictions ([`ConfusionMatrix::macro_f1_over_labels`]).
pub fn slice_metrics(
    name: &str,
    classes: &[&str],
    gold: &[usize],
    predicted: &[usize],
    positive_scores: Option<&[f32]>,
) -> SliceMetrics {
    let mut matrix = ConfusionMatrix::new();
    for (&g, &p) in gold.iter().zip(predicted) {
        if let (Some(g), Some(p)) = (classes.get(g), classes.get(p)) {
            matrix.add(g, p);
        }
    }
    let rows = gold.len().min(predicted.len());
    let per_class: Vec<_> = classes.iter().map(|class| matrix.class(class)).collect();
    SliceMetrics {
        name: name.to_owned(),
        rows,
        macro_recall: matrix.macro_recall().unwrap_or(0.0),
        macro_f1: matrix.macro_f1_over_labels().unwrap_or(0.0),
        accuracy: ratio(matrix.correct(), rows as u64).unwrap_or(0.0),
        auc: positive_scores.and_then(|scores| {
            let positives: Vec<bool> = gold.iter().map(|&g| g == 1).collect();
            roc_auc(&positives, scores)
        }),
        recall: per_class.iter().map(|class| class.recall).collect(),
        f1: per_class.iter().map(|class| class.f1).collect(),
        confusion: classes
            .iter()
            .map(|gold| classes.iter().map(|predicted| matrix.count(gold, predicted)).collect())
            .collect(),
        macro_recall_sd: None,
        macro_f1_sd: None,
    }
}

/// [`metrics::roc_auc`] of a model's `f32` scores; `None` also when the
/// lengths differ or a score is not finite, which a trained model never
/// gives and a figure should not hide.
fn roc_auc(positive: &[bool], scores: &[f32]) -> Option<f64> {
    if positive.len() != scores.len() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    // `+ 0.0` makes -0.0 into 0.0, so the two tie as equal scores.
    let scored: Vec<(f64, bool)> =
        scores.iter().map(|&s| f64::from(s) + 0.0).zip(positive.iter().copied()).collect();
    metrics::roc_auc(&scored)
}

/// Cross-validated quality of the training recipe, stored with the model so
/// its figures travel with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: usize,
    /// For binary tasks: the probability threshold chosen on out-of-fold
    /// predictions for macro F1 (the saved model's bias is shifted so that
    /// 0.5 is this threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// How many times the k-fold split was drawn (each with its own seed);
    /// the metrics pool the out-of-fold predictions of every repeat, which
    /// for recall and accuracy is their mean over the repeats.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub repeats: usize,
    /// Metrics over all evaluated rows, then per evaluated file, then per
    /// language. Rows of files trained on only
    /// ([`TrainingFile::train_only`]) are in every training fold and in no
    /// slice.
    pub slices: Vec<SliceMetrics>,
}

fn one() -> usize {
    1
}

fn is_one(value: &usize) -> bool {
    *value == 1
}

/// One training file, so a model says what it learnt from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingFile {
    /// The path as given to `smo-tools train`.
    pub path: String,
    /// Rows used.
    pub rows: usize,
    /// Rows per class, in class order.
    pub class_rows: Vec<usize>,
    /// FNV-1a 64 of the file's bytes, hex: which version of the file.
    pub fingerprint: String,
    /// Weight of each row from this file relative to the others.
    pub weight: f32,
    /// The file was only trained on: cross-validation put its rows in every
    /// training fold and measured nothing on them (`smo-tools train --eval-on`
    /// names the files that are measured), so an auxiliary set from another
    /// domain helps the model without blurring the figure that is reported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub train_only: bool,
}

/// The JSON header of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// What the model predicts.
    pub task: Task,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// A short id derived from the weights (`sentiment-1a2b3c4d`), written
    /// into enriched posts' classifier version.
    pub model_id: String,
    /// How features are computed.
    pub features: FeatureConfig,
    /// Feature vector length the weights are for: the text features, plus
    /// [`STACKED_SENTIMENT_INPUTS`] when stacked.
    pub dimension: usize,
    /// For a model stacked on a sentiment model (the complaint model, so it
    /// carries sentiment to languages its own training data lacks): that
    /// model's id. The classifier refuses to pair it with another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacked_on: Option<String>,
    /// The training data.
    pub training_files: Vec<TrainingFile>,
    /// Hyper-parameters and options, as the trainer recorded them.
    pub hyperparameters: serde_json::Value,
    /// The command that produced the model.
    pub command: String,
    /// The crate version that trained it.
    pub trained_by: String,
    /// Cross-validated metrics of the recipe, if they were computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validation: Option<CrossValidation>,
}

impl ModelHeader {
    /// The dimension the features and stacking imply.
    pub fn expected_dimension(&self) -> usize {
        self.features.dimension() + if self.stacked_on.is_some() { STACKED_SENTIMENT_INPUTS } else { 0 }
    }
}

/// A model with its header, as stored in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// Everything but the weights.
    pub header: ModelHeader,
    /// The weights.
    pub model: LinearModel,
}

/// A loaded model ready to predict: the file plus the feature extractor its
/// configuration asks for.
#[derive(Debug, Clone)]
pub struct TextModel {
    file: ModelFile,
    extractor: FeatureExtractor,
}

impl TextModel {
    /// Prepares `file` for prediction.
    pub fn new(file: ModelFile) -> Result<Self, ModelError> {
        let extractor = FeatureExtractor::new(file.header.features.clone()).map_err(ModelError::Header)?;
        Ok(Self { file, extractor })
    }

    /// Loads `path`, checking it is a model for `task`.
    pub fn load(path: &Path, task: Task) -> Result<Self, ModelError> {
        let file = ModelFile::read(path)?;
        if file.header.task != task {
            return Err(ModelError::WrongTask {
                expected: task.name().to_owned(),
                found: file.header.task.name().to_owned(),
            });
        }
        Self::new(file)
    }

    /// The header.
    pub fn header(&self) -> &ModelHeader {
        &self.file.header
    }

    /// The weights.
    pub fn linear(&self) -> &LinearModel {
        &self.file.model
    }

    /// The extractor for this model's features.
    pub fn extractor(&self) -> &FeatureExtractor {
        &self.extractor
    }

    /// Appends a sentiment model's probabilities as this stacked model's
    /// extra inputs (nothing for a model that is not stacked); `addressed`
    /// says whether the post mentions someone.
    pub fn append_stacked(&self, features: &mut Features, sentiment: &Probabilities, addressed: bool) {
        if self.file.header.stacked_on.is_none() {
            return;
        }
        append_sentiment_inputs(features, self.extractor.config().dimension(), sentiment, addressed);
    }
}

impl ModelFile {
    /// Serialises the model to bytes (see the module docs for the layout).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.check()?;
        let header = serde_json::to_vec(&self.header).map_err(|e| ModelError::Header(e.to_string()))?;
        let outputs = self.model.outputs();
        let rows: Vec<(u32, &[f32])> = self
            .model
            .weights()
            .chunks_exact(outputs)
            .enumerate()
            .filter(|(_, row)| row.iter().any(|&w| w != 0.0))
            .map(|(index, row)| (index as u32, row))
            .collect();
        let mut bytes = Vec::with_capacity(32 + header.len() + rows.len() * 4 * (outputs + 1));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&len_u32(header.len())?.to_le_bytes());
        bytes.extend_from_slice(&header);
        for bias in self.model.bias() {
            bytes.extend_from_slice(&bias.to_le_bytes());
        }
        bytes.extend_from_slice(&len_u32(rows.len())?.to_le_bytes());
        for (index, _) in &rows {
            bytes.extend_from_slice(&index.to_le_bytes());
        }
        for (_, row) in &rows {
            for weight in *row {
                bytes.extend_from_slice(&weight.to_le_bytes());
            }
        }
        let checksum = fnv1a64(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        Ok(bytes)
    }

    /// Parses bytes written by [`ModelFile::to_bytes`], checking everything.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut reader = Reader { bytes, position: 0 };
        if reader.take(MAGIC.len(), "magic")? != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let version = reader.u32("format version")?;
        if version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion { found: version, expected: FORMAT_VERSION });
        }
        let (body, checksum) = bytes
            .split_at_checked(bytes.len().saturating_sub(8))
            .filter(|_| bytes.len() >= 24)
            .ok_or_else(|| ModelError::Truncated("no room for the checksum".to_owned()))?;
        let mut stored = [0u8; 8];
        stored.copy_from_slice(checksum);
        if u64::from_le_bytes(stored) != fnv1a64(body) {
            return Err(ModelError::Checksum);
        }
        let mut reader = Reader { bytes: body, position: reader.position };
        let header_len = reader.u32("header length")? as usize;
        if header_len > MAX_HEADER_BYTES {
            return Err(ModelError::Header(format!("header of {header_len} bytes is too large")));
        }
        let header: ModelHeader = serde_json::from_slice(reader.take(header_len, "header")?)
            .map_err(|e| ModelError::Header(e.to_string()))?;
        header.features.validate().map_err(ModelError::Header)?;
        if header.dimension != header.expected_dimension() {
            return Err(ModelError::Header(format!(
                "dimension {} does not match the feature configuration ({})",
                header.dimension,
                header.expected_dimension()
            )));
        }
        let expected_classes: Vec<&str> = header.task.classes().to_vec();
        if header.classes != expected_classes {
            return Err(ModelError::Header(format!(
                "classes {:?} are not the {} task's {expected_classes:?}",
                header.classes, header.task
            )));
        }
        let classes = header.classes.len();
        let outputs = if classes == 2 { 1 } else { classes };
        let mut bias = Vec::with_capacity(outputs);
        for _ in 0..outputs {
            bias.push(reader.f32("bias")?);
        }
        let rows = reader.u32("row count")? as usize;
        if rows > header.dimension {
            return Err(ModelError::Weights(format!("{rows} rows for {} features", header.dimension)));
        }
        let expected_rest = rows.saturating_mul(4).saturating_mul(outputs + 1);
        if reader.remaining() != expected_rest {
            return Err(ModelError::Truncated(format!(
                "{} bytes of weights, expected {expected_rest}",
                reader.remaining()
            )));
        }
        let mut indexes = Vec::with_capacity(rows);
        for _ in 0..rows {
            let index = reader.u32("index")? as usize;
            if index >= header.dimension || indexes.last().is_some_and(|&last| index <= last) {
                return Err(ModelError::Weights(format!("index {index} is out of range or out of order")));
            }
            indexes.push(index);
        }
        let mut weights = vec![0.0f32; header.dimension * outputs];
        for index in indexes {
            for output in 0..outputs {
                weights[index * outputs + output] = reader.f32("weight")?;
            }
        }
        let model =
            LinearModel::from_parts(classes, header.dimension, weights, bias).map_err(ModelError::Weights)?;
        Ok(Self { header, model })
    }

    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::Io(e.to_string()))?;
        Self::from_bytes(&bytes)
    }

    /// Writes the model to `path` (through a temporary file and a rename, so
    /// a crash never leaves half a model where the pipeline loads it).
    pub fn write(&self, path: &Path) -> Result<(), ModelError> {
        let bytes = self.to_bytes()?;
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        std::fs::write(&temporary, &bytes).map_err(|e| ModelError::Io(e.to_string()))?;
        std::fs::rename(&temporary, path).map_err(|e| ModelError::Io(e.to_string()))
    }

    fn check(&self) -> Result<(), ModelError> {
        let header = &self.header;
        if header.dimension != self.model.dimension() || header.dimension != header.expected_dimension() {
            return Err(ModelError::Header("dimension disagrees with the weights or features".to_owned()));
        }
        if header.classes.len() != self.model.classes() {
            return Err(ModelError::Header("class count disagrees with the weights".to_owned()));
        }
        Ok(())
    }
}

/// Appends the stacked inputs (see [`STACKED_SENTIMENT_INPUTS`]) at indexes
/// `text_dimension..`: the one layout of a stacked model's extra inputs, for
/// training and serving.
pub fn append_sentiment_inputs(
    features: &mut Features,
    text_dimension: usize,
    sentiment: &Probabilities,
    addressed: bool,
) {
    let negative = sentiment.get(0);
    let inputs = [negative, sentiment.get(1), sentiment.get(2), if addressed { negative } else { 0.0 }];
    for (offset, p) in inputs.into_iter().enumerate() {
        // Dimensions are below 2^24 + a few dozen, well inside u32.
        features.push((text_dimension + offset) as u32, p);
    }
}

/// Short id of a model's weights: `{task}-{8 hex digits}`.
pub fn model_id(task: Task, model: &LinearModel) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for value in model.bias().iter().chain(model.weights()) {
        for byte in value.to_le_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{task}-{:08x}", hash >> 32)
}

/// FNV-1a 64 of `bytes`: the file checksum and data fingerprints.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn len_u32(len: usize) -> Result<u32, ModelError> {
    u32::try_from(len).map_err(|_| ModelError::Header(format!("section of {len} bytes is too large")))
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], ModelError> {
        let end = self.position.checked_add(len).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(ModelError::Truncated(format!("file ends inside the {what}")));
        };
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        let mut buffer = [0u8; 4];
        buffer.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(buffer))
    }

    fn f32(&mut self, what: &str) -> Result<f32, ModelError> {
        let mut buffer = [0u8; 4];
        buffer.copy_from_slice(self.take(4, what)?);
        let value = f32::from_le_bytes(buffer);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(ModelError::Weights(format!("a {what} is not a finite number")))
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::linear::{Example, SgdOptions, fit};

    #[test]
    fn macro_measures_on_a_known_confusion() {
        // gold: 3 neg, 2 neu, 1 pos.
        let gold = [0, 0, 0, 1, 1, 2];
        let predicted = [0, 0, 1, 1, 2, 2];
        let m = slice_metrics("t", &["negative", "neutral", "positive"], &gold, &predicted, None);
        assert!((m.recall[0] - 2.0 / 3.0).abs() < 1e-9);
        assert!((m.recall[1] - 0.5).abs() < 1e-9);
        assert!((m.recall[2] - 1.0).abs() < 1e-9);
        assert!((m.macro_recall - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-9);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-9);
        assert!((m.f1[0] - 0.8).abs() < 1e-9);
        assert_eq!(m.confusion[0], vec![2, 1, 0]);
    }

    #[test]
    fn auc_handles_ties_and_degenerate_input() {
        assert_eq!(roc_auc(&[true, false], &[0.9, 0.1]), Some(1.0));
        assert_eq!(roc_auc(&[true, false], &[0.1, 0.9]), Some(0.0));
        assert_eq!(roc_auc(&[true, false], &[0.5, 0.5]), Some(0.5));
        assert_eq!(roc_auc(&[true, true], &[0.5, 0.6]), None);
        assert_eq!(roc_auc(&[true, false], &[f32::NAN, 0.6]), None);
        let auc = roc_auc(&[true, false, true, false], &[0.8, 0.6, 0.4, 0.2]).unwrap();
        assert!((auc - 0.75).abs() < 1e-9);
    }

    fn small_model(task: Task) -> ModelFile {
        let features = FeatureConfig { hash_bits: 12, ..FeatureConfig::default() };
        let extractor = FeatureExtractor::new(features.clone()).unwrap();
        let texts = ["great thanks", "awful delay", "the flight leaves at six"];
        let xs: Vec<Features> = texts.iter().map(|t| extractor.extract_raw(t, "en")).collect();
        let classes = task.classes().len();
        let examples: Vec<Example<'_>> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| Example { features: x, label: i % classes, weight: 1.0 })
            .collect();
        let model = fit(classes, features.dimension(), &examples, &SgdOptions::default()).unwrap();
        ModelFile {
            header: ModelHeader {
                task,
                classes: task.classes().iter().map(|c| (*c).to_owned()).collect(),
                model_id: model_id(task, &model),
                dimension: features.dimension(),
                stacked_on: None,
                features,
                training_files: Vec::new(),
                hyperparameters: serde_json::json!({"epochs": 6}),
                command: "test".to_owned(),
                trained_by: "test".to_owned(),
                cross_validation: None,
            },
            model,
        }
    }

    #[test]
    fn round_trips_bit_exactly() {
        for task in [Task::Sentiment, Task::Complaint] {
            let file = small_model(task);
            let bytes = file.to_bytes().unwrap();
            let back = ModelFile::from_bytes(&bytes).unwrap();
            assert_eq!(back, file);
            let same_bits = back
                .model
                .weights()
                .iter()
                .zip(file.model.weights())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same_bits);
            assert_eq!(back.to_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn corrupt_files_are_errors_not_panics() {
        let bytes = small_model(Task::Sentiment).to_bytes().unwrap();
        assert_eq!(
            ModelFile::from_bytes(b""),
            Err(ModelError::Truncated("file ends inside the magic".into()))
        );
        assert_eq!(ModelFile::from_bytes(b"NOTAMODELFILE-----------"), Err(ModelError::BadMagic));
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x40;
        assert_eq!(ModelFile::from_bytes(&flipped), Err(ModelError::Checksum));
        let mut version = bytes.clone();
        version[8] = 9;
        assert!(matches!(ModelFile::from_bytes(&version), Err(ModelError::UnsupportedVersion { .. })));
        // Every truncation and every single-byte change is an error.
        for len in 0..bytes.len() {
            assert!(ModelFile::from_bytes(&bytes[..len]).is_err(), "truncated at {len}");
        }
        for position in (0..bytes.len()).step_by(7) {
            let mut changed = bytes.clone();
            changed[position] = changed[position].wrapping_add(1);
            assert!(ModelFile::from_bytes(&changed).is_err(), "changed at {position}");
        }
    }

    #[test]
    fn wrong_task_is_refused_on_load() {
        let directory = std::env::temp_dir().join(format!("smo-model-test-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("complaint.smo");
        small_model(Task::Complaint).write(&path).unwrap();
        assert!(TextModel::load(&path, Task::Complaint).is_ok());
        assert!(matches!(TextModel::load(&path, Task::Sentiment), Err(ModelError::WrongTask { .. })));
        assert!(matches!(
            TextModel::load(&directory.join("missing.smo"), Task::Complaint),
            Err(ModelError::Io(_))
        ));
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
