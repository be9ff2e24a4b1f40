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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;
use smo_classify::Classifier;
use smo_classify::eval::{ClassMetrics, ConfusionMatrix, SHORT_TEXT_LETTERS, is_short_text, ratio, roc_auc};
use smo_classify::language::{HINDI_LATIN, UNDETERMINED, canonical_language_code, is_detectable};
use smo_classify::model::file::{SliceMetrics, fnv1a64};
use smo_proto::Sentiment;

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
            loaded.skipped.warn(&args.file);
            let (classifier, description) = load_classifier(&args.models)?;
            let in_sample = in_sample(&classifier, args.task, &args.file);
            let header = header(loaded.rows.len(), &loaded.skipped, description, in_sample);
            let report = evaluate_sentiment(&classifier, &loaded.rows, header);
            if args.json { emit_json(&report) } else { emit(&print_sentiment(&report)) }
        }
        Task::Complaint => {
            let loaded = read_complaints(&args.file)?;
            loaded.skipped.warn(&args.file);
            let (classifier, description) = load_classifier(&args.models)?;
            let in_sample = in_sample(&classifier, args.task, &args.file);
            let header = header(loaded.rows.len(), &loaded.skipped, description, in_sample);
            let report = evaluate_complaints(&classifier, &loaded.rows, header);
            if args.json { emit_json(&report) } else { emit(&print_complaints(&report)) }
        }
        Task::Language => {
            let loaded = read_languages(&args.file)?;
            loaded.skipped.warn(&args.file);
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
            loaded.skipped.warn(&args.file);
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

// ---------------------------------------------------------------- reading

/// Labelled rows of a file, and the rows that could not be used.
#[derive(Debug)]
struct Loaded<T> {
    rows: Vec<T>,
    skipped: Skipped,
}

/// Bad rows: how many, and the first few reasons for the warning.
#[derive(Debug, Default)]
struct Skipped {
    count: usize,
    examples: Vec<String>,
}

impl Skipped {
    const EXAMPLES: usize = 5;

    fn add(&mut self, reason: String) {
        self.count += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(reason);
        }
    }

    /// Warns on stderr (stdout stays clean for `--json`).
    fn warn(&self, path: &Path) {
        if self.count == 0 {
            return;
        }
        eprintln!("warning: {}: skipped {} bad row(s):", path.display(), self.count);
        for example in &self.examples {
            eprintln!("  {example}");
        }
        if self.count > self.examples.len() {
            eprintln!("  …");
        }
    }
}

/// A column looked up by header name: the first of `names` present wins
/// (case-insensitive); a required column that is absent is an error.
#[derive(Debug, Clone, Copy)]
struct Column {
    names: &'static [&'static str],
    required: bool,
}

const fn required(names: &'static [&'static str]) -> Column {
    Column { names, required: true }
}

const fn optional(names: &'static [&'static str]) -> Column {
    Column { names, required: false }
}

