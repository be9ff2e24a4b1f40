//! `smo-tools eval TASK FILE.csv [--json] [--models DIR]`: runs the classifier on
//! a labelled CSV (the columns of the sets in the shared data catalogue) and
//! prints the figure each task is published with, so that dev-set results
//! can be put next to the literature:
//!
//! - `sentiment` (`text` + `label` or `sentiment`, optional `lang`): macro
//!   recall over negative / neutral / positive (SemEval-2017), per language
//!   too when there is a `lang` column;
//! - `complaint` (`text`, `label` 1/0, optional `domain`): macro F1 (the
//!   ACL 2019 paper's measure), accuracy and ROC AUC, per domain too;
//! - `language` (`lang`, `text`, optional `kind`): accuracy per length class
//!   and per language, the mean over languages per class (lingua's table),
//!   and a row for short texts; `--whatlang-only` scores whatlang alone on
//!   the raw text, the baseline the published figures describe;
//! - `topics` (`text` and one 0/1 column per topic, with `--tags FILE`):
//!   per-topic precision, recall and F1 of an account's tags and their mean
//!   (Kecht et al.'s measure); see [`topics`].
//!
//! Columns are found by header name. A malformed row is skipped, counted and
//! reported on stderr rather than aborting a long run; a missing column is
//! an error naming it.

use std::path::{Path, PathBuf};

use self::complaint::{evaluate_complaints, print_complaints, read_complaints};
use self::csv::{Skipped, warn};
use self::language::{Detector, evaluate_languages, print_languages, read_languages};
pub(crate) use self::output::{emit, emit_json};
use self::sentiment::{evaluate_sentiment, print_sentiment, read_sentiment};
use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;
use smo_classify::Classifier;
use smo_classify::eval::ConfusionMatrix;
use smo_classify::model::file::{SliceMetrics, fnv1a64};

/// Appends formatted text to a `String` (formatting into a `String` cannot
/// fail): reports are built whole, then written once by [`emit`].
macro_rules! out {
    ($o:expr, $($arg:tt)*) => {{
        $o.push_str(&format!($($arg)*));
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($o:expr) => {{
        $o.push('\n');
    }};
    ($o:expr, $($arg:tt)*) => {{
        $o.push_str(&format!($($arg)*));
        $o.push('\n');
    }};
}

// After the macros, which they use.
mod complaint;
mod csv;
mod language;
mod output;
mod sentiment;
mod topics;

pub(crate) use self::csv::read_text_column;

/// Arguments of `smo-tools eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// What to evaluate.
    #[arg(value_enum)]
    task: Task,
    /// Labelled CSV with a header row, e.g.
    /// ../shared/data/sentiment/tweeteval_val.csv.
    file: PathBuf,
    /// Print one JSON object with every figure instead of tables.
    #[arg(long)]
    json: bool,
    /// Directory of trained model files; `none` for the built-in lexicons
    /// and rules only.
    #[arg(long, default_value = "config/models")]
    models: PathBuf,
    /// Language only: score whatlang alone on the raw text, without smo's
    /// noise removal, corrections and `und` (the published baseline).
    #[arg(long)]
    whatlang_only: bool,
    /// Topics only: the account's tags to score, a TOML file of `[[tags]]`
    /// tables shaped like an account's in smo.toml (e.g.
    /// config/topics/amazonhelp.toml).
    #[arg(long, required_if_eq("task", "topics"))]
    tags: Option<PathBuf>,
    /// Topics only: the account's candidate languages, comma-separated, as
    /// `accounts[].languages` (default: all).
    #[arg(long, value_delimiter = ',')]
    languages: Option<Vec<String>>,
    /// Topics only: list up to this many missed and wrongly tagged posts
    /// per topic, to see what a rule needs.
    #[arg(long, default_value_t = 0)]
    errors: usize,
}

/// The evaluated tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Task {
    /// Negative / neutral / positive; macro recall.
    Sentiment,
    /// Complaint or not; macro F1, accuracy, ROC AUC.
    Complaint,
    /// Language identification; accuracy per language and length class.
    Language,
    /// An account's topic tags against topic-labelled posts; per-topic F1
    /// and their mean.
    Topics,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Self::Sentiment => "sentiment",
            Self::Complaint => "complaint",
            Self::Language => "language",
            Self::Topics => "topics",
        }
    }
}

