//! `smo-tools train sentiment|complaint FILE.csv… [--out FILE]`: trains a model
//! file for the classifier from labelled CSVs (the columns of the shared
//! data: `text` plus `label`/`sentiment`, optional `lang`), after printing
//! its k-fold cross-validated figures so what is shipped comes with honest
//! numbers. `FILE.csv@0.5` makes a file's rows count half.
//!
//! Defaults are the hyper-parameters chosen by cross-validation (see
//! `config/models/README.md`); the options exist to reproduce that search.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use smo_classify::model::dataset::read_csv;
use smo_classify::model::file::{CrossValidation, SliceMetrics};
use smo_classify::model::train::{Prepared, TrainOptions, TrainingSource, cross_validate, train};
use smo_classify::model::{FeatureConfig, Task, TextModel};

/// Arguments of `smo-tools train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// What the model predicts.
    #[arg(value_enum)]
    task: TaskArg,
    /// Labelled CSV files; `FILE@WEIGHT` weights a file's rows (default 1).
    #[arg(required = true)]
    files: Vec<String>,
    /// Where to write the model; default `config/models/{task}.smo`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Stack the model on this sentiment model: its probabilities become
    /// three more inputs, which carries sentiment to languages the training
    /// data lacks. The classifier then needs exactly that sentiment model.
    #[arg(long, value_name = "SENTIMENT_MODEL")]
    stack_on: Option<PathBuf>,
    /// Cross-validation folds (0 skips cross-validation; binary models then
    /// keep the 0.5 threshold).
    #[arg(long)]
    folds: Option<usize>,
    /// Only cross-validate; write no model.
    #[arg(long)]
    no_write: bool,
    /// Print the cross-validation figures as one JSON object.
    #[arg(long)]
    json: bool,
    /// Passes over the data.
    #[arg(long)]
    epochs: Option<u32>,
    /// AdaGrad base step.
    #[arg(long)]
    learning_rate: Option<f32>,
    /// L2 penalty.
    #[arg(long)]
    l2: Option<f32>,
    /// Shuffle and fold seed.
    #[arg(long)]
    seed: Option<u64>,
    /// log2 of the number of hash buckets.
    #[arg(long)]
    hash_bits: Option<u8>,
    /// Character n-gram lengths as MIN-MAX (e.g. 2-5), or `off`.
    #[arg(long)]
    char_ngrams: Option<String>,
    /// Leave out word bigrams.
    #[arg(long)]
    no_bigrams: bool,
    /// Leave out negation-scope marking.
    #[arg(long)]
    no_negation: bool,
    /// Hash English character n-grams together with other languages'.
    #[arg(long)]
    no_english_char_space: bool,
    /// Weight (L2 norm) of the word feature group.
    #[arg(long)]
    word_weight: Option<f32>,
    /// Weight (L2 norm) of the character feature group.
    #[arg(long)]
    char_weight: Option<f32>,
    /// Do not weight classes to balance them.
    #[arg(long)]
    no_class_balance: bool,
    /// Balance the classes within each file instead of over all rows.
    #[arg(long)]
    balance_per_file: bool,
    /// Drop weights smaller than this from the saved model.
    #[arg(long)]
    prune_below: Option<f32>,
    /// Also train on copies of the rows without word and character features,
    /// weighted this much, so the model can decide from language-independent
    /// cues (and stacked sentiment) when it does not know the words.
    #[arg(long)]
    dense_only_weight: Option<f32>,
    /// Measure cross-validation on this file only (repeatable; a path as
    /// given among FILES, without `@WEIGHT`). The other files are trained
    /// on in every fold and scored in none, so auxiliary data (another
    /// domain) can help the model without entering the reported figure.
    /// Default: every file is measured.
    #[arg(long, value_name = "FILE")]
    eval_on: Vec<String>,
    /// Draw the k-fold split this many times (seeds SEED, SEED+1, …) and
    /// pool the figures; the table then shows their spread (±, one
    /// standard deviation over the repeats).
    #[arg(long)]
    repeats: Option<usize>,
    /// Threads for feature extraction and folds; default: all cores.
    #[arg(long)]
    threads: Option<usize>,
}

