//! The two HTTP channels: the generic webhook (JSON, signed per Standard Webhooks) and the
//! Slack-compatible incoming webhook (`text` + `blocks`). Both POST with the policy's timeout
//! and retries; 2xx delivers, 408/429/5xx and network errors retry, other 4xx fail for good.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use tracewire_shared::api::monitoring::{ChannelKind, ChannelOutcome};
use uuid::Uuid;

use super::retry::{self, Attempt, RetryPolicy};
use super::signature::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSecret};
use crate::alerting::message::Notification;

/// A generic webhook target: the JSON body of [`Notification::webhook_body`], signed per
/// Standard Webhooks when a secret is set.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The channel's id in its rule (for the outcome).
    pub id: Option<Uuid>,
    /// Where to POST.
    pub url: String,
    /// Signing secret; unsigned when absent.
    pub secret: Option<WebhookSecret>,
}

/// A Slack-compatible incoming webhook.
#[derive(Clone)]
pub struct Slack {
    /// The channel's id in its rule.
    pub id: Option<Uuid>,
    /// The incoming-webhook URL (it carries the token, so `Debug` hides it).
    pub url: String,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Webhook {
    /// Sends `note` as JSON; every try has the same `webhook-id` and its own timestamp and
    /// signature.
    pub async fn deliver(
        &self,
        client: &reqwest::Client,
        policy: &RetryPolicy,
        note: &Notification,
    ) -> ChannelOutcome {
        let body = note.webhook_body().to_string().into_bytes();
        retry::run(policy, ChannelKind::Webhook, self.id, |_| {
            let timestamp = unix_now();
            let mut request = client
                .post(&self.url)
                .timeout(policy.timeout)
                .header(CONTENT_TYPE, "application/json")
                .header(ID_HEADER, &note.message_id)
                .header(TIMESTAMP_HEADER, timestamp.to_string());
            if let Some(secret) = &self.secret {
                request = request.header(
                    SIGNATURE_HEADER,
                    secret.sign(&note.message_id, timestamp, &body),
                );
            }
            send(request.body(body.clone()))
        })
        .await
    }
}

impl Slack {
    /// Sends `note` as a Slack message.
    pub async fn deliver(
        &self,
        client: &reqwest::Client,
        policy: &RetryPolicy,
        note: &Notification,
    ) -> ChannelOutcome {
        let body = note.slack_body().to_string().into_bytes();
        retry::run(policy, ChannelKind::Slack, self.id, |_| {
            let request = client
                .post(&self.url)
                .timeout(policy.timeout)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
            send(request)
        })
        .await
    }
}

/// One POST, classified. Errors name the status or the kind of failure, never the URL (a
/// Slack URL is a secret).
async fn send(request: reqwest::RequestBuilder) -> Attempt {
    match request.send().await {
        Ok(response) => classify(response.status().as_u16(), response.headers()),
        Err(e) => Attempt::Retry {
            status: None,
            error: if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "could not connect".to_owned()
            } else {
                "request failed".to_owned()
            },
            retry_after: None,
        },
    }
}

/// What an HTTP answer means for the next try.
pub fn classify(status: u16, headers: &HeaderMap) -> Attempt {
    match status {
        200..=299 => Attempt::Delivered(Some(status)),
        408 | 429 | 500..=599 => Attempt::Retry {
            status: Some(status),
            error: format!("HTTP {status}"),
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        },
        _ => Attempt::Fail {
            status: Some(status),
            error: format!("HTTP {status}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_decide_retries() {
        let mut headers = HeaderMap::new();
        assert_eq!(classify(204, &headers), Attempt::Delivered(Some(204)));
        assert!(matches!(classify(404, &headers), Attempt::Fail { .. }));
        assert!(matches!(
            classify(502, &headers),
            Attempt::Retry {
                retry_after: None,
                ..
            }
        ));
        headers.insert(RETRY_AFTER, http::HeaderValue::from_static("7"));
        assert!(matches!(
            classify(429, &headers),
            Attempt::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
    }

    #[test]
    fn slack_debug_hides_the_url() {
        let s = Slack {
            id: None,
            url: "https://hooks.slack.com/services/T/B/secret-token".into(),
        };
        assert!(!format!("{s:?}").contains("secret-token"));
    }
}
