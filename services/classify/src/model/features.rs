//! Hashed sparse features of a post for the linear models, computed from the
//! same [`NormalizedText`] every other stage reads, so a model sees exactly
//! the words tags and rules see.
//!
//! Three groups, each scaled so that no group drowns the others whatever the
//! post's length:
//!
//! - **words**: lowercase unigrams and in-clause bigrams, with digits folded
//!   to `0` and elongations squeezed (`sooooo` → `soo`); words after a
//!   negator up to the next punctuation are hashed as `NEG_word` so `not
//!   good` does not look like `good`;
//! - **characters**: 2–5-grams (configurable) inside each word with `<` `>`
//!   boundary marks, which carry morphology across the eight training
//!   languages and survive typos and romanisation; English (and
//!   undetermined) text hashes them in a space of its own
//!   ([`FeatureConfig::english_char_space`]), so the caller passes the
//!   post's detected language;
//! - **dense** cues at fixed indexes after the hashed buckets (see
//!   [`DENSE_FEATURES`]): the lexicon scorer's polarity, emoticon and emoji
//!   polarity, `!`/`?`, capitals and elongation, mention/URL/hashtag presence,
//!   the built-in complaint, praise, question and urgency cue counts, and the
//!   polarity, mass, counts and strongest word of the built-in lexicon
//!   extended with VADER's 7,000 English words (a model trained on a few
//!   thousand tweets has seen few of the words that carry sentiment; the
//!   lexicon has).
//!
//! Hashing is a per-character FNV-1a step with a MurmurHash3 finaliser,
//! written here so the buckets never change with a dependency's version:
//! a model file stores the [`FeatureConfig`] (with [`FEATURE_SCHEME`]) it
//! was trained with, and loading refuses a mismatch. Extraction allocates
//! two small buffers per post and is linear in the text; very long posts are
//! cut at [`MAX_TOKENS`] words and very long words at [`MAX_WORD_CHARS`].

use serde::{Deserialize, Serialize};

use crate::hashing::FastSet;
use crate::lexicons;
use crate::phrases::PhraseMatcher;
use crate::sentiment::SentimentScorer;
use crate::text::{NormalizedText, Token};

/// Names the hashing and feature layout implemented here. Bump it whenever
/// a change would move a feature to another bucket, so old model files are
/// rejected instead of silently scoring garbage.
pub const FEATURE_SCHEME: &str = "smo-hashed-v2";

/// Words of a post beyond this are ignored: the opinion of a 1 MB "post" is
/// not worth a millisecond, and the cost per post must stay bounded.
pub const MAX_TOKENS: usize = 256;

/// Characters of a word used for character n-grams; longer words (URLs that
/// escaped normalisation, scripts without spaces) are cut.
pub const MAX_WORD_CHARS: usize = 24;

/// Names of the dense features, in index order after the hashed buckets.
/// Written here once so the model file, the docs and the code agree.
pub const DENSE_FEATURES: &[&str] = &[
    "lexicon_positive",
    "lexicon_negative",
    "positive_words",
    "negative_words",
    "emotive_positive",
    "emotive_negative",
    "exclamations",
    "questions",
    "shouted_words",
    "all_caps",
    "elongated_words",
    "negators",
    "mentions",
    "url",
    "hashtags",
    "complaint_cues",
    "complaint_topics",
    "praise_cues",
    "question_cues",
    "question_opening",
    "urgency_cues",
    "length",
    "empty",
    "extended_lexicon_positive",
    "extended_lexicon_negative",
    "extended_positive_mass",
    "extended_negative_mass",
    "extended_positive_words",
    "extended_negative_words",
    "extended_strongest_positive",
    "extended_strongest_negative",
];

/// Number of dense features.
pub const DENSE_COUNT: usize = DENSE_FEATURES.len();