/// Reads `path`, hands each row's values of `columns` (in that order,
/// `None` for an absent optional column) to `parse`, and skips and counts
/// rows that are malformed or that `parse` rejects.
fn read_csv<T>(
    path: &Path,
    columns: &[Column],
    mut parse: impl FnMut(&[Option<&str>]) -> Result<T, String>,
) -> anyhow::Result<Loaded<T>> {
    let (reader, headers) = open_csv(path)?;
    let names: Vec<String> =
        headers.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect();
    let mut positions = Vec::with_capacity(columns.len());
    for column in columns {
        let found = column.names.iter().find_map(|name| names.iter().position(|h| h == name));
        if found.is_none() && column.required {
            anyhow::bail!(
                "{}: no `{}` column (the header row has: {})",
                path.display(),
                column.names.join("` or `"),
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
        positions.push(found);
    }
    parse_records(path, reader, headers.len(), |record, _line| {
        let values: Vec<Option<&str>> =
            positions.iter().map(|position| position.and_then(|i| record.get(i))).collect();
        parse(&values)
    })
}

/// Opens `path` as a CSV file with a header row, and reads the header.
fn open_csv(path: &Path) -> anyhow::Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers =
        reader.headers().with_context(|| format!("{}: reading the header row", path.display()))?.clone();
    Ok((reader, headers))
}

/// Hands every record of `reader` with `fields` fields to `parse` (with its
/// line number) and collects the rows; a record of another length, one the
/// CSV reader refuses, or one `parse` rejects is skipped and counted. An
/// I/O error, or a file without a usable row, is an error.
fn parse_records<T>(
    path: &Path,
    mut reader: csv::Reader<std::fs::File>,
    fields: usize,
    mut parse: impl FnMut(&csv::StringRecord, u64) -> Result<T, String>,
) -> anyhow::Result<Loaded<T>> {
    let mut rows = Vec::new();
    let mut skipped = Skipped::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                if record.len() != fields {
                    skipped
                        .add(format!("line {line}: {} fields where the header has {fields}", record.len()));
                    continue;
                }
                match parse(&record, line) {
                    Ok(row) => rows.push(row),
                    Err(reason) => skipped.add(format!("line {line}: {reason}")),
                }
            }
            // Invalid UTF-8 or a broken quote spoils one row; an I/O error
            // spoils the rest of the file.
            Err(error) if error.is_io_error() => {
                return Err(error).with_context(|| format!("reading {}", path.display()));
            }
            Err(error) => skipped.add(format!("line {line}: {error}")),
        }
    }
    anyhow::ensure!(!rows.is_empty(), "{}: no usable rows ({} skipped)", path.display(), skipped.count);
    Ok(Loaded { rows, skipped })
}

/// The value of a column every row must have.
fn value<'a>(values: &[Option<&'a str>], index: usize) -> &'a str {
    values.get(index).copied().flatten().unwrap_or_default()
}

