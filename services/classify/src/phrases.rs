//! Matching of keywords against a [`NormalizedText`]: single words, phrases,
//! trailing-`*` prefix wildcards and `#hashtags`. Account topic tags and the
//! built-in intent and urgency cue lists share this matcher so a keyword means
//! the same thing wherever it is written.
//!
//! Keywords are tokenised with the same tokeniser as the text, so matching is
//! exact on lowercase words and never depends on punctuation or case. A
//! phrase does not match across punctuation (`late. Delivery` is not
//! `late delivery`). Lookup is a hash map keyed by a phrase's first word (or
//! by a wildcard's prefix), so the cost per post is linear in its words,
//! whatever the number of keywords.

use crate::hashing::FastMap;

use crate::text::{NormalizedText, Token, is_hashtag_char, is_word_char, tokenize};

/// Shortest prefix a wildcard may have; `d*` would match half the language.
const MIN_PREFIX_CHARS: usize = 2;

#[derive(Debug, Clone)]
struct Phrase {
    words: Box<[String]>,
    last_is_prefix: bool,
    target: usize,
}

impl Phrase {
    fn matches_at(&self, tokens: &[Token], start: usize) -> bool {
        let Some(window) = tokens.get(start..start + self.words.len()) else {
            return false;
        };
        let last = self.words.len() - 1;
        self.words.iter().zip(window).enumerate().all(|(position, (word, token))| {
            if position > 0 && token.clause_start {
                false
            } else if position == last && self.last_is_prefix {
                token.word.starts_with(word.as_str())
            } else {
                token.word == *word
            }
        })
    }
}

/// A set of keywords, each pointing at a target id; [`Self::matches`] says
/// which targets have at least one keyword in a text.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhraseMatcher {
    phrases: Vec<Phrase>,
    /// Phrase indexes by exact first word.
    by_first_word: FastMap<String, Vec<usize>>,
    /// Phrase indexes of one-word wildcards, by prefix.
    by_prefix: FastMap<String, Vec<usize>>,
    max_prefix_bytes: usize,
    /// The first two bytes of every wildcard prefix, as a bit set: most
    /// words start like no prefix, and then none of their prefixes is
    /// looked up.
    prefix_heads: PrefixHeads,
    /// Targets by exact hashtag.
    hashtags: FastMap<String, Vec<usize>>,
    /// Targets by hashtag prefix.
    hashtag_prefixes: FastMap<String, Vec<usize>>,
    max_hashtag_prefix_bytes: usize,
    num_targets: usize,
}

impl PhraseMatcher {
    /// Adds `keyword` for `target`; the error explains what is wrong with it.
    pub(crate) fn add(&mut self, keyword: &str, target: usize) -> Result<(), String> {
        let keyword = keyword.trim();
        if keyword.is_empty() {
            return Err("empty keyword".to_owned());
        }
        let (body, is_prefix) = match keyword.strip_suffix('*') {
            Some(body) => (body, true),
            None => (keyword, false),
        };
        if body.contains('*') {
            return Err(format!("keyword {keyword:?}: `*` is only allowed once, at the end"));
        }
        if let Some(hashtag) = body.strip_prefix(['#', '＃']) {
            return self.add_hashtag(keyword, hashtag, is_prefix, target);
        }
        if is_prefix && !body.chars().last().is_some_and(is_word_char) {
            return Err(format!("keyword {keyword:?}: `*` must directly follow a word"));
        }
        let words: Box<[String]> = tokenize(body).into_iter().map(|t| t.word).collect();
        let (Some(first), Some(last)) = (words.first(), words.last()) else {
            return Err(format!("keyword {keyword:?} has no words"));
        };
        if is_prefix && last.chars().count() < MIN_PREFIX_CHARS {
            return Err(format!(
                "keyword {keyword:?}: a wildcard needs at least {MIN_PREFIX_CHARS} characters before `*`"
            ));
        }
        let index = self.phrases.len();
        if is_prefix && words.len() == 1 {
            self.max_prefix_bytes = self.max_prefix_bytes.max(first.len());
            self.prefix_heads.insert(first);
            self.by_prefix.entry(first.clone()).or_default().push(index);
        } else {
            self.by_first_word.entry(first.clone()).or_default().push(index);
        }
        self.phrases.push(Phrase { words, last_is_prefix: is_prefix, target });
        self.num_targets = self.num_targets.max(target + 1);
        Ok(())
    }

