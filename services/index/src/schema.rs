//! The tantivy schema of an account index, and the mapping of an
//! [`EnrichedPost`] to a document.
//!
//! Field choices:
//! - `id` is a raw `STRING`, indexed for delete-by-id and lookups, and stored.
//! - `lang`, `sentiment`, `intent`, `tags`, `source`, `author_handle` are
//!   keyword fields: indexed as one lowercased term (so `lang:EN` and
//!   `author_handle:JohnDoe` match whatever the case) and `FAST` (columnar,
//!   original value) for the report counts. `tags` is multi-valued.
//! - `text` is `TEXT` with tantivy's default tokenizer (split on
//!   non-alphanumerics, lowercase, drop tokens over 40 bytes), with positions
//!   for phrase queries. No stemming: the posts are multilingual.
//! - `created_at` is a date, indexed (range queries in the query language)
//!   and `FAST` at millisecond precision (newest-first sort, period filter,
//!   per-day counts).
//! - `priority` (f64) and `engagement` (u64: likes + reposts + replies) are
//!   indexed and `FAST`: range queries, top posts.
//! - `enriched` stores the whole [`EnrichedPost`] as JSON and is the only
//!   stored field besides `id`: hits are rebuilt from it, so each post sits in
//!   the document store once instead of once per field.

use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
use tantivy::{DateTime, Index, TantivyDocument};

use smo_proto::EnrichedPost;

use crate::error::IndexError;

/// Tokenizer of keyword fields: the whole value as one lowercased term.
pub(crate) const KEYWORD_TOKENIZER: &str = "smo_keyword";

/// Field names, also the names usable in queries.
pub(crate) mod names {
    pub(crate) const ID: &str = "id";
    pub(crate) const SOURCE: &str = "source";
    pub(crate) const AUTHOR_HANDLE: &str = "author_handle";
    pub(crate) const TEXT: &str = "text";
    pub(crate) const CREATED_AT: &str = "created_at";
    pub(crate) const LANG: &str = "lang";
    pub(crate) const SENTIMENT: &str = "sentiment";
    pub(crate) const INTENT: &str = "intent";
    pub(crate) const TAGS: &str = "tags";
    pub(crate) const PRIORITY: &str = "priority";
    pub(crate) const ENGAGEMENT: &str = "engagement";
    pub(crate) const ENRICHED: &str = "enriched";
}

/// Handles of the schema's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PostFields {
    pub(crate) id: Field,
    pub(crate) source: Field,
    pub(crate) author_handle: Field,
    pub(crate) text: Field,
    pub(crate) created_at: Field,
    pub(crate) lang: Field,
    pub(crate) sentiment: Field,
    pub(crate) intent: Field,
    pub(crate) tags: Field,
    pub(crate) priority: Field,
    pub(crate) engagement: Field,
    pub(crate) enriched: Field,
}

/// The schema every account index has.
pub(crate) fn post_schema() -> Schema {
    let keyword = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(KEYWORD_TOKENIZER)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        )
        .set_fast("raw");
    let created_at = DateOptions::from(INDEXED).set_fast().set_precision(DateTimePrecision::Milliseconds);

    let mut builder = Schema::builder();
    builder.add_text_field(names::ID, STRING | STORED);
    builder.add_text_field(names::SOURCE, keyword.clone());
    builder.add_text_field(names::AUTHOR_HANDLE, keyword.clone());
    builder.add_text_field(names::TEXT, TEXT);
    builder.add_date_field(names::CREATED_AT, created_at);
    builder.add_text_field(names::LANG, keyword.clone());
    builder.add_text_field(names::SENTIMENT, keyword.clone());
    builder.add_text_field(names::INTENT, keyword.clone());
    builder.add_text_field(names::TAGS, keyword);
    builder.add_f64_field(names::PRIORITY, INDEXED | FAST);
    builder.add_u64_field(names::ENGAGEMENT, INDEXED | FAST);
    builder.add_text_field(names::ENRICHED, STORED);
    builder.build()
}

/// Registers the tokenizers the schema refers to; needed on every opened
/// [`Index`], since tantivy stores only their names.
pub(crate) fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        KEYWORD_TOKENIZER,
        TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build(),
    );
}

impl PostFields {
    /// Looks the fields up in `schema`.
    pub(crate) fn new(schema: &Schema) -> Result<Self, tantivy::TantivyError> {
        Ok(Self {
            id: schema.get_field(names::ID)?,
            source: schema.get_field(names::SOURCE)?,
            author_handle: schema.get_field(names::AUTHOR_HANDLE)?,
            text: schema.get_field(names::TEXT)?,
            created_at: schema.get_field(names::CREATED_AT)?,
            lang: schema.get_field(names::LANG)?,
            sentiment: schema.get_field(names::SENTIMENT)?,
            intent: schema.get_field(names::INTENT)?,
            tags: schema.get_field(names::TAGS)?,
            priority: schema.get_field(names::PRIORITY)?,
            engagement: schema.get_field(names::ENGAGEMENT)?,
            enriched: schema.get_field(names::ENRICHED)?,
        })
    }

    /// The document indexing `enriched`.
    pub(crate) fn document(&self, enriched: &EnrichedPost) -> Result<TantivyDocument, IndexError> {
        let post = &enriched.post;
        let json = serde_json::to_string(enriched)
            .map_err(|source| IndexError::Serialize { id: post.id.clone(), source })?;
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, post.id.as_str());
        doc.add_text(self.source, &post.source);
        doc.add_text(self.author_handle, post.author.handle.to_lowercase());
        doc.add_text(self.text, &post.text);
        doc.add_date(self.created_at, to_tantivy_date(post.created_at));
        doc.add_text(self.lang, &enriched.language.code);
        doc.add_text(self.sentiment, enriched.sentiment.label.as_str());
        doc.add_text(self.intent, enriched.intent.as_str());
        for tag in &enriched.tags {
            doc.add_text(self.tags, tag);
        }
        let priority = if enriched.priority.is_finite() { f64::from(enriched.priority) } else { 0.0 };
        doc.add_f64(self.priority, priority);
        doc.add_u64(self.engagement, engagement(enriched));
        doc.add_text(self.enriched, json);
        Ok(doc)
    }
}

/// Likes + reposts + replies: what "top posts" rank by.
pub(crate) fn engagement(enriched: &EnrichedPost) -> u64 {
    let counts = &enriched.post.engagement;
    counts.likes.saturating_add(counts.reposts).saturating_add(counts.replies)
}

/// A chrono instant as a tantivy date at the fast field's precision.
/// Tantivy counts nanoseconds in an `i64` (years 1677 to 2262); instants
/// beyond are clamped to its range rather than overflowing. The stored post
/// keeps the exact value.
pub(crate) fn to_tantivy_date(instant: chrono::DateTime<chrono::Utc>) -> DateTime {
    const NANOS_PER_MILLI: i64 = 1_000_000;
    let millis = instant.timestamp_millis().clamp(i64::MIN / NANOS_PER_MILLI, i64::MAX / NANOS_PER_MILLI);
    DateTime::from_timestamp_millis(millis)
}
