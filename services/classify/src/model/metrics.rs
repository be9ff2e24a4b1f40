//! The published measures, computed the way the papers compute them, so the
//! cross-validated figures `smo-tools train` prints can be set beside theirs:
//! macro-averaged recall (SemEval-2017 Task 4A), macro-averaged F1 and ROC
//! AUC (Preoțiuc-Pietro et al., 2019), accuracy, per-class figures and a
//! confusion matrix.

use crate::model::file::SliceMetrics;

/// Metrics of `predicted` against `gold` (class indexes below `classes`);
/// `positive_scores`, for binary tasks, adds ROC AUC of class 1. Classes
/// absent from both gold and predictions do not count in the macro means.
pub fn slice_metrics(
    name: &str,
    classes: usize,
    gold: &[usize],
    predicted: &[usize],
    positive_scores: Option<&[f32]>,
) -> SliceMetrics {
    let mut confusion = vec![vec![0u64; classes]; classes];
    let mut correct = 0usize;
    for (&g, &p) in gold.iter().zip(predicted) {
        if g < classes && p < classes {
            confusion[g][p] += 1;
            correct += usize::from(g == p);
        }
    }
    let mut recall = vec![0.0; classes];
    let mut f1 = vec![0.0; classes];
    let (mut recall_sum, mut recall_classes, mut f1_sum, mut f1_classes) = (0.0, 0usize, 0.0, 0usize);
    for class in 0..classes {
        let true_positives = confusion[class][class] as f64;
        let gold_count: u64 = confusion[class].iter().sum();
        let predicted_count: u64 = confusion.iter().map(|row| row[class]).sum();
        if gold_count > 0 {
            recall[class] = true_positives / gold_count as f64;
            recall_sum += recall[class];
            recall_classes += 1;
        }
        if gold_count + predicted_count > 0 {
            f1[class] = 2.0 * true_positives / (gold_count + predicted_count) as f64;
            f1_sum += f1[class];
            f1_classes += 1;
        }
    }
    let rows = gold.len().min(predicted.len());
    SliceMetrics {
        name: name.to_owned(),
        rows,
        macro_recall: mean(recall_sum, recall_classes),
        macro_f1: mean(f1_sum, f1_classes),
        accuracy: mean(correct as f64, rows),
        auc: positive_scores.and_then(|scores| {
            let positives: Vec<bool> = gold.iter().map(|&g| g == 1).collect();
            roc_auc(&positives, scores)
        }),
        recall,
        f1,
        confusion,
        macro_recall_sd: None,
        macro_f1_sd: None,
    }
}

fn mean(sum: f64, count: usize) -> f64 {
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Area under the ROC curve of `scores` for the `positive` labels (the
/// Mann–Whitney statistic, ties counting half); `None` when one class is
/// missing or a score is not finite.
pub fn roc_auc(positive: &[bool], scores: &[f32]) -> Option<f64> {
    if positive.len() != scores.len() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut positives) = (0.0f64, 0usize);
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        // Ranks are 1-based; tied scores share their mean rank.
        let rank = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            if positive[i] {
                rank_sum += rank;
                positives += 1;
            }
        }
        start = end + 1;
    }
    let negatives = scores.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_measures_on_a_known_confusion() {
        // gold: 3 neg, 2 neu, 1 pos.
        let gold = [0, 0, 0, 1, 1, 2];
        let predicted = [0, 0, 1, 1, 2, 2];
        let m = slice_metrics("t", 3, &gold, &predicted, None);
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
}
