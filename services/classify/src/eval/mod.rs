//! Evaluation of the classifiers on labelled data, as the published
//! baselines measure them. Pure functions only: `smo-tools eval` reads the CSV
//! files, runs the [`crate::Classifier`] and hands gold and predicted labels
//! (or scores) to [`metrics`]; keeping the arithmetic here lets it be
//! unit-tested against hand-computed figures and reused by tests and
//! benchmarks without any I/O.

pub mod metrics;
pub mod topics;

pub use metrics::{ClassMetrics, ConfusionMatrix, ratio, roc_auc};
pub use topics::{TopicCounts, TopicScores};

use crate::text::NormalizedText;

/// Texts with fewer letters than this, once mentions, URLs and hashtags are
/// removed, are "short" and reported on their own row: the data catalogue's
/// definition, because detectors that do well on sentences fail there.
pub const SHORT_TEXT_LETTERS: usize = 20;

/// Letters of `raw` once mentions, URLs, emoji and whole hashtags are
/// removed: what a language detector actually has to go on.
pub fn letters_without_noise(raw: &str) -> usize {
    let text = NormalizedText::new(raw);
    let in_clean = text.clean.chars().filter(|c| c.is_alphabetic()).count();
    let in_hashtags: usize =
        text.hashtags.iter().map(|tag| tag.chars().filter(|c| c.is_alphabetic()).count()).sum();
    in_clean.saturating_sub(in_hashtags)
}

/// Whether `raw` is a short text in the sense of [`SHORT_TEXT_LETTERS`].
pub fn is_short_text(raw: &str) -> bool {
    letters_without_noise(raw) < SHORT_TEXT_LETTERS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_counted_without_tweet_noise() {
        assert_eq!(letters_without_noise("@someone https://t.co/abc #HashTagged ok!"), 2);
        assert_eq!(letters_without_noise("Привет, мир"), 9);
        assert!(is_short_text("@user thanks a lot 😍 #love"));
        assert!(!is_short_text("@user my flight has been cancelled again"));
        assert!(is_short_text(""));
    }
}