/// A non-empty optional group value (language, domain, kind).
fn group(values: &[Option<&str>], index: usize) -> Option<String> {
    values.get(index).copied().flatten().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

#[derive(Debug, Clone, PartialEq)]
struct SentimentRow {
    text: String,
    gold: Sentiment,
    lang: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct ComplaintRow {
    text: String,
    complaint: bool,
    domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct LanguageRow {
    text: String,
    lang: String,
    kind: Option<String>,
}

/// `text` and `sentiment` (multilingual set) or `label` (TweetEval), and
/// `lang` when present.
fn read_sentiment(path: &Path) -> anyhow::Result<Loaded<SentimentRow>> {
    let columns = [required(&["text"]), required(&["sentiment", "label"]), optional(&["lang"])];
    read_csv(path, &columns, |values| {
        Ok(SentimentRow {
            text: value(values, 0).to_owned(),
            gold: parse_sentiment(value(values, 1))?,
            lang: group(values, 2),
        })
    })
}

fn read_complaints(path: &Path) -> anyhow::Result<Loaded<ComplaintRow>> {
    let columns = [required(&["text"]), required(&["label"]), optional(&["domain"])];
    read_csv(path, &columns, |values| {
        Ok(ComplaintRow {
            text: value(values, 0).to_owned(),
            complaint: parse_complaint(value(values, 1))?,
            domain: group(values, 2),
        })
    })
}

fn read_languages(path: &Path) -> anyhow::Result<Loaded<LanguageRow>> {
    let columns = [required(&["text"]), required(&["lang"]), optional(&["kind"])];
    read_csv(path, &columns, |values| {
        let lang = value(values, 1).trim();
        if lang.is_empty() {
            return Err("empty `lang`".to_owned());
        }
        // `eng` and `EN` are the same gold label as `en`; codes the detector
        // does not know (`hi-Latn`, `nn`) are kept as written.
        let lang = canonical_language_code(lang).map_or_else(|| lang.to_owned(), str::to_owned);
        Ok(LanguageRow { text: value(values, 0).to_owned(), lang, kind: group(values, 2) })
    })
}

/// The `text` column of a CSV (bad rows skipped with a warning): texts for
/// `smo-tools bench classify --file`.
pub fn read_text_column(path: &Path) -> anyhow::Result<Vec<String>> {
    let loaded = read_csv(path, &[required(&["text"])], |values| Ok(value(values, 0).to_owned()))?;
    loaded.skipped.warn(path);
    Ok(loaded.rows)
}

/// Sentiment label names, and TweetEval's numeric codes 0 / 1 / 2.
fn parse_sentiment(label: &str) -> Result<Sentiment, String> {
    match label.trim().to_ascii_lowercase().as_str() {
        "negative" | "neg" | "0" => Ok(Sentiment::Negative),
        "neutral" | "neu" | "1" => Ok(Sentiment::Neutral),
        "positive" | "pos" | "2" => Ok(Sentiment::Positive),
        other => Err(format!("unknown sentiment `{other}` (expected negative, neutral or positive)")),
    }
}

fn parse_complaint(label: &str) -> Result<bool, String> {
    match label.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "complaint" => Ok(true),
        "0" | "false" | "not_complaint" => Ok(false),
        other => Err(format!("unknown complaint label `{other}` (expected 1 or 0)")),
    }
}

fn sentiment_name(sentiment: Sentiment) -> &'static str {
    match sentiment {
        Sentiment::Negative => "negative",
        Sentiment::Neutral => "neutral",
        Sentiment::Positive => "positive",
    }
}

// ------------------------------------------------------------- evaluating

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

#[derive(Debug, Serialize)]
struct SentimentReport {
    #[serde(flatten)]
    header: Header,
    macro_recall: Option<f64>,
    macro_f1: Option<f64>,
    accuracy: Option<f64>,
    per_class: Vec<ClassMetrics>,
    confusion: ConfusionMatrix,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    per_language: Vec<GroupFigures>,
}

fn evaluate_sentiment(classifier: &Classifier, rows: &[SentimentRow], header: Header) -> SentimentReport {
    let predicted = par_map(rows, |row| classifier.sentiment_of(&row.text).label);
    let mut confusion = ConfusionMatrix::new();
    let mut by_language: BTreeMap<&str, ConfusionMatrix> = BTreeMap::new();
    for (row, predicted) in rows.iter().zip(predicted) {
        let (gold, predicted) = (sentiment_name(row.gold), sentiment_name(predicted));
        confusion.add(gold, predicted);
        if let Some(lang) = &row.lang {
            by_language.entry(lang).or_default().add(gold, predicted);
        }
    }
    SentimentReport {
        header,
        macro_recall: confusion.macro_recall(),
        macro_f1: confusion.macro_f1(),
        accuracy: confusion.accuracy(),
        per_class: confusion.per_class(),
        per_language: by_language.iter().map(|(lang, m)| GroupFigures::of(lang, m, None)).collect(),
        confusion,
    }
}

/// `(score, is positive)` pairs for [`roc_auc`].
type Scored = Vec<(f64, bool)>;

const COMPLAINT: &str = "complaint";
const NOT_COMPLAINT: &str = "not_complaint";

#[derive(Debug, Serialize)]
struct ComplaintReport {
    #[serde(flatten)]
    header: Header,
    /// Scores at or above this are predicted complaints.
    threshold: f32,
    macro_f1: Option<f64>,
    accuracy: Option<f64>,
    auc: Option<f64>,
    macro_recall: Option<f64>,
    per_class: Vec<ClassMetrics>,
    confusion: ConfusionMatrix,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    per_domain: Vec<GroupFigures>,
}

/// A complaint score at or above this is a predicted complaint, as in
/// [`Classifier::complaint_score`].
const COMPLAINT_THRESHOLD: f32 = 0.5;

fn evaluate_complaints(classifier: &Classifier, rows: &[ComplaintRow], header: Header) -> ComplaintReport {
    let scores = par_map(rows, |row| classifier.complaint_score(&row.text));
    let label = |complaint: bool| if complaint { COMPLAINT } else { NOT_COMPLAINT };
    let mut confusion = ConfusionMatrix::new();
    let mut scored = Vec::with_capacity(rows.len());
    // Per domain: predicted labels and scores for ROC AUC.
    let mut by_domain: BTreeMap<&str, (ConfusionMatrix, Scored)> = BTreeMap::new();
    for (row, score) in rows.iter().zip(scores) {
        let (gold, predicted) = (label(row.complaint), label(score >= COMPLAINT_THRESHOLD));
        confusion.add(gold, predicted);
        scored.push((f64::from(score), row.complaint));
        if let Some(domain) = &row.domain {
            let (matrix, scored) = by_domain.entry(domain).or_default();
            matrix.add(gold, predicted);
            scored.push((f64::from(score), row.complaint));
        }
    }
    ComplaintReport {
        header,
        threshold: COMPLAINT_THRESHOLD,
        macro_f1: confusion.macro_f1(),
        accuracy: confusion.accuracy(),
        auc: roc_auc(&scored),
        macro_recall: confusion.macro_recall(),
        per_class: confusion.per_class(),
        per_domain: by_domain
            .iter()
            .map(|(domain, (matrix, scored))| GroupFigures::of(domain, matrix, roc_auc(scored)))
            .collect(),
        confusion,
    }
}

/// Row group keys of the language report besides the file's own kinds.
const ALL: &str = "all";
const SHORT: &str = "short";
const NOT_SHORT: &str = "not_short";
/// Kind of rows in a file without a `kind` column (tweets).
const NO_KIND: &str = "texts";
/// lingua's length classes, in the order of its published table.
const KIND_ORDER: &[&str] = &["single-words", "word-pairs", "sentences"];

#[derive(Debug, Serialize)]
struct LanguageReport {
    #[serde(flatten)]
    header: Header,
    /// Share of rows whose language is right (`und` counts as wrong).
    accuracy: Option<f64>,
    /// Mean over languages of their accuracy (= macro recall).
    macro_recall: Option<f64>,
    macro_f1: Option<f64>,
    /// Share of rows answered with a language rather than `und`.
    answered: Option<f64>,
    /// Accuracy among the answered rows: how often a given answer is right.
    precision_answered: Option<f64>,
    /// One row per length class of the file (`kind`), then `short` (under
    /// [`SHORT_TEXT_LETTERS`] letters once mentions, URLs and hashtags are
    /// removed), `not_short` and `all`.
    per_kind: Vec<KindFigures>,
    per_language: Vec<LanguageFigures>,
    per_class: Vec<ClassMetrics>,
    confusion: ConfusionMatrix,
}

#[derive(Debug, Clone, Serialize)]
struct KindFigures {
    kind: String,
    rows: u64,
    accuracy: Option<f64>,
    /// Mean over the languages present of their accuracy: the figure of
    /// lingua's published table.
    mean_accuracy_over_languages: Option<f64>,
    /// The same mean over the languages the detector can answer at all.
    mean_accuracy_over_supported_languages: Option<f64>,
    languages: usize,
    supported_languages: usize,
    answered: Option<f64>,
    precision_answered: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
struct LanguageFigures {
    lang: String,
    supported: bool,
    rows: u64,
    accuracy: Option<f64>,
    /// Accuracy per group key of [`LanguageReport::per_kind`].
    per_kind: BTreeMap<String, Option<f64>>,
}

fn kind_figures(kind: &str, matrix: &ConfusionMatrix, detector: Detector<'_>) -> KindFigures {
    let gold = matrix.gold_labels();
    let supported: Vec<f64> =
        gold.iter().filter(|lang| detector.can_answer(lang)).map(|lang| matrix.class(lang).recall).collect();
    let total = matrix.total();
    let answered = total.saturating_sub(matrix.class(UNDETERMINED).predicted);
    KindFigures {
        kind: kind.to_owned(),
        rows: total,
        accuracy: matrix.accuracy(),
        mean_accuracy_over_languages: matrix.macro_recall(),
        mean_accuracy_over_supported_languages: (!supported.is_empty())
            .then(|| supported.iter().sum::<f64>() / supported.len() as f64),
        languages: gold.len(),
        supported_languages: supported.len(),
        answered: ratio(answered, total),
        precision_answered: ratio(matrix.correct(), answered),
    }
}

/// What `smo-tools eval language` scores.
#[derive(Clone, Copy)]
enum Detector<'a> {
    /// smo's language detection, as the classify stage runs it.
    Smo(&'a Classifier),
    /// whatlang `detect` on the raw text: the baseline smo improves on.
    WhatlangOnly,
}

impl Detector<'_> {
    /// Whether the detector ever answers `code`.
    fn can_answer(self, code: &str) -> bool {
        match self {
            Self::Smo(_) => is_detectable(code),
            Self::WhatlangOnly => code != HINDI_LATIN && is_detectable(code),
        }
    }

    fn language_of(self, text: &str) -> String {
        match self {
            Self::Smo(classifier) => classifier.language_of(text, None).code,
            Self::WhatlangOnly => whatlang::detect(text)
                .and_then(|info| canonical_language_code(info.lang().code()))
                .unwrap_or(UNDETERMINED)
                .to_owned(),
        }
    }
}

fn evaluate_languages(detector: Detector<'_>, rows: &[LanguageRow], header: Header) -> LanguageReport {
    let predicted = par_map(rows, |row| (detector.language_of(&row.text), is_short_text(&row.text)));
    let mut by_kind: BTreeMap<&str, ConfusionMatrix> = BTreeMap::new();
    for (row, (code, short)) in rows.iter().zip(&predicted) {
        let kind = row.kind.as_deref().unwrap_or(NO_KIND);
        for key in [kind, if *short { SHORT } else { NOT_SHORT }, ALL] {
            by_kind.entry(key).or_default().add(&row.lang, code);
        }
    }
    // Length classes in lingua's order, other kinds by name, then ours.
    let mut kinds: Vec<&str> =
        by_kind.keys().copied().filter(|k| ![SHORT, NOT_SHORT, ALL].contains(k)).collect();
    kinds.sort_by_key(|k| (KIND_ORDER.iter().position(|o| o == k).unwrap_or(KIND_ORDER.len()), *k));
    kinds.extend([SHORT, NOT_SHORT, ALL]);
    let per_kind: Vec<KindFigures> =
        kinds.iter().filter_map(|k| by_kind.get(k).map(|matrix| kind_figures(k, matrix, detector))).collect();
    let all = by_kind.remove(ALL).unwrap_or_default();
    let per_language = all
        .gold_labels()
        .into_iter()
        .map(|lang| LanguageFigures {
            lang: lang.to_owned(),
            supported: detector.can_answer(lang),
            rows: all.support(lang),
            accuracy: Some(all.class(lang).recall),
            per_kind: kinds
                .iter()
                .filter_map(|k| {
                    let matrix = by_kind.get(k)?;
                    Some(((*k).to_owned(), (matrix.support(lang) > 0).then(|| matrix.class(lang).recall)))
                })
                .collect(),
        })
        .collect();
    let figures = kind_figures(ALL, &all, detector);
    LanguageReport {
        header,
        accuracy: figures.accuracy,
        macro_recall: all.macro_recall(),
        macro_f1: all.macro_f1(),
        answered: figures.answered,
        precision_answered: figures.precision_answered,
        per_kind,
        per_language,
        per_class: all.per_class(),
        confusion: all,
    }
}

// --------------------------------------------------------------- printing

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

// After the macros, which it uses.
mod topics;

/// Writes `text` to stdout. A closed pipe (`smo-tools eval … | head`) is not an
/// error, and never a panic as `println!` would make it.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

/// `value` as pretty JSON on stdout, through [`emit`].
pub(crate) fn emit_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("serializing the report")?;
    text.push('\n');
    emit(&text)
}