/// The trainable tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TaskArg {
    /// Negative / neutral / positive (macro recall).
    Sentiment,
    /// Complaint or not (macro F1, accuracy, ROC AUC).
    Complaint,
}

impl TaskArg {
    fn task(self) -> Task {
        match self {
            Self::Sentiment => Task::Sentiment,
            Self::Complaint => Task::Complaint,
        }
    }
}

/// Runs `smo-tools train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let task = args.task.task();
    let options = options(task, &args)?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut sources = Vec::new();
    for spec in &args.files {
        let (path, weight) = split_weight(spec)?;
        let dataset = read_csv(Path::new(path), task).with_context(|| format!("reading {path}"))?;
        let mut source = TrainingSource::new(dataset, weight);
        source.train_only = !args.eval_on.is_empty() && !args.eval_on.iter().any(|file| file == path);
        sources.push(source);
    }
    for file in &args.eval_on {
        let known = args.files.iter().any(|spec| split_weight(spec).is_ok_and(|(path, _)| path == file));
        if !known {
            bail!(
                "--eval-on {file}: not one of the training files (give the path as in FILES, without @WEIGHT)"
            );
        }
    }
    let stack_on = match &args.stack_on {
        Some(path) => Some(
            TextModel::load(path, Task::Sentiment)
                .with_context(|| format!("loading the sentiment model to stack on, {}", path.display()))?,
        ),
        None => None,
    };
    let started = Instant::now();
    let prepared = Prepared::new(task, sources, &options.features, threads, stack_on.as_ref())
        .context("extracting features")?;
    eprintln!("{} rows, features extracted in {:.1}s", prepared.rows(), started.elapsed().as_secs_f64());

    let cross_validation = if options.folds >= 2 {
        let started = Instant::now();
        let cv = cross_validate(&prepared, &options, threads).context("cross-validating")?;
        eprintln!("{}-fold cross-validation in {:.1}s", cv.folds, started.elapsed().as_secs_f64());
        if args.json {
            crate::print_json(&cv)?;
        } else {
            print_cross_validation(task, &cv);
        }
        Some(cv)
    } else {
        None
    };
    if args.no_write {
        return Ok(());
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let file = train(&prepared, &options, cross_validation, &command).context("training the final model")?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("config/models/{}.smo", task.name())));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    file.write(&out).with_context(|| format!("writing model {}", out.display()))?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wrote {} ({}, {:.1} MB, {} features with weights)",
        out.display(),
        file.header.model_id,
        size as f64 / 1e6,
        file.model.nonzero_features()
    );
    Ok(())
}

/// Defaults for the task, overridden by the options given.
fn options(task: Task, args: &TrainArgs) -> anyhow::Result<TrainOptions> {
    let mut options = TrainOptions::for_task(task);
    let features: &mut FeatureConfig = &mut options.features;
    if let Some(bits) = args.hash_bits {
        features.hash_bits = bits;
    }
    if let Some(range) = &args.char_ngrams {
        (features.char_min, features.char_max) = if range == "off" {
            (0, 0)
        } else {
            let (min, max) = range.split_once('-').context("--char-ngrams takes MIN-MAX or off")?;
            (min.parse().context("--char-ngrams MIN")?, max.parse().context("--char-ngrams MAX")?)
        };
    }
    features.word_bigrams &= !args.no_bigrams;
    features.negation_scope &= !args.no_negation;
    features.english_char_space &= !args.no_english_char_space;
    if let Some(weight) = args.word_weight {
        features.word_weight = weight;
    }
    if let Some(weight) = args.char_weight {
        features.char_weight = weight;
    }
    if let Err(reason) = features.validate() {
        bail!("invalid feature options: {reason}");
    }
    if let Some(epochs) = args.epochs {
        options.sgd.epochs = epochs;
    }
    if let Some(rate) = args.learning_rate {
        options.sgd.learning_rate = rate;
    }
    if let Some(l2) = args.l2 {
        options.sgd.l2 = l2;
    }
    if let Some(seed) = args.seed {
        options.sgd.seed = seed;
    }
    if let Some(folds) = args.folds {
        options.folds = folds;
    }
    if let Some(prune) = args.prune_below {
        options.prune_below = prune;
    }
    if let Some(weight) = args.dense_only_weight {
        options.dense_only_weight = weight;
    }
    if let Some(repeats) = args.repeats {
        if repeats == 0 {
            bail!("--repeats must be at least 1");
        }
        options.repeats = repeats;
    }
    options.class_balance &= !args.no_class_balance;
    options.balance_per_file |= args.balance_per_file;

    for (name, value) in [
        ("--learning-rate", options.sgd.learning_rate),
        ("--l2", options.sgd.l2),
        ("--prune-below", options.prune_below),
        ("--dense-only-weight", options.dense_only_weight),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            bail!("{name} must be a non-negative number");
        }
    }
    Ok(options)
}