/// Runs an evaluation.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let header = |rows: usize, skipped: &Skipped, classifier: String, in_sample: Option<InSample>| Header {
        task: args.task.name(),
        file: args.file.display().to_string(),
        rows,
        skipped_rows: skipped.count,
        classifier,
        in_sample,
    };
    // The file is read first so that its errors come before any model's.
    match args.task {
        Task::Sentiment => {
            let loaded = read_sentiment(&args.file)?;
            warn(&args.file, &loaded.skipped);
            let (classifier, description) = load_classifier(&args.models)?;
            let in_sample = in_sample(&classifier, args.task, &args.file);
            let header = header(loaded.rows.len(), &loaded.skipped, description, in_sample);
            let report = evaluate_sentiment(&classifier, &loaded.rows, header);
            if args.json { emit_json(&report) } else { emit(&print_sentiment(&report)) }
        }
        Task::Complaint => {
            let loaded = read_complaints(&args.file)?;
            warn(&args.file, &loaded.skipped);
            let (classifier, description) = load_classifier(&args.models)?;
            let in_sample = in_sample(&classifier, args.task, &args.file);
            let header = header(loaded.rows.len(), &loaded.skipped, description, in_sample);
            let report = evaluate_complaints(&classifier, &loaded.rows, header);
            if args.json { emit_json(&report) } else { emit(&print_complaints(&report)) }
        }
        Task::Language => {
            let loaded = read_languages(&args.file)?;
            warn(&args.file, &loaded.skipped);
            // Language detection uses no trained model.
            let classifier = Classifier::new();
            let (detector, description) = if args.whatlang_only {
                (Detector::WhatlangOnly, "whatlang 0.18 alone on the raw text".to_owned())
            } else {
                (
                    Detector::Smo(&classifier),
                    format!("{} language detection", smo_classify::CLASSIFIER_VERSION),
                )
            };
            let header = header(loaded.rows.len(), &loaded.skipped, description, None);
            let report = evaluate_languages(detector, &loaded.rows, header);
            if args.json { emit_json(&report) } else { emit(&print_languages(&report)) }
        }
        Task::Topics => {
            let tags_file = args.tags.as_deref().context("`smo-tools eval topics` needs --tags FILE")?;
            let tags = topics::read_tags(tags_file, args.languages.clone())?;
            let loaded = topics::read_topics(&args.file, tags.rules())?;
            warn(&args.file, &loaded.skipped);
            let (classifier, description) = load_classifier(&args.models)?;
            let header = header(loaded.rows.len(), &loaded.skipped, description, None);
            let account = smo_proto::AccountId::new("eval")?;
            let report =
                topics::evaluate_topics(&account, &classifier, &tags, &loaded.rows, header, args.errors);
            if args.json { emit_json(&report) } else { emit(&topics::print_topics(&report)) }
        }
    }
}

/// The classifier with the models of `models` (the lexicons and rules where
/// a model file is missing, as the pipeline does), and what it is, for the
/// report.
fn load_classifier(models: &Path) -> anyhow::Result<(Classifier, String)> {
    if models == Path::new("none") {
        let classifier = Classifier::new();
        let description = format!("{} (no models)", classifier.version());
        return Ok((classifier, description));
    }
    let classifier = smo_pipeline::load_classifier(models)?;
    let description = format!("{} (models: {})", classifier.version(), models.display());
    Ok((classifier, description))
}

/// `f` over `items` on every core (scoped threads, order kept): a language
/// run over the 111k-row langid set is CPU-bound and embarrassingly
/// parallel.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    if threads <= 1 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            match part.join() {
                Ok(results) => out.extend(results),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// What every report starts with.
#[derive(Debug, Clone, Serialize)]
struct Header {
    task: &'static str,
    file: String,
    rows: usize,
    skipped_rows: usize,
    /// The classifier's version and where its models came from.
    classifier: String,
    /// Set when the evaluated file is one the task's model was trained on:
    /// the figures are then a training fit, and the model's own
    /// cross-validated figures for the file are the honest dev-set result.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_sample: Option<InSample>,
}

/// The model trained on the evaluated file, and its cross-validated figures
/// for that file (all rows, then per language when recorded).
#[derive(Debug, Clone, Serialize)]
struct InSample {
    model_id: String,
    folds: Option<usize>,
    cross_validated: Vec<SliceMetrics>,
}

/// Whether `file` (by content fingerprint) trained the model of `task`.
fn in_sample(classifier: &Classifier, task: Task, file: &Path) -> Option<InSample> {
    let header = match task {
        Task::Sentiment => classifier.sentiment_model(),
        Task::Complaint => classifier.complaint_model(),
        Task::Language | Task::Topics => None,
    }?;
    let bytes = std::fs::read(file).ok()?;
    let fingerprint = format!("{:016x}", fnv1a64(&bytes));
    let trained_on = header.training_files.iter().find(|f| f.fingerprint == fingerprint)?;
    let cross_validation = header.cross_validation.as_ref();
    let lang_prefix = format!("{} lang=", trained_on.path);
    let cross_validated = cross_validation
        .map(|cv| {
            cv.slices
                .iter()
                .filter(|slice| slice.name == trained_on.path || slice.name.starts_with(&lang_prefix))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Some(InSample {
        model_id: header.model_id.clone(),
        folds: cross_validation.map(|cv| cv.folds),
        cross_validated,
    })
}

/// Figures of one group of rows (a language, a domain).
#[derive(Debug, Clone, Serialize)]
struct GroupFigures {
    name: String,
    rows: u64,
    macro_recall: Option<f64>,
    macro_f1: Option<f64>,
    accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auc: Option<f64>,
}

impl GroupFigures {
    fn of(name: &str, matrix: &ConfusionMatrix, auc: Option<f64>) -> Self {
        Self {
            name: name.to_owned(),
            rows: matrix.total(),
            macro_recall: matrix.macro_recall(),
            macro_f1: matrix.macro_f1(),
            accuracy: matrix.accuracy(),
            auc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = par_map(&items, |x| x * 2);
        assert!(doubled.iter().enumerate().all(|(i, x)| *x == 2 * i as u32));
    }
}