/// A fraction as a percentage with one decimal, `—` when undefined.
fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.1}", 100.0 * v))
}

fn print_header(o: &mut String, header: &Header) {
    outln!(
        o,
        "smo-tools eval {} {}: {} rows{} · {}",
        header.task,
        header.file,
        header.rows,
        if header.skipped_rows > 0 { format!(" ({} skipped)", header.skipped_rows) } else { String::new() },
        header.classifier
    );
    if let Some(in_sample) = &header.in_sample {
        outln!(
            o,
            "  NOTE: {} was trained on this file: the figures below are a training fit, not a dev-set result.",
            in_sample.model_id
        );
        match in_sample.folds {
            Some(folds) if !in_sample.cross_validated.is_empty() => {
                outln!(
                    o,
                    "  Its {folds}-fold cross-validated figures on this file (the dev-set result to report):"
                );
                outln!(
                    o,
                    "    {:<60} {:>6} {:>12} {:>9} {:>9} {:>7}",
                    "slice",
                    "rows",
                    "macro recall",
                    "macro F1",
                    "accuracy",
                    "AUC"
                );
                for slice in &in_sample.cross_validated {
                    outln!(
                        o,
                        "    {:<60} {:>6} {:>12} {:>9} {:>9} {:>7}",
                        slice.name,
                        slice.rows,
                        pct(Some(slice.macro_recall)),
                        pct(Some(slice.macro_f1)),
                        pct(Some(slice.accuracy)),
                        pct(slice.auc)
                    );
                }
            }
            _ => outln!(o, "  The model records no cross-validated figures for it."),
        }
    }
}

