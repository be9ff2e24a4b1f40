//! Near-duplicate detection: retweets, cross-posts and copy-paste campaigns.
//!
//! A post's text is reduced to a [`Fingerprint`] of 64-bit SimHashes, and a
//! per-account [`NearDuplicateWindow`] remembers the fingerprints of recent
//! posts and answers, for each new post, which earlier post it (almost)
//! repeats.
//!
//! ## What the fingerprint sees
//!
//! The text is normalised like everything else in this crate ([`crate::text`]):
//! `@mentions`, URLs, emoji, the `RT @user:` marker, case and punctuation are
//! gone, so a retweet or a cross-post with other links and handles hashes
//! like its original. Trailing hashtags, handles and links (and a `via`/`cc`/
//! `by` before a trailing handle) are dropped first: campaigns vary exactly
//! those. What remains is hashed as its words plus the character 4-grams of
//! the words joined by single spaces. Character 4-grams rather than the
//! textbook 3-word shingles because tweets are short: in a 20-word tweet one
//! edited word changes 3 of 18 word trigrams and moves a SimHash ~12 bits on
//! average, as far as unrelated tweets on the same topic; with 4-grams it
//! moves ~6–8 bits. 4-grams also cover scripts written without spaces
//! (Chinese, Japanese, Thai), where the tokeniser's "word" is a clause.
//!
//! Even so, one 64-bit SimHash of a tweet is noisy: a replaced word moves it
//! anywhere from 3 to 13 bits. So texts of [`MIN_HALF_WORDS`]` × 2` words or
//! more also get a SimHash for each half, split at a content-defined word
//! (the middle-third word with the smallest hash, so an insertion elsewhere
//! does not move the split). One edit leaves one half intact.
//!
//! Two posts are near-duplicates when
//! - their whole-text SimHashes differ in at most
//!   [`NearDuplicateConfig::max_distance`] bits (default 7), or
//! - one half's SimHashes differ in at most [`MAX_HALF_DISTANCE`] (3) bits
//!   and the whole texts' in at most [`MAX_WHOLE_DISTANCE_WITH_HALF`] (14),
//!   so a shared formula ("thank you so much for your help") with a
//!   different rest does not count. Unrelated texts differ in ~32 bits.
//!
//! Texts with fewer than [`MIN_WORD_UNITS`] words (two characters of a
//! spaceless script count as one word) get no fingerprint and are never
//! flagged: "thanks!", "DM sent", "same here" repeat across unrelated authors
//! all day, and so few features make SimHash collide.
//!
//! ## Measured
//!
//! On 35,459 real posts (the demo sample, the airline customer-care set
//! where many distinct complaints share most of their words, TweetEval, the
//! 8-language XLM-T set, the complaints set and customer-support threads),
//! 2,119 posts were flagged, none sharing fewer than half their words with
//! the post it was matched to; spot checks found retweets, quote-tweets with
//! a comment, news syndicated with another outlet's name, typo fixes. On the
//! 1,000-post demo sample, the 71 flagged posts are the 71 repeats the sample
//! really contains. In tweets of 12+ words (25,511 of them), re-wrapping
//! (`RT @x:`, other link, other hashtags) is always caught, a typo 96% of
//! the time, a deleted word 91%, an inserted one 89%, a replaced one 87%,
//! three words appended 78%, two replaced words in different halves 16%. A
//! campaign of many copies is caught as soon as any two copies are that
//! close. Misses are mostly edits that touch the split word itself.
//!
//! ## The window and its index
//!
//! The window keeps the last [`NearDuplicateConfig::max_posts`] posts and
//! forgets those more than [`NearDuplicateConfig::max_age`] of post time
//! older than the newest post seen. Lookups use the block index of Manku,
//! Jain & Das Sarma (WWW 2007): a SimHash is split into `k + 1` blocks, and
//! by the pigeonhole principle two SimHashes within `k` bits agree exactly on
//! at least one block, so one hash table per block finds every match among
//! few candidates instead of scanning the window. The halves use the classic
//! `k = 3`, 4 blocks of 16 bits; the whole text `k = 7`, 8 blocks of 8 bits,
//! about `len / 32` candidates at one XOR and popcount each.

mod fingerprint;
#[cfg(test)]
mod tests;
mod window;

pub use fingerprint::{Fingerprint, hamming_distance};
pub use window::{NearDuplicateConfig, NearDuplicateWindow};

/// Fewest words a text needs to get a fingerprint; two characters of a
/// script written without spaces count as one word.
pub const MIN_WORD_UNITS: usize = 5;

/// Fewest words in each half for a text to get half fingerprints: shorter
/// halves are formulas ("thank you so much") more often than copies.
pub const MIN_HALF_WORDS: usize = 5;

/// Most differing bits between one half of two posts for the half rule.
pub const MAX_HALF_DISTANCE: u32 = 3;

/// Most differing bits between two whole posts for the half rule.
pub const MAX_WHOLE_DISTANCE_WITH_HALF: u32 = 14;

/// Only this many characters of normalised text are fingerprinted, so a
/// 1 MB post costs no more than a long one; posts that share their first
/// 2,000 characters are duplicates for any practical purpose.
pub const MAX_FINGERPRINT_CHARS: usize = 2_000;

/// The largest [`NearDuplicateConfig::max_distance`] honoured; larger values
/// are clamped. Beyond it blocks get so narrow that lookups approach a scan
/// of the window, and distinct tweets start to match.
pub const MAX_SUPPORTED_DISTANCE: u32 = 10;
