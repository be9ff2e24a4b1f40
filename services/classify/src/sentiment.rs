//! Lexicon-and-rules polarity scorer. Each known word carries a weight
//! (positive or negative, roughly 0.5 to 3.5); the rules then adjust it:
//!
//! - **negation**: a negator (`not`, `never`, `no`, `n't`, `pas`, `nicht`…)
//!   within the three previous words of the same clause flips the weight and
//!   damps it (`not good` is bad, `not bad` is only mildly good);
//! - **intensifiers** (`very`, `so`, `muy`, `très`, `sehr`…) right before a
//!   word scale it up, **downtoners** (`slightly`, `kinda`) scale it down;
//! - **contrast**: after `but` / `pero` / `mais` / `aber` the clause that
//!   follows weighs more than the one before;
//! - **emphasis**: a word in capitals weighs more, and `!` pushes the total
//!   away from zero;
//! - **emoticons and emoji** stripped by normalisation add their polarity.
//!
//! The sum is squashed into `[-1, 1]` with `tanh`, and scores within the
//! neutral band are labelled neutral. The weights are hand-set; this scorer
//! is the fallback when no trained sentiment model is loaded, and its score
//! is one of the trained models' features (see [`crate::model::features`]).
//! [`score_from_probabilities`] turns a trained model's output into the same
//! [`SentimentScore`].

use crate::hashing::{FastMap, FastSet};

use smo_proto::{Sentiment, SentimentScore};

use crate::lexicons;
use crate::model::Probabilities;
use crate::text::{NormalizedText, Token};

/// Scores within `(-NEUTRAL_BAND, NEUTRAL_BAND)` are labelled neutral.
pub const NEUTRAL_BAND: f32 = 0.2;

/// Divides the raw sum before `tanh`: one clearly positive word (`good`, 2)
/// gives about 0.5, a few strong ones approach 1.
const SQUASH: f32 = 3.5;
/// How far back a negator reaches, in words.
const NEGATION_WINDOW: usize = 3;
/// A negated positive word becomes this fraction of its weight, negative.
const NEGATED_POSITIVE: f32 = -0.75;
/// A negated negative word becomes this fraction of its weight, positive.
const NEGATED_NEGATIVE: f32 = -0.5;
/// Weight of a shouted word relative to a normal one.
const SHOUT_BOOST: f32 = 1.4;
/// Weight of words before a contrast word, and after it.
const BEFORE_CONTRAST: f32 = 0.5;
const AFTER_CONTRAST: f32 = 1.5;
/// Weight of one emoticon or emoji, and how many count at most.
const EMOTIVE_WEIGHT: f32 = 1.5;
const MAX_EMOTIVES: u32 = 3;
/// Push away from zero per `!`, and how many count at most.
const EXCLAMATION_PUSH: f32 = 0.3;
const MAX_EXCLAMATIONS: u32 = 3;

/// Words that, right after a negator, make an idiom rather than a negation:
/// the negator does not reach the polar word after them (`can't believe how
/// good`, `not only fast`).
const NEGATION_IDIOMS: &[&str] = &["believe", "wait", "only", "doubt"];
/// Polar words that right after a negator mean something positive as a
/// whole (`can't wait`, `can't complain`), with the idiom's weight.
const NEGATED_IDIOM_WEIGHTS: &[(&str, f32)] = &[("wait", 2.0), ("complain", 1.5)];

/// The lexicon-and-rules scorer. Build once ([`SentimentScorer::new`]) and
/// share: scoring only reads it.
#[derive(Debug, Clone)]
pub struct SentimentScorer {
    valence: FastMap<&'static str, f32>,
    intensity: FastMap<&'static str, f32>,
    negators: FastSet<&'static str>,
    contrasts: FastSet<&'static str>,
}

impl Default for SentimentScorer {
    fn default() -> Self {
        Self::new()
    }
}

