//! Labelled CSV files for training, read by column name so every file of
//! the shared data (`sentiment/tweeteval_val.csv`: text,label;
//! `multilingual/dev.csv`: lang,text,sentiment; `airline/dev.csv`:
//! …,text,sentiment,…; `complaints/dev.csv`: tweet_id,text,label,domain)
//! and any file shaped like them can be used as is.
//!
//! Reading, by [`crate::labelled_csv`], is strict here: a missing column or
//! any row the reader skips (a label that is not one of the task's, a row of
//! the wrong length) is an error naming the file, line and value, because a
//! silently skipped row would bias the model and its reported figures.

use std::path::Path;

use crate::error::ClassifyError;
use crate::labelled_csv::{Column, LabelledCsv, LabelledCsvError, LabelledRows, Problem};
use crate::model::file::{Task, fnv1a64};

/// Column names tried, in order, for the text.
pub const TEXT_COLUMNS: &[&str] = &["text", "tweet", "content"];
/// Column names tried, in order, for a sentiment label.
pub const SENTIMENT_COLUMNS: &[&str] = &["sentiment", "label", "polarity"];
/// Column names tried, in order, for a complaint label.
pub const COMPLAINT_COLUMNS: &[&str] = &["label", "complaint", "is_complaint"];
/// Column names tried for an optional language, reported per language.
pub const LANGUAGE_COLUMNS: &[&str] = &["lang", "language"];

/// One labelled row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledText {
    /// The post's text.
    pub text: String,
    /// Its class index in the task's class order.
    pub label: usize,
    /// Its language, when the file has a language column.
    pub lang: Option<String>,
}

/// The rows of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The file's path as given.
    pub path: String,
    /// FNV-1a 64 of the file's bytes.
    pub fingerprint: u64,
    /// The rows, in file order.
    pub rows: Vec<LabelledText>,
}

impl Dataset {
    /// Rows per class, in class order.
    pub fn class_rows(&self, task: Task) -> Vec<usize> {
        let mut counts = vec![0; task.classes().len()];
        for row in &self.rows {
            if let Some(count) = counts.get_mut(row.label) {
                *count += 1;
            }
        }
        counts
    }
}

/// Reads the labelled CSV at `path` for `task`.
pub fn read_csv(path: &Path, task: Task) -> Result<Dataset, ClassifyError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ClassifyError::Dataset { path: name.clone(), reason: e.to_string() })?;
    parse_csv(&name, &bytes, task)
}

/// Parses CSV `bytes` (named `name` in errors) for `task`. A row the
/// labelled CSV reader skips is an error here, naming the first.
pub fn parse_csv(name: &str, bytes: &[u8], task: Task) -> Result<Dataset, ClassifyError> {
    let error = |reason: String| ClassifyError::Dataset { path: name.to_owned(), reason };
    let (label_role, label_columns) = match task {
        Task::Sentiment => ("sentiment label", SENTIMENT_COLUMNS),
        Task::Complaint => ("complaint label", COMPLAINT_COLUMNS),
    };
    let columns = [
        Column::required("text", TEXT_COLUMNS),
        Column::required(label_role, label_columns),
        Column::optional(LANGUAGE_COLUMNS),
    ];
    let read = LabelledCsv::from_reader(name, bytes).and_then(|csv| {
        csv.read(columns, |row, [text, label, lang]| {
            let raw_label = row.get(label).trim();
            let label = parse_label(task, raw_label)
                .ok_or_else(|| format!("label {raw_label:?} is not one of {:?}", task.classes()))?;
            let lang = row.nonblank(lang).map(str::to_owned);
            Ok(LabelledText { text: row.get(text).trim().to_owned(), label, lang })
        })
    });
    let skipped = match read {
        Ok(read) if read.skipped.count == 0 => {
            return Ok(Dataset { path: name.to_owned(), fingerprint: fnv1a64(bytes), rows: read.rows });
        }
        Ok(LabelledRows { skipped, .. }) => skipped,
        Err(LabelledCsvError { problem: Problem::NoRows { skipped }, .. }) if skipped.count > 0 => skipped,
        Err(failure) => return Err(error(failure.problem.to_string())),
    };
    let more = match skipped.count - 1 {
        0 => String::new(),
        more => format!(" (and {more} more bad row(s))"),
    };
    Err(error(format!("{}{more}", skipped.examples[0])))
}

/// The class index of a label as written in the shared data and common
/// variants (`negative`/`neg`, `1`/`true`/`complaint`…), case-insensitive.
pub fn parse_label(task: Task, label: &str) -> Option<usize> {
    let label = label.trim().to_ascii_lowercase();
    match task {
        Task::Sentiment => match label.as_str() {
            "negative" | "neg" => Some(0),
            "neutral" | "neu" => Some(1),
            "positive" | "pos" => Some(2),
            _ => None,
        },
        Task::Complaint => match label.as_str() {
            "0" | "false" | "no" | "not_complaint" | "not complaint" => Some(0),
            "1" | "true" | "yes" | "complaint" => Some(1),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_columns_by_name_in_the_shared_layouts() {
        let tweeteval =
            parse_csv("t", b"text,label\n\"a, b\",neutral\nc,positive\n", Task::Sentiment).unwrap();
        assert_eq!(tweeteval.rows[0].text, "a, b");
        assert_eq!(tweeteval.rows[1].label, 2);
        let multilingual =
            parse_csv("m", b"lang,text,sentiment\nfr,bof,negative\n", Task::Sentiment).unwrap();
        assert_eq!(multilingual.rows[0].lang.as_deref(), Some("fr"));
        let airline = parse_csv(
            "a",
            b"tweet_id,created_at,airline,text,sentiment,sentiment_confidence\n1,x,y,late again,negative,1\n",
            Task::Sentiment,
        )
        .unwrap();
        assert_eq!(airline.rows[0].label, 0);
        let complaints =
            parse_csv("c", b"tweet_id,text,label,domain\n1,lost my bag,1,transport\n", Task::Complaint)
                .unwrap();
        assert_eq!(complaints.rows[0].label, 1);
        assert_eq!(complaints.class_rows(Task::Complaint), vec![0, 1]);
    }

    #[test]
    fn errors_name_the_problem() {
        let message = |bytes: &[u8], task| parse_csv("f.csv", bytes, task).unwrap_err().to_string();
        assert!(message(b"body,label\nx,positive\n", Task::Sentiment).contains("no text column"));
        assert!(message(b"text\nx\n", Task::Sentiment).contains("label column"));
        let bad = message(b"text,label\nx,positive\ny,great\n", Task::Sentiment);
        assert!(bad.contains("line 3") && bad.contains("great"), "{bad}");
        assert!(message(b"text,label\n", Task::Complaint).contains("no rows"));
        assert!(message(b"\xff\xfe,\n\xff", Task::Complaint).contains("f.csv"));
    }
}
