//! Training a model file from labelled datasets, with honest figures: the
//! recipe is first scored by stratified k-fold cross-validation (every row is
//! predicted by a model that never saw it), then a final model is trained on
//! every row and saved with those figures in its header.
//!
//! Class-balanced example weights make the loss care about each class
//! equally, which is what the macro-averaged measures reward; per-file
//! weights let an auxiliary set (another domain, another licence) count less
//! than the main one. For binary tasks the decision threshold maximising
//! macro F1 on the out-of-fold predictions is folded into the bias, so "above
//! 0.5" keeps meaning "is one".

use serde::{Deserialize, Serialize};

use crate::error::ClassifyError;
use crate::model::dataset::Dataset;
use crate::model::features::{FeatureConfig, FeatureExtractor, Features};
use crate::model::file::{
    CrossValidation, ModelFile, ModelHeader, STACKED_SENTIMENT_INPUTS, Task, TextModel, TrainingFile,
    append_sentiment_inputs, model_id,
};
use crate::model::linear::{Example, LinearModel, Probabilities, SgdOptions, SplitMix64, fit, logit};
use crate::model::metrics::slice_metrics;

/// Everything that decides how a model is trained; recorded in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Feature extraction.
    pub features: FeatureConfig,
    /// The optimiser.
    pub sgd: SgdOptions,
    /// Cross-validation folds; below 2 skips cross-validation.
    pub folds: usize,
    /// Weight examples so each class counts equally.
    pub class_balance: bool,
    /// Weights smaller than this in magnitude are dropped from the saved
    /// model (0 keeps all).
    pub prune_below: f32,
    /// Also train on a copy of each row without its hashed word and
    /// character features (dense cues and stacked inputs only), weighted
    /// this much: teaches the model to decide from language-independent
    /// signals when the words are unknown, e.g. in a language its training
    /// data lacks. 0 turns it off.
    #[serde(default)]
    pub dense_only_weight: f32,
}

impl TrainOptions {
    /// The defaults chosen by cross-validation for `task` (see
    /// `config/models/README.md` for the search).
    pub fn for_task(task: Task) -> Self {
        match task {
            // 2,000 + 17,000 short texts in 8 languages: a small step.
            Task::Sentiment => Self {
                features: FeatureConfig::default(),
                sgd: SgdOptions { epochs: 8, learning_rate: 0.02, l2: 0.01, seed: 0x5eed },
                folds: 5,
                class_balance: true,
                prune_below: 0.0,
                dense_only_weight: 0.0,
            },
            // 2,400 English texts; 10 folds as in the paper. Dense-only
            // copies cost nothing in English and let complaints in the other
            // languages be recognised from cues and stacked sentiment.
            Task::Complaint => Self {
                features: FeatureConfig::default(),
                sgd: SgdOptions { epochs: 8, learning_rate: 0.2, l2: 0.01, seed: 0x5eed },
                folds: 10,
                class_balance: true,
                prune_below: 0.0,
                dense_only_weight: 3.0,
            },
        }
    }
}

/// A dataset and how much its rows count.
#[derive(Debug, Clone)]
pub struct TrainingSource {
    /// The rows.
    pub dataset: Dataset,
    /// Weight of each row relative to other files' (1 is ordinary).
    pub weight: f32,
}

/// Datasets with their features extracted once, shared by the folds and the
/// final model.
#[derive(Debug)]
pub struct Prepared {
    task: Task,
    sources: Vec<TrainingSource>,
    features: Vec<Features>,
    labels: Vec<usize>,
    /// `(source index, language)` of each row.
    origins: Vec<(usize, Option<String>)>,
    /// Rows with the same words (a tweet in two files, a retweet) share a
    /// group: they always land in the same fold, and count once in total.
    groups: Vec<usize>,
    group_sizes: Vec<usize>,
    extractor: FeatureExtractor,
    /// Each row's features without the hashed groups.
    dense_only: Vec<Features>,
    /// Id of the sentiment model whose probabilities were appended.
    stacked_on: Option<String>,
    dimension: usize,
}

