//! The fingerprint of a post's text: its SimHashes (whole text and halves),
//! the text clean-up before hashing, and the hash functions behind them.

use std::borrow::Cow;

use crate::text::{self, NormalizedText, Token};

use super::{
    MAX_FINGERPRINT_CHARS, MAX_HALF_DISTANCE, MAX_WHOLE_DISTANCE_WITH_HALF, MIN_HALF_WORDS, MIN_WORD_UNITS,
};

/// SimHashes of a post's text: similar texts have SimHashes that differ in
/// few bits. See the module documentation for when two are near-duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// SimHash of the whole text.
    pub whole: u64,
    /// SimHashes of the text's two halves, for texts of at least
    /// `2 × MIN_HALF_WORDS` words.
    pub halves: Option<[u64; 2]>,
}

impl Fingerprint {
    /// The fingerprint of `raw` post text, or `None` when the text is too
    /// short to tell a copy from a coincidence (see [`MIN_WORD_UNITS`]).
    pub fn of(raw: &str) -> Option<Self> {
        Self::of_tokens(&text::normalize(strip_trailing_noise(raw)).tokens)
    }

    /// [`Fingerprint::of`] from the post's normalised text, which the
    /// classifier has already computed: only the trailing noise that
    /// [`Fingerprint::of`] cuts off is normalised again, to know how many of
    /// the last tokens to leave out. Same result, one normalisation less.
    pub fn of_normalized(raw: &str, normalized: &NormalizedText) -> Option<Self> {
        let kept = strip_trailing_noise(raw);
        let tokens = &normalized.tokens;
        // `kept` is a prefix of `raw` ending before a whitespace-separated
        // chunk, and normalisation works chunk by chunk, so the tokens of the
        // cut-off chunks are the last ones of the whole text.
        let cut = match raw.get(kept.len()..) {
            Some(rest) if !rest.trim().is_empty() => text::normalize(rest).tokens.len(),
            _ => 0,
        };
        Self::of_tokens(&tokens[..tokens.len().saturating_sub(cut)])
    }

    fn of_tokens(tokens: &[Token]) -> Option<Self> {
        let mut words: Vec<Cow<'_, str>> = Vec::with_capacity(tokens.len());
        let (mut units, mut chars) = (0usize, 0usize);
        for token in tokens {
            if chars >= MAX_FINGERPRINT_CHARS {
                break;
            }
            let word = squeeze(&token.word);
            if word.is_empty() {
                continue;
            }
            units += word_units(&word);
            chars += word.chars().count() + 1;
            words.push(word);
        }
        if units < MIN_WORD_UNITS {
            return None;
        }
        Some(Self::of_words(&words))
    }

