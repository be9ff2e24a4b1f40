//! Multi-label topic scoring, as topic routing is published (Kecht et al.,
//! ICPM 2021): each topic is a yes/no decision per post, scored by its own
//! precision, recall and F1; the headline is the unweighted mean of the
//! per-topic F1 (macro F1), with the micro F1 over all decisions beside it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::ClassMetrics;

/// Counts of gold and predicted topics over a set of posts.
#[derive(Debug, Clone, Default)]
pub struct TopicCounts {
    /// Per topic: (true positives, predicted, support).
    topics: BTreeMap<String, (u64, u64, u64)>,
    rows: u64,
}

/// The figures of a topic evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicScores {
    /// Posts counted.
    pub rows: u64,
    /// Per topic, sorted by name.
    pub topics: Vec<ClassMetrics>,
    /// Mean of the per-topic F1 over topics with gold posts (`None` when
    /// there are none): the published measure.
    pub macro_f1: Option<f64>,
    /// Mean per-topic precision over the same topics.
    pub macro_precision: Option<f64>,
    /// Mean per-topic recall over the same topics.
    pub macro_recall: Option<f64>,
    /// F1 of all yes/no decisions pooled, which weighs frequent topics more.
    pub micro_f1: Option<f64>,
}

impl TopicCounts {
    /// Counts that know `topics` from the start, so a topic that is never
    /// gold nor predicted still shows (with zero figures).
    pub fn with_topics<'a>(topics: impl IntoIterator<Item = &'a str>) -> Self {
        Self { topics: topics.into_iter().map(|topic| (topic.to_owned(), (0, 0, 0))).collect(), rows: 0 }
    }

    /// Counts one post whose true topics are `gold` and predicted ones
    /// `predicted` (duplicates within either are ignored).
    pub fn add<'a>(
        &mut self,
        gold: impl IntoIterator<Item = &'a str>,
        predicted: impl IntoIterator<Item = &'a str>,
    ) {
        self.rows += 1;
        let mut gold: Vec<&str> = gold.into_iter().collect();
        gold.sort_unstable();
        gold.dedup();
        let mut predicted: Vec<&str> = predicted.into_iter().collect();
        predicted.sort_unstable();
        predicted.dedup();
        for topic in &gold {
            let counts = self.entry(topic);
            counts.2 += 1;
            if predicted.binary_search(topic).is_ok() {
                counts.0 += 1;
            }
        }
        for topic in predicted {
            self.entry(topic).1 += 1;
        }
    }

    fn entry(&mut self, topic: &str) -> &mut (u64, u64, u64) {
        self.topics.entry(topic.to_owned()).or_default()
    }

    /// The figures so far.
    pub fn scores(&self) -> TopicScores {
        let topics: Vec<ClassMetrics> = self
            .topics
            .iter()
            .map(|(topic, &(true_positives, predicted, support))| {
                ClassMetrics::from_counts(topic.clone(), true_positives, predicted, support)
            })
            .collect();
        let with_support: Vec<&ClassMetrics> = topics.iter().filter(|topic| topic.support > 0).collect();
        let mean = |figure: fn(&ClassMetrics) -> f64| {
            (!with_support.is_empty()).then(|| {
                with_support.iter().map(|topic| figure(topic)).sum::<f64>() / with_support.len() as f64
            })
        };
        let (true_positives, predicted, support) = self
            .topics
            .values()
            .fold((0, 0, 0), |sum, counts| (sum.0 + counts.0, sum.1 + counts.1, sum.2 + counts.2));
        let micro = ClassMetrics::from_counts("all", true_positives, predicted, support);
        TopicScores {
            rows: self.rows,
            macro_f1: mean(|topic| topic.f1),
            macro_precision: mean(|topic| topic.precision),
            macro_recall: mean(|topic| topic.recall),
            micro_f1: (support > 0 || predicted > 0).then_some(micro.f1),
            topics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_figures() {
        let mut counts = TopicCounts::with_topics(["delivery", "refund", "unused"]);
        counts.add(["delivery"], ["delivery"]);
        counts.add(["delivery", "refund"], ["delivery"]);
        counts.add([], ["refund", "refund"]);
        counts.add(["refund"], []);
        let scores = counts.scores();
        assert_eq!(scores.rows, 4);
        let delivery = &scores.topics[0];
        assert_eq!((delivery.support, delivery.predicted), (2, 2));
        assert!((delivery.f1 - 1.0).abs() < 1e-12);
        let refund = &scores.topics[1];
        assert_eq!((refund.support, refund.predicted, refund.f1), (2, 1, 0.0));
        assert_eq!(scores.topics[2].support, 0);
        // Macro over the two topics with gold posts: (1 + 0) / 2.
        assert_eq!(scores.macro_f1, Some(0.5));
        // Micro: 2 right of 3 predicted and 4 gold → P 2/3, R 1/2, F1 4/7.
        assert!((scores.micro_f1.unwrap_or_default() - 4.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn nothing_counted_is_undefined_not_nan() {
        let scores = TopicCounts::default().scores();
        assert_eq!((scores.macro_f1, scores.micro_f1), (None, None));
    }
}