fn print_per_class(o: &mut String, classes: &[ClassMetrics]) {
    let width = classes.iter().map(|class| class.label.chars().count()).max().unwrap_or(0).max(16);
    outln!(
        o,
        "  {:<width$} {:>9} {:>7} {:>7} {:>8} {:>9}",
        "class",
        "precision",
        "recall",
        "F1",
        "support",
        "predicted"
    );
    for class in classes {
        outln!(
            o,
            "  {:<width$} {:>9} {:>7} {:>7} {:>8} {:>9}",
            class.label,
            pct(Some(class.precision)),
            pct(Some(class.recall)),
            pct(Some(class.f1)),
            class.support,
            class.predicted
        );
    }
}

/// The whole matrix when it fits a terminal, else its largest cells.
fn print_confusion(o: &mut String, confusion: &ConfusionMatrix) {
    const MAX_LABELS: usize = 12;
    let labels = confusion.labels();
    if labels.len() > MAX_LABELS {
        outln!(o, "  most frequent confusions (gold → predicted):");
        for (gold, predicted, count) in confusion.top_confusions(25) {
            outln!(o, "    {gold:>8} → {predicted:<8} {count:>6}");
        }
        return;
    }
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(8);
    outln!(o, "  confusion (rows gold, columns predicted):");
    out!(o, "  {:<width$}", "");
    for label in labels {
        out!(o, " {label:>width$}");
    }
    outln!(o);
    for (label, row) in labels.iter().zip(confusion.rows()) {
        out!(o, "  {label:<width$}");
        for count in row {
            out!(o, " {count:>width$}");
        }
        outln!(o);
    }
}

