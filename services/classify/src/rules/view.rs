//! What a rule can see of one post, prepared once per post so that any
//! number of rules evaluate against it without re-tokenising: the words of
//! the crate's [`NormalizedText`] (the same tokens tags and the classifier
//! use) in their folded and original-case forms, hashtags, mentions, and the
//! metadata field filters compare (author, language, source, URL).

use std::borrow::Cow;
use std::sync::OnceLock;

use smo_proto::{Intent, Post, Sentiment, Urgency};

use super::ast::{Field, FieldFilter};
use super::fold::{fold_word, original_words};
use crate::text::NormalizedText;

/// One post as rules see it. Build it once per post with [`PostView::new`]
/// or [`PostView::from_post`], add the metadata known at that point (the
/// detected language, for instance), and pass it to every rule set.
#[derive(Debug, Clone)]
pub struct PostView<'a> {
    text: Cow<'a, NormalizedText>,
    /// Accent-folded form of each token, where it differs from the token's
    /// lowercase word; empty when no word changes (all ASCII, say).
    folded: Vec<Option<Box<str>>>,
    /// Accent-folded hashtags, where they differ; empty when none does.
    folded_hashtags: Vec<Option<Box<str>>>,
    /// Original-case form of each token, computed on first use: only rules
    /// with `{Case Sensitive}` terms need it.
    originals: OnceLock<Vec<Option<Box<str>>>>,
    author: Option<Box<str>>,
    lang: Option<Box<str>>,
    source: Option<Box<str>>,
    url: Option<Box<str>>,
    /// Classification labels (`tag:`, `intent:`, `sentiment:`, `urgency:`),
    /// lowercase; empty until [`Self::with_classification`] or
    /// [`Self::with_labels`]. The classifier's own labels are static names,
    /// borrowed rather than allocated per post.
    tags: Vec<Box<str>>,
    intent: Option<Cow<'static, str>>,
    sentiment: Option<Cow<'static, str>>,
    urgency: Vec<Cow<'static, str>>,
}

impl<'a> PostView<'a> {
    /// A view of normalised text with no metadata: field filters (`author:`
    /// and the like) do not match until the `with_*` methods supply it.
    pub fn new(text: &'a NormalizedText) -> Self {
        Self::from_cow(Cow::Borrowed(text))
    }

