//! The retry schedule: exponential backoff with jitter, and how long a `Retry-After` holds.

use super::storage::Random;

/// Longest single backoff, so a long outage still retries every few minutes.
pub const MAX_BACKOFF_MS: f64 = 5.0 * 60_000.0;
/// Longest `Retry-After` honoured; a larger value is treated as this, so a misconfigured
/// server cannot park the logger for days.
pub const MAX_RETRY_AFTER_MS: f64 = 60.0 * 60_000.0;
/// After `maxRetries` failures the batch rests in the offline buffer this long before the next
/// round (an `online` event or a new page load retries sooner).
pub const PARKED_RETRY_MS: f64 = 60_000.0;

/// The upper bound of the delay before retry number `attempt` (1-based):
/// `base · 2^(attempt-1)`, capped at [`MAX_BACKOFF_MS`].
pub fn backoff_ceiling(base_ms: f64, attempt: u32) -> f64 {
    let exp = attempt.saturating_sub(1).min(30);
    (base_ms.max(1.0) * f64::from(1u32 << exp)).min(MAX_BACKOFF_MS)
}

/// The delay before retry number `attempt`: uniformly within `[ceiling/2, ceiling]` ("equal
/// jitter"), so many clients failing together spread out but none retries almost at once.
pub fn backoff_delay(base_ms: f64, attempt: u32, rng: &mut dyn Random) -> f64 {
    let ceiling = backoff_ceiling(base_ms, attempt);
    ceiling / 2.0 + rng.unit() * ceiling / 2.0
}

/// How long to wait after a 429: the server's `Retry-After` when given (capped), else backoff.
pub fn rate_limited_delay(
    retry_after_ms: Option<f64>,
    base_ms: f64,
    attempt: u32,
    rng: &mut dyn Random,
) -> f64 {
    match retry_after_ms {
        Some(ms) if ms.is_finite() && ms >= 0.0 => ms.min(MAX_RETRY_AFTER_MS),
        _ => backoff_delay(base_ms, attempt, rng),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::storage::XorShift;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn delays_stay_within_bounds(seed in any::<u64>(), base in 1.0f64..10_000.0, attempt in 1u32..40) {
            let mut rng = XorShift::new(seed);
            let d = backoff_delay(base, attempt, &mut rng);
            let ceiling = backoff_ceiling(base, attempt);
            prop_assert!(d >= ceiling / 2.0 && d <= ceiling, "{} not in [{}, {}]", d, ceiling / 2.0, ceiling);
            prop_assert!(ceiling <= MAX_BACKOFF_MS);
            if attempt > 1 {
                prop_assert!(ceiling >= backoff_ceiling(base, attempt - 1));
            }
        }

        #[test]
        fn retry_after_is_honoured(ms in 0.0f64..1e9, seed in any::<u64>()) {
            let mut rng = XorShift::new(seed);
            let d = rate_limited_delay(Some(ms), 1000.0, 1, &mut rng);
            prop_assert_eq!(d, ms.min(MAX_RETRY_AFTER_MS));
        }
    }
}