/// How features are computed; stored in every model file so the extractor
/// that serves a model is the one that trained it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// Must equal [`FEATURE_SCHEME`].
    pub scheme: String,
    /// log2 of the number of hash buckets (12 to 24).
    pub hash_bits: u8,
    /// Hash word bigrams within a clause, besides unigrams.
    pub word_bigrams: bool,
    /// Shortest character n-gram; 0 turns character n-grams off.
    pub char_min: u8,
    /// Longest character n-gram.
    pub char_max: u8,
    /// Mark words in a negation's scope (`NEG_` prefix).
    pub negation_scope: bool,
    /// Total weight (L2 norm) of the word group.
    pub word_weight: f32,
    /// Total weight (L2 norm) of the character group.
    pub char_weight: f32,
    /// Hash the character n-grams of English (and undetermined) text apart
    /// from those of every other language: Latin-script languages share
    /// many n-grams that mean different things, and a model trained on
    /// eight languages lost 1.4 points of macro recall on English tweets to
    /// that (README of `config/models`). Needs the post's language.
    #[serde(default)]
    pub english_char_space: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            scheme: FEATURE_SCHEME.to_owned(),
            hash_bits: 18,
            word_bigrams: true,
            char_min: 2,
            char_max: 5,
            negation_scope: true,
            word_weight: 1.0,
            char_weight: 1.0,
            english_char_space: true,
        }
    }
}

impl FeatureConfig {
    /// Checks the configuration is one this code can extract, so a bad file
    /// or option is refused up front with the reason.
    pub fn validate(&self) -> Result<(), String> {
        if self.scheme != FEATURE_SCHEME {
            return Err(format!(
                "feature scheme {:?} is not the one this build computes ({FEATURE_SCHEME:?}); retrain the model",
                self.scheme
            ));
        }
        if !(12..=24).contains(&self.hash_bits) {
            return Err(format!("hash_bits {} is outside 12..=24", self.hash_bits));
        }
        if self.char_min != 0 && (self.char_min > self.char_max || self.char_max > 8) {
            return Err(format!(
                "character n-grams {}..={} must satisfy 1 <= min <= max <= 8",
                self.char_min, self.char_max
            ));
        }
        for (name, weight) in [("word_weight", self.word_weight), ("char_weight", self.char_weight)] {
            if !(weight.is_finite() && (0.0..=100.0).contains(&weight)) {
                return Err(format!("{name} {weight} must be a finite number in 0..=100"));
            }
        }
        Ok(())
    }

    /// Number of hash buckets.
    pub fn buckets(&self) -> usize {
        1usize << self.hash_bits.min(24)
    }

    /// Length of a feature vector: buckets then dense features.
    pub fn dimension(&self) -> usize {
        self.buckets() + DENSE_COUNT
    }
}

/// A sparse feature vector: `(index, value)` pairs, possibly repeating an
/// index (a repeated word, a hash collision), which dot products simply add.
/// Reuse one across posts with [`Features::clear`] to save allocations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    entries: Vec<(u32, f32)>,
}

impl Features {
    /// An empty vector with room for a typical post.
    pub fn new() -> Self {
        Self { entries: Vec::with_capacity(256) }
    }

    /// The `(index, value)` pairs.
    pub fn entries(&self) -> &[(u32, f32)] {
        &self.entries
    }

    /// Empties the vector, keeping its allocation.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Builds a vector from pairs; for tests and tools.
    pub fn from_entries(entries: Vec<(u32, f32)>) -> Self {
        Self { entries }
    }

    /// Appends one pair; how a stacked model adds another model's outputs.
    pub fn push(&mut self, index: u32, value: f32) {
        self.entries.push((index, value));
    }
}

// Seeds that keep the namespaces (unigram, negated unigram, bigram, char
// n-gram) apart in the one hash space.
const SEED_WORD: u64 = 0x0077_6f72_6431;
const SEED_NEGATED: u64 = 0x006e_6567_6174_6564;
const SEED_BIGRAM: u64 = 0x0062_6967_7261_6d32;
const SEED_CHAR: u64 = 0x0063_6861_7267_7261;
const SEED_CHAR_ENGLISH: u64 = 0x0065_6e67_6c69_7368;
const SEED_START: u64 = 0x0073_7461_7274;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fnv_step(hash: u64, unit: u64) -> u64 {
    (hash ^ unit).wrapping_mul(FNV_PRIME)
}

