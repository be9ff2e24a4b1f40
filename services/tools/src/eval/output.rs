//! Printing the reports: tables built whole in a `String`, or JSON, written
//! once to stdout so a closed pipe ends the run quietly.

use super::{GroupFigures, Header};
use anyhow::Context;
use serde::Serialize;
use smo_classify::eval::{ClassMetrics, ConfusionMatrix};

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
pub(super) fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.1}", 100.0 * v))
}

pub(super) fn print_header(o: &mut String, header: &Header) {
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

pub(super) fn print_per_class(o: &mut String, classes: &[ClassMetrics]) {
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
pub(super) fn print_confusion(o: &mut String, confusion: &ConfusionMatrix) {
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

pub(super) fn print_groups(o: &mut String, title: &str, groups: &[GroupFigures], with_auc: bool) {
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