/// The polar words of a text after the scorer's rules: their summed
/// weight, and positive and negative apart (a text can be both), for the
/// trained models' lexicon features.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Evidence {
    /// Sum of every polar word's weight.
    pub sum: f32,
    /// Sum of the positive weights.
    pub positive: f32,
    /// Sum of the negative weights, as a positive number.
    pub negative: f32,
    /// Words with a positive weight.
    pub positive_words: u32,
    /// Words with a negative weight.
    pub negative_words: u32,
    /// Largest positive weight.
    pub strongest_positive: f32,
    /// Largest negative weight, as a positive number.
    pub strongest_negative: f32,
}

impl Evidence {
    fn add(&mut self, value: f32) {
        if !value.is_finite() {
            return;
        }
        self.sum += value;
        if value > 0.0 {
            self.positive += value;
            self.positive_words += 1;
            self.strongest_positive = self.strongest_positive.max(value);
        } else if value < 0.0 {
            self.negative -= value;
            self.negative_words += 1;
            self.strongest_negative = self.strongest_negative.max(-value);
        }
    }
}

impl SentimentScorer {
    /// Loads the built-in lexicons.
    pub fn new() -> Self {
        Self::with_lexicons(&[lexicons::SENTIMENT])
    }

    /// The built-in lexicon extended with the VADER lexicon's 7,000 English
    /// words (`lexicons/vader.txt`, MIT): far more words than the hand-made
    /// list, which is what a model trained on a few thousand tweets lacks
    /// most. Where both list a word, the built-in weight wins. Only the
    /// trained models' features use it; the lexicon-only fallback keeps the
    /// hand-tuned list its thresholds were set for.
    pub(crate) fn extended() -> Self {
        Self::with_lexicons(&[lexicons::SENTIMENT, lexicons::VADER])
    }

