//! Delivery with retries: exponential backoff with jitter, `Retry-After` honoured, the same
//! batch (and so the same `batch_id`) resent each time so the collector stores it at most once.

use std::time::Duration;

use rand::Rng;
use tracewire_shared::wire::IngestBatch;

use crate::sink::{Sink, SinkError};
use crate::stats::Counters;

/// First wait after a failed attempt.
pub(crate) const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// Longest wait between attempts, whatever the attempt number or `Retry-After` say.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long to wait before retry number `attempt` (1-based). Jitter spreads the retries of many
/// instances after a collector outage; a `Retry-After` from the collector is a lower bound.
pub(crate) fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    let exponential = INITIAL_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF);
    let jittered = exponential.mul_f64(rand::rng().random_range(0.5..=1.0));
    match retry_after {
        Some(wait) => wait.min(MAX_BACKOFF).max(jittered),
        None => jittered,
    }
}

/// Sends `batch` until it is accepted, permanently rejected or `max_retries` retries failed,
/// and counts the outcome.
pub(crate) async fn deliver(
    sink: &dyn Sink,
    batch: IngestBatch,
    max_retries: u32,
    counters: &Counters,
) {
    let entries = batch.entry_count();
    let mut retries = 0;
    loop {
        match sink.send(batch.clone()).await {
            Ok(()) => {
                Counters::add(&counters.sent, entries);
                Counters::add(&counters.batches_sent, 1);
                return;
            }
            Err(SinkError::Permanent(message)) => {
                Counters::add(&counters.dropped_permanent, entries);
                counters.set_permanent_error(message);
                return;
            }
            Err(SinkError::Retryable { retry_after, .. }) => {
                if retries >= max_retries {
                    Counters::add(&counters.dropped_after_retries, entries);
                    return;
                }
                retries += 1;
                tokio::time::sleep(backoff(retries, retry_after)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        for attempt in 1..40 {
            let wait = backoff(attempt, None);
            let full = INITIAL_BACKOFF
                .saturating_mul(2u32.saturating_pow(attempt - 1))
                .min(MAX_BACKOFF);
            assert!(
                wait <= full && wait >= full / 2,
                "attempt {attempt}: {wait:?}"
            );
        }
        assert!(backoff(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert!(backoff(1, Some(Duration::from_secs(3600))) <= MAX_BACKOFF);
    }
}
