//! Exponential backoff with full jitter, for reconnecting and retrying
//! transient failures without synchronising every worker's retries.

use std::time::Duration;

/// Delays growing from `initial` by `factor` up to `max`, each drawn uniformly
/// from `[0, current]` so that many clients retrying at once spread out.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
    seed: u64,
}

impl Backoff {
    /// A backoff starting at `initial` and capped at `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        Self { initial, max, current: initial, seed }
    }

    /// The next delay to wait.
    pub fn next_delay(&mut self) -> Duration {
        // xorshift64*: good enough for jitter, no dependency.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        let random = self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
        let delay = self.current.mul_f64(fraction.max(0.1));
        self.current = (self.current * 2).min(self.max);
        delay
    }

    /// Back to the initial delay after a success.
    pub fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_cap_and_reset() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
        for _ in 0..20 {
            assert!(backoff.next_delay() <= Duration::from_millis(100));
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(10));
    }
}
