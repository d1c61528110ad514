//! Per-key token buckets. Tokens are entries, not requests, so one 1,000-entry batch costs what
//! 1,000 single-entry batches cost. Pure arithmetic on an injected clock, tested natively.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

/// One bucket: refills at `rate` tokens per second up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last_s: f64,
}

impl TokenBucket {
    /// A full bucket at time `now_s` (seconds on any monotonic clock).
    pub fn new(rate: f64, burst: f64, now_s: f64) -> Self {
        let burst = burst.max(1.0);
        Self {
            rate: rate.max(f64::MIN_POSITIVE),
            burst,
            tokens: burst,
            last_s: now_s,
        }
    }

    /// Takes `n` tokens, or says how many seconds until they will be there. A request larger
    /// than the burst is charged a full bucket, so it can pass once the bucket is full.
    pub fn take(&mut self, n: f64, now_s: f64) -> Result<(), f64> {
        let elapsed = (now_s - self.last_s).max(0.0);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last_s = now_s.max(self.last_s);
        let n = n.min(self.burst);
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            Err((n - self.tokens) / self.rate)
        }
    }
}

/// Token buckets keyed by ingest key id.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    epoch: Instant,
    buckets: Mutex<HashMap<Uuid, TokenBucket>>,
}

impl RateLimiter {
    /// Every key gets `rate` entries/s with bursts of `burst`.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            epoch: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Charges `entries` to `key`; `Err(seconds)` says when to retry (rounded up, at least 1).
    pub fn check(&self, key: Uuid, entries: usize) -> Result<(), u64> {
        let now = self.epoch.elapsed().as_secs_f64();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(self.rate, self.burst, now));
        bucket
            .take(entries as f64, now)
            .map_err(|wait| wait.ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empties_then_refills() {
        let mut b = TokenBucket::new(10.0, 20.0, 0.0);
        assert!(b.take(20.0, 0.0).is_ok());
        let wait = b.take(5.0, 0.0).unwrap_err();
        assert!((wait - 0.5).abs() < 1e-9);
        assert!(b.take(5.0, 0.5).is_ok());
    }

    #[test]
    fn oversized_requests_pass_on_a_full_bucket() {
        let mut b = TokenBucket::new(1.0, 10.0, 0.0);
        assert!(b.take(1000.0, 0.0).is_ok());
        assert!(b.take(1.0, 0.0).is_err());
    }

    proptest! {
        /// Over any schedule, what passes never exceeds burst + rate × elapsed.
        #[test]
        fn never_exceeds_rate_plus_burst(
            rate in 1.0f64..1000.0,
            burst in 1.0f64..1000.0,
            steps in prop::collection::vec((0.0f64..0.5, 1.0f64..50.0), 1..200),
        ) {
            let mut b = TokenBucket::new(rate, burst, 0.0);
            let mut now = 0.0;
            let mut passed = 0.0;
            for (dt, n) in steps {
                now += dt;
                if b.take(n, now).is_ok() {
                    passed += n.min(burst.max(1.0));
                }
            }
            prop_assert!(passed <= burst.max(1.0) + rate * now + 1e-6);
        }
    }
}