    fn add_hashtag(
        &mut self,
        keyword: &str,
        hashtag: &str,
        is_prefix: bool,
        target: usize,
    ) -> Result<(), String> {
        if hashtag.is_empty() || !hashtag.chars().all(is_hashtag_char) {
            return Err(format!("keyword {keyword:?}: a hashtag is `#` followed by letters, digits or `_`"));
        }
        let hashtag = hashtag.to_lowercase();
        if is_prefix {
            if hashtag.chars().count() < MIN_PREFIX_CHARS {
                return Err(format!(
                    "keyword {keyword:?}: a wildcard needs at least {MIN_PREFIX_CHARS} characters before `*`"
                ));
            }
            self.max_hashtag_prefix_bytes = self.max_hashtag_prefix_bytes.max(hashtag.len());
            self.hashtag_prefixes.entry(hashtag).or_default().push(target);
        } else {
            self.hashtags.entry(hashtag).or_default().push(target);
        }
        self.num_targets = self.num_targets.max(target + 1);
        Ok(())
    }

    /// Number of target ids, i.e. the length of [`Self::matches`]' answer.
    pub(crate) fn num_targets(&self) -> usize {
        self.num_targets
    }

    /// For each target id, whether one of its keywords occurs in `text`.
    pub(crate) fn matches(&self, text: &NormalizedText) -> Vec<bool> {
        let mut hits = Hits::new(self.num_targets);
        if self.num_targets == 0 {
            return hits.into_vec();
        }
        for (start, token) in text.tokens.iter().enumerate() {
            if let Some(indexes) = self.by_first_word.get(token.word.as_str()) {
                for &index in indexes {
                    let phrase = &self.phrases[index];
                    if !hits.is_hit(phrase.target) && phrase.matches_at(&text.tokens, start) {
                        hits.hit(phrase.target);
                    }
                }
            }
            if self.prefix_heads.may_start(&token.word) {
                for prefix in prefixes(&token.word, self.max_prefix_bytes) {
                    if let Some(indexes) = self.by_prefix.get(prefix) {
                        for &index in indexes {
                            hits.hit(self.phrases[index].target);
                        }
                    }
                }
            }
            if hits.all() {
                return hits.into_vec();
            }
        }
        for hashtag in &text.hashtags {
            if let Some(targets) = self.hashtags.get(hashtag.as_str()) {
                targets.iter().for_each(|&target| hits.hit(target));
            }
            for prefix in prefixes(hashtag, self.max_hashtag_prefix_bytes) {
                if let Some(targets) = self.hashtag_prefixes.get(prefix) {
                    targets.iter().for_each(|&target| hits.hit(target));
                }
            }
        }
        hits.into_vec()
    }
}

/// A set of two-byte word beginnings (65,536 bits).
#[derive(Debug, Clone, Default)]
struct PrefixHeads {
    bits: Vec<u64>,
}

impl PrefixHeads {
    fn head(word: &str) -> Option<usize> {
        match word.as_bytes() {
            [first, second, ..] => Some(usize::from(*first) << 8 | usize::from(*second)),
            _ => None,
        }
    }

    /// Records the beginning of `prefix` (at least two characters long, so
    /// at least two bytes).
    fn insert(&mut self, prefix: &str) {
        if self.bits.is_empty() {
            self.bits = vec![0; 1 << 10];
        }
        if let Some(head) = Self::head(prefix)
            && let Some(word) = self.bits.get_mut(head >> 6)
        {
            *word |= 1 << (head & 63);
        }
    }

    /// Whether a recorded prefix may begin `word`.
    fn may_start(&self, word: &str) -> bool {
        Self::head(word)
            .and_then(|head| self.bits.get(head >> 6).map(|word| word >> (head & 63) & 1 == 1))
            .unwrap_or(false)
    }
}

/// The prefixes of `word` ending on a char boundary, at most `max_bytes` long.
fn prefixes(word: &str, max_bytes: usize) -> impl Iterator<Item = &str> {
    word.char_indices()
        .map(|(start, c)| start + c.len_utf8())
        .take_while(move |&end| end <= max_bytes)
        .filter_map(|end| word.get(..end))
}

struct Hits {
    hit: Vec<bool>,
    remaining: usize,
}

impl Hits {
    fn new(num_targets: usize) -> Self {
        Self { hit: vec![false; num_targets], remaining: num_targets }
    }

