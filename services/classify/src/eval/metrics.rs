//! Classification metrics over string labels: a confusion matrix and what
//! the published baselines report from it (per-class precision, recall and
//! F1, macro recall, macro F1, accuracy), plus rank-based ROC AUC for
//! scores. Pure functions with no NaN in their results: an undefined figure
//! (no rows, no positives) is `None`, which serialises as `null`.

use serde::Serialize;

/// Counts of (gold, predicted) label pairs. Labels are kept sorted so that
/// matrices built from the same data in any order, or merged from parallel
/// parts, print and compare identically.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    /// Every label seen, gold or predicted, sorted.
    labels: Vec<String>,
    /// `counts[gold][predicted]`, indices into `labels`.
    counts: Vec<Vec<u64>>,
}

/// Precision, recall and F1 of one class, one-vs-rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// The class label.
    pub label: String,
    /// Of the rows predicted as this class, the share that are; 0 when none
    /// is predicted (the scikit-learn `zero_division=0` convention).
    pub precision: f64,
    /// Of the rows of this class, the share predicted as it; 0 without
    /// support.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
    /// Gold rows of this class.
    pub support: u64,
    /// Rows predicted as this class.
    pub predicted: u64,
}

impl ClassMetrics {
    /// Figures of a class from its counts: rows rightly predicted as it,
    /// rows predicted as it, and rows that are it.
    pub fn from_counts(label: impl Into<String>, true_positives: u64, predicted: u64, support: u64) -> Self {
        let precision = ratio(true_positives, predicted).unwrap_or(0.0);
        let recall = ratio(true_positives, support).unwrap_or(0.0);
        // The harmonic mean of precision and recall, 2·TP / (predicted +
        // support), computed from the counts in one division.
        let f1 = ratio(true_positives.saturating_mul(2), predicted.saturating_add(support)).unwrap_or(0.0);
        Self { label: label.into(), precision, recall, f1, support, predicted }
    }
}

impl ConfusionMatrix {
    /// An empty matrix.
    pub fn new() -> Self {
        Self::default()
    }