impl Prepared {
    /// Extracts the features of every row of `sources` with `features`,
    /// on `threads` threads; with `stack_on`, appends that sentiment model's
    /// probabilities to each row (see [`crate::model::file::ModelHeader::stacked_on`]).
    pub fn new(
        task: Task,
        sources: Vec<TrainingSource>,
        features: &FeatureConfig,
        threads: usize,
        stack_on: Option<&TextModel>,
    ) -> Result<Self, ClassifyError> {
        if let Some(stack) = stack_on
            && stack.header().task != Task::Sentiment
        {
            return Err(training("a model can only be stacked on a sentiment model"));
        }
        let extractor = FeatureExtractor::new(features.clone()).map_err(training)?;
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        let mut origins = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            if !(source.weight.is_finite() && source.weight > 0.0) {
                return Err(training(format!("{}: weight must be a positive number", source.dataset.path)));
            }
            for row in &source.dataset.rows {
                texts.push(row.text.as_str());
                labels.push(row.label);
                origins.push((index, row.lang.clone()));
            }
        }
        let classes = task.classes().len();
        for class in 0..classes {
            if !labels.contains(&class) {
                return Err(training(format!("no training row of class {:?}", task.classes()[class])));
            }
        }
        let chunk = texts.len().div_ceil(threads.max(1)).max(1);
        let features = std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|texts| {
                    let extractor = &extractor;
                    scope.spawn(move || {
                        texts
                            .iter()
                            .map(|text| {
                                let mut features = extractor.extract_raw(text);
                                if let Some(stack) = stack_on {
                                    let p = if stack.extractor().config() == extractor.config() {
                                        stack.linear().predict(&features)
                                    } else {
                                        stack.linear().predict(&stack.extractor().extract_raw(text))
                                    };
                                    let addressed = crate::text::NormalizedText::new(text).is_addressed();
                                    append_sentiment_inputs(
                                        &mut features,
                                        extractor.config().dimension(),
                                        &p,
                                        addressed,
                                    );
                                }
                                features
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(texts.len());
            for handle in handles {
                all.extend(handle.join().map_err(|_| training("feature extraction thread panicked"))?);
            }
            Ok::<_, ClassifyError>(all)
        })?;
        let mut group_of_key = std::collections::HashMap::new();
        let mut groups = Vec::with_capacity(texts.len());
        let mut group_sizes = Vec::new();
        for text in &texts {
            let key = duplicate_key(text);
            let next = group_of_key.len();
            let group = *group_of_key.entry(key).or_insert(next);
            if group == group_sizes.len() {
                group_sizes.push(0);
            }
            group_sizes[group] += 1;
            groups.push(group);
        }
        let buckets = extractor.config().buckets();
        let dense_only = features
            .iter()
            .map(|row: &Features| {
                Features::from_entries(
                    row.entries().iter().copied().filter(|&(index, _)| index as usize >= buckets).collect(),
                )
            })
            .collect();
        let stacked_on = stack_on.map(|stack| stack.header().model_id.clone());
        let dimension =
            extractor.config().dimension() + if stacked_on.is_some() { STACKED_SENTIMENT_INPUTS } else { 0 };
        Ok(Self {
            task,
            sources,
            features,
            labels,
            origins,
            groups,
            group_sizes,
            extractor,
            dense_only,
            stacked_on,
            dimension,
        })
    }

    /// Rows whose words another row already has (counted once in training).
    pub fn duplicate_rows(&self) -> usize {
        self.rows() - self.group_sizes.len()
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// The extractor the features were computed with.
    pub fn extractor(&self) -> &FeatureExtractor {
        &self.extractor
    }

    /// A row's weight before class balancing: its file's weight, shared
    /// among the copies of its text.
    fn row_weight(&self, row: usize) -> f32 {
        self.sources[self.origins[row].0].weight / self.group_sizes[self.groups[row]] as f32
    }

    fn examples(&self, rows: &[usize], options: &TrainOptions) -> Vec<Example<'_>> {
        let classes = self.task.classes().len();
        let mut class_weight = vec![0.0f64; classes];
        for &row in rows {
            class_weight[self.labels[row]] += f64::from(self.row_weight(row));
        }
        let total: f64 = class_weight.iter().sum();
        let balance: Vec<f32> =
            class_weight
                .iter()
                .map(|&w| {
                    if options.class_balance && w > 0.0 { (total / (classes as f64 * w)) as f32 } else { 1.0 }
                })
                .collect();
        let example = |row: usize, dense_only: bool| {
            let (features, weight) = if dense_only {
                (&self.dense_only[row], options.dense_only_weight)
            } else {
                (&self.features[row], 1.0)
            };
            Example {
                features,
                label: self.labels[row],
                weight: weight * self.row_weight(row) * balance[self.labels[row]],
            }
        };
        let mut examples: Vec<Example<'_>> = rows.iter().map(|&row| example(row, false)).collect();
        if options.dense_only_weight > 0.0 {
            examples.extend(rows.iter().map(|&row| example(row, true)));
        }
        examples
    }

    fn fit(&self, rows: &[usize], options: &TrainOptions) -> Result<LinearModel, ClassifyError> {
        let examples = self.examples(rows, options);
        fit(self.task.classes().len(), self.dimension, &examples, &options.sgd).map_err(training)
    }
}

fn training(reason: impl Into<String>) -> ClassifyError {
    ClassifyError::Training { reason: reason.into() }
}

/// Stratified, duplicate-aware fold of each row: duplicate groups are
/// stratified by the (file, class) of their first row, shuffled with `seed`
/// and dealt round-robin, so every fold mirrors the whole and no text is
/// both trained on and tested.
fn assign_folds(prepared: &Prepared, folds: usize, seed: u64) -> Vec<usize> {
    let classes = prepared.task.classes().len();
    let mut strata: Vec<Vec<usize>> = vec![Vec::new(); prepared.sources.len() * classes];
    let mut seen = vec![false; prepared.group_sizes.len()];
    for row in 0..prepared.rows() {
        let group = prepared.groups[row];
        if !std::mem::replace(&mut seen[group], true) {
            strata[prepared.origins[row].0 * classes + prepared.labels[row]].push(group);
        }
    }
    let mut rng = SplitMix64(seed ^ 0xf01d);
    let mut fold_of_group = vec![0; prepared.group_sizes.len()];
    let mut next = 0usize;
    for stratum in &mut strata {
        rng.shuffle(stratum);
        for &group in stratum.iter() {
            fold_of_group[group] = next % folds;
            next += 1;
        }
    }
    prepared.groups.iter().map(|&group| fold_of_group[group]).collect()
}

/// What makes two texts duplicates: the same words once mentions, links and
/// case are gone (the shared sets repeat tweets across files).
fn duplicate_key(text: &str) -> u64 {
    let normalized = crate::text::NormalizedText::new(text);
    let mut bytes = Vec::with_capacity(text.len());
    for word in crate::model::features::feature_words(&normalized.tokens) {
        bytes.extend_from_slice(word.as_bytes());
        bytes.push(b' ');
    }
    crate::model::file::fnv1a64(&bytes)
}

/// Out-of-fold probabilities of every row, from `options.folds` models
/// trained on the other folds, on `threads` threads.
pub fn out_of_fold(
    prepared: &Prepared,
    options: &TrainOptions,
    threads: usize,
) -> Result<Vec<Probabilities>, ClassifyError> {
    let folds = options.folds;
    if folds < 2 || folds > prepared.rows() {
        return Err(training(format!("{folds} folds for {} rows", prepared.rows())));
    }
    let fold_of = assign_folds(prepared, folds, options.sgd.seed);
    let threads = threads.clamp(1, folds);
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let fold_of = &fold_of;
                scope.spawn(move || {
                    let mut predictions = Vec::new();
                    for fold in (thread..folds).step_by(threads) {
                        let train: Vec<usize> = (0..fold_of.len()).filter(|&r| fold_of[r] != fold).collect();
                        let mut model = prepared.fit(&train, options)?;
                        // Score what ships: pruned like the final model.
                        if options.prune_below > 0.0 {
                            model.prune(options.prune_below);
                        }
                        for row in (0..fold_of.len()).filter(|&r| fold_of[r] == fold) {
                            predictions.push((row, model.predict(&prepared.features[row])));
                        }
                    }
                    Ok::<_, ClassifyError>(predictions)
                })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.join().map_err(|_| training("cross-validation thread panicked"))??);
        }
        Ok::<_, ClassifyError>(all)
    })?;
    let mut by_row = vec![None; prepared.rows()];
    for (row, p) in results {
        by_row[row] = Some(p);
    }
    by_row.into_iter().map(|p| p.ok_or_else(|| training("a row has no out-of-fold prediction"))).collect()
}