/// `path@0.5` → (`path`, 0.5); a path without a numeric suffix has weight 1.
fn split_weight(spec: &str) -> anyhow::Result<(&str, f32)> {
    if let Some((path, weight)) = spec.rsplit_once('@')
        && let Ok(weight) = weight.parse::<f32>()
    {
        if !(weight.is_finite() && weight > 0.0) {
            bail!("{spec}: the weight after @ must be a positive number");
        }
        return Ok((path, weight));
    }
    Ok((spec, 1.0))
}

fn print_cross_validation(task: Task, cv: &CrossValidation) {
    let repeats =
        if cv.repeats > 1 { format!(", repeated {} times (pooled)", cv.repeats) } else { String::new() };
    println!(
        "{task}: {}-fold cross-validation{repeats} (every row predicted by a model that did not see it)",
        cv.folds
    );
    if let Some(threshold) = cv.threshold {
        println!(
            "decision threshold chosen for macro F1: {threshold:.2} (folded into the saved model's bias)"
        );
    }
    println!(
        "{:<52} {:>6} {:>8} {:>5} {:>8} {:>5} {:>8} {:>8}",
        "slice", "rows", "mRecall", "±", "mF1", "±", "acc", "AUC"
    );
    let spread = |sd: Option<f64>| sd.map_or_else(|| "-".to_owned(), |sd| format!("{:.1}", 100.0 * sd));
    for slice in &cv.slices {
        println!(
            "{:<52} {:>6} {:>8.1} {:>5} {:>8.1} {:>5} {:>8.1} {:>8}",
            truncate(&slice.name, 52),
            slice.rows,
            100.0 * slice.macro_recall,
            spread(slice.macro_recall_sd),
            100.0 * slice.macro_f1,
            spread(slice.macro_f1_sd),
            100.0 * slice.accuracy,
            slice.auc.map_or_else(|| "-".to_owned(), |auc| format!("{:.1}", 100.0 * auc)),
        );
    }
    if let Some(all) = cv.slices.first() {
        print_classes(task, all);
    }
    match task {
        Task::Sentiment => println!(
            "published (TweetEval test, macro recall): SVM / FastText 62.9, SemEval-2017 winners 68.1, RoBERTa-base 71.3"
        ),
        Task::Complaint => println!(
            "published (complaints, macro F1): LR bag-of-words 77.5, best feature model 79, transformers 87-88"
        ),
    }
}

fn print_classes(task: Task, slice: &SliceMetrics) {
    println!("per class over all rows (recall / F1), confusion rows = gold:");
    for (class, name) in task.classes().iter().enumerate() {
        println!(
            "  {:<14} {:>6.1} {:>6.1}   {:?}",
            name,
            100.0 * slice.recall.get(class).copied().unwrap_or(0.0),
            100.0 * slice.f1.get(class).copied().unwrap_or(0.0),
            slice.confusion.get(class).cloned().unwrap_or_default()
        );
    }
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let tail: String = text.chars().rev().take(chars - 1).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_weights_parse() {
        assert_eq!(split_weight("a.csv").unwrap(), ("a.csv", 1.0));
        assert_eq!(split_weight("a.csv@0.5").unwrap(), ("a.csv", 0.5));
        assert_eq!(split_weight("me@host/a.csv").unwrap(), ("me@host/a.csv", 1.0));
        assert!(split_weight("a.csv@0").is_err());
        assert!(split_weight("a.csv@-1").is_err());
    }
}
