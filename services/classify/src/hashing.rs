//! A fast, non-cryptographic hasher for the classifier's lookup tables
//! (lexicons, cue lists, trigram profiles). Their keys are fixed when the
//! classifier is built and a post's words are only ever *looked up*, never
//! inserted, so a post cannot build collision chains: SipHash's resistance to
//! that buys nothing here, and it was a tenth of the classify stage's time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash's multiplier.
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// FxHash (rotate, xor, multiply, eight bytes at a time) with MurmurHash3's
/// finaliser, so that the low bits the table picks buckets with depend on
/// every byte.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut hash = self.hash ^ (self.hash >> 33);
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^ (hash >> 33)
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A `HashSet` with [`FastHasher`].
pub(crate) type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_work_and_low_bits_vary() {
        let mut map: FastMap<&str, u32> = FastMap::default();
        for (i, word) in ["good", "bad", "great", "awful", "ok"].iter().enumerate() {
            map.insert(word, i as u32);
        }
        assert_eq!(map.get("great"), Some(&2));
        assert_eq!(map.get("nope"), None);
        let low_bits: FastSet<u64> = (0u64..64)
            .map(|i| {
                let mut hasher = FastHasher::default();
                hasher.write_u64(i << 40);
                hasher.finish() & 0xff
            })
            .collect();
        assert!(low_bits.len() > 40, "{}", low_bits.len());
    }
}
