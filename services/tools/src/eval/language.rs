//! `smo-tools eval language`: accuracy per length class and per language,
//! and the mean over languages lingua publishes, with short texts on a row
//! of their own because detectors that do well on sentences fail there.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv::{Column, LabelledCsv, Loaded};
use super::output::{pct, print_confusion, print_header};
use super::{Header, par_map};
use serde::Serialize;
use smo_classify::Classifier;
use smo_classify::eval::{ClassMetrics, ConfusionMatrix, SHORT_TEXT_LETTERS, is_short_text, ratio};
use smo_classify::language::{HINDI_LATIN, UNDETERMINED, canonical_language_code, is_detectable};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct LanguageRow {
    pub(super) text: String,
    pub(super) lang: String,
    pub(super) kind: Option<String>,
}

pub(super) fn read_languages(path: &Path) -> anyhow::Result<Loaded<LanguageRow>> {
    let columns = [
        Column::required("`text`", &["text"]),
        Column::required("`lang`", &["lang"]),
        Column::optional(&["kind"]),
    ];
    Ok(LabelledCsv::open(path)?.read(columns, |row, [text, lang, kind]| {
        let lang = row.get(lang).trim();
        if lang.is_empty() {
            return Err("empty `lang`".to_owned());
        }
        // `eng` and `EN` are the same gold label as `en`; codes the detector
        // does not know (`hi-Latn`, `nn`) are kept as written.
        let lang = canonical_language_code(lang).map_or_else(|| lang.to_owned(), str::to_owned);
        Ok(LanguageRow { text: row.get(text).to_owned(), lang, kind: row.nonblank(kind).map(str::to_owned) })
    })?)
}

/// Row group keys of the language report besides the file's own kinds.
pub(super) const ALL: &str = "all";
pub(super) const SHORT: &str = "short";
pub(super) const NOT_SHORT: &str = "not_short";
/// Kind of rows in a file without a `kind` column (tweets).
pub(super) const NO_KIND: &str = "texts";
/// lingua's length classes, in the order of its published table.
pub(super) const KIND_ORDER: &[&str] = &["single-words", "word-pairs", "sentences"];

#[derive(Debug, Serialize)]
pub(super) struct LanguageReport {
    #[serde(flatten)]
    pub(super) header: Header,
    /// Share of rows whose language is right (`und` counts as wrong).
    pub(super) accuracy: Option<f64>,
    /// Mean over languages of their accuracy (= macro recall).
    pub(super) macro_recall: Option<f64>,
    pub(super) macro_f1: Option<f64>,
    /// Share of rows answered with a language rather than `und`.
    pub(super) answered: Option<f64>,
    /// Accuracy among the answered rows: how often a given answer is right.
    pub(super) precision_answered: Option<f64>,
    /// One row per length class of the file (`kind`), then `short` (under
    /// [`SHORT_TEXT_LETTERS`] letters once mentions, URLs and hashtags are
    /// removed), `not_short` and `all`.
    pub(super) per_kind: Vec<KindFigures>,
    pub(super) per_language: Vec<LanguageFigures>,
    pub(super) per_class: Vec<ClassMetrics>,
    pub(super) confusion: ConfusionMatrix,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct KindFigures {
    pub(super) kind: String,
    pub(super) rows: u64,
    pub(super) accuracy: Option<f64>,
    /// Mean over the languages present of their accuracy: the figure of
    /// lingua's published table.
    pub(super) mean_accuracy_over_languages: Option<f64>,
    /// The same mean over the languages the detector can answer at all.
    pub(super) mean_accuracy_over_supported_languages: Option<f64>,
    pub(super) languages: usize,
    pub(super) supported_languages: usize,
    pub(super) answered: Option<f64>,
    pub(super) precision_answered: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct LanguageFigures {
    pub(super) lang: String,
    pub(super) supported: bool,
    pub(super) rows: u64,
    pub(super) accuracy: Option<f64>,
    /// Accuracy per group key of [`LanguageReport::per_kind`].
    pub(super) per_kind: BTreeMap<String, Option<f64>>,
}

pub(super) fn kind_figures(kind: &str, matrix: &ConfusionMatrix, detector: Detector<'_>) -> KindFigures {
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
pub(super) enum Detector<'a> {
    /// smo's language detection, as the classify stage runs it.
    Smo(&'a Classifier),
    /// whatlang `detect` on the raw text: the baseline smo improves on.
    WhatlangOnly,
}

impl Detector<'_> {
    /// Whether the detector ever answers `code`.
    pub(super) fn can_answer(self, code: &str) -> bool {
        match self {
            Self::Smo(_) => is_detectable(code),
            Self::WhatlangOnly => code != HINDI_LATIN && is_detectable(code),
        }
    }

    pub(super) fn language_of(self, text: &str) -> String {
        match self {
            Self::Smo(classifier) => classifier.language_of(text, None).code,
            Self::WhatlangOnly => whatlang::detect(text)
                .and_then(|info| canonical_language_code(info.lang().code()))
                .unwrap_or(UNDETERMINED)
                .to_owned(),
        }
    }
}

pub(super) fn evaluate_languages(
    detector: Detector<'_>,
    rows: &[LanguageRow],
    header: Header,
) -> LanguageReport {
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

pub(super) fn kind_title(kind: &str) -> String {
    match kind {
        SHORT => format!("short (<{SHORT_TEXT_LETTERS} letters)"),
        NOT_SHORT => format!("{SHORT_TEXT_LETTERS}+ letters"),
        other => other.to_owned(),
    }
}

pub(super) fn print_languages(report: &LanguageReport) -> String {
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
    use crate::eval::Header;
    use crate::eval::csv::tests::csv_file;

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
}
