//! The classifier that turns a [`Post`] into an [`EnrichedPost`]: normalise
//! once, then language, sentiment, intent, tags and priority. Pure and
//! synchronous; one [`Classifier`] is built per process and shared by every
//! worker thread.

use chrono::{DateTime, Utc};
use smo_proto::{EnrichedPost, Intent, Language, Post, SCHEMA_VERSION, SentimentScore};

use crate::error::ClassifyError;
use crate::intent::IntentClassifier;
use crate::language::{LanguageDetector, validate_language_allowlist};
use crate::priority::PriorityScorer;
use crate::sentiment::SentimentScorer;
use crate::tags::{CompiledTags, TagRule};
use crate::text::NormalizedText;

/// Written into every [`EnrichedPost::classifier_version`] so results can be
/// traced to the code that produced them and recomputed when it changes.
pub const CLASSIFIER_VERSION: &str = "smo-classify/0.1-lexicon";

/// What classification needs to know about the account a post belongs to.
/// Built once per account when its configuration is loaded.
#[derive(Debug, Clone, Default)]
pub struct AccountProfile {
    /// The account's compiled topic tag rules.
    pub tags: CompiledTags,
    /// Languages the account's posts are expected in (ISO 639-1 or 639-3);
    /// `None` lets the detector consider every language it knows.
    pub languages: Option<Vec<String>>,
}

impl AccountProfile {
    /// Compiles `tag_rules` and checks `languages`, so configuration errors
    /// surface at load time with the bad rule or code named.
    pub fn new(tag_rules: &[TagRule], languages: Option<Vec<String>>) -> Result<Self, ClassifyError> {
        if let Some(languages) = &languages {
            validate_language_allowlist(languages)?;
        }
        Ok(Self { tags: CompiledTags::new(tag_rules)?, languages })
    }
}

/// Language, sentiment, intent, tags and priority of posts. Holds the
/// detectors and lexicons, built once by [`Classifier::new`]; classifying
/// only reads them, so a shared `&Classifier` serves any number of threads.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    language: LanguageDetector,
    sentiment: SentimentScorer,
    intent: IntentClassifier,
    priority: PriorityScorer,
}

impl Classifier {
    /// Builds the detectors and loads the built-in lexicons and cue lists.
    pub fn new() -> Self {
        Self::default()
    }

    /// Classifies `post` for the account described by `profile`; `now` is
    /// recorded as the classification time. Never fails: text that cannot be
    /// analysed yields `und`, neutral, `other`, no tags and a low priority.
    pub fn classify(&self, post: &Post, profile: &AccountProfile, now: DateTime<Utc>) -> EnrichedPost {
        let text = NormalizedText::new(&post.text);
        let language = self.language.detect(&text, profile.languages.as_deref());
        let sentiment = self.sentiment.score(&text);
        let intent = self.intent.classify(&text, sentiment);
        let tags = profile.tags.tags_for(&text);
        let priority = self.priority.score(&text, intent, sentiment, post.author.followers);
        EnrichedPost {
            schema_version: SCHEMA_VERSION,
            post: post.clone(),
            language,
            sentiment,
            intent,
            tags,
            priority,
            classifier_version: CLASSIFIER_VERSION.to_owned(),
            classified_at: now,
        }
    }

    /// Language of a bare text, as [`Classifier::classify`] would detect it;
    /// for evaluation and tools.
    pub fn language_of(&self, text: &str, allowlist: Option<&[String]>) -> Language {
        self.language.detect(&NormalizedText::new(text), allowlist)
    }

    /// Sentiment of a bare text, as [`Classifier::classify`] would score it.
    pub fn sentiment_of(&self, text: &str) -> SentimentScore {
        self.sentiment.score(&NormalizedText::new(text))
    }

    /// How much a bare text reads as a complaint, in `[0, 1]`; above 0.5
    /// [`Classifier::classify`] calls it a complaint. Ranking metrics (ROC
    /// AUC) use the score itself.
    pub fn complaint_score(&self, text: &str) -> f32 {
        let text = NormalizedText::new(text);
        let sentiment = self.sentiment.score(&text);
        match self.intent.classify(&text, sentiment) {
            Intent::Complaint => 0.5 + 0.5 * (-sentiment.score).clamp(0.0, 1.0),
            _ => 0.5 * (1.0 - sentiment.score.clamp(-1.0, 1.0)) / 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use smo_proto::{AccountId, Author, Engagement, Intent, PostId, Sentiment};

    use super::*;

    fn post(text: &str, followers: Option<u64>) -> Post {
        let native_id = format!("{}", text.len());
        Post {
            schema_version: SCHEMA_VERSION,
            id: PostId::derive("file:test", &native_id),
            account: AccountId::new("acme-air").unwrap_or_else(|err| panic!("{err}")),
            source: "file:test".to_owned(),
            native_id,
            author: Author {
                id: "42".to_owned(),
                handle: "traveller".to_owned(),
                display_name: None,
                followers,
            },
            text: text.to_owned(),
            url: None,
            created_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).single().unwrap_or_default(),
            in_reply_to: None,
            thread_id: None,
            engagement: Engagement::default(),
        }
    }

    fn profile() -> AccountProfile {
        AccountProfile::new(
            &[
                TagRule::new("baggage", ["bag", "bags", "luggage", "maleta"]),
                TagRule::new("refunds", ["refund*", "reembolso"]),
            ],
            Some(vec!["en".to_owned(), "es".to_owned(), "fr".to_owned()]),
        )
        .unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn classifies_an_english_complaint_end_to_end() {
        let classifier = Classifier::new();
        let now = Utc::now();
        let original = post(
            "@AcmeAir you lost my bag and I'm still waiting for a refund. Worst airline! https://t.co/x",
            Some(12_000),
        );
        let enriched = classifier.classify(&original, &profile(), now);
        assert_eq!(enriched.language.code, "en");
        assert_eq!(enriched.sentiment.label, Sentiment::Negative);
        assert_eq!(enriched.intent, Intent::Complaint);
        assert_eq!(enriched.tags, vec!["baggage", "refunds"]);
        assert!(enriched.priority > 0.6, "{}", enriched.priority);
        assert_eq!(enriched.classifier_version, CLASSIFIER_VERSION);
        assert_eq!(enriched.classified_at, now);
        assert_eq!(enriched.post, original);
    }

    #[test]
    fn classifies_spanish_praise() {
        let enriched = Classifier::new().classify(
            &post("@AcmeAir muchas gracias, recuperé mi maleta en una hora. ¡Excelente servicio!", None),
            &profile(),
            Utc::now(),
        );
        assert_eq!(enriched.language.code, "es");
        assert_eq!(enriched.sentiment.label, Sentiment::Positive);
        assert_eq!(enriched.intent, Intent::Praise);
        assert_eq!(enriched.tags, vec!["baggage"]);
        assert!(enriched.priority < 0.3);
    }

    #[test]
    fn bad_profile_is_rejected_at_load() {
        assert!(matches!(
            AccountProfile::new(&[], Some(vec!["english".to_owned()])),
            Err(ClassifyError::UnknownLanguage { .. })
        ));
        assert!(matches!(
            AccountProfile::new(&[TagRule::new("x", ["*"])], None),
            Err(ClassifyError::InvalidTagRule { .. })
        ));
    }

    #[test]
    fn classifier_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Classifier>();
        assert_send_sync::<AccountProfile>();
    }
}
