//! Urgency of a post for agents' queues, in `[0, 1]`. A weighted sum of five
//! signals, each bounded so that none can dominate alone:
//!
//! | signal | contribution |
//! | --- | --- |
//! | intent | complaint 0.40, question 0.25, praise and other 0.05; with a complaint model, a complaint 0.30 + 0.10 × P(complaint) and others at least 0.30 × P(complaint) |
//! | negative sentiment | up to 0.20, proportional to its strength |
//! | urgency cues (`outage`, `lawyer`, `injured`, `cancel my account`…; see [`Urgency`]) | 0.25 for the first, 0.05 per extra, at most 0.35 |
//! | author reach | up to 0.15: log10(followers + 1) / 6, so 1M followers is full |
//! | shouting at the brand (negative with `!!` or capitals) | 0.05 |
//!
//! A furious complaint about a safety issue from a large account lands near
//! 1; a neutral remark lands near 0.05.

use smo_proto::{Intent, SentimentScore, Urgency};

use crate::lexicons;
use crate::phrases::CueSet;
use crate::text::NormalizedText;

const COMPLAINT_BASE: f32 = 0.40;
const QUESTION_BASE: f32 = 0.25;
const OTHER_BASE: f32 = 0.05;
const NEGATIVITY_WEIGHT: f32 = 0.20;
const FIRST_URGENCY_CUE: f32 = 0.25;
const EXTRA_URGENCY_CUE: f32 = 0.05;
const MAX_EXTRA_URGENCY_CUES: usize = 2;
const REACH_WEIGHT: f32 = 0.15;
/// log10 of the follower count that earns the full reach weight.
const FULL_REACH_LOG10: f32 = 6.0;
const SHOUTING_WEIGHT: f32 = 0.05;
/// With a complaint model, a complaint's base runs from
/// `COMPLAINT_BASE - SPREAD` (probability 0) to `COMPLAINT_BASE` (1).
const SURE_COMPLAINT_SPREAD: f32 = 0.10;
/// With a complaint model, a post not flagged as complaint gets at least
/// this times its complaint probability (below 0.15 since it is below 0.5).
const UNFLAGGED_COMPLAINT_WEIGHT: f32 = 0.30;

/// Computes [`smo_proto::EnrichedPost::priority`] and
/// [`smo_proto::EnrichedPost::urgency`]. Build once and share.
#[derive(Debug, Clone)]
pub struct PriorityScorer {
    urgency: CueSet,
    /// The kind of each cue of `urgency`, in order; `None` for the
    /// `[general]` cues that raise the priority without naming a kind.
    cue_kinds: Vec<Option<Urgency>>,
}

/// The urgency cues found in one post: how many distinct ones (what the
/// priority counts) and the kinds they name (what routing and reports use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrgencyCues {
    /// Distinct cues present.
    pub cues: usize,
    /// Kinds named by those cues, sorted and unique.
    pub kinds: Vec<Urgency>,
}

impl Default for PriorityScorer {
    fn default() -> Self {
        Self::new()
    }
}

impl PriorityScorer {
    /// Compiles the built-in urgency cues.
    pub fn new() -> Self {
        let sectioned: Vec<(&str, &str)> = lexicons::sectioned(lexicons::URGENCY_CUES).collect();
        let cue_kinds = sectioned
            .iter()
            .map(|(section, _)| Urgency::ALL.into_iter().find(|kind| kind.as_str() == *section))
            .collect();
        Self { urgency: CueSet::new(sectioned.iter().map(|(_, cue)| *cue)), cue_kinds }
    }

    /// Number of distinct urgency cues in `text`.
    pub fn urgency_cues(&self, text: &NormalizedText) -> usize {
        self.urgency.count(text)
    }

    /// The urgency cues of `text` and the kinds they name.
    pub fn urgency(&self, text: &NormalizedText) -> UrgencyCues {
        let hits = self.urgency.hits(text);
        let mut found = UrgencyCues::default();
        for (hit, kind) in hits.into_iter().zip(&self.cue_kinds) {
            if hit {
                found.cues += 1;
                if let Some(kind) = kind {
                    found.kinds.push(*kind);
                }
            }
        }
        found.kinds.sort_unstable();
        found.kinds.dedup();
        found
    }

    /// Priority of a post with this `intent` and `sentiment`, written by an
    /// author with `followers` (unknown counts as none).
    pub fn score(
        &self,
        text: &NormalizedText,
        intent: Intent,
        sentiment: SentimentScore,
        followers: Option<u64>,
    ) -> f32 {
        self.score_with_complaint(text, intent, sentiment, followers, None)
    }

    /// Like [`Self::score`], with a complaint model's calibrated probability
    /// when one is loaded: the intent part then grows with the model's
    /// confidence (a sure complaint above a borderline one; a likely but
    /// unflagged complaint above plain chatter).
    pub fn score_with_complaint(
        &self,
        text: &NormalizedText,
        intent: Intent,
        sentiment: SentimentScore,
        followers: Option<u64>,
        complaint_probability: Option<f32>,
    ) -> f32 {
        let cues = self.urgency_cues(text);
        self.score_with_cues(text, cues, intent, sentiment, followers, complaint_probability)
    }