    /// A matrix counting every `(gold, predicted)` pair of `pairs`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut matrix = Self::new();
        for (gold, predicted) in pairs {
            matrix.add(gold, predicted);
        }
        matrix
    }

    /// Counts one row whose true label is `gold` and predicted `predicted`.
    pub fn add(&mut self, gold: &str, predicted: &str) {
        self.add_count(gold, predicted, 1);
    }

    /// Counts `count` rows at once (merging, tests).
    pub fn add_count(&mut self, gold: &str, predicted: &str, count: u64) {
        // Inserting `predicted` can shift `gold`'s index: look both up after.
        self.insert_label(gold);
        self.insert_label(predicted);
        let (Some(g), Some(p)) = (self.position(gold), self.position(predicted)) else {
            return;
        };
        if let Some(cell) = self.counts.get_mut(g).and_then(|row| row.get_mut(p)) {
            *cell = cell.saturating_add(count);
        }
    }

    /// Adds every count of `other` (for results computed in parallel).
    pub fn merge(&mut self, other: &Self) {
        for (g, gold) in other.labels.iter().enumerate() {
            for (p, predicted) in other.labels.iter().enumerate() {
                let count = other.count_at(g, p);
                if count > 0 {
                    self.add_count(gold, predicted, count);
                }
            }
        }
    }

    /// Every label seen, gold or predicted, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Rows of gold class `gold` predicted as `predicted`.
    pub fn count(&self, gold: &str, predicted: &str) -> u64 {
        match (self.position(gold), self.position(predicted)) {
            (Some(g), Some(p)) => self.count_at(g, p),
            _ => 0,
        }
    }

    /// The matrix as rows of counts, `rows()[gold][predicted]`, indexed like
    /// [`Self::labels`].
    pub fn rows(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// Number of rows counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Rows whose prediction equals the gold label.
    pub fn correct(&self) -> u64 {
        (0..self.labels.len()).map(|i| self.count_at(i, i)).sum()
    }

    /// Share of rows predicted correctly; `None` without rows.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.correct(), self.total())
    }

    /// Gold rows of `label`.
    pub fn support(&self, label: &str) -> u64 {
        self.position(label).map_or(0, |g| self.row_sum(g))
    }

    /// Labels that occur as gold labels, sorted: the classes macro averages
    /// run over. A label only ever predicted (say `und`) is not a class.
    pub fn gold_labels(&self) -> Vec<&str> {
        self.labels
            .iter()
            .enumerate()
            .filter(|(g, _)| self.row_sum(*g) > 0)
            .map(|(_, label)| label.as_str())
            .collect()
    }

    /// One-vs-rest figures for every label, gold or only predicted, sorted.
    pub fn per_class(&self) -> Vec<ClassMetrics> {
        (0..self.labels.len()).map(|i| self.class_at(i)).collect()
    }

    /// Figures of one label (all zero for a label never seen).
    pub fn class(&self, label: &str) -> ClassMetrics {
        match self.position(label) {
            Some(i) => self.class_at(i),
            None => ClassMetrics {
                label: label.to_owned(),
                precision: 0.0,
                recall: 0.0,
                f1: 0.0,
                support: 0,
                predicted: 0,
            },
        }
    }

    /// Unweighted mean of recall over the gold classes: the official
    /// SemEval-2017 sentiment measure, robust to class imbalance. `None`
    /// without rows.
    pub fn macro_recall(&self) -> Option<f64> {
        self.macro_mean(|class| class.recall)
    }

    /// Unweighted mean of F1 over the gold classes (the complaints paper's
    /// measure). A class that is never predicted contributes 0. `None`
    /// without rows.
    pub fn macro_f1(&self) -> Option<f64> {
        self.macro_mean(|class| class.f1)
    }

    /// Unweighted mean of F1 over every label, gold or only predicted (the
    /// scikit-learn convention, and the cross-validated figure `smo-tools
    /// train` records): a class the model predicts but the slice lacks
    /// counts 0. `None` without rows.
    pub fn macro_f1_over_labels(&self) -> Option<f64> {
        let classes: Vec<f64> = self.per_class().iter().map(|class| class.f1).collect();
        if classes.is_empty() { None } else { Some(classes.iter().sum::<f64>() / classes.len() as f64) }
    }

    /// Unweighted mean of precision over the gold classes.
    pub fn macro_precision(&self) -> Option<f64> {
        self.macro_mean(|class| class.precision)
    }

    /// The off-diagonal cells, largest first (ties by label), as
    /// `(gold, predicted, count)`: what to print when the matrix has too
    /// many labels to show whole.
    pub fn top_confusions(&self, limit: usize) -> Vec<(&str, &str, u64)> {
        let mut cells = Vec::new();
        for (g, gold) in self.labels.iter().enumerate() {
            for (p, predicted) in self.labels.iter().enumerate() {
                let count = self.count_at(g, p);
                if g != p && count > 0 {
                    cells.push((gold.as_str(), predicted.as_str(), count));
                }
            }
        }
        cells.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (a.0, a.1).cmp(&(b.0, b.1))));
        cells.truncate(limit);
        cells
    }

    fn macro_mean(&self, figure: impl Fn(&ClassMetrics) -> f64) -> Option<f64> {
        let classes: Vec<f64> = (0..self.labels.len())
            .filter(|g| self.row_sum(*g) > 0)
            .map(|g| figure(&self.class_at(g)))
            .collect();
        if classes.is_empty() { None } else { Some(classes.iter().sum::<f64>() / classes.len() as f64) }
    }

    fn class_at(&self, i: usize) -> ClassMetrics {
        ClassMetrics::from_counts(
            self.labels.get(i).cloned().unwrap_or_default(),
            self.count_at(i, i),
            self.column_sum(i),
            self.row_sum(i),
        )
    }

    fn count_at(&self, g: usize, p: usize) -> u64 {
        self.counts.get(g).and_then(|row| row.get(p)).copied().unwrap_or(0)
    }

    fn row_sum(&self, g: usize) -> u64 {
        self.counts.get(g).map_or(0, |row| row.iter().sum())
    }

    fn column_sum(&self, p: usize) -> u64 {
        self.counts.iter().filter_map(|row| row.get(p)).sum()
    }

    fn position(&self, label: &str) -> Option<usize> {
        self.labels.binary_search_by(|probe| probe.as_str().cmp(label)).ok()
    }

    /// Adds a row and a column for `label` if it is new.
    fn insert_label(&mut self, label: &str) {
        if let Err(i) = self.labels.binary_search_by(|probe| probe.as_str().cmp(label)) {
            self.labels.insert(i, label.to_owned());
            for row in &mut self.counts {
                row.insert(i, 0);
            }
            self.counts.insert(i, vec![0; self.labels.len()]);
        }
    }
}