    /// SimHashes of `words` and of their halves. Every feature is hashed
    /// once: a half's features are its words and the 4-grams that lie
    /// wholly inside it, exactly as if the half were fingerprinted alone.
    pub(super) fn of_words(words: &[Cow<'_, str>]) -> Self {
        let mut joined: Vec<char> = Vec::new();
        let mut starts = Vec::with_capacity(words.len());
        for word in words {
            if !joined.is_empty() {
                joined.push(' ');
            }
            starts.push(joined.len());
            joined.extend(word.chars());
        }
        joined.truncate(MAX_FINGERPRINT_CHARS);
        let word_hashes: Vec<u64> = words.iter().map(|word| hash_bytes(word.as_bytes(), WORD_SEED)).collect();
        let gram_hashes: Vec<u64> = joined.windows(4).map(hash_gram).collect();
        let mut scratch = Vec::with_capacity(word_hashes.len() + gram_hashes.len());
        let whole = simhash(word_hashes.iter().chain(&gram_hashes), &mut scratch);
        let halves = half_split(words).and_then(|split| {
            let boundary = *starts.get(split)?;
            // The first half's text ends before the space at `boundary - 1`.
            let first_grams = gram_hashes.get(..boundary.saturating_sub(4))?;
            let second_grams = gram_hashes.get(boundary..).unwrap_or_default();
            let first = simhash(word_hashes.get(..split)?.iter().chain(first_grams), &mut scratch);
            let second = simhash(word_hashes.get(split..)?.iter().chain(second_grams), &mut scratch);
            Some([first, second])
        });
        Self { whole, halves }
    }

    /// Number of bits in which the whole-text SimHashes differ.
    pub fn distance(self, other: Self) -> u32 {
        hamming_distance(self.whole, other.whole)
    }

    /// Whether `self` and `other` are near-duplicates with at most
    /// `max_distance` differing bits between whole texts (see the module
    /// documentation for the half rule).
    pub fn is_near_duplicate(self, other: Self, max_distance: u32) -> bool {
        let whole = self.distance(other);
        whole <= max_distance || (whole <= MAX_WHOLE_DISTANCE_WITH_HALF && self.half_matches(other))
    }

    fn half_matches(self, other: Self) -> bool {
        match (self.halves, other.halves) {
            (Some(a), Some(b)) => {
                a.iter().zip(&b).any(|(a, b)| hamming_distance(*a, *b) <= MAX_HALF_DISTANCE)
            }
            _ => false,
        }
    }
}

/// Number of bits in which `a` and `b` differ.
pub fn hamming_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Where to split `words` into halves: the word with the smallest hash in
/// the middle third, keeping [`MIN_HALF_WORDS`] on each side. Chosen by
/// content rather than position so that inserting or deleting a word in one
/// half does not shift the other.
pub(super) fn half_split(words: &[Cow<'_, str>]) -> Option<usize> {
    let len = words.len();
    let low = (len / 3).max(MIN_HALF_WORDS);
    let high = (2 * len).div_ceil(3).min((len + 1).saturating_sub(MIN_HALF_WORDS));
    (low..high).min_by_key(|&i| words.get(i).map(|word| hash_bytes(word.as_bytes(), SPLIT_SEED)))
}

/// SimHash of a text's feature hashes (its words' and its character
/// 4-grams'), each distinct feature counted once so that a repeated word or
/// 4-gram cannot outvote the rest of the text. `scratch` is reused memory.
fn simhash<'a>(features: impl Iterator<Item = &'a u64>, scratch: &mut Vec<u64>) -> u64 {
    scratch.clear();
    scratch.extend(features);
    scratch.sort_unstable();
    scratch.dedup();
    let mut simhash = SimHasher::new();
    for &feature in scratch.iter() {
        simhash.add(feature);
    }
    simhash.finish()
}

/// `word` with stretching undone: the Arabic tatweel (`ـ`) dropped and runs
/// of one character cut to two, so `soooo`, `kkkkkkkk` and `مقيمـــــة`
/// read the same however long the author held the key.
pub(super) fn squeeze(word: &str) -> Cow<'_, str> {
    let (mut previous, mut run) = (None, 0usize);
    let stretched = word.chars().any(|c| {
        if Some(c) == previous {
            run += 1;
        } else {
            (previous, run) = (Some(c), 1);
        }
        c == '\u{0640}' || run > 2
    });
    if !stretched {
        return Cow::Borrowed(word);
    }
    let mut squeezed = String::with_capacity(word.len());
    let (mut previous, mut run) = (None, 0usize);
    for c in word.chars().filter(|&c| c != '\u{0640}') {
        if Some(c) == previous {
            run += 1;
        } else {
            previous = Some(c);
            run = 1;
        }
        if run <= 2 {
            squeezed.push(c);
        }
    }
    Cow::Owned(squeezed)
}

/// `raw` without its trailing hashtags, handles, links and symbols (and a
/// `via`, `cc`, `by`, `h/t` introducing a trailing handle): the tail that
/// cross-posts and campaigns vary. The whole text when nothing else is left.
pub(super) fn strip_trailing_noise(raw: &str) -> &str {
    let mut end = raw.len();
    let mut dropped_handle = false;
    for chunk in raw.split_whitespace().rev() {
        let is_tag = chunk.starts_with(['#', '＃', '@', '＠']);
        // `http` alone is how anonymised datasets write a removed link.
        let is_link = chunk.contains("://")
            || chunk.starts_with("www.")
            || chunk.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("http"));
        let is_symbols = !chunk.chars().any(char::is_alphanumeric);
        let introduces_handle = dropped_handle
            && ["via", "cc", "by", "h/t", "ht", "rt", "mt"]
                .iter()
                .any(|word| chunk.eq_ignore_ascii_case(word));
        if !(is_tag || is_link || is_symbols || introduces_handle) {
            break;
        }
        dropped_handle = chunk.starts_with(['@', '＠']);
        // `chunk` is a subslice of `raw`, so its offset is a char boundary.
        end = (chunk.as_ptr() as usize).saturating_sub(raw.as_ptr() as usize);
    }
    match raw.get(..end) {
        Some(kept) if kept.chars().any(char::is_alphanumeric) => kept.trim_end(),
        _ => raw,
    }
}