/// Cross-validated metrics of the recipe: over all rows, per file and per
/// (file, language); for binary tasks also the macro-F1 threshold.
pub fn cross_validate(
    prepared: &Prepared,
    options: &TrainOptions,
    threads: usize,
) -> Result<CrossValidation, ClassifyError> {
    let predictions = out_of_fold(prepared, options, threads)?;
    let classes = prepared.task.classes().len();
    let binary = classes == 2;
    let scores: Vec<f32> = predictions.iter().map(|p| p.get(1)).collect();
    let threshold = if binary { Some(best_threshold(&prepared.labels, &scores)) } else { None };
    let decide = |row: usize| match threshold {
        Some(t) => usize::from(f64::from(scores[row]) > t),
        None => predictions[row].argmax(),
    };
    let mut slices = Vec::new();
    let mut push = |name: String, rows: Vec<usize>, decide: &dyn Fn(usize) -> usize| {
        if rows.is_empty() {
            return;
        }
        let gold: Vec<usize> = rows.iter().map(|&r| prepared.labels[r]).collect();
        let predicted: Vec<usize> = rows.iter().map(|&r| decide(r)).collect();
        let slice_scores: Vec<f32> = rows.iter().map(|&r| scores[r]).collect();
        slices.push(slice_metrics(&name, classes, &gold, &predicted, binary.then_some(&slice_scores[..])));
    };
    let all: Vec<usize> = (0..prepared.rows()).collect();
    push("all".to_owned(), all.clone(), &decide);
    if binary {
        push("all, threshold 0.50".to_owned(), all, &|row| usize::from(scores[row] > 0.5));
    }
    for (index, source) in prepared.sources.iter().enumerate() {
        let rows: Vec<usize> = (0..prepared.rows()).filter(|&r| prepared.origins[r].0 == index).collect();
        push(source.dataset.path.clone(), rows, &decide);
        let mut languages: Vec<&str> =
            source.dataset.rows.iter().filter_map(|row| row.lang.as_deref()).collect();
        languages.sort_unstable();
        languages.dedup();
        for lang in languages {
            let rows: Vec<usize> = (0..prepared.rows())
                .filter(|&r| prepared.origins[r].0 == index && prepared.origins[r].1.as_deref() == Some(lang))
                .collect();
            push(format!("{} lang={lang}", source.dataset.path), rows, &decide);
        }
    }
    Ok(CrossValidation { folds: options.folds, threshold, slices })
}

