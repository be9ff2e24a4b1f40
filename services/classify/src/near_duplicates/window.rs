//! The window of an account's recent posts and its block index (Manku et al.),
//! which finds the earliest near-duplicate among few candidates.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use smo_proto::PostId;

use super::fingerprint::{ID_SEED, hash_bytes};
use super::{
    Fingerprint, MAX_HALF_DISTANCE, MAX_SUPPORTED_DISTANCE, MAX_WHOLE_DISTANCE_WITH_HALF, hamming_distance,
};

/// Bounds of a [`NearDuplicateWindow`]. The defaults suit one account's
/// stream: a day of posts, at most 50,000 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearDuplicateConfig {
    /// Most differing bits between whole-text SimHashes for two posts to be
    /// near-duplicates; at most [`MAX_SUPPORTED_DISTANCE`]. Default 7.
    pub max_distance: u32,
    /// Most posts remembered; the oldest are forgotten first. `0` disables
    /// detection.
    pub max_posts: usize,
    /// Posts are compared only with posts at most this much older or newer
    /// (by post time), and forgotten once this much older than the newest
    /// post seen.
    pub max_age: TimeDelta,
}

impl Default for NearDuplicateConfig {
    fn default() -> Self {
        Self { max_distance: 7, max_posts: 50_000, max_age: TimeDelta::hours(24) }
    }
}

/// The recent posts of one account, to tell which new post repeats an
/// earlier one. Memory is bounded by [`NearDuplicateConfig::max_posts`]
/// (about 600 bytes per post, ~30 MB at the default 50,000);
/// [`NearDuplicateWindow::observe`] costs a normalisation, three SimHashes
/// and a few hash-table lookups.
///
/// It lives in memory only: a new process starts with an empty window and
/// misses duplicates of posts it has not seen, which affects the flag, never
/// delivery.
#[derive(Debug, Clone)]
pub struct NearDuplicateWindow {
    config: NearDuplicateConfig,
    pub(super) tables: Vec<Table>,
    /// Remembered posts, oldest first; `entries[i]` has sequence number
    /// `first_seq + i`.
    pub(super) entries: VecDeque<Entry>,
    first_seq: u64,
    /// Hash of a remembered post's id → its sequence number, to recognise
    /// redeliveries.
    pub(super) by_id: HashMap<u64, u64>,
    /// Latest post time seen; posts older than it by `max_age` are forgotten.
    newest: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    id: PostId,
    created_at: DateTime<Utc>,
    pub(super) fingerprint: Fingerprint,
    /// What `observe` answered for this post, repeated on redelivery.
    duplicate_of: Option<PostId>,
}

impl Entry {
    /// The first post of this post's near-duplicate group.
    fn group(&self) -> &PostId {
        self.duplicate_of.as_ref().unwrap_or(&self.id)
    }
}

/// Which SimHash of a [`Fingerprint`] a table indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    Whole,
    FirstHalf,
    SecondHalf,
}

impl View {
    pub(super) fn of(self, fingerprint: &Fingerprint) -> Option<u64> {
        match self {
            Self::Whole => Some(fingerprint.whole),
            Self::FirstHalf => fingerprint.halves.map(|[first, _]| first),
            Self::SecondHalf => fingerprint.halves.map(|[_, second]| second),
        }
    }
}

/// Bucket keys keep at most this many bits of a block, so a table is a flat
/// array of at most 4,096 buckets (16-bit blocks would leave most buckets
/// with a single post and cost more memory than the posts).
const BUCKET_KEY_BITS: u32 = 12;

/// One block of one view: posts bucketed by the block's bits.
#[derive(Debug, Clone)]
pub(super) struct Table {
    pub(super) view: View,
    shift: u32,
    width: u32,
    /// `1 << width` buckets, allocated on first use.
    pub(super) buckets: Vec<Bucket>,
}

impl Table {
    fn key(&self, simhash: u64) -> usize {
        ((simhash >> self.shift) & ((1u64 << self.width) - 1)) as usize
    }

