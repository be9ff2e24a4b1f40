//! `smo-tools eval complaint`: macro F1 (the ACL 2019 paper's measure),
//! accuracy and ROC AUC, overall and per domain.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv::{Column, LabelledCsv, Loaded};
use super::output::{pct, print_confusion, print_groups, print_header, print_per_class};
use super::{GroupFigures, Header, par_map};
use serde::Serialize;
use smo_classify::Classifier;
use smo_classify::eval::{ClassMetrics, ConfusionMatrix, roc_auc};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct ComplaintRow {
    pub(super) text: String,
    pub(super) complaint: bool,
    pub(super) domain: Option<String>,
}

pub(super) fn read_complaints(path: &Path) -> anyhow::Result<Loaded<ComplaintRow>> {
    let columns = [
        Column::required("`text`", &["text"]),
        Column::required("`label`", &["label"]),
        Column::optional(&["domain"]),
    ];
    Ok(LabelledCsv::open(path)?.read(columns, |row, [text, label, domain]| {
        Ok(ComplaintRow {
            text: row.get(text).to_owned(),
            complaint: parse_complaint(row.get(label))?,
            domain: row.nonblank(domain).map(str::to_owned),
        })
    })?)
}

pub(super) fn parse_complaint(label: &str) -> Result<bool, String> {
    match label.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "complaint" => Ok(true),
        "0" | "false" | "not_complaint" => Ok(false),
        other => Err(format!("unknown complaint label `{other}` (expected 1 or 0)")),
    }
}

/// `(score, is positive)` pairs for [`roc_auc`].
pub(super) type Scored = Vec<(f64, bool)>;

pub(super) const COMPLAINT: &str = "complaint";
pub(super) const NOT_COMPLAINT: &str = "not_complaint";

#[derive(Debug, Serialize)]
pub(super) struct ComplaintReport {
    #[serde(flatten)]
    pub(super) header: Header,
    /// Scores at or above this are predicted complaints.
    pub(super) threshold: f32,
    pub(super) macro_f1: Option<f64>,
    pub(super) accuracy: Option<f64>,
    pub(super) auc: Option<f64>,
    pub(super) macro_recall: Option<f64>,
    pub(super) per_class: Vec<ClassMetrics>,
    pub(super) confusion: ConfusionMatrix,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) per_domain: Vec<GroupFigures>,
}

/// A complaint score at or above this is a predicted complaint, as in
/// [`Classifier::complaint_score`].
pub(super) const COMPLAINT_THRESHOLD: f32 = 0.5;

pub(super) fn evaluate_complaints(
    classifier: &Classifier,
    rows: &[ComplaintRow],
    header: Header,
) -> ComplaintReport {
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

pub(super) fn print_complaints(report: &ComplaintReport) -> String {
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

#[cfg(test)]
mod tests {
    use smo_classify::CLASSIFIER_VERSION;

    use super::*;
    use crate::eval::Header;
    use crate::eval::csv::tests::csv_file;

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
}