/// The threshold in `0.05..=0.95` (steps of 0.01) with the best macro F1.
fn best_threshold(labels: &[usize], scores: &[f32]) -> f64 {
    let mut best = (f64::NEG_INFINITY, 0.5);
    for step in 5..=95 {
        let threshold = f64::from(step) / 100.0;
        let predicted: Vec<usize> = scores.iter().map(|&s| usize::from(f64::from(s) > threshold)).collect();
        let f1 = slice_metrics("", 2, labels, &predicted, None).macro_f1;
        // Prefer the threshold nearest 0.5 among equals.
        if f1 > best.0 + 1e-12
            || ((f1 - best.0).abs() <= 1e-12 && (threshold - 0.5).abs() < (best.1 - 0.5f64).abs())
        {
            best = (f1, threshold);
        }
    }
    best.1
}

/// Trains the final model on every row and wraps it in a model file with
/// its provenance; `cross_validation` (from [`cross_validate`]) supplies the
/// threshold of binary tasks and is stored in the header.
pub fn train(
    prepared: &Prepared,
    options: &TrainOptions,
    cross_validation: Option<CrossValidation>,
    command: &str,
) -> Result<ModelFile, ClassifyError> {
    let all: Vec<usize> = (0..prepared.rows()).collect();
    let mut model = prepared.fit(&all, options)?;
    if let Some(threshold) = cross_validation.as_ref().and_then(|cv| cv.threshold) {
        model.shift_bias(0, -logit(threshold as f32));
    }
    if options.prune_below > 0.0 {
        model.prune(options.prune_below);
    }
    let task = prepared.task;
    let header = ModelHeader {
        task,
        classes: task.classes().iter().map(|class| (*class).to_owned()).collect(),
        model_id: model_id(task, &model),
        features: options.features.clone(),
        dimension: prepared.dimension,
        stacked_on: prepared.stacked_on.clone(),
        training_files: prepared
            .sources
            .iter()
            .map(|source| TrainingFile {
                path: source.dataset.path.clone(),
                rows: source.dataset.rows.len(),
                class_rows: source.dataset.class_rows(task),
                fingerprint: format!("{:016x}", source.dataset.fingerprint),
                weight: source.weight,
            })
            .collect(),
        hyperparameters: serde_json::to_value(options).map_err(|e| training(e.to_string()))?,
        command: command.to_owned(),
        trained_by: format!("smo-classify {}", env!("CARGO_PKG_VERSION")),
        cross_validation,
    };
    Ok(ModelFile { header, model })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dataset::LabelledText;

    fn synthetic(task: Task, rows: usize) -> TrainingSource {
        let words: &[&[&str]] = match task {
            Task::Sentiment => &[
                &["awful", "terrible", "hate", "worst", "broken"],
                &["schedule", "tuesday", "gate", "announced", "report"],
                &["great", "love", "thanks", "amazing", "wonderful"],
            ],
            Task::Complaint => &[
                &["hello", "news", "today", "weekend", "music"],
                &["refund", "still", "waiting", "broken", "lost"],
            ],
        };
        let mut rng = SplitMix64(3);
        let rows = (0..rows)
            .map(|i| {
                let label = i % words.len();
                let filler = rng.below(3);
                let text = (0..4)
                    .map(|_| words[label][rng.below(5)])
                    .collect::<Vec<_>>()
                    .into_iter()
                    .chain(["the", "flight"].into_iter().take(filler))
                    .collect::<Vec<_>>()
                    .join(" ");
                LabelledText { text, label, lang: Some(["en", "fr"][i % 2].to_owned()) }
            })
            .collect();
        TrainingSource {
            dataset: Dataset { path: "synthetic.csv".to_owned(), fingerprint: 1, rows },
            weight: 1.0,
        }
    }

    fn small_options(task: Task) -> TrainOptions {
        let mut options = TrainOptions::for_task(task);
        options.features.hash_bits = 14;
        options.folds = 3;
        options
    }

    #[test]
    fn training_on_a_synthetic_set_separates_the_classes() {
        for task in [Task::Sentiment, Task::Complaint] {
            let options = small_options(task);
            let prepared =
                Prepared::new(task, vec![synthetic(task, 120)], &options.features, 2, None).unwrap();
            let cv = cross_validate(&prepared, &options, 2).unwrap();
            let all = &cv.slices[0];
            assert_eq!(all.rows, 120);
            assert!(all.macro_recall > 0.95 && all.macro_f1 > 0.95, "{task}: {all:?}");
            assert!(cv.slices.iter().any(|s| s.name.ends_with("lang=fr")));
            assert_eq!(cv.threshold.is_some(), task == Task::Complaint);
            let file = train(&prepared, &options, Some(cv), "test").unwrap();
            let extractor = prepared.extractor();
            let (bad, good) = match task {
                Task::Sentiment => ("worst broken awful", "love it thanks"),
                Task::Complaint => ("still waiting for my refund", "music news today"),
            };
            let p_bad = file.model.predict(&extractor.extract_raw(bad));
            let p_good = file.model.predict(&extractor.extract_raw(good));
            match task {
                Task::Sentiment => {
                    assert_eq!(p_bad.argmax(), 0);
                    assert_eq!(p_good.argmax(), 2);
                }
                Task::Complaint => {
                    assert!(p_bad.get(1) > 0.5 && p_good.get(1) < 0.5);
                }
            }
            assert_eq!(file.header.training_files[0].rows, 120);
        }
    }

    #[test]
    fn training_is_deterministic() {
        let task = Task::Complaint;
        let options = small_options(task);
        let prepared = Prepared::new(task, vec![synthetic(task, 60)], &options.features, 2, None).unwrap();
        let one = train(&prepared, &options, None, "t").unwrap();
        let two = train(&prepared, &options, None, "t").unwrap();
        assert_eq!(one.to_bytes().unwrap(), two.to_bytes().unwrap());
    }

    #[test]
    fn duplicates_share_a_fold() {
        let task = Task::Complaint;
        let mut source = synthetic(task, 40);
        let copy = source.dataset.rows[0].clone();
        source
            .dataset
            .rows
            .push(LabelledText { text: format!("@someone {}!", copy.text.to_uppercase()), ..copy });
        let options = small_options(task);
        let prepared = Prepared::new(task, vec![source], &options.features, 1, None).unwrap();
        assert!(prepared.duplicate_rows() >= 1);
        let folds = assign_folds(&prepared, 3, 1);
        assert_eq!(folds[0], folds[40]);
    }

    #[test]
    fn refuses_data_without_every_class() {
        let mut source = synthetic(Task::Complaint, 10);
        source.dataset.rows.retain(|row| row.label == 0);
        let options = small_options(Task::Complaint);
        let error = Prepared::new(Task::Complaint, vec![source], &options.features, 1, None).unwrap_err();
        assert!(error.to_string().contains("complaint"), "{error}");
    }

    #[test]
    fn threshold_search_prefers_the_middle_on_ties() {
        assert!((best_threshold(&[0, 1], &[0.1, 0.9]) - 0.5).abs() < 1e-9);
        assert!((best_threshold(&[0, 0, 1, 1], &[0.3, 0.35, 0.4, 0.45]) - 0.35).abs() < 0.051);
    }
}