/// MurmurHash3's 64-bit finaliser: spreads FNV's weak high bits.
#[inline]
fn finalize(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// A 64-bit hash of `units` in namespace `seed`; the building block of
/// every hashed feature, public so tools can look a feature's bucket up.
pub fn hash_units(seed: u64, units: impl IntoIterator<Item = char>) -> u64 {
    let mut hash = fnv_step(FNV_OFFSET, seed);
    for unit in units {
        hash = fnv_step(hash, unit as u64);
    }
    finalize(hash)
}

/// Negators spelled without apostrophe or glued that the lexicon list may
/// miss; tweets are written fast.
const EXTRA_NEGATORS: &[&str] = &["dont", "doesnt", "didnt", "isnt", "wasnt", "cant", "wont", "nope", "nah"];

/// Computes [`Features`] for a [`FeatureConfig`]. Build once per model and
/// share: extraction only reads it.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    config: FeatureConfig,
    shift: u32,
    lexicon: SentimentScorer,
    /// The built-in lexicon plus VADER's English words, with the same rules.
    extended: SentimentScorer,
    negators: FastSet<&'static str>,
    /// Every cue list in one matcher (one pass over the words per post);
    /// `cue_list[target]` says which list a cue came from.
    cues: PhraseMatcher,
    cue_list: Vec<CueList>,
    question_openings: FastSet<&'static str>,
}

/// The built-in cue lists counted as dense features, in feature order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CueList {
    Complaint,
    ComplaintTopic,
    Praise,
    Question,
    Urgency,
}

impl CueList {
    const ALL: [(CueList, &'static str); 5] = [
        (CueList::Complaint, lexicons::COMPLAINT_CUES),
        (CueList::ComplaintTopic, lexicons::COMPLAINT_TOPICS),
        (CueList::Praise, lexicons::PRAISE_CUES),
        (CueList::Question, lexicons::QUESTION_CUES),
        (CueList::Urgency, lexicons::URGENCY_CUES),
    ];
}

impl FeatureExtractor {
    /// Prepares extraction for `config`, which must be valid.
    pub fn new(config: FeatureConfig) -> Result<Self, String> {
        config.validate()?;
        let mut negators: FastSet<&'static str> = lexicons::words(lexicons::NEGATORS).collect();
        negators.extend(EXTRA_NEGATORS.iter().copied());
        let mut cues = PhraseMatcher::default();
        let mut cue_list = Vec::new();
        for (list, entries) in CueList::ALL {
            for cue in lexicons::entries(entries) {
                // A malformed built-in cue is skipped (the lexicon tests
                // check there are none).
                if cues.add(cue, cue_list.len()).is_ok() {
                    cue_list.push(list);
                }
            }
        }
        Ok(Self {
            shift: 64 - u32::from(config.hash_bits),
            config,
            lexicon: SentimentScorer::new(),
            extended: SentimentScorer::extended(),
            negators,
            cues,
            cue_list,
            question_openings: lexicons::words(lexicons::QUESTION_OPENINGS).collect(),
        })
    }

    /// The configuration features are computed with.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Whether features depend on the post's language (see
    /// [`FeatureConfig::english_char_space`]): callers that do not know it
    /// must detect it first.
    pub fn needs_language(&self) -> bool {
        self.config.english_char_space && self.config.char_min > 0
    }

    /// Features of a raw post text (normalised here) in language `lang`
    /// (a detected code, `und` when unknown); for training and tools.
    pub fn extract_raw(&self, raw: &str, lang: &str) -> Features {
        let mut features = Features::new();
        self.extract(raw, &NormalizedText::new(raw), lang, &mut features);
        features
    }