    fn bucket(&self, simhash: u64) -> Option<&Bucket> {
        self.buckets.get(self.key(simhash))
    }

    fn bucket_mut(&mut self, simhash: u64) -> Option<&mut Bucket> {
        if self.buckets.is_empty() {
            self.buckets.resize_with(1 << self.width, Bucket::default);
        }
        let key = self.key(simhash);
        self.buckets.get_mut(key)
    }
}

/// The posts in one bucket: their SimHashes (scanned, so kept contiguous)
/// and sequence numbers, index for index, oldest first.
#[derive(Debug, Clone, Default)]
pub(super) struct Bucket {
    pub(super) simhashes: Vec<u64>,
    pub(super) seqs: Vec<u64>,
}

impl Default for NearDuplicateWindow {
    fn default() -> Self {
        Self::new(NearDuplicateConfig::default())
    }
}

impl NearDuplicateWindow {
    /// An empty window with `config` (its distance clamped to
    /// [`MAX_SUPPORTED_DISTANCE`]).
    pub fn new(mut config: NearDuplicateConfig) -> Self {
        config.max_distance = config.max_distance.min(MAX_SUPPORTED_DISTANCE);
        let mut tables = Vec::new();
        for (view, blocks) in [
            (View::Whole, config.max_distance + 1),
            (View::FirstHalf, MAX_HALF_DISTANCE + 1),
            (View::SecondHalf, MAX_HALF_DISTANCE + 1),
        ] {
            for (shift, width) in split_into_blocks(blocks) {
                tables.push(Table { view, shift, width: width.min(BUCKET_KEY_BITS), buckets: Vec::new() });
            }
        }
        Self { config, tables, entries: VecDeque::new(), first_seq: 0, by_id: HashMap::new(), newest: None }
    }

    /// The window's bounds, as clamped.
    pub fn config(&self) -> &NearDuplicateConfig {
        &self.config
    }

    /// Number of posts remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no post is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records post `id`, written at `created_at` with `text`, and returns
    /// the first post of the near-duplicate group it joins: the group of the
    /// earliest remembered near-duplicate within `max_age`. `None` for an
    /// original, for text too short to fingerprint, and when detection is
    /// disabled.
    ///
    /// Observing a remembered id again (a redelivery, a retried batch)
    /// returns the same answer as the first time and changes nothing, so a
    /// post is never its own duplicate and reprocessing is idempotent.
    pub fn observe(&mut self, id: &PostId, created_at: DateTime<Utc>, text: &str) -> Option<PostId> {
        if self.config.max_posts == 0 {
            return None;
        }
        if let Some(entry) = self.remembered(id) {
            return entry.duplicate_of.clone();
        }
        let fingerprint = Fingerprint::of(text)?;
        self.observe_fingerprint(id, created_at, fingerprint)
    }

    /// [`Self::observe`] for a precomputed fingerprint.
    pub fn observe_fingerprint(
        &mut self,
        id: &PostId,
        created_at: DateTime<Utc>,
        fingerprint: Fingerprint,
    ) -> Option<PostId> {
        if self.config.max_posts == 0 {
            return None;
        }
        if let Some(entry) = self.remembered(id) {
            return entry.duplicate_of.clone();
        }
        if self.newest.is_none_or(|newest| created_at > newest) {
            self.newest = Some(created_at);
        }
        self.forget_expired();
        let duplicate_of = self.earliest_match(fingerprint, created_at).map(|entry| entry.group().clone());
        self.remember(Entry { id: id.clone(), created_at, fingerprint, duplicate_of: duplicate_of.clone() });
        while self.entries.len() > self.config.max_posts {
            self.forget_oldest();
        }
        duplicate_of
    }

    fn remembered(&self, id: &PostId) -> Option<&Entry> {
        let seq = *self.by_id.get(&hash_bytes(id.as_str().as_bytes(), ID_SEED))?;
        self.entry(seq).filter(|entry| entry.id == *id)
    }

