//! What the author wants: complaint, question, praise or other. Decided from
//! cue phrases, question marks and interrogative openings, and the post's
//! sentiment, in this order of precedence:
//!
//! 1. **complaint** — a strong complaint cue (`still waiting`, `never
//!    arrived`, `charged twice`…); or a topic cue (`refund`, `delay`,
//!    `cancel`…) in a post that is not positive; or negative sentiment
//!    addressed to someone (`@brand`) or asked as a question. Complaints win
//!    over questions: "why is my refund still not here?" needs an agent as a
//!    complaint.
//! 2. **question** — a `?`, an interrogative opening (`how`, `can`, `¿cómo`,
//!    `pourquoi`, `wie`…) or a help-seeking phrase (`anyone know`).
//! 3. **praise** — a thanks/love/great cue in a post that is not negative, or
//!    clearly positive sentiment addressed to someone.
//! 4. **other** — everything else.
//!
//! When a trained complaint model is loaded, its probability replaces step 1
//! ([`IntentClassifier::classify_with_complaint`]); steps 2–4 stay.
//!
//! The cue lists are plain text under `lexicons/` (`complaint_cues.txt`,
//! `complaint_topics.txt`, `question_cues.txt`, `question_openings.txt`,
//! `praise_cues.txt`).

use crate::hashing::FastSet;

use smo_proto::{Intent, Sentiment, SentimentScore};

use crate::lexicons;
use crate::phrases::CueSet;
use crate::text::NormalizedText;

/// Sentiment at or below this, addressed to the brand, is a complaint.
const ADDRESSED_NEGATIVE: f32 = -0.35;
/// Sentiment at or above this, addressed to the brand, is praise.
const ADDRESSED_POSITIVE: f32 = 0.5;
/// A topic cue is not a complaint when the post is at least this positive
/// ("my refund arrived, thanks!").
const TOPIC_CUE_POSITIVE: f32 = 0.3;

/// A complaint model's probability above this makes the post a complaint.
/// Training folds the threshold chosen by cross-validation into the model's
/// bias, so this stays 0.5 whatever the model.
pub const COMPLAINT_PROBABILITY_THRESHOLD: f32 = 0.5;

/// The rule-based intent classifier. Build once and share.
#[derive(Debug, Clone)]
pub struct IntentClassifier {
    strong_complaint: CueSet,
    topic_complaint: CueSet,
    question: CueSet,
    praise: CueSet,
    openings: FastSet<&'static str>,
}

impl Default for IntentClassifier {
    fn default() -> Self {
        Self::new()
    }
}

impl IntentClassifier {
    /// Compiles the built-in cue lists.
    pub fn new() -> Self {
        Self {
            strong_complaint: CueSet::new(lexicons::entries(lexicons::COMPLAINT_CUES)),
            topic_complaint: CueSet::new(lexicons::entries(lexicons::COMPLAINT_TOPICS)),
            question: CueSet::new(lexicons::entries(lexicons::QUESTION_CUES)),
            praise: CueSet::new(lexicons::entries(lexicons::PRAISE_CUES)),
            openings: lexicons::words(lexicons::QUESTION_OPENINGS).collect(),
        }
    }

    /// The intent of `text` given its already computed `sentiment`, with
    /// the rule-based complaint detection.
    pub fn classify(&self, text: &NormalizedText, sentiment: SentimentScore) -> Intent {
        self.classify_with_complaint(text, sentiment, None)
    }

    /// The intent of `text` given its `sentiment` and, when a complaint model
    /// is loaded, its calibrated complaint probability: above
    /// [`COMPLAINT_PROBABILITY_THRESHOLD`] it is a complaint (the model
    /// replaces the complaint rules, which it has as features); questions
    /// and praise are decided by the rules either way.
    pub fn classify_with_complaint(
        &self,
        text: &NormalizedText,
        sentiment: SentimentScore,
        complaint_probability: Option<f32>,
    ) -> Intent {
        let complaint = match complaint_probability {
            Some(probability) => probability > COMPLAINT_PROBABILITY_THRESHOLD,
            None => self.is_complaint(text, sentiment),
        };
        if complaint {
            Intent::Complaint
        } else if self.is_question(text) {
            Intent::Question
        } else if self.is_praise(text, sentiment) {
            Intent::Praise
        } else {
            Intent::Other
        }
    }