    /// Replaces `out` with the features of `text`, the normalisation of
    /// `raw` (only read for URL presence, which normalisation drops),
    /// written in language `lang` (as detected: an ISO 639-1 code, `und`).
    pub fn extract(&self, raw: &str, text: &NormalizedText, lang: &str, out: &mut Features) {
        out.clear();
        let tokens = &text.tokens[..text.tokens.len().min(MAX_TOKENS)];
        let mut chars: Vec<char> = Vec::with_capacity(MAX_WORD_CHARS + 2);
        let mut negation_words = 0usize;
        let mut elongated = 0usize;
        let mut shouted = 0usize;

        // Words.
        let word_start = out.entries.len();
        let mut previous: Option<u64> = None;
        let mut in_negation = false;
        for (position, token) in tokens.iter().enumerate() {
            if token.clause_start {
                in_negation = false;
                previous = None;
            }
            elongated += usize::from(squeeze_into(&token.word, &mut chars));
            shouted += usize::from(token.shouted);
            let word_hash = hash_units(SEED_WORD, chars.iter().copied());
            let unigram = if in_negation && self.config.negation_scope {
                finalize(word_hash ^ SEED_NEGATED)
            } else {
                word_hash
            };
            self.push(out, unigram);
            if self.config.word_bigrams {
                let left = match previous {
                    Some(left) => left.rotate_left(23),
                    None if position == 0 => SEED_START,
                    None => 0,
                };
                if left != 0 {
                    self.push(out, finalize(left ^ word_hash ^ SEED_BIGRAM));
                }
            }
            previous = Some(word_hash);
            if self.is_negator(&token.word) {
                negation_words += 1;
                in_negation = true;
            }
        }
        scale_group(&mut out.entries[word_start..], self.config.word_weight);

        // Characters.
        let char_start = out.entries.len();
        let char_seed =
            if self.needs_language() && is_english_space(lang) { SEED_CHAR_ENGLISH } else { SEED_CHAR };
        if self.config.char_min > 0 {
            let (min, max) = (usize::from(self.config.char_min), usize::from(self.config.char_max));
            for token in tokens {
                squeeze_into(&token.word, &mut chars);
                chars.truncate(MAX_WORD_CHARS);
                chars.insert(0, '<');
                if chars.len() <= MAX_WORD_CHARS {
                    chars.push('>');
                }
                for start in 0..chars.len() {
                    let mut hash = fnv_step(FNV_OFFSET, char_seed);
                    for (offset, &c) in chars[start..].iter().take(max).enumerate() {
                        hash = fnv_step(hash, c as u64);
                        if offset + 1 >= min {
                            self.push(out, finalize(hash));
                        }
                    }
                }
            }
        }
        scale_group(&mut out.entries[char_start..], self.config.char_weight);

        // Dense cues.
        let mut dense = [0.0f32; DENSE_COUNT];
        let lexicon = self.lexicon.score(text).score;
        let (mut positive_words, mut negative_words) = (0u32, 0u32);
        for token in tokens {
            match self.lexicon.valence(&token.word) {
                Some(weight) if weight > 0.0 => positive_words += 1,
                Some(weight) if weight < 0.0 => negative_words += 1,
                _ => {}
            }
        }
        let opening =
            tokens.first().is_some_and(|first| self.question_openings.contains(first.word.as_str()));
        let mut cue_counts = [0usize; CueList::ALL.len()];
        if !tokens.is_empty() || !text.hashtags.is_empty() {
            for (target, hit) in self.cues.matches(text).into_iter().enumerate() {
                if hit && let Some(&list) = self.cue_list.get(target) {
                    cue_counts[list as usize] += 1;
                }
            }
        }
        let (extended, evidence) = self.extended.score_with_evidence(text);
        let extended = extended.score;
        let mass = |sum: f32| sum / (sum + 4.0);
        let values = [
            lexicon.max(0.0),
            (-lexicon).max(0.0),
            saturate(positive_words as usize, 3),
            saturate(negative_words as usize, 3),
            saturate(text.emotive.positive as usize, 3),
            saturate(text.emotive.negative as usize, 3),
            saturate(text.exclamations as usize, 3),
            saturate(text.questions as usize, 2),
            saturate(shouted, 3),
            f32::from(u8::from(text.is_all_caps())),
            saturate(elongated, 2),
            saturate(negation_words, 2),
            saturate(text.mentions.len(), 3),
            f32::from(u8::from(has_url(raw))),
            saturate(text.hashtags.len(), 3),
            saturate(cue_counts[CueList::Complaint as usize], 2),
            saturate(cue_counts[CueList::ComplaintTopic as usize], 2),
            saturate(cue_counts[CueList::Praise as usize], 2),
            saturate(cue_counts[CueList::Question as usize], 2),
            f32::from(u8::from(opening)),
            saturate(cue_counts[CueList::Urgency as usize], 2),
            saturate(tokens.len(), 40),
            f32::from(u8::from(tokens.is_empty())),
            extended.max(0.0),
            (-extended).max(0.0),
            mass(evidence.positive),
            mass(evidence.negative),
            saturate(evidence.positive_words as usize, 3),
            saturate(evidence.negative_words as usize, 3),
            (evidence.strongest_positive / 4.0).min(1.0),
            (evidence.strongest_negative / 4.0).min(1.0),
        ];
        dense.copy_from_slice(&values);
        let base = self.config.buckets();
        for (offset, value) in dense.into_iter().enumerate() {
            if value != 0.0 && value.is_finite() {
                // Dense indexes are below 2^24 + DENSE_COUNT, well inside u32.
                out.entries.push(((base + offset) as u32, value));
            }
        }
    }