fn print_groups(o: &mut String, title: &str, groups: &[GroupFigures], with_auc: bool) {
    if groups.is_empty() {
        return;
    }
    out!(o, "  {:<12} {:>6} {:>12} {:>9} {:>9}", title, "rows", "macro recall", "macro F1", "accuracy");
    outln!(o, "{}", if with_auc { format!(" {:>7}", "AUC") } else { String::new() });
    for group in groups {
        out!(
            o,
            "  {:<12} {:>6} {:>12} {:>9} {:>9}",
            group.name,
            group.rows,
            pct(group.macro_recall),
            pct(group.macro_f1),
            pct(group.accuracy)
        );
        outln!(o, "{}", if with_auc { format!(" {:>7}", pct(group.auc)) } else { String::new() });
    }
}

fn print_sentiment(report: &SentimentReport) -> String {
    let o = &mut String::new();
    print_header(o, &report.header);
    outln!(o, "  macro recall {}  (published measure)", pct(report.macro_recall));
    outln!(o, "  macro F1     {}", pct(report.macro_f1));
    outln!(o, "  accuracy     {}", pct(report.accuracy));
    print_per_class(o, &report.per_class);
    print_confusion(o, &report.confusion);
    print_groups(o, "language", &report.per_language, false);
    std::mem::take(o)
}