    /// [`Self::score_with_complaint`] with the urgency cues already counted
    /// (`cues` from [`Self::urgency`]), so the classifier matches them once
    /// for both the priority and the urgency kinds.
    pub fn score_with_cues(
        &self,
        text: &NormalizedText,
        cues: usize,
        intent: Intent,
        sentiment: SentimentScore,
        followers: Option<u64>,
        complaint_probability: Option<f32>,
    ) -> f32 {
        let intent_base = match intent {
            Intent::Complaint => COMPLAINT_BASE,
            Intent::Question => QUESTION_BASE,
            Intent::Praise | Intent::Other => OTHER_BASE,
        };
        let base = match complaint_probability.filter(|p| p.is_finite()).map(|p| p.clamp(0.0, 1.0)) {
            None => intent_base,
            Some(p) if intent == Intent::Complaint => {
                COMPLAINT_BASE - SURE_COMPLAINT_SPREAD + SURE_COMPLAINT_SPREAD * p
            }
            Some(p) => intent_base.max(UNFLAGGED_COMPLAINT_WEIGHT * p),
        };
        let negativity = if sentiment.score.is_finite() {
            NEGATIVITY_WEIGHT * (-sentiment.score).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let urgency = match cues {
            0 => 0.0,
            cues => FIRST_URGENCY_CUE + EXTRA_URGENCY_CUE * (cues - 1).min(MAX_EXTRA_URGENCY_CUES) as f32,
        };
        let reach = followers.map_or(0.0, |count| {
            let magnitude = ((count as f64) + 1.0).log10() as f32 / FULL_REACH_LOG10;
            REACH_WEIGHT * magnitude.clamp(0.0, 1.0)
        });
        let shouting = if sentiment.score < 0.0
            && (text.exclamations >= 2 || text.tokens.iter().any(|token| token.shouted))
        {
            SHOUTING_WEIGHT
        } else {
            0.0
        };
        let total = base + negativity + urgency + reach + shouting;
        if total.is_finite() { total.clamp(0.0, 1.0) } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use smo_proto::Sentiment;

    use super::*;
    use crate::text::normalize;

    fn sentiment(score: f32) -> SentimentScore {
        SentimentScore { label: crate::sentiment::label_for(score), score }
    }

    #[test]
    fn complaint_with_safety_issue_from_big_account_is_near_top() {
        let scorer = PriorityScorer::new();
        let text = normalize("@AcmeAir the charger EXPLODED and my son was injured!! calling my lawyer");
        assert_eq!(scorer.urgency_cues(&text), 3);
        let priority = scorer.score(&text, Intent::Complaint, sentiment(-0.9), Some(2_000_000));
        assert!(priority > 0.9, "{priority}");
        assert!(priority <= 1.0);
    }

    #[test]
    fn urgency_kinds_are_named() {
        let scorer = PriorityScorer::new();
        let kinds = |raw: &str| scorer.urgency(&normalize(raw)).kinds;
        assert_eq!(
            kinds("@AcmeAir the charger EXPLODED and my son was injured!! calling my lawyer"),
            [Urgency::Safety, Urgency::Legal]
        );
        assert_eq!(kinds("@StreamFlix I want to cancel my subscription today"), [Urgency::Cancellation]);
        assert_eq!(kinds("@TelcoNet internet down again, is there an outage?"), [Urgency::Outage]);
        assert_eq!(
            kinds("@BankCo my card was stolen and someone made a fraudulent payment"),
            [Urgency::Security]
        );
        assert_eq!(kinds("@Lufthansa ich werde kündigen, dringend"), [Urgency::Cancellation]);
        // Product names and slang are not emergencies; a bare `urgent`
        // raises the priority without naming a kind.
        assert!(kinds("my Fire TV stick keeps buffering").is_empty());
        assert!(kinds("this new song is fire").is_empty());
        let urgent = scorer.urgency(&normalize("urgent: please reply"));
        assert_eq!((urgent.cues, urgent.kinds.len()), (1, 0));
    }

    #[test]
    fn order_follows_intent_then_strength_then_reach() {
        let scorer = PriorityScorer::new();
        let plain = normalize("a post");
        let complaint = scorer.score(&plain, Intent::Complaint, sentiment(-0.5), None);
        let question = scorer.score(&plain, Intent::Question, sentiment(0.0), None);
        let praise = scorer.score(&plain, Intent::Praise, sentiment(0.8), None);
        assert!(complaint > question && question > praise);
        let angrier = scorer.score(&plain, Intent::Complaint, sentiment(-0.9), None);
        assert!(angrier > complaint);
        let famous = scorer.score(&plain, Intent::Complaint, sentiment(-0.5), Some(50_000));
        assert!(famous > complaint);
        let outage = normalize("outage: the app is down for everyone");
        assert!(scorer.score(&outage, Intent::Question, sentiment(0.0), None) > complaint);
    }

    #[test]
    fn complaint_probability_orders_within_an_intent() {
        let scorer = PriorityScorer::new();
        let plain = normalize("a post");
        let score = |intent, p| scorer.score_with_complaint(&plain, intent, sentiment(-0.2), None, Some(p));
        assert!(score(Intent::Complaint, 0.95) > score(Intent::Complaint, 0.55));
        assert!(score(Intent::Complaint, 0.55) > score(Intent::Question, 0.4));
        assert!(score(Intent::Other, 0.45) > score(Intent::Other, 0.05));
        assert!(score(Intent::Other, 0.45) < score(Intent::Question, 0.0));
        let nan = scorer.score_with_complaint(&plain, Intent::Other, sentiment(0.0), None, Some(f32::NAN));
        assert!((0.0..=1.0).contains(&nan));
    }

    #[test]
    fn always_in_unit_range() {
        let scorer = PriorityScorer::new();
        let text = normalize(&"outage lawyer fire injured hacked!!! ".repeat(1000));
        for score in [f32::NAN, f32::INFINITY, -5.0, 5.0, -1.0, 1.0] {
            for followers in [None, Some(0), Some(u64::MAX)] {
                let value = scorer.score(
                    &text,
                    Intent::Complaint,
                    SentimentScore { label: Sentiment::Negative, score },
                    followers,
                );
                assert!((0.0..=1.0).contains(&value), "{score} {followers:?} → {value}");
            }
        }
    }
}