    #[inline]
    fn push(&self, out: &mut Features, hash: u64) {
        // `shift` is at least 40, so the bucket fits in u32.
        out.entries.push(((hash >> self.shift) as u32, 1.0));
    }

    fn is_negator(&self, word: &str) -> bool {
        self.negators.contains(word) || word.ends_with("n't")
    }
}

/// Whether text detected as `lang` gets the English character n-grams:
/// English, and text too short to tell (mostly English in the training
/// data and in brands' mentions).
fn is_english_space(lang: &str) -> bool {
    matches!(lang, "en" | "und" | "")
}

/// Writes `word` into `chars` with digits folded to `0` and runs of three or
/// more identical characters squeezed to two; says whether it squeezed one.
fn squeeze_into(word: &str, chars: &mut Vec<char>) -> bool {
    chars.clear();
    let mut squeezed = false;
    let mut run = 0usize;
    let mut last = None;
    for c in word.chars() {
        let c = if c.is_ascii_digit() { '0' } else { c };
        if Some(c) == last {
            run += 1;
        } else {
            run = 1;
            last = Some(c);
        }
        if run >= 3 {
            squeezed |= c.is_alphabetic();
            continue;
        }
        chars.push(c);
        if chars.len() >= 4 * MAX_WORD_CHARS {
            break;
        }
    }
    squeezed
}

/// Scales a group so its values' L2 norm is `weight` (all values start at 1).
fn scale_group(entries: &mut [(u32, f32)], weight: f32) {
    if entries.is_empty() {
        return;
    }
    let scale = weight / (entries.len() as f32).sqrt();
    for entry in entries {
        entry.1 *= scale;
    }
}

/// `count / cap`, at most 1.
fn saturate(count: usize, cap: usize) -> f32 {
    count.min(cap) as f32 / cap as f32
}

/// Whether the raw text contains a link; normalisation drops links, but a
/// link in a post is a signal (news and promotions are rarely complaints).
fn has_url(raw: &str) -> bool {
    raw.contains("://") || raw.contains("www.") || raw.split_whitespace().any(|w| w == "http" || w == "URL")
}

/// The words of `tokens` as the extractor hashes them; for debugging tools.
pub fn feature_words(tokens: &[Token]) -> Vec<String> {
    let mut chars = Vec::new();
    tokens
        .iter()
        .take(MAX_TOKENS)
        .map(|token| {
            squeeze_into(&token.word, &mut chars);
            chars.iter().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_GOOD: u64 = 5_569_078_763_375_563_185;

    fn extractor(config: FeatureConfig) -> FeatureExtractor {
        FeatureExtractor::new(config).unwrap()
    }

    #[test]
    fn deterministic_and_in_range() {
        let x = extractor(FeatureConfig::default());
        let text = "@AcmeAir WORST airline ever!!! lost my bag :( sooooo angry http://t.co/x #fail";
        let a = x.extract_raw(text, "en");
        let b = x.extract_raw(text, "en");
        assert_eq!(a, b);
        let dimension = x.config().dimension() as u32;
        assert!(a.entries().iter().all(|&(index, value)| index < dimension && value.is_finite()));
        // A pinned value: if this changes, bump FEATURE_SCHEME.
        assert_eq!(hash_units(SEED_WORD, "good".chars()), PINNED_GOOD);
    }

    #[test]
    fn negation_changes_the_word_features() {
        let x = extractor(FeatureConfig { char_min: 0, word_bigrams: false, ..FeatureConfig::default() });
        let good = x.extract_raw("good", "en");
        let not_good = x.extract_raw("not good", "en");
        let after_comma = x.extract_raw("not, good", "en");
        let good_index = good.entries()[0].0;
        assert!(!not_good.entries().iter().any(|&(index, _)| index == good_index));
        assert!(after_comma.entries().iter().any(|&(index, _)| index == good_index));
    }

    #[test]
    fn elongation_and_digits_are_folded() {
        let x = extractor(FeatureConfig { char_min: 0, word_bigrams: false, ..FeatureConfig::default() });
        let a = x.extract_raw("soooo good flight 123", "en");
        let b = x.extract_raw("sooo good flight 456", "en");
        let words = |f: &Features| -> Vec<u32> {
            f.entries().iter().map(|e| e.0).filter(|&i| (i as usize) < x.config().buckets()).collect()
        };
        assert_eq!(words(&a), words(&b));
        let elongated = x.config().buckets() + 10;
        assert!(a.entries().iter().any(|&(index, _)| index as usize == elongated));
    }

    #[test]
    fn groups_are_normalised() {
        let x = extractor(FeatureConfig::default());
        let long = x.extract_raw(&"refund please now ".repeat(50), "en");
        let buckets = x.config().buckets() as u32;
        let norm: f32 = long.entries().iter().filter(|e| e.0 < buckets).map(|e| e.1 * e.1).sum();
        // Two groups of norm 1 each.
        assert!((norm - 2.0).abs() < 1e-3, "{norm}");
    }

    #[test]
    fn odd_inputs_never_panic_and_stay_bounded() {
        let x = extractor(FeatureConfig::default());
        let huge = "é".repeat(1 << 20);
        let many = "word ".repeat(100_000);
        let odd = [
            "",
            " ",
            "😀",
            "\u{0}\u{200b}\u{feff}",
            "n't not no",
            "<><>",
            "ÀÉÎÕÜ ß İ ı ǅ",
            "مرحبا بالعالم",
            "我的行李丢了！",
            huge.as_str(),
            many.as_str(),
        ];
        for text in odd {
            let features = x.extract_raw(text, "en");
            assert!(features.len() < 20_000, "{}", features.len());
            assert!(features.entries().iter().all(|e| e.1.is_finite()));
        }
        let empty = x.extract_raw("", "en");
        assert_eq!(empty.len(), 1, "only the `empty` flag: {empty:?}");
    }

    #[test]
    fn english_has_its_own_character_ngrams() {
        let x = extractor(FeatureConfig { word_bigrams: false, ..FeatureConfig::default() });
        assert!(x.needs_language());
        let split = |features: Features| -> (Vec<u32>, Vec<u32>) {
            let buckets = x.config().buckets() as u32;
            let words = features.entries().iter().take(1).map(|e| e.0).collect();
            let chars = features.entries().iter().skip(1).map(|e| e.0).filter(|&i| i < buckets).collect();
            (words, chars)
        };
        let (english_words, english_chars) = split(x.extract_raw("flight", "en"));
        let (spanish_words, spanish_chars) = split(x.extract_raw("flight", "es"));
        assert_eq!(english_words, spanish_words, "words are shared by every language");
        assert_ne!(english_chars, spanish_chars);
        assert_eq!(x.extract_raw("flight", "und"), x.extract_raw("flight", "en"));
        assert_eq!(x.extract_raw("flight", "fr"), x.extract_raw("flight", "es"));
        let shared = extractor(FeatureConfig { english_char_space: false, ..FeatureConfig::default() });
        assert!(!shared.needs_language());
        assert_eq!(shared.extract_raw("flight", "en"), shared.extract_raw("flight", "es"));
    }

    #[test]
    fn extended_lexicon_features_see_words_the_built_in_list_lacks() {
        let x = extractor(FeatureConfig::default());
        let base = x.config().buckets();
        let dense = |text: &str| -> Vec<f32> {
            let mut values = vec![0.0; DENSE_COUNT];
            for &(index, value) in x.extract_raw(text, "en").entries() {
                if let Some(slot) = (index as usize).checked_sub(base).and_then(|i| values.get_mut(i)) {
                    *slot = value;
                }
            }
            values
        };
        let at = |name: &str| DENSE_FEATURES.iter().position(|n| *n == name).unwrap();
        // "dreadful" and "splendid" are VADER words.
        let negative = dense("what a dreadful evening");
        assert!(negative[at("extended_lexicon_negative")] > 0.0);
        assert!(negative[at("extended_negative_words")] > 0.0);
        let positive = dense("what a splendid evening");
        assert!(positive[at("extended_lexicon_positive")] > 0.0);
        assert!(positive[at("extended_strongest_positive")] > 0.0);
        assert_eq!(dense("the meeting is on tuesday")[at("extended_positive_mass")], 0.0);
    }

    #[test]
    fn bad_configs_are_refused() {
        for config in [
            FeatureConfig { hash_bits: 30, ..FeatureConfig::default() },
            FeatureConfig { char_min: 4, char_max: 3, ..FeatureConfig::default() },
            FeatureConfig { scheme: "other".to_owned(), ..FeatureConfig::default() },
            FeatureConfig { word_weight: f32::NAN, ..FeatureConfig::default() },
        ] {
            assert!(FeatureExtractor::new(config).is_err());
        }
    }
}