    /// Normalises `raw` and views it; for tools and tests that start from
    /// bare text.
    pub fn from_raw(raw: &str) -> PostView<'static> {
        PostView::from_cow(Cow::Owned(NormalizedText::new(raw)))
    }

    /// A view of `post` whose text has already been normalised into `text`
    /// (normalise once, share it with the classifier), with the author's
    /// handle, the source and the URL filled in; add the detected language
    /// with [`Self::with_lang`].
    pub fn from_post(post: &Post, text: &'a NormalizedText) -> Self {
        let mut view = Self::new(text).with_author(&post.author.handle).with_source(&post.source);
        if let Some(url) = &post.url {
            view = view.with_url(url);
        }
        view
    }

    fn from_cow(text: Cow<'a, NormalizedText>) -> Self {
        let folded = fold_all(text.tokens.iter().map(|token| token.word.as_str()));
        let folded_hashtags = fold_all(text.hashtags.iter().map(String::as_str));
        Self {
            text,
            folded,
            folded_hashtags,
            originals: OnceLock::new(),
            author: None,
            lang: None,
            source: None,
            url: None,
            tags: Vec::new(),
            intent: None,
            sentiment: None,
            urgency: Vec::new(),
        }
    }

    /// Sets the author's handle that `author:` compares (case-insensitive,
    /// a leading `@` ignored).
    pub fn with_author(mut self, handle: &str) -> Self {
        self.author = Some(handle.trim().trim_start_matches(['@', '＠']).to_lowercase().into());
        self
    }

    /// Sets the language code that `lang:` compares, e.g. the classifier's
    /// detected `Language::code`.
    pub fn with_lang(mut self, code: &str) -> Self {
        self.lang = Some(code.trim().to_lowercase().into());
        self
    }

    /// Sets the source name that `source:` compares, e.g. `twitter` or
    /// `file:sample`.
    pub fn with_source(mut self, source: &str) -> Self {
        self.source = Some(source.trim().to_lowercase().into());
        self
    }

    /// Sets the post's URL that `url:` compares.
    pub fn with_url(mut self, url: &str) -> Self {
        self.url = Some(url.trim().to_lowercase().into());
        self
    }

    /// Sets what classification decided before tagging, for the `intent:`,
    /// `sentiment:` and `urgency:` filters of topic tags; allocates nothing
    /// when the post raises no urgency.
    pub fn with_classification(mut self, intent: Intent, sentiment: Sentiment, urgency: &[Urgency]) -> Self {
        self.intent = Some(Cow::Borrowed(intent.as_str()));
        self.sentiment = Some(Cow::Borrowed(sentiment.as_str()));
        self.urgency = urgency.iter().map(|kind| Cow::Borrowed(kind.as_str())).collect();
        self
    }

    /// Sets what classification decided as stored names, for the `tag:`,
    /// `intent:` and `sentiment:` filters of rules that run after it
    /// (routing conditions, searches).
    pub fn with_labels<'t>(
        mut self,
        tags: impl IntoIterator<Item = &'t str>,
        intent: &str,
        sentiment: &str,
    ) -> Self {
        self.tags = tags.into_iter().map(|tag| tag.trim().to_lowercase().into()).collect();
        self.intent = Some(Cow::Owned(intent.trim().to_lowercase()));
        self.sentiment = Some(Cow::Owned(sentiment.trim().to_lowercase()));
        self
    }

    /// Sets the urgency kinds as stored names, for the `urgency:` filter of
    /// rules that run after classification.
    pub fn with_urgency<'t>(mut self, urgency: impl IntoIterator<Item = &'t str>) -> Self {
        self.urgency = urgency.into_iter().map(|kind| Cow::Owned(kind.trim().to_lowercase())).collect();
        self
    }

    /// The normalised text the view was built from.
    pub fn text(&self) -> &NormalizedText {
        &self.text
    }

    /// Number of words (token positions) in the post.
    pub fn word_count(&self) -> usize {
        self.text.tokens.len()
    }

    /// Lowercase, accent-folded word at `position`; empty past the end.
    pub(crate) fn folded(&self, position: usize) -> &str {
        match self.folded.get(position) {
            Some(Some(folded)) => folded,
            _ => self.text.tokens.get(position).map_or("", |token| token.word.as_str()),
        }
    }

    /// Whether punctuation separates the word at `position` from the one
    /// before it; phrases do not match across it.
    pub(crate) fn clause_start(&self, position: usize) -> bool {
        self.text.tokens.get(position).is_none_or(|token| token.clause_start)
    }

    /// The word at `position` as written, when it could be recovered.
    pub(crate) fn original(&self, position: usize) -> Option<&str> {
        let originals = self.originals.get_or_init(|| original_words(&self.text.clean, &self.text.tokens));
        originals.get(position).and_then(|original| original.as_deref())
    }

    /// Accent-folded hashtags, in order of appearance.
    pub(crate) fn hashtags(&self) -> impl Iterator<Item = &str> {
        self.text.hashtags.iter().enumerate().map(|(index, hashtag)| match self.folded_hashtags.get(index) {
            Some(Some(folded)) => folded,
            _ => hashtag.as_str(),
        })
    }

    /// Mentioned handles, lowercase, in order of appearance.
    pub(crate) fn mentions(&self) -> impl Iterator<Item = &str> {
        self.text.mentions.iter().map(String::as_str)
    }

    /// Whether `filter` holds for this post's metadata; a field the view
    /// does not carry never matches.
    pub(crate) fn field_matches(&self, filter: &FieldFilter) -> bool {
        let single = match filter.field {
            Field::Author => self.author.as_deref(),
            Field::Lang => self.lang.as_deref(),
            Field::Source => self.source.as_deref(),
            Field::Url => self.url.as_deref(),
            Field::Intent => self.intent.as_deref(),
            Field::Sentiment => self.sentiment.as_deref(),
            Field::Tag => return self.tags.iter().any(|tag| filter.matches(tag)),
            Field::Urgency => return self.urgency.iter().any(|kind| filter.matches(kind)),
        };
        single.is_some_and(|actual| filter.matches(actual))
    }
}

/// Folded forms of `words` where they differ; an empty vector (no
/// allocation) when none does.
fn fold_all<'w>(words: impl Iterator<Item = &'w str>) -> Vec<Option<Box<str>>> {
    let mut folded: Vec<Option<Box<str>>> = Vec::new();
    for (index, word) in words.enumerate() {
        if let Cow::Owned(changed) = fold_word(word) {
            folded.resize(index, None);
            folded.push(Some(changed.into()));
        }
    }
    folded
}
