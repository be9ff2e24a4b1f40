use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{AccountId, default_schema_version};

/// Identity of a post across the whole pipeline. Derived from the source and
/// the source's own id, so fetching or publishing the same post again yields
/// the same id and every write keyed by it is idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct PostId(pub String);

impl PostId {
    /// The id of the post `native_id` of `source`: 32 hex digits of
    /// SHA-256(source NUL native_id), short enough for keys, collision-free in
    /// practice, and independent of which account fetched it.
    pub fn derive(source: &str, native_id: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(source.as_bytes());
        hasher.update([0u8]);
        hasher.update(native_id.as_bytes());
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(32);
        for byte in &digest[..16] {
            use fmt::Write;
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who wrote a post, as far as the source tells. Reach (`followers`) feeds
/// priority, so it is kept even though it changes over time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Author {
    /// The source's stable id for the author.
    pub id: String,
    /// The handle as shown on the platform, without a leading `@`.
    pub handle: String,
    /// Display name, when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Follower count at fetch time, when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
}

/// Engagement counts at fetch time; they rank top posts in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Engagement {
    /// Likes, favourites or upvotes.
    #[serde(default)]
    pub likes: u64,
    /// Reposts, boosts or retweets.
    #[serde(default)]
    pub reposts: u64,
    /// Direct replies.
    #[serde(default)]
    pub replies: u64,
}

/// A public post as ingested, before any tagging. This is what sources
/// publish to `smo.posts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Post {
    /// Shape version of this message; see [`crate::SCHEMA_VERSION`].
    #[serde(default = "default_schema_version")]
    pub schema_version: u32,
    /// Derived from `source` and `native_id`; see [`PostId::derive`].
    pub id: PostId,
    /// The client account this post was collected for.
    pub account: AccountId,
    /// Which source produced it, e.g. `file:sample` or `http:status-feed`.
    pub source: String,
    /// The source's own id for the post.
    pub native_id: String,
    /// Who wrote it.
    pub author: Author,
    /// The post's text, as written.
    pub text: String,
    /// Link to the post on its platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the author published it.
    pub created_at: DateTime<Utc>,
    /// Id of the post this one answers, when it is a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<PostId>,
    /// Id of the conversation's first post; cases are per thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<PostId>,
    /// Engagement counts at fetch time.
    #[serde(default)]
    pub engagement: Engagement,
}

impl Post {
    /// Id of the conversation this post belongs to: its thread, or itself.
    pub fn conversation_id(&self) -> &PostId {
        self.thread_id.as_ref().unwrap_or(&self.id)
    }
}

/// Detected language of a post's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Language {
    /// ISO 639-1 code where one exists (`en`, `es`), else ISO 639-3; `und`
    /// when the text is too short or too mixed to tell.
    pub code: String,
    /// Detector confidence in `[0, 1]`.
    pub confidence: f32,
    /// Whether the detector considers the guess dependable.
    pub reliable: bool,
}

/// Polarity of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    /// Unhappy, angry, critical.
    Negative,
    /// Factual or mixed.
    Neutral,
    /// Happy, grateful, approving.
    Positive,
}

impl Sentiment {
    /// Lowercase name, as used in the index and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }
}

/// Polarity with a signed strength.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SentimentScore {
    /// The winning class.
    pub label: Sentiment,
    /// Signed strength in `[-1, 1]`: below zero leans negative.
    pub score: f32,
}

/// What the author wants; it decides which queues an enriched post reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// The author reports a problem with the client's product or service.
    Complaint,
    /// The author asks something.
    Question,
    /// The author thanks or praises.
    Praise,
    /// Anything else: news, chatter, opinion.
    Other,
}

impl Intent {
    /// Lowercase name; also the last word of the `smo.enriched` routing key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complaint => "complaint",
            Self::Question => "question",
            Self::Praise => "praise",
            Self::Other => "other",
        }
    }

    /// Whether posts with this intent need a human answer, i.e. become cases.
    pub fn needs_response(self) -> bool {
        matches!(self, Self::Complaint | Self::Question)
    }
}

/// Why a post needs a fast answer, whatever its intent: the situations
/// agencies route to a specialist or a supervisor instead of the general
/// queue. A post may raise several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Physical danger: injury, fire, smoke, allergic reaction, an
    /// emergency.
    Safety,
    /// A legal threat or a regulator: lawyers, lawsuits, the police, an
    /// ombudsman, discrimination or harassment.
    Legal,
    /// The customer wants to cancel or close an order, a subscription or an
    /// account: churn that a fast answer can still prevent.
    Cancellation,
    /// The service is down for the author and likely for others.
    Outage,
    /// Money or an account at risk: fraud, a hacked account, stolen cards,
    /// a data leak.
    Security,
}

impl Urgency {
    /// Every kind, in order.
    pub const ALL: [Self; 5] = [Self::Safety, Self::Legal, Self::Cancellation, Self::Outage, Self::Security];

    /// Lowercase name, as rules (`urgency:legal`), the index and reports use
    /// it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safety => "safety",
            Self::Legal => "legal",
            Self::Cancellation => "cancellation",
            Self::Outage => "outage",
            Self::Security => "security",
        }
    }
}

/// A post with everything classify learned about it. This is what
/// `smo.enriched` carries to the index and to community management.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnrichedPost {
    /// Shape version of this message; see [`crate::SCHEMA_VERSION`].
    #[serde(default = "default_schema_version")]
    pub schema_version: u32,
    /// The post as ingested.
    pub post: Post,
    /// Detected language.
    pub language: Language,
    /// Polarity.
    pub sentiment: SentimentScore,
    /// What the author wants.
    pub intent: Intent,
    /// The account's topic tags that matched, sorted and unique.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The urgent situations the post raises, sorted and unique; absent when
    /// none (and in messages written before the field existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urgency: Vec<Urgency>,
    /// Urgency for agents' queues in `[0, 1]`; higher is answered first.
    pub priority: f32,
    /// Which classifier produced this, so results can be traced and redone.
    pub classifier_version: String,
    /// When classify produced it.
    pub classified_at: DateTime<Utc>,
    /// The first post of the near-duplicate group this post belongs to, when
    /// classify saw an earlier post of the same account with (almost) the
    /// same text within its sliding window: retweets, cross-posts, copy-paste
    /// campaigns; lets reports count a campaign once. Absent on originals
    /// and in messages written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_duplicate_of: Option<PostId>,
    /// Plain spam evidence, so the index can filter spam and community can
    /// keep it out of agents' queues. Absent (all default) when nothing
    /// fired and in messages written before the field existed.
    #[serde(default, skip_serializing_if = "SpamSignals::is_clean")]
    pub spam: SpamSignals,
}

/// How much a post looks like spam, and why. Explainable on purpose: agents
/// and clients see which signals fired rather than an opaque number.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SpamSignals {
    /// Spam likelihood in `[0, 1]`; `0.5` and above reads as spam.
    #[serde(default)]
    pub score: f32,
    /// Names of the signals that fired, e.g. `hashtag_heavy`, `url_shortener`
    /// or `phrase:free followers`; stable strings, safe to filter on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<String>,
}

impl SpamSignals {
    /// Score at and above which a post is treated as spam.
    pub const THRESHOLD: f32 = 0.5;

    /// Whether the evidence says spam (score at or above [`Self::THRESHOLD`]).
    pub fn is_spam(&self) -> bool {
        self.score >= Self::THRESHOLD
    }

    /// Whether no signal fired; such values are left out of messages.
    pub fn is_clean(&self) -> bool {
        self.score <= 0.0 && self.signals.is_empty()
    }
}