fn print_complaints(report: &ComplaintReport) -> String {
    let o = &mut String::new();
    print_header(o, &report.header);
    outln!(o, "  macro F1     {}  (published measure)", pct(report.macro_f1));
    outln!(o, "  accuracy     {}", pct(report.accuracy));
    outln!(o, "  ROC AUC      {}", pct(report.auc));
    outln!(o, "  (complaint when score ≥ {})", report.threshold);
    print_per_class(o, &report.per_class);
    print_confusion(o, &report.confusion);
    print_groups(o, "domain", &report.per_domain, true);
    std::mem::take(o)
}

fn kind_title(kind: &str) -> String {
    match kind {
        SHORT => format!("short (<{SHORT_TEXT_LETTERS} letters)"),
        NOT_SHORT => format!("{SHORT_TEXT_LETTERS}+ letters"),
        other => other.to_owned(),
    }
}

fn print_languages(report: &LanguageReport) -> String {
    let o = &mut String::new();
    print_header(o, &report.header);
    outln!(
        o,
        "  accuracy {} · mean over languages {} · answered (not und) {} · right when answered {}",
        pct(report.accuracy),
        pct(report.macro_recall),
        pct(report.answered),
        pct(report.precision_answered)
    );
    outln!(
        o,
        "  {:<22} {:>7} {:>8} {:>10} {:>15} {:>9} {:>10}",
        "length class",
        "rows",
        "accuracy",
        "mean/lang",
        "mean/supported",
        "answered",
        "precision"
    );
    for kind in &report.per_kind {
        outln!(
            o,
            "  {:<22} {:>7} {:>8} {:>10} {:>15} {:>9} {:>10}",
            kind_title(&kind.kind),
            kind.rows,
            pct(kind.accuracy),
            pct(kind.mean_accuracy_over_languages),
            pct(kind.mean_accuracy_over_supported_languages),
            pct(kind.answered),
            pct(kind.precision_answered)
        );
    }
    outln!(
        o,
        "  (mean/lang: mean of per-language accuracy, as lingua publishes it; mean/supported: over the {} of {} languages the detector can answer; und counts as wrong)",
        report.per_kind.last().map_or(0, |k| k.supported_languages),
        report.per_kind.last().map_or(0, |k| k.languages)
    );
    let kinds: Vec<&str> = report.per_kind.iter().map(|k| k.kind.as_str()).filter(|k| *k != ALL).collect();
    out!(o, "  {:<8} {:>6} {:>7}", "language", "rows", "all");
    for kind in &kinds {
        out!(o, " {:>13}", kind_title(kind).chars().take(13).collect::<String>());
    }
    outln!(o);
    for lang in &report.per_language {
        out!(
            o,
            "  {:<8} {:>6} {:>7}",
            if lang.supported { lang.lang.clone() } else { format!("{}*", lang.lang) },
            lang.rows,
            pct(lang.accuracy)
        );
        for kind in &kinds {
            out!(o, " {:>13}", pct(lang.per_kind.get(*kind).copied().flatten()));
        }
        outln!(o);
    }
    outln!(o, "  (* not a language the detector can answer)");
    print_confusion(o, &report.confusion);
    std::mem::take(o)
}

#[cfg(test)]
mod tests {
    use smo_classify::CLASSIFIER_VERSION;

    use super::*;