/// `numerator / denominator`, `None` when the denominator is 0.
pub fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Area under the ROC curve of `scores` (higher = more likely positive)
/// against `positive` labels: the probability that a random positive
/// outranks a random negative, ties counting one half (Mann-Whitney U with
/// average ranks). `None` when either class is absent. Scores are ordered by
/// [`f64::total_cmp`], so NaN never panics (it ranks above every number).
pub fn roc_auc(scored: &[(f64, bool)]) -> Option<f64> {
    let positives = scored.iter().filter(|(_, positive)| *positive).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut positive_rank_sum = 0.0_f64;
    let mut start = 0usize;
    while start < sorted.len() {
        let mut end = start + 1;
        while end < sorted.len() && sorted[end].0.total_cmp(&sorted[start].0).is_eq() {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = sorted[start..end].iter().filter(|(_, positive)| *positive).count();
        positive_rank_sum += mean_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    let u = positive_rank_sum - p * (p + 1.0) / 2.0;
    Some((u / (p * n)).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// gold:  a a a a b b b c c c
    /// pred:  a a b c b b a c c b
    fn example() -> ConfusionMatrix {
        let gold = ["a", "a", "a", "a", "b", "b", "b", "c", "c", "c"];
        let predicted = ["a", "a", "b", "c", "b", "b", "a", "c", "c", "b"];
        ConfusionMatrix::from_pairs(gold.into_iter().zip(predicted))
    }

    #[test]
    fn confusion_counts_and_accuracy() {
        let m = example();
        assert_eq!(m.labels(), ["a", "b", "c"]);
        assert_eq!(m.rows(), [vec![2, 1, 1], vec![1, 2, 0], vec![0, 1, 2]]);
        assert_eq!(m.total(), 10);
        assert_eq!(m.correct(), 6);
        assert_eq!(m.accuracy(), Some(0.6));
        assert_eq!(m.count("a", "c"), 1);
        assert_eq!(m.count("a", "zzz"), 0);
        assert_eq!(m.support("b"), 3);
    }

    #[test]
    fn new_labels_sorting_before_existing_ones_keep_counts_in_place() {
        let mut m = ConfusionMatrix::new();
        m.add("b", "a");
        m.add("c", "a");
        m.add("d", "0");
        assert_eq!(m.labels(), ["0", "a", "b", "c", "d"]);
        assert_eq!((m.count("b", "a"), m.count("c", "a"), m.count("d", "0")), (1, 1, 1));
        assert_eq!((m.support("b"), m.support("a"), m.total()), (1, 0, 3));
    }

    #[test]
    fn per_class_figures_match_hand_computation() {
        let m = example();
        // a: tp 2, predicted 3 (2 + 1 from b), support 4.
        let a = m.class("a");
        assert!(close(a.precision, 2.0 / 3.0) && close(a.recall, 0.5));
        assert!(close(a.f1, 2.0 * (2.0 / 3.0) * 0.5 / (2.0 / 3.0 + 0.5)));
        assert_eq!((a.support, a.predicted), (4, 3));
        // b: tp 2, predicted 4, support 3.
        let b = m.class("b");
        assert!(close(b.precision, 0.5) && close(b.recall, 2.0 / 3.0));
        // c: tp 2, predicted 3, support 3.
        let c = m.class("c");
        assert!(close(c.precision, 2.0 / 3.0) && close(c.recall, 2.0 / 3.0) && close(c.f1, 2.0 / 3.0));

        let macro_recall = (0.5 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0;
        assert!(close(m.macro_recall().unwrap(), macro_recall));
        let f1_a = 4.0 / 7.0; // 2·(2/3)(1/2) / (7/6)
        let f1_b = 4.0 / 7.0; // 2·(1/2)(2/3) / (7/6)
        let macro_f1 = (f1_a + f1_b + 2.0 / 3.0) / 3.0;
        assert!(close(m.macro_f1().unwrap(), macro_f1), "{:?}", m.macro_f1());
        assert!(close(m.macro_precision().unwrap(), (2.0 / 3.0 + 0.5 + 2.0 / 3.0) / 3.0));
    }

    #[test]
    fn predicted_only_labels_are_not_classes_but_cost_recall() {
        // `und` is only predicted: it lowers recall of `en` but is not
        // averaged itself.
        let m = ConfusionMatrix::from_pairs([("en", "en"), ("en", "und"), ("fr", "fr"), ("fr", "fr")]);
        assert_eq!(m.gold_labels(), ["en", "fr"]);
        assert_eq!(m.per_class().len(), 3);
        assert!(close(m.macro_recall().unwrap(), 0.75));
        let und = m.class("und");
        assert_eq!((und.support, und.predicted, und.recall), (0, 1, 0.0));
        // A class never predicted has precision 0 and F1 0, not NaN.
        let m = ConfusionMatrix::from_pairs([("pos", "neg"), ("neg", "neg")]);
        let pos = m.class("pos");
        assert_eq!((pos.precision, pos.recall, pos.f1), (0.0, 0.0, 0.0));
        assert!(close(m.macro_f1().unwrap(), (0.0 + 2.0 / 3.0) / 2.0));
    }

    #[test]
    fn empty_matrix_has_no_figures() {
        let m = ConfusionMatrix::new();
        assert_eq!(m.accuracy(), None);
        assert_eq!(m.macro_recall(), None);
        assert_eq!(m.macro_f1(), None);
        assert!(m.per_class().is_empty());
        assert_eq!(m.class("x").f1, 0.0);
    }

    #[test]
    fn merge_equals_counting_everything_once() {
        let gold = ["a", "b", "c", "a", "d"];
        let predicted = ["a", "c", "c", "b", "a"];
        let whole = ConfusionMatrix::from_pairs(gold.into_iter().zip(predicted));
        let mut left =
            ConfusionMatrix::from_pairs(gold[..2].iter().copied().zip(predicted[..2].iter().copied()));
        let right =
            ConfusionMatrix::from_pairs(gold[2..].iter().copied().zip(predicted[2..].iter().copied()));
        left.merge(&right);
        assert_eq!(left, whole);
        assert_eq!(whole.top_confusions(2), vec![("a", "b", 1), ("b", "c", 1)]);
    }

    #[test]
    fn auc_of_perfect_reversed_and_tied_rankings() {
        let perfect = [(0.1, false), (0.2, false), (0.8, true), (0.9, true)];
        assert_eq!(roc_auc(&perfect), Some(1.0));
        let reversed = [(0.9, false), (0.8, false), (0.2, true), (0.1, true)];
        assert_eq!(roc_auc(&reversed), Some(0.0));
        // All tied: every positive-negative pair counts one half.
        let tied = [(0.5, false), (0.5, true), (0.5, true)];
        assert_eq!(roc_auc(&tied), Some(0.5));
        assert_eq!(roc_auc(&[(0.3, true)]), None);
        assert_eq!(roc_auc(&[]), None);
    }

    #[test]
    fn auc_matches_pair_counting_with_ties() {
        // Positives 0.8, 0.4, 0.4; negatives 0.4, 0.3, 0.1.
        // Pairs (6+3 = 9): 0.8 beats all 3 → 3; each 0.4 beats 0.3 and 0.1
        // and ties 0.4 → 2.5 each. AUC = (3 + 2.5 + 2.5) / 9 = 8/9.
        let scored = [(0.8, true), (0.4, true), (0.4, true), (0.4, false), (0.3, false), (0.1, false)];
        assert!(close(roc_auc(&scored).unwrap(), 8.0 / 9.0));
        // NaN does not panic and the result stays in [0, 1].
        let auc = roc_auc(&[(f64::NAN, true), (0.2, false), (0.1, true)]).unwrap();
        assert!((0.0..=1.0).contains(&auc));
    }
}