    fn is_complaint(&self, text: &NormalizedText, sentiment: SentimentScore) -> bool {
        if self.strong_complaint.any(text) {
            return true;
        }
        if sentiment.score < TOPIC_CUE_POSITIVE && self.topic_complaint.any(text) {
            return true;
        }
        sentiment.score <= ADDRESSED_NEGATIVE && (text.is_addressed() || text.questions > 0)
    }

    fn is_question(&self, text: &NormalizedText) -> bool {
        if text.questions > 0 {
            return true;
        }
        let opens_with_interrogative =
            text.tokens.first().is_some_and(|first| self.openings.contains(first.word.as_str()));
        (opens_with_interrogative && text.tokens.len() >= 3) || self.question.any(text)
    }

    fn is_praise(&self, text: &NormalizedText, sentiment: SentimentScore) -> bool {
        if sentiment.label == Sentiment::Negative {
            return false;
        }
        self.praise.any(text) || (sentiment.score >= ADDRESSED_POSITIVE && text.is_addressed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::SentimentScorer;
    use crate::text::normalize;

    fn intent(raw: &str) -> Intent {
        let text = normalize(raw);
        let sentiment = SentimentScorer::new().score(&text);
        IntentClassifier::new().classify(&text, sentiment)
    }

    #[test]
    fn complaints() {
        for text in [
            "@AcmeAir still waiting for my refund after 6 weeks",
            "@ShopCo my package never arrived and no one answers the phone",
            "@BankCo you charged me twice for the same order",
            "@TelcoNet internet not working again since this morning",
            "@AcmeAir flight delayed 4 hours, zero information",
            "@AcmeAir you lost my bag. AGAIN.",
            "@StreamFlix the app keeps crashing, please fix this",
            "@Iberia sigo esperando el reembolso, nadie me contesta",
            "@SNCF train encore en retard, toujours pas de remboursement",
            "@DeutscheBahn der Zug ist schon wieder verspätet, eine Frechheit",
            "Thanks for nothing @AcmeAir",
            "@ShopCo my package was supposed to arrive Monday. It's Friday. Still nothing.",
        ] {
            assert_eq!(intent(text), Intent::Complaint, "{text}");
        }
    }

    #[test]
    fn questions() {
        for text in [
            "@AcmeAir what's the baggage allowance for economy to Madrid?",
            "@ShopCo do you ship to Canada",
            "How do I change the email on my account",
            "@Iberia ¿puedo llevar mi bicicleta en el avión?",
            "@AirFrance est-ce que le vol de 10h est maintenu ?",
            "@Lufthansa wie kann ich meinen Sitzplatz ändern",
        ] {
            assert_eq!(intent(text), Intent::Question, "{text}");
        }
    }

    #[test]
    fn complaint_wins_over_question() {
        for text in [
            "@AcmeAir why is my refund still not here?",
            "@ShopCo where is my order?? It never arrived",
            "@TelcoNet is the network down again? this is ridiculous",
        ] {
            assert_eq!(intent(text), Intent::Complaint, "{text}");
        }
    }

    #[test]
    fn praise() {
        for text in [
            "@AcmeAir thank you for the upgrade, amazing crew!",
            "Love the new app update @ShopCo",
            "@AcmeAir my refund arrived quickly, thanks!",
            "Muchas gracias @Iberia, excelente servicio",
            "Merci @AirFrance pour ce vol parfait",
        ] {
            assert_eq!(intent(text), Intent::Praise, "{text}");
        }
    }

    #[test]
    fn other() {
        for text in [
            "Reading about airline mergers this morning",
            "New store opening downtown next week",
            "",
            "😂😂😂",
        ] {
            assert_eq!(intent(text), Intent::Other, "{text:?}");
        }
    }

    #[test]
    fn complaint_probability_overrides_the_complaint_rules_only() {
        let classifier = IntentClassifier::new();
        let scorer = SentimentScorer::new();
        let with = |raw: &str, p: f32| {
            let text = normalize(raw);
            classifier.classify_with_complaint(&text, scorer.score(&text), Some(p))
        };
        assert_eq!(with("Reading about airline mergers", 0.9), Intent::Complaint);
        assert_eq!(with("@AcmeAir still waiting for my refund", 0.1), Intent::Other);
        assert_eq!(with("@AcmeAir do you ship to Canada?", 0.2), Intent::Question);
        assert_eq!(with("@AcmeAir thank you, amazing crew!", 0.1), Intent::Praise);
    }

    #[test]
    fn negated_praise_is_not_praise() {
        assert_ne!(intent("@AcmeAir not great, not great at all"), Intent::Praise);
    }
}
