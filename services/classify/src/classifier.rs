//! The classifier that turns a [`Post`] into an [`EnrichedPost`]: normalise
//! once, then language, sentiment, intent, tags and priority. Pure and
//! synchronous; one [`Classifier`] is built per process and shared by every
//! worker thread.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use smo_proto::{EnrichedPost, Intent, Language, Post, SCHEMA_VERSION, SentimentScore};

use crate::error::ClassifyError;
use crate::intent::IntentClassifier;
use crate::language::{LanguageDetector, validate_language_allowlist};
use crate::model::{Features, ModelError, ModelHeader, Task, TextModel};
use crate::near_duplicates::{Fingerprint, NearDuplicateWindow};
use crate::priority::PriorityScorer;
use crate::rules::PostView;
use crate::sentiment::{SentimentScorer, score_from_probabilities};
use crate::spam::SpamScorer;
use crate::tags::{CompiledTags, TagRule};
use crate::text::NormalizedText;

/// The code's part of every [`EnrichedPost::classifier_version`], so results
/// can be traced to what produced them and recomputed when it changes; the
/// classifier appends `+lexicon` or the loaded models' ids
/// (`+sentiment-1a2b3c4d+complaint-5e6f7a8b`), see [`Classifier::version`].
pub const CLASSIFIER_VERSION: &str = "smo-classify/0.2";

/// File name of the sentiment model in a models directory.
pub const SENTIMENT_MODEL_FILE: &str = "sentiment.smo";
/// File name of the complaint model in a models directory.
pub const COMPLAINT_MODEL_FILE: &str = "complaint.smo";

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
/// detectors, lexicons and trained models, built once by [`Classifier::new`]
/// (lexicons only) or [`Classifier::with_models`]; classifying only reads
/// them, so a shared `&Classifier` serves any number of threads.
#[derive(Debug, Clone)]
pub struct Classifier {
    language: LanguageDetector,
    sentiment: SentimentScorer,
    intent: IntentClassifier,
    priority: PriorityScorer,
    models: Arc<TrainedModels>,
    version: String,
}

/// The trained models a classifier uses, if any.
#[derive(Default)]
struct TrainedModels {
    sentiment: Option<TextModel>,
    complaint: Option<TextModel>,
    /// Both models use the same features: extract once.
    shared_features: bool,
}

