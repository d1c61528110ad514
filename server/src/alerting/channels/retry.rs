//! Retries with exponential backoff: the schedule is pure ([`RetryPolicy::delay`]); [`run`]
//! drives an attempt function with it and turns the tries into a [`ChannelOutcome`].

use std::future::Future;
use std::time::{Duration, Instant};

use tracewire_shared::api::monitoring::{ChannelKind, ChannelOutcome};
use uuid::Uuid;

/// How hard one channel tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all (at least 1); Grafana's default is 3.
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub initial_backoff: Duration,
    /// Longest wait between tries, also the cap on a receiver's `Retry-After`.
    pub max_backoff: Duration,
    /// Limit of one try (connect, send and answer).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `failed` (1-based): the receiver's `Retry-After` when
    /// it sent one, else `initial · 2^(failed−1)`, never more than `max_backoff`.
    pub fn delay(&self, failed: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(failed.saturating_sub(1)));
        retry_after.unwrap_or(exp).min(self.max_backoff)
    }
}

/// How one try went; `run` retries only [`Attempt::Retry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted, with the receiver's status.
    Delivered(Option<u16>),
    /// Failed in a way another try may fix (network, timeout, 5xx, 429, SMTP 4xx).
    Retry {
        /// Status of the answer, if any.
        status: Option<u16>,
        /// What went wrong, without secrets.
        error: String,
        /// The receiver's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Failed for good (4xx, SMTP 5xx, a bad address).
    Fail {
        /// Status of the answer, if any.
        status: Option<u16>,
        /// What went wrong, without secrets.
        error: String,
    },
}

/// Tries `attempt` until it delivers, fails for good or the policy's tries are spent; each try
/// is cut off after `policy.timeout`.
pub async fn run<F, Fut>(
    policy: &RetryPolicy,
    kind: ChannelKind,
    channel_id: Option<Uuid>,
    mut attempt: F,
) -> ChannelOutcome
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt>,
{
    let started = Instant::now();
    let mut tries = 0;
    let (delivered, status, error) = loop {
        tries += 1;
        let result = match tokio::time::timeout(policy.timeout, attempt(tries)).await {
            Ok(result) => result,
            Err(_) => Attempt::Retry {
                status: None,
                error: format!("no answer within {} ms", policy.timeout.as_millis()),
                retry_after: None,
            },
        };
        match result {
            Attempt::Delivered(status) => break (true, status, None),
            Attempt::Fail { status, error } => break (false, status, Some(error)),
            Attempt::Retry {
                status,
                error,
                retry_after,
            } => {
                if tries >= policy.attempts.max(1) {
                    break (false, status, Some(error));
                }
                tokio::time::sleep(policy.delay(tries, retry_after)).await;
            }
        }
    };
    ChannelOutcome {
        channel_id,
        kind,
        delivered,
        attempts: tries,
        status,
        error,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn delays_double_and_stay_capped(initial in 1u64..5_000, max in 1u64..60_000, failed in 1u32..40) {
            let p = RetryPolicy {
                attempts: 5,
                initial_backoff: Duration::from_millis(initial),
                max_backoff: Duration::from_millis(max),
                timeout: Duration::from_secs(1),
            };
            let d = p.delay(failed, None);
            prop_assert!(d <= p.max_backoff);
            prop_assert!(p.delay(failed + 1, None) >= d, "never shrinks");
            if failed == 1 {
                prop_assert_eq!(d, p.initial_backoff.min(p.max_backoff));
            }
            prop_assert_eq!(p.delay(failed, Some(Duration::from_secs(3600))), p.max_backoff);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_delivered_and_gives_up_on_permanent_errors() {
        let policy = RetryPolicy::default();
        let outcome = run(&policy, ChannelKind::Webhook, None, |n| async move {
            if n < 3 {
                Attempt::Retry {
                    status: Some(503),
                    error: "HTTP 503".into(),
                    retry_after: None,
                }
            } else {
                Attempt::Delivered(Some(200))
            }
        })
        .await;
        assert_eq!(
            (outcome.delivered, outcome.attempts, outcome.status),
            (true, 3, Some(200))
        );

        let failed = run(&policy, ChannelKind::Slack, None, |_| async {
            Attempt::Fail {
                status: Some(404),
                error: "HTTP 404".into(),
            }
        })
        .await;
        assert_eq!((failed.delivered, failed.attempts), (false, 1));

        let spent = run(&policy, ChannelKind::Email, None, |_| async {
            Attempt::Retry {
                status: Some(451),
                error: "try later".into(),
                retry_after: None,
            }
        })
        .await;
        assert_eq!(
            (spent.delivered, spent.attempts, spent.error.as_deref()),
            (false, 3, Some("try later"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_receiver_counts_as_a_timeout() {
        let policy = RetryPolicy {
            attempts: 2,
            ..RetryPolicy::default()
        };
        let outcome = run(&policy, ChannelKind::Webhook, None, |_| {
            std::future::pending()
        })
        .await;
        assert_eq!(outcome.attempts, 2);
        assert!(outcome.error.is_some_and(|e| e.contains("no answer")));
    }
}