    fn csv_file(content: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, content.as_bytes()).unwrap();
        file
    }

    #[test]
    fn reads_sentiment_by_header_name_and_skips_bad_rows() {
        // Columns in another order, an extra column, a quoted comma, an
        // unknown label, a short row and invalid UTF-8.
        let mut bytes =
            b"id,Sentiment,text,lang\n1,positive,\"great, thanks\",en\n2,meh,so so,en\n3,negative\n".to_vec();
        bytes.extend_from_slice(b"4,neutral,bad \xff bytes,fr\n5,0,awful,\n");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        let loaded = read_sentiment(file.path()).unwrap();
        assert_eq!(
            loaded.rows,
            vec![
                SentimentRow {
                    text: "great, thanks".into(),
                    gold: Sentiment::Positive,
                    lang: Some("en".into())
                },
                SentimentRow { text: "awful".into(), gold: Sentiment::Negative, lang: None },
            ]
        );
        assert_eq!(loaded.skipped.count, 3);
        assert!(loaded.skipped.examples[0].contains("line 3") && loaded.skipped.examples[0].contains("meh"));
        assert!(loaded.skipped.examples[1].contains("2 fields"), "{:?}", loaded.skipped.examples);
    }

    #[test]
    fn tweeteval_label_column_is_accepted() {
        let file = csv_file("text,label\nI love it,positive\nmeh,neutral\n");
        let loaded = read_sentiment(file.path()).unwrap();
        assert_eq!(loaded.rows.len(), 2);
        assert_eq!(loaded.skipped.count, 0);
    }

    #[test]
    fn a_missing_column_is_named() {
        let file = csv_file("tweet_id,text,domain\n1,hello,food\n");
        let error = read_complaints(file.path()).unwrap_err().to_string();
        assert!(error.contains("no `label` column"), "{error}");
        assert!(error.contains("tweet_id, text, domain"), "{error}");
        let file = csv_file("text,label\nhello,1\n");
        let error = read_languages(file.path()).unwrap_err().to_string();
        assert!(error.contains("`lang`"), "{error}");
    }

    #[test]
    fn a_file_without_usable_rows_is_an_error_not_a_panic() {
        for content in ["", "text,label\n", "text,label\nhello,7\n"] {
            let file = csv_file(content);
            assert!(read_complaints(file.path()).is_err(), "{content:?}");
        }
        assert!(read_sentiment(Path::new("/nonexistent/file.csv")).is_err());
    }

    #[test]
    fn complaint_report_has_the_published_figures() {
        let file = csv_file(
            "tweet_id,text,label,domain\n\
             1,\"@acme my order never arrived, worst service ever, I want a refund\",1,retail\n\
             2,\"@acme thank you so much, lovely staff!\",0,retail\n\
             3,what a beautiful day,0,\n\
             4,broken,2,food\n",
        );
        let loaded = read_complaints(file.path()).unwrap();
        assert_eq!(loaded.skipped.count, 1);
        let header = Header {
            task: "complaint",
            file: "x".into(),
            rows: 3,
            skipped_rows: 1,
            classifier: CLASSIFIER_VERSION.to_owned(),
            in_sample: None,
        };
        let report = evaluate_complaints(&Classifier::new(), &loaded.rows, header);
        assert_eq!(report.confusion.total(), 3);
        assert_eq!(report.per_domain.len(), 1);
        let json = serde_json::to_value(&report).unwrap();
        for key in ["macro_f1", "accuracy", "auc", "per_class", "confusion", "per_domain", "rows"] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
    }

    #[test]
    fn language_report_groups_by_kind_and_short_texts() {
        let file = csv_file(
            "lang,kind,text\n\
             en,sentences,My flight has been cancelled and nobody at the airport tells us anything\n\
             fr,sentences,Mon vol a été annulé et personne ne nous dit rien à l'aéroport\n\
             de,single-words,Koffer\n\
             xx,single-words,blorf\n",
        );
        let loaded = read_languages(file.path()).unwrap();
        let header = Header {
            task: "language",
            file: "x".into(),
            rows: 4,
            skipped_rows: 0,
            classifier: CLASSIFIER_VERSION.to_owned(),
            in_sample: None,
        };
        let classifier = Classifier::new();
        let report = evaluate_languages(Detector::Smo(&classifier), &loaded.rows, header);
        let kinds: Vec<&str> = report.per_kind.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["single-words", "sentences", "short", "not_short", "all"]);
        let sentences = &report.per_kind[1];
        assert_eq!(sentences.accuracy, Some(1.0));
        let short = &report.per_kind[2];
        assert_eq!((short.rows, short.languages, short.supported_languages), (2, 2, 1));
        let xx = report.per_language.iter().find(|l| l.lang == "xx").unwrap();
        assert!(!xx.supported);
        let json = serde_json::to_value(&report).unwrap();
        for key in ["accuracy", "macro_recall", "per_kind", "per_language", "per_class", "confusion"] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn par_map_keeps_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = par_map(&items, |x| x * 2);
        assert!(doubled.iter().enumerate().all(|(i, x)| *x == 2 * i as u32));
    }
}