    fn entry(&self, seq: u64) -> Option<&Entry> {
        let index = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.entries.get(index)
    }

    /// The earliest remembered near-duplicate of `fingerprint` within
    /// `max_age` of `created_at`.
    fn earliest_match(&self, fingerprint: Fingerprint, created_at: DateTime<Utc>) -> Option<&Entry> {
        let mut best: Option<u64> = None;
        for table in &self.tables {
            let Some(simhash) = table.view.of(&fingerprint) else {
                continue;
            };
            let Some(bucket) = table.bucket(simhash) else {
                continue;
            };
            let limit = match table.view {
                View::Whole => self.config.max_distance,
                View::FirstHalf | View::SecondHalf => MAX_HALF_DISTANCE,
            };
            // A bucket lists its posts oldest first, so the scan stops at
            // the first match, or at the first post no older than the best
            // match of the tables before.
            for (&candidate, &seq) in bucket.simhashes.iter().zip(&bucket.seqs) {
                if best.is_some_and(|best| best <= seq) {
                    break;
                }
                if hamming_distance(candidate, simhash) > limit {
                    continue;
                }
                let matches = self.entry(seq).is_some_and(|entry| {
                    (table.view == View::Whole
                        || entry.fingerprint.distance(fingerprint) <= MAX_WHOLE_DISTANCE_WITH_HALF)
                        && created_at.signed_duration_since(entry.created_at).abs() <= self.config.max_age
                });
                if matches {
                    best = Some(seq);
                    break;
                }
            }
        }
        best.and_then(|seq| self.entry(seq))
    }

    fn remember(&mut self, entry: Entry) {
        let seq = self.first_seq + self.entries.len() as u64;
        for table in &mut self.tables {
            if let Some(simhash) = table.view.of(&entry.fingerprint)
                && let Some(bucket) = table.bucket_mut(simhash)
            {
                bucket.simhashes.push(simhash);
                bucket.seqs.push(seq);
            }
        }
        self.by_id.insert(hash_bytes(entry.id.as_str().as_bytes(), ID_SEED), seq);
        self.entries.push_back(entry);
    }

    /// Forgets posts from the oldest on while they are more than `max_age`
    /// older than the newest post seen. A late post in the middle of the
    /// window may outlive its age until it reaches the front, but lookups
    /// ignore it, and `max_posts` bounds it anyway.
    fn forget_expired(&mut self) {
        let Some(horizon) = self.newest.and_then(|newest| newest.checked_sub_signed(self.config.max_age))
        else {
            return;
        };
        while self.entries.front().is_some_and(|entry| entry.created_at < horizon) {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        let Some(entry) = self.entries.pop_front() else {
            return;
        };
        let seq = self.first_seq;
        self.first_seq += 1;
        for table in &mut self.tables {
            let Some(simhash) = table.view.of(&entry.fingerprint) else {
                continue;
            };
            // The oldest post is first in its buckets; removing it keeps
            // them in age order, which lookups rely on.
            if let Some(bucket) = table.bucket_mut(simhash)
                && let Some(position) = bucket.seqs.iter().position(|&slot| slot == seq)
            {
                bucket.simhashes.remove(position);
                bucket.seqs.remove(position);
            }
        }
        let id_hash = hash_bytes(entry.id.as_str().as_bytes(), ID_SEED);
        if self.by_id.get(&id_hash) == Some(&seq) {
            self.by_id.remove(&id_hash);
        }
    }
}

/// `count` blocks covering the 64 bits as (shift, width), widths differing
/// by at most one.
pub(super) fn split_into_blocks(count: u32) -> Vec<(u32, u32)> {
    let count = count.clamp(1, 64);
    let (base, wider) = (64 / count, 64 % count);
    let mut shift = 0;
    (0..count)
        .map(|i| {
            let width = base + u32::from(i < wider);
            let block = (shift, width);
            shift += width;
            block
        })
        .collect()
}