/// Names the models instead of printing hundreds of thousands of weights.
impl std::fmt::Debug for TrainedModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = |model: &Option<TextModel>| model.as_ref().map(|m| m.header().model_id.clone());
        f.debug_struct("TrainedModels")
            .field("sentiment", &id(&self.sentiment))
            .field("complaint", &id(&self.complaint))
            .field("shared_features", &self.shared_features)
            .finish()
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Classifier {
    /// Builds the detectors and loads the built-in lexicons and cue lists;
    /// sentiment and complaints come from the lexicon and rules. Needs no
    /// file, so tests and tools work anywhere.
    pub fn new() -> Self {
        let mut version = CLASSIFIER_VERSION.to_owned();
        version.push_str("+lexicon");
        Self {
            language: LanguageDetector::new(),
            sentiment: SentimentScorer::new(),
            intent: IntentClassifier::new(),
            priority: PriorityScorer::new(),
            models: Arc::new(TrainedModels::default()),
            version,
        }
    }

    /// Like [`Classifier::new`], with the trained models of directory `dir`
    /// ([`SENTIMENT_MODEL_FILE`], [`COMPLAINT_MODEL_FILE`], written by `smo
    /// train`). A model file that is absent leaves that task to the lexicon
    /// and rules (see [`Classifier::sentiment_model`] to tell); a directory
    /// that does not exist, or a file that is damaged, for another task or
    /// from an incompatible build, is an error.
    pub fn with_models(dir: &Path) -> Result<Self, ClassifyError> {
        if !dir.is_dir() {
            return Err(ClassifyError::Model {
                path: dir.display().to_string(),
                error: ModelError::Io("not a directory".to_owned()),
            });
        }
        let load = |file: &str, task: Task| {
            let path = dir.join(file);
            if !path.exists() {
                return Ok(None);
            }
            TextModel::load(&path, task)
                .map(Some)
                .map_err(|error| ClassifyError::Model { path: path.display().to_string(), error })
        };
        let sentiment = load(SENTIMENT_MODEL_FILE, Task::Sentiment)?;
        let complaint = load(COMPLAINT_MODEL_FILE, Task::Complaint)?;
        Self::from_models(sentiment, complaint).map_err(|error| ClassifyError::Model {
            path: dir.join(COMPLAINT_MODEL_FILE).display().to_string(),
            error,
        })
    }

    /// A classifier with these models (either may be absent); for tests and
    /// tools that train models in memory. A model stacked on a sentiment
    /// model ([`ModelHeader::stacked_on`]) needs that very model beside it.
    pub fn from_models(
        sentiment: Option<TextModel>,
        complaint: Option<TextModel>,
    ) -> Result<Self, ModelError> {
        if let Some(stacked_on) = complaint.as_ref().and_then(|model| model.header().stacked_on.as_ref()) {
            let loaded = sentiment.as_ref().map(|model| model.header().model_id.as_str());
            if loaded != Some(stacked_on.as_str()) {
                return Err(ModelError::Header(format!(
                    "the complaint model was trained on sentiment model {stacked_on} but {} is loaded; \
                     retrain it with `smo-tools train complaint … --stack-on` the current sentiment.smo",
                    loaded.unwrap_or("none")
                )));
            }
        }
        let mut version = CLASSIFIER_VERSION.to_owned();
        if sentiment.is_none() && complaint.is_none() {
            version.push_str("+lexicon");
        }
        for model in [&sentiment, &complaint].into_iter().flatten() {
            version.push('+');
            version.push_str(&model.header().model_id);
        }
        let shared_features = match (&sentiment, &complaint) {
            (Some(s), Some(c)) => s.header().features == c.header().features,
            _ => false,
        };
        Ok(Self {
            language: LanguageDetector::new(),
            sentiment: SentimentScorer::new(),
            intent: IntentClassifier::new(),
            priority: PriorityScorer::new(),
            models: Arc::new(TrainedModels { sentiment, complaint, shared_features }),
            version,
        })
    }

    /// What [`EnrichedPost::classifier_version`] is set to: the code version
    /// and the loaded models' ids.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The loaded sentiment model's header, or `None` when sentiment comes
    /// from the lexicon.
    pub fn sentiment_model(&self) -> Option<&ModelHeader> {
        self.models.sentiment.as_ref().map(TextModel::header)
    }

    /// The loaded complaint model's header, or `None` when complaints come
    /// from the rules.
    pub fn complaint_model(&self) -> Option<&ModelHeader> {
        self.models.complaint.as_ref().map(TextModel::header)
    }

    /// Sentiment and, with a complaint model, the complaint probability of
    /// `text` (the normalisation of `raw`, detected as `lang`), extracting
    /// features once when both models share them.
    fn analyse(&self, raw: &str, text: &NormalizedText, lang: &str) -> (SentimentScore, Option<f32>) {
        let models = &*self.models;
        if models.sentiment.is_none() && models.complaint.is_none() {
            return (self.sentiment.score(text), None);
        }
        let mut features = Features::new();
        let probabilities = models.sentiment.as_ref().map(|model| {
            model.extractor().extract(raw, text, lang, &mut features);
            model.linear().predict(&features)
        });
        let sentiment = match &probabilities {
            Some(probabilities) => score_from_probabilities(probabilities),
            None => self.sentiment.score(text),
        };
        let complaint = models.complaint.as_ref().map(|model| {
            if !(models.shared_features && probabilities.is_some()) {
                model.extractor().extract(raw, text, lang, &mut features);
            }
            if let Some(probabilities) = &probabilities {
                model.append_stacked(&mut features, probabilities, text.is_addressed());
            }
            model.linear().predict(&features).get(1)
        });
        (sentiment, complaint)
    }

    /// Classifies `post` for the account described by `profile`; `now` is
    /// recorded as the classification time. Never fails: text that cannot be
    /// analysed yields `und`, neutral, `other`, no tags and a low priority.
    pub fn classify(&self, post: &Post, profile: &AccountProfile, now: DateTime<Utc>) -> EnrichedPost {
        self.classify_normalized(post, &NormalizedText::new(&post.text), profile, now)
    }

    /// Everything the classify stage adds to `post`: [`Classifier::classify`],
    /// the spam signals of `spam` and the near-duplicate of `window` (which
    /// remembers the post), normalising the text once for all three.
    pub fn enrich(
        &self,
        post: &Post,
        profile: &AccountProfile,
        now: DateTime<Utc>,
        spam: &SpamScorer,
        window: &mut NearDuplicateWindow,
    ) -> EnrichedPost {
        let text = NormalizedText::new(&post.text);
        let mut enriched = self.classify_normalized(post, &text, profile, now);
        enriched.spam = spam.score_post_normalized(post, &text).into();
        enriched.near_duplicate_of = Fingerprint::of_normalized(&post.text, &text)
            .and_then(|fingerprint| window.observe_fingerprint(&post.id, post.created_at, fingerprint));
        enriched
    }

    /// [`Classifier::classify`] with the post's text already normalised
    /// (`text` must be `NormalizedText::new(&post.text)`), for callers that
    /// use the normalisation for more than classification.
    pub fn classify_normalized(
        &self,
        post: &Post,
        text: &NormalizedText,
        profile: &AccountProfile,
        now: DateTime<Utc>,
    ) -> EnrichedPost {
        let language = self.language.detect(text, profile.languages.as_deref());
        let (sentiment, complaint) = self.analyse(&post.text, text, &language.code);
        let intent = self.intent.classify_with_complaint(text, sentiment, complaint);
        let urgency = self.priority.urgency(text);
        // Tags see the post's metadata and what classification decided, so
        // rules can use lang:, author:, source:, url:, intent:, sentiment:
        // and urgency: filters.
        let view = PostView::from_post(post, text).with_lang(&language.code).with_classification(
            intent,
            sentiment.label,
            &urgency.kinds,
        );
        let tags = profile.tags.tags_for_view(&view);
        let priority = self.priority.score_with_cues(
            text,
            urgency.cues,
            intent,
            sentiment,
            post.author.followers,
            complaint,
        );
        EnrichedPost {
            schema_version: SCHEMA_VERSION,
            post: post.clone(),
            language,
            sentiment,
            intent,
            tags,
            urgency: urgency.kinds,
            priority,
            classifier_version: self.version.clone(),
            classified_at: now,
            near_duplicate_of: None,
            spam: smo_proto::SpamSignals::default(),
        }
    }

    /// Language of a bare text, as [`Classifier::classify`] would detect it;
    /// for evaluation and tools.
    pub fn language_of(&self, text: &str, allowlist: Option<&[String]>) -> Language {
        self.language.detect(&NormalizedText::new(text), allowlist)
    }

    /// The language the models' features are computed for: detected (with
    /// no allowlist, as for an account without one) when a model needs it.
    fn feature_language(&self, text: &NormalizedText) -> String {
        let models = &*self.models;
        let needed = [&models.sentiment, &models.complaint]
            .into_iter()
            .flatten()
            .any(|model| model.extractor().needs_language());
        if needed { self.language.detect(text, None).code } else { String::new() }
    }

    /// Sentiment of a bare text, as [`Classifier::classify`] would score it.
    pub fn sentiment_of(&self, text: &str) -> SentimentScore {
        let normalized = NormalizedText::new(text);
        match &self.models.sentiment {
            Some(model) => {
                let lang = self.feature_language(&normalized);
                let mut features = Features::new();
                model.extractor().extract(text, &normalized, &lang, &mut features);
                score_from_probabilities(&model.linear().predict(&features))
            }
            None => self.sentiment.score(&normalized),
        }
    }

    /// How much a bare text reads as a complaint, in `[0, 1]`; above 0.5
    /// [`Classifier::classify`] calls it a complaint. Ranking metrics (ROC
    /// AUC) use the score itself. With a complaint model this is its
    /// calibrated probability; without, a heuristic from rules and sentiment.
    pub fn complaint_score(&self, text: &str) -> f32 {
        let raw = text;
        let text = NormalizedText::new(raw);
        let lang = self.feature_language(&text);
        if let (_, Some(probability)) = self.analyse(raw, &text, &lang) {
            return probability;
        }
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
        assert_eq!(enriched.classifier_version, classifier.version());
        assert_eq!(classifier.version(), "smo-classify/0.2+lexicon");
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
    fn urgency_kinds_and_classification_aware_tags() {
        let profile = AccountProfile::new(
            &[
                TagRule::from_rule("crew-praise", "intent:praise AND (crew OR staff)"),
                TagRule::from_rule("legal-threat", "urgency:legal"),
                TagRule::from_rule("angry", "sentiment:negative"),
            ],
            None,
        )
        .unwrap_or_else(|err| panic!("{err}"));
        let classifier = Classifier::new();
        let threat = classifier.classify(
            &post("@AcmeAir you lost my bag and my lawyer will hear about it. Unacceptable!", None),
            &profile,
            Utc::now(),
        );
        assert_eq!(threat.urgency, [smo_proto::Urgency::Legal]);
        assert_eq!(threat.tags, ["angry", "legal-threat"]);
        let praise = classifier.classify(
            &post("@AcmeAir thank you, the crew was wonderful!", None),
            &profile,
            Utc::now(),
        );
        assert!(praise.urgency.is_empty());
        assert_eq!(praise.tags, ["crew-praise"]);
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
    fn enrich_is_classify_plus_spam_and_near_duplicates_on_one_normalisation() {
        let classifier = Classifier::new();
        let now = Utc::now();
        let spam = SpamScorer::new();
        let (mut shared, mut separate) = (NearDuplicateWindow::default(), NearDuplicateWindow::default());
        let texts = [
            "AcmeAir cancels all flights out of Denver tonight as the blizzard closes both runways https://t.co/a",
            "RT @denverpost: AcmeAir cancels all flights out of Denver tonight as the blizzard closes both runways #snow",
            "FREE FOLLOWERS!!! follow me and I follow back #teamfollowback https://bit.ly/x",
            "@AcmeAir my bag never arrived in Boston and nobody answers the phone via @someone",
        ];
        for (i, text) in texts.iter().enumerate() {
            let mut original = post(text, Some(40));
            original.id = PostId::derive("file:test", &i.to_string());
            let enriched = classifier.enrich(&original, &profile(), now, &spam, &mut shared);
            let mut expected = classifier.classify(&original, &profile(), now);
            expected.spam = spam.score(&original).into();
            expected.near_duplicate_of = separate.observe(&original.id, original.created_at, &original.text);
            assert_eq!(enriched, expected, "{text}");
        }
        assert!(shared.len() == separate.len() && shared.len() == texts.len());
    }

    #[test]
    fn classifier_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Classifier>();
        assert_send_sync::<AccountProfile>();
    }
}