/// Words a token stands for: one, or one per two characters of a script
/// written without spaces, where the tokeniser yields whole clauses.
fn word_units(word: &str) -> usize {
    let spaceless = word.chars().filter(|&c| is_spaceless_script(c)).count();
    if spaceless == 0 { 1 } else { (spaceless / 2).max(1) }
}

fn is_spaceless_script(c: char) -> bool {
    matches!(
        c as u32,
        0x0E00..=0x0EFF // Thai, Lao
            | 0x1000..=0x109F // Myanmar
            | 0x1780..=0x17FF // Khmer
            | 0x3040..=0x30FF // Hiragana, Katakana
            | 0x3400..=0x4DBF // CJK extension A
            | 0x4E00..=0x9FFF // CJK unified ideographs
            | 0xF900..=0xFAFF // CJK compatibility
            | 0x20000..=0x2FFFF // CJK extensions B+
    )
}

/// Accumulates feature hashes into a SimHash: bit `i` of the result is set
/// when more than half of the features have bit `i` set. Counts are kept
/// eight to a word (byte `j` of `lanes[b]` counts bit `8j + b`), so adding a
/// feature is eight shifts and adds instead of 64; they are flushed into
/// `totals` before a byte can overflow.
pub(super) struct SimHasher {
    totals: [u32; 64],
    lanes: [u64; 8],
    pending: u32,
    features: u32,
}

const LOW_BIT_OF_EACH_BYTE: u64 = 0x0101_0101_0101_0101;

impl SimHasher {
    pub(super) fn new() -> Self {
        Self { totals: [0; 64], lanes: [0; 8], pending: 0, features: 0 }
    }

    pub(super) fn add(&mut self, hash: u64) {
        for (b, lane) in self.lanes.iter_mut().enumerate() {
            *lane += (hash >> b) & LOW_BIT_OF_EACH_BYTE;
        }
        self.pending += 1;
        self.features = self.features.saturating_add(1);
        if self.pending == u32::from(u8::MAX) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (b, lane) in self.lanes.iter_mut().enumerate() {
            for j in 0..8 {
                self.totals[8 * j + b] += ((*lane >> (8 * j)) & 0xff) as u32;
            }
            *lane = 0;
        }
        self.pending = 0;
    }

    pub(super) fn finish(mut self) -> u64 {
        self.flush();
        let mut simhash = 0u64;
        for (bit, &count) in self.totals.iter().enumerate() {
            if u64::from(count) * 2 > u64::from(self.features) {
                simhash |= 1 << bit;
            }
        }
        simhash
    }
}

const WORD_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const GRAM_SEED: u64 = 0xc2b2_ae3d_27d4_eb4f;
pub(super) const ID_SEED: u64 = 0x1656_67b1_9e37_79f9;
const SPLIT_SEED: u64 = 0x85eb_ca77_c2b2_ae63;

/// FNV-1a over `bytes`, finished with MurmurHash3's mixer so that every
/// output bit depends on every input bit (SimHash needs independent bits).
/// Fixed, not `std`'s randomly keyed hasher, so fingerprints are stable.
pub(super) fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(hash)
}

/// Hash of a character 4-gram (fewer characters hash too); characters are
/// 21-bit code points, so three pack losslessly into one word.
fn hash_gram(gram: &[char]) -> u64 {
    let mut packed = 0u64;
    let mut last = 0u64;
    for (i, &c) in gram.iter().enumerate() {
        if i < 3 {
            packed |= u64::from(c) << (21 * i);
        } else {
            last = u64::from(c);
        }
    }
    mix(packed ^ mix(last ^ GRAM_SEED))
}

/// MurmurHash3's 64-bit finaliser.
pub(super) fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}