    fn with_lexicons(lists: &[&'static str]) -> Self {
        let mut valence = FastMap::default();
        for list in lists {
            for (weight, word) in lexicons::weighted(list) {
                // The first listing wins: English comes first, so a spelling
                // shared with another language keeps its English weight.
                valence.entry(word).or_insert(weight);
            }
        }
        let mut intensity = FastMap::default();
        for (factor, word) in lexicons::weighted(lexicons::INTENSIFIERS) {
            intensity.entry(word).or_insert(factor);
        }
        Self {
            valence,
            intensity,
            negators: lexicons::words(lexicons::NEGATORS).collect(),
            contrasts: lexicons::words(lexicons::CONTRASTS).collect(),
        }
    }

    /// Number of words in the lexicon, for reports and tests.
    pub fn lexicon_len(&self) -> usize {
        self.valence.len()
    }

    /// Weight of `word` in the lexicon, if it has one; a feature of the
    /// trained models.
    pub(crate) fn valence(&self, word: &str) -> Option<f32> {
        self.valence.get(word).copied()
    }

    /// Polarity of `text`.
    pub fn score(&self, text: &NormalizedText) -> SentimentScore {
        let raw = self.raw_score(text);
        let score = if raw.is_finite() { (raw / SQUASH).tanh().clamp(-1.0, 1.0) } else { 0.0 };
        SentimentScore { label: label_for(score), score }
    }

    /// [`Self::score`] and the [`Evidence`] it was computed from, in one
    /// pass over the words.
    pub(crate) fn score_with_evidence(&self, text: &NormalizedText) -> (SentimentScore, Evidence) {
        let evidence = self.evidence(text);
        let raw = self.raw_score_of(text, evidence.sum);
        let score = if raw.is_finite() { (raw / SQUASH).tanh().clamp(-1.0, 1.0) } else { 0.0 };
        (SentimentScore { label: label_for(score), score }, evidence)
    }

    fn raw_score(&self, text: &NormalizedText) -> f32 {
        self.raw_score_of(text, self.evidence(text).sum)
    }

    /// The words' sum plus emoticons and `!`.
    fn raw_score_of(&self, text: &NormalizedText, words: f32) -> f32 {
        let mut sum = words;
        let positive = text.emotive.positive.min(MAX_EMOTIVES) as f32;
        let negative = text.emotive.negative.min(MAX_EMOTIVES) as f32;
        sum += EMOTIVE_WEIGHT * (positive - negative);
        if sum != 0.0 {
            let exclamations = text.exclamations.min(MAX_EXCLAMATIONS) as f32;
            sum += sum.signum() * EXCLAMATION_PUSH * exclamations;
        }
        sum
    }

    /// What the words of `text` say after the rules (negation, intensity,
    /// emphasis, contrast), before emoticons and `!` are added.
    pub(crate) fn evidence(&self, text: &NormalizedText) -> Evidence {
        let tokens = &text.tokens;
        let last_contrast = tokens.iter().rposition(|token| self.contrasts.contains(token.word.as_str()));
        let emphasis_is_style = text.is_all_caps();
        let mut evidence = Evidence::default();
        for (index, token) in tokens.iter().enumerate() {
            let Some(&weight) = self.valence.get(token.word.as_str()) else {
                continue;
            };
            if let Some(&(_, idiom_weight)) =
                NEGATED_IDIOM_WEIGHTS.iter().find(|(word, _)| *word == token.word)
                && self.follows_negator(tokens, index)
            {
                evidence.add(idiom_weight);
                continue;
            }
            let mut value = weight * self.intensity_before(tokens, index);
            if token.shouted && !emphasis_is_style {
                value *= SHOUT_BOOST;
            }
            if self.is_negated(tokens, index) {
                value *= if value > 0.0 { NEGATED_POSITIVE } else { NEGATED_NEGATIVE };
            }
            if let Some(contrast) = last_contrast {
                value *= if index < contrast { BEFORE_CONTRAST } else { AFTER_CONTRAST };
            }
            evidence.add(value);
        }
        evidence
    }

    /// Product of the intensifiers right before `index` (`very very good`).
    fn intensity_before(&self, tokens: &[Token], index: usize) -> f32 {
        let mut factor = 1.0;
        let mut position = index;
        while position > 0 && !tokens[position].clause_start {
            position -= 1;
            match self.intensity.get(tokens[position].word.as_str()) {
                Some(&scale) => factor *= scale,
                None => break,
            }
        }
        factor
    }

    /// Whether the word right before `index`, in the same clause, is a negator.
    fn follows_negator(&self, tokens: &[Token], index: usize) -> bool {
        index > 0 && !tokens[index].clause_start && self.is_negator(&tokens[index - 1].word)
    }

    fn is_negator(&self, word: &str) -> bool {
        self.negators.contains(word) || word.ends_with("n't")
    }

    /// Whether a negator precedes `index` within the window, in its clause.
    fn is_negated(&self, tokens: &[Token], index: usize) -> bool {
        let mut position = index;
        for _ in 0..NEGATION_WINDOW {
            if position == 0 || tokens[position].clause_start {
                return false;
            }
            position -= 1;
            if self.is_negator(&tokens[position].word) {
                let next = tokens[position + 1].word.as_str();
                return !NEGATION_IDIOMS.contains(&next);
            }
        }
        false
    }
}

/// Sentiment from a trained model's probabilities in
/// [`crate::model::Task::Sentiment`]'s class order (negative, neutral,
/// positive): the label is the most probable class (what cross-validation
/// measured) and the score is `P(positive) − P(negative)`, in `[-1, 1]`, so
/// sorting by score still ranks posts from angriest to happiest.
pub fn score_from_probabilities(probabilities: &Probabilities) -> SentimentScore {
    let label = match probabilities.argmax() {
        0 => Sentiment::Negative,
        2 => Sentiment::Positive,
        _ => Sentiment::Neutral,
    };
    let score = probabilities.get(2) - probabilities.get(0);
    SentimentScore { label, score: if score.is_finite() { score.clamp(-1.0, 1.0) } else { 0.0 } }
}

/// Label of a squashed score, with the neutral band.
pub fn label_for(score: f32) -> Sentiment {
    if score >= NEUTRAL_BAND {
        Sentiment::Positive
    } else if score <= -NEUTRAL_BAND {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn score(text: &str) -> SentimentScore {
        SentimentScorer::new().score(&normalize(text))
    }

    #[test]
    fn lexicon_has_a_few_hundred_words() {
        assert!(SentimentScorer::new().lexicon_len() > 500);
    }

    #[test]
    fn score_with_evidence_scores_like_score_and_splits_the_words() {
        let scorer = SentimentScorer::extended();
        for text in ["great crew but the food was dreadful :(", "not bad at all!", "the gate is B12", ""] {
            let normalized = normalize(text);
            let (score, evidence) = scorer.score_with_evidence(&normalized);
            assert_eq!(score, scorer.score(&normalized), "{text}");
            assert!((evidence.positive - evidence.negative - evidence.sum).abs() < 1e-5, "{text}");
        }
        let (_, mixed) = scorer.score_with_evidence(&normalize("great crew but the food was dreadful"));
        assert_eq!((mixed.positive_words, mixed.negative_words), (1, 1));
        assert!(SentimentScorer::extended().lexicon_len() > SentimentScorer::new().lexicon_len() + 5_000);
    }

    #[test]
    fn clear_praise_and_clear_complaints() {
        let praise = score("@AcmeAir the crew was amazing and so friendly, thank you!");
        assert_eq!(praise.label, Sentiment::Positive, "{praise:?}");
        assert!(praise.score > 0.6);
        let complaint = score("@AcmeAir worst airline ever. Rude staff and my bag is lost");
        assert_eq!(complaint.label, Sentiment::Negative, "{complaint:?}");
        assert!(complaint.score < -0.6);
    }

    #[test]
    fn facts_are_neutral() {
        for text in [
            "Flight AA123 departs from gate 12 at 6pm",
            "@acme what time does the store open on Sunday?",
            "",
            "😂",
        ] {
            assert_eq!(score(text).label, Sentiment::Neutral, "{text}");
        }
    }

    #[test]
    fn negation_flips_and_damps() {
        let good = score("the service was good");
        let not_good = score("the service was not good");
        assert_eq!(good.label, Sentiment::Positive);
        assert_eq!(not_good.label, Sentiment::Negative, "{not_good:?}");
        assert!(not_good.score.abs() < good.score.abs());
        assert!(score("honestly the food wasn't bad").score > 0.0);
        assert!(score("the app doesn't work and it isn't helpful").score < 0.0);
        // Negation stops at punctuation.
        assert_eq!(score("No, it was great").label, Sentiment::Positive);
        // Idioms are not negations.
        assert_eq!(score("can't believe how good this is").label, Sentiment::Positive);
        assert_eq!(score("can't wait to fly with you again").label, Sentiment::Positive);
    }

    #[test]
    fn negation_in_other_languages() {
        assert_eq!(score("el servicio no es bueno").label, Sentiment::Negative);
        assert_eq!(score("ce n'est pas bon du tout").label, Sentiment::Negative);
        assert_eq!(score("das Essen war nicht gut").label, Sentiment::Negative);
    }

    #[test]
    fn intensifiers_capitals_and_exclamations_strengthen() {
        let plain = score("the seats were bad").score;
        assert!(score("the seats were very bad").score < plain);
        assert!(score("the seats were BAD").score < plain);
        assert!(score("the seats were bad!!!").score < plain);
        assert!(score("the seats were slightly bad").score > plain);
    }

    #[test]
    fn contrast_weighs_the_second_clause() {
        assert_eq!(
            score("The crew was nice but the delay was terrible and the food awful").label,
            Sentiment::Negative
        );
        assert_eq!(score("The wait was long but the staff were amazing").label, Sentiment::Positive);
    }

    #[test]
    fn emoticons_and_emoji_count() {
        assert_eq!(score("flight landed 😍🎉").label, Sentiment::Positive);
        assert_eq!(score("flight landed :(").label, Sentiment::Negative);
    }

    #[test]
    fn other_languages() {
        assert_eq!(score("Excelente servicio, muchas gracias").label, Sentiment::Positive);
        assert_eq!(score("Service client nul, quelle honte").label, Sentiment::Negative);
        assert_eq!(score("Der Kundenservice ist eine Frechheit").label, Sentiment::Negative);
        assert_eq!(score("Atendimento péssimo, que vergonha").label, Sentiment::Negative);
        assert_eq!(score("Servizio ottimo, grazie mille").label, Sentiment::Positive);
    }

    #[test]
    fn score_stays_in_range() {
        let many = "worst terrible awful ".repeat(10_000);
        let value = score(&many).score;
        assert!((-1.0..=1.0).contains(&value));
        assert!(value < -0.99);
    }
}