    fn is_hit(&self, target: usize) -> bool {
        self.hit.get(target).copied().unwrap_or(true)
    }

    fn hit(&mut self, target: usize) {
        if let Some(slot) = self.hit.get_mut(target)
            && !*slot
        {
            *slot = true;
            self.remaining -= 1;
        }
    }

    fn all(&self) -> bool {
        self.remaining == 0
    }

    fn into_vec(self) -> Vec<bool> {
        self.hit
    }
}

/// A fixed list of cue phrases (in the keyword syntax above) compiled once;
/// intent and priority use it to ask "does the text contain any / how many
/// distinct cues".
#[derive(Debug, Clone, Default)]
pub(crate) struct CueSet {
    matcher: PhraseMatcher,
}

impl CueSet {
    /// Compiles `cues`; a malformed cue is skipped rather than failing the
    /// classifier (the unit tests check that every built-in cue compiles).
    pub(crate) fn new<'a>(cues: impl IntoIterator<Item = &'a str>) -> Self {
        let mut matcher = PhraseMatcher::default();
        for (target, cue) in cues.into_iter().enumerate() {
            let _skipped_if_malformed = matcher.add(cue, target);
        }
        Self { matcher }
    }

    /// Number of distinct cues present in `text`.
    pub(crate) fn count(&self, text: &NormalizedText) -> usize {
        if self.matcher.num_targets() == 0 {
            return 0;
        }
        self.matcher.matches(text).into_iter().filter(|&hit| hit).count()
    }

    /// For each cue, in the order given to [`Self::new`], whether it is
    /// present in `text`.
    pub(crate) fn hits(&self, text: &NormalizedText) -> Vec<bool> {
        self.matcher.matches(text)
    }

    /// Whether any cue is present in `text`.
    pub(crate) fn any(&self, text: &NormalizedText) -> bool {
        self.count(text) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn matcher(keywords: &[&str]) -> PhraseMatcher {
        let mut matcher = PhraseMatcher::default();
        for (target, keyword) in keywords.iter().enumerate() {
            if let Err(reason) = matcher.add(keyword, target) {
                panic!("{keyword}: {reason}");
            }
        }
        matcher
    }

    #[test]
    fn words_phrases_wildcards_and_hashtags() {
        let m = matcher(&["refund", "customer service", "deliver*", "#BlackFriday", "late deliv*"]);
        let hits = m.matches(&normalize(
            "Customer Service never answered about the delivery #blackfriday, late delivered",
        ));
        assert_eq!(hits, vec![false, true, true, true, true]);
    }

    #[test]
    fn wildcards_match_whatever_their_first_characters() {
        let m = matcher(&["réemb*", "ünt*", "co*", "退款*"]);
        assert_eq!(m.matches(&normalize("Réembolso ya")), vec![true, false, false, false]);
        assert_eq!(m.matches(&normalize("ÜNTERWEGS")), vec![false, true, false, false]);
        assert_eq!(m.matches(&normalize("could")), vec![false, false, true, false]);
        assert_eq!(m.matches(&normalize("退款申请")), vec![false, false, false, true]);
        assert_eq!(m.matches(&normalize("c o r e x")), vec![false; 4]);
    }

    #[test]
    fn phrases_do_not_cross_punctuation_and_words_are_whole() {
        let m = matcher(&["late delivery", "fund"]);
        assert_eq!(m.matches(&normalize("it was late. Delivery came, refund please")), vec![false, false]);
    }

    #[test]
    fn hashtag_keywords_only_match_hashtags() {
        let m = matcher(&["#outage", "outage"]);
        assert_eq!(m.matches(&normalize("big outage today")), vec![false, true]);
        assert_eq!(m.matches(&normalize("#Outage today")), vec![true, true]);
    }

    #[test]
    fn rejects_malformed_keywords() {
        let mut m = PhraseMatcher::default();
        for bad in ["", "  ", "*", "d*", "de*ver", "deliver *", "#", "#two words", "!!!", "#a*"] {
            assert!(m.add(bad, 0).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn cue_sets_count_distinct_cues() {
        let cues = CueSet::new(["refund", "still waiting", "bad cue *"]);
        let text = normalize("still waiting for my refund, REFUND!");
        assert_eq!(cues.count(&text), 2);
        assert!(!cues.any(&normalize("all good")));
    }
}
