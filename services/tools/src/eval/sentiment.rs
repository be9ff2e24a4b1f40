//! `smo-tools eval sentiment`: macro recall over negative / neutral /
//! positive, the SemEval-2017 measure, overall and per language.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv::{Column, LabelledCsv, Loaded};
use super::output::{pct, print_confusion, print_groups, print_header, print_per_class};
use super::{GroupFigures, Header, par_map};
use serde::Serialize;
use smo_classify::Classifier;
use smo_classify::eval::{ClassMetrics, ConfusionMatrix};
use smo_proto::Sentiment;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SentimentRow {
    pub(super) text: String,
    pub(super) gold: Sentiment,
    pub(super) lang: Option<String>,
}

/// `text` and `sentiment` (multilingual set) or `label` (TweetEval), and
/// `lang` when present.
pub(super) fn read_sentiment(path: &Path) -> anyhow::Result<Loaded<SentimentRow>> {
    let columns = [
        Column::required("`text`", &["text"]),
        Column::required("sentiment label", &["sentiment", "label"]),
        Column::optional(&["lang"]),
    ];
    Ok(LabelledCsv::open(path)?.read(columns, |row, [text, label, lang]| {
        Ok(SentimentRow {
            text: row.get(text).to_owned(),
            gold: parse_sentiment(row.get(label))?,
            lang: row.nonblank(lang).map(str::to_owned),
        })
    })?)
}

/// Sentiment label names, and TweetEval's numeric codes 0 / 1 / 2.
pub(super) fn parse_sentiment(label: &str) -> Result<Sentiment, String> {
    match label.trim().to_ascii_lowercase().as_str() {
        "negative" | "neg" | "0" => Ok(Sentiment::Negative),
        "neutral" | "neu" | "1" => Ok(Sentiment::Neutral),
        "positive" | "pos" | "2" => Ok(Sentiment::Positive),
        other => Err(format!("unknown sentiment `{other}` (expected negative, neutral or positive)")),
    }
}

pub(super) fn sentiment_name(sentiment: Sentiment) -> &'static str {
    match sentiment {
        Sentiment::Negative => "negative",
        Sentiment::Neutral => "neutral",
        Sentiment::Positive => "positive",
    }
}

#[derive(Debug, Serialize)]
pub(super) struct SentimentReport {
    #[serde(flatten)]
    pub(super) header: Header,
    pub(super) macro_recall: Option<f64>,
    pub(super) macro_f1: Option<f64>,
    pub(super) accuracy: Option<f64>,
    pub(super) per_class: Vec<ClassMetrics>,
    pub(super) confusion: ConfusionMatrix,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) per_language: Vec<GroupFigures>,
}

pub(super) fn evaluate_sentiment(
    classifier: &Classifier,
    rows: &[SentimentRow],
    header: Header,
) -> SentimentReport {
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

pub(super) fn print_sentiment(report: &SentimentReport) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::csv::tests::csv_file;

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
}
