//! A token bucket per host, shared by every source of the process, so that
//! two accounts watching the same instance never add up to more requests
//! than the host tolerates. A host can also be paused until a time the server
//! named (`Retry-After`, exhausted rate-limit headers).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

/// How fast requests to one host may go.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Sustained requests per minute.
    pub per_minute: f64,
    /// Requests that may go at once after a quiet period.
    pub burst: u32,
}

impl Rate {
    /// `per_minute` requests a minute with a burst of `burst`.
    pub fn new(per_minute: f64, burst: u32) -> Self {
        Self { per_minute, burst }
    }

    fn per_second(&self) -> f64 {
        if self.per_minute.is_finite() && self.per_minute > 0.0 { self.per_minute / 60.0 } else { 1.0 }
    }

    fn burst(&self) -> f64 {
        f64::from(self.burst.max(1))
    }
}

#[derive(Debug)]
struct Bucket {
    rate: Rate,
    /// Whether `rate` was named by a source (else it is the default, which
    /// the first named rate replaces).
    named: bool,
    tokens: f64,
    updated: Instant,
    paused_until: Option<Instant>,
}

/// Token buckets by host name.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// An empty limiter; buckets are created on first use of a host.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until a request to `host` may go at `rate`. When several sources
    /// name different rates for one host, the strictest wins.
    pub async fn acquire(&self, host: &str, rate: Rate) {
        self.acquire_or_default(host, Some(rate), rate).await;
    }

    /// Like [`Self::acquire`] for a request that names no rate: it goes at
    /// the host's current rate, or `default` for a host not seen yet.
    pub async fn acquire_or_default(&self, host: &str, rate: Option<Rate>, default: Rate) {
        let wait = self.reserve(host, rate, default, Instant::now());
        if !wait.is_zero() {
            tracing::debug!(host, wait_ms = wait.as_millis() as u64, "rate limiter delays request");
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a token (possibly one not yet refilled) and says how long to
    /// wait before using it.
    fn reserve(&self, host: &str, named: Option<Rate>, default: Rate, now: Instant) -> Duration {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poison| poison.into_inner());
        let initial = named.unwrap_or(default);
        let bucket = buckets.entry(host.to_owned()).or_insert_with(|| Bucket {
            rate: initial,
            named: named.is_some(),
            tokens: initial.burst(),
            updated: now,
            paused_until: None,
        });
        if let Some(rate) = named {
            if !bucket.named {
                bucket.rate = rate;
                bucket.named = true;
            } else if rate.per_second() < bucket.rate.per_second() || rate.burst() < bucket.rate.burst() {
                bucket.rate = Rate {
                    per_minute: rate.per_minute.min(bucket.rate.per_minute),
                    burst: rate.burst.min(bucket.rate.burst),
                };
            }
            bucket.tokens = bucket.tokens.min(bucket.rate.burst());
        }
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * bucket.rate.per_second()).min(bucket.rate.burst());
        bucket.updated = now;
        bucket.tokens -= 1.0;
        let mut wait = if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / bucket.rate.per_second())
        };
        if let Some(until) = bucket.paused_until {
            if until > now {
                wait = wait.max(until - now);
            } else {
                bucket.paused_until = None;
            }
        }
        wait
    }

    /// Holds every request to `host` for `duration` (from now), e.g. after a
    /// `Retry-After` or an exhausted rate-limit budget.
    pub fn pause(&self, host: &str, duration: Duration) {
        let until = Instant::now() + duration;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(bucket) = buckets.get_mut(host) {
            bucket.paused_until = Some(bucket.paused_until.map_or(until, |current| current.max(until)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_requests_are_spaced_by_the_rate() {
        let limiter = RateLimiter::new();
        let rate = Rate::new(60.0, 3);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire("a.example", rate).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is free");
        limiter.acquire("a.example", rate).await;
        limiter.acquire("a.example", rate).await;
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1990) && elapsed <= Duration::from_millis(2010),
            "{elapsed:?}"
        );
        // Another host has its own bucket.
        let other = Instant::now();
        limiter.acquire("b.example", rate).await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_naming_no_rate_follow_the_hosts_rate() {
        let limiter = RateLimiter::new();
        let fast = Rate::new(6000.0, 100);
        limiter.acquire("h", fast).await;
        let start = Instant::now();
        for _ in 0..50 {
            limiter.acquire_or_default("h", None, Rate::new(1.0, 1)).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the slow default does not lower a configured host");
        limiter.acquire_or_default("new", None, Rate::new(60.0, 1)).await;
        let start = Instant::now();
        limiter.acquire_or_default("new", None, Rate::new(60.0, 1)).await;
        assert!(start.elapsed() >= Duration::from_millis(990));
        // The first rate a source names replaces the default.
        limiter.acquire("new", fast).await;
        let start = Instant::now();
        limiter.acquire("new", fast).await;
        assert!(start.elapsed() < Duration::from_millis(20), "{:?}", start.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn the_strictest_rate_wins_and_a_pause_holds_the_host() {
        let limiter = RateLimiter::new();
        limiter.acquire("h", Rate::new(600.0, 10)).await;
        // A stricter source lowers the bucket for everyone.
        limiter.acquire("h", Rate::new(30.0, 1)).await;
        let start = Instant::now();
        limiter.acquire("h", Rate::new(600.0, 10)).await;
        assert!(start.elapsed() >= Duration::from_millis(1990), "{:?}", start.elapsed());

        limiter.pause("h", Duration::from_secs(30));
        let start = Instant::now();
        limiter.acquire("h", Rate::new(30.0, 1)).await;
        assert!(start.elapsed() >= Duration::from_secs(30), "{:?}", start.elapsed());
    }
}
