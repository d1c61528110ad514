//! Per-key token buckets. Tokens are entries, not requests, so one 1,000-entry batch costs what
//! 1,000 single-entry batches cost. [`TokenBucket`] is pure arithmetic on an injected clock,
//! tested natively; [`RateLimiter`] keeps the buckets in the collector's memory, or, on a
//! database several collectors share, charges the database's bucket (the same arithmetic in
//! one SQL statement, checked against [`TokenBucket`] by `server/tests/rate_limit.rs`), so a
//! key's limit holds across all of them instead of once per collector.

use crate::error::{Error, Result};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
        let (rate, burst) = normalized(rate, burst);
        Self {
            rate,
            burst,
            tokens: burst,
            last_s: now_s,
        }
    }

    /// Takes `n` tokens, or says how many seconds until they will be there. A request larger
    /// than the burst is charged a full bucket, so it can pass once the bucket is full.
    pub fn take(&mut self, n: f64, now_s: f64) -> std::result::Result<(), f64> {
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

/// A rate at least the smallest positive float (a zero rate would divide by zero) and a burst
/// of at least one entry (a bucket must be able to pass something once full).
fn normalized(rate: f64, burst: f64) -> (f64, f64) {
    (rate.max(f64::MIN_POSITIVE), burst.max(1.0))
}

/// One batch's charge against a bucket kept in the database, normalized as [`TokenBucket`]
/// normalizes it, so both places compute the same thing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRequest {
    /// The ingest key whose bucket is charged.
    pub key: Uuid,
    /// Tokens to take: the batch's entries, at most the burst (a larger batch is charged a full
    /// bucket, as [`TokenBucket::take`] does).
    pub tokens: f64,
    /// Refill in tokens per second (> 0).
    pub rate: f64,
    /// Capacity in tokens (≥ 1); a new bucket starts full.
    pub burst: f64,
    /// When the charge happens, in µs; `None` takes the database's clock, which is what the
    /// collectors do so that their own clocks need not agree (tests pass their own times).
    pub now_us: Option<i64>,
}

impl RateRequest {
    /// A charge of `entries` to `key` under a limit of `rate` entries/s with bursts of `burst`.
    pub fn new(key: Uuid, entries: usize, rate: f64, burst: f64, now_us: Option<i64>) -> Self {
        let (rate, burst) = normalized(rate, burst);
        Self {
            key,
            tokens: (entries as f64).min(burst),
            rate,
            burst,
            now_us,
        }
    }
}

/// Token buckets keyed by ingest key id: in this process, or in a database the collectors share.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    epoch: Instant,
    buckets: Mutex<HashMap<Uuid, TokenBucket>>,
    /// The database holding the buckets when they are shared (PostgreSQL); unused on SQLite.
    shared: Option<Arc<dyn Store>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Every key gets `rate` entries/s with bursts of `burst`, counted in this process.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            epoch: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Every key gets `rate` entries/s with bursts of `burst` across every collector on
    /// `store`'s database, where the backend can share buckets (PostgreSQL); elsewhere (SQLite,
    /// which one process owns) the buckets stay in this process.
    pub fn shared(rate: f64, burst: f64, store: Arc<dyn Store>) -> Self {
        Self {
            shared: Some(store),
            ..Self::new(rate, burst)
        }
    }

    /// Charges `entries` to `key`: a 429 ([`Error::RateLimited`]) with the seconds until the
    /// batch would pass, or the store's error when the shared bucket cannot be reached (a 503:
    /// without its database the collector cannot store the batch anyway).
    pub async fn check(&self, key: Uuid, entries: usize) -> Result<()> {
        if let Some(store) = &self.shared {
            let request = RateRequest::new(key, entries, self.rate, self.burst, None);
            if let Some(answer) = store.take_rate_tokens(&request).await? {
                return answer.map_err(|wait| Error::RateLimited {
                    retry_after_secs: retry_after(wait),
                });
            }
        }
        self.check_local(key, entries)
            .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })
    }

    /// Charges `entries` to `key` in this process; `Err(seconds)` says when to retry (rounded
    /// up, at least 1).
    pub fn check_local(&self, key: Uuid, entries: usize) -> std::result::Result<(), u64> {
        let now = self.epoch.elapsed().as_secs_f64();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(self.rate, self.burst, now));
        bucket.take(entries as f64, now).map_err(retry_after)
    }
}

/// Whole seconds of a `Retry-After`: rounded up, at least one.
fn retry_after(wait_s: f64) -> u64 {
    wait_s.ceil().max(1.0) as u64
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
