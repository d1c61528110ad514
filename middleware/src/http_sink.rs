//! [`HttpSink`]: posts batches to a collector's ingest endpoint and classifies failures the way
//! the ingest contract (ARCHITECTURE.md §4) describes them.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tracewire_shared::wire::{INGEST_PATH, IngestBatch, KEY_HEADER};

use crate::error::Error;
use crate::sink::{Sink, SinkError};

/// How long one delivery attempt may take before it counts as a (retryable) failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends batches as JSON to `{endpoint}/api/v1/logging/logs` with the ingest key header.
#[derive(Clone)]
pub struct HttpSink {
    url: String,
    key: String,
    client: reqwest::Client,
}

impl HttpSink {
    /// A sink for the collector at `endpoint` (base URL) authenticating with `key`.
    pub fn new(endpoint: &str, key: impl Into<String>) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Self::with_client(client, endpoint, key)
    }

    /// Like [`HttpSink::new`] with an application-provided client (proxies, TLS roots…).
    pub fn with_client(
        client: reqwest::Client,
        endpoint: &str,
        key: impl Into<String>,
    ) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidEndpoint {
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        let base = endpoint.trim().trim_end_matches('/');
        let url = format!("{base}{INGEST_PATH}");
        let parsed = reqwest::Url::parse(&url).map_err(|e| invalid(&e.to_string()))?;
        match parsed.scheme() {
            "http" => {}
            "https" if cfg!(feature = "rustls-tls") => {}
            "https" => return Err(invalid("https needs the `rustls-tls` feature")),
            _ => return Err(invalid("scheme must be http or https")),
        }
        Ok(Self {
            url,
            key: key.into(),
            client,
        })
    }

    /// The full ingest URL batches are posted to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for HttpSink {
    /// Never prints the ingest key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSink")
            .field("url", &self.url)
            .field("key", &"***")
            .finish_non_exhaustive()
    }
}

impl Sink for HttpSink {
    fn send(&self, batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>> {
        let request = self
            .client
            .post(&self.url)
            .header(KEY_HEADER, &self.key)
            .json(&batch);
        Box::pin(async move {
            let response = request.send().await.map_err(|e| SinkError::Retryable {
                retry_after: None,
                message: format!("network error: {e}"),
            })?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let retry_after = retry_after(response.headers());
            let body = response.text().await.unwrap_or_default();
            Err(classify(status, retry_after, &body))
        })
    }
}

/// 408, 429 and 5xx are worth retrying; any other failure status will not change by retrying.
fn classify(status: StatusCode, retry_after: Option<Duration>, body: &str) -> SinkError {
    let mut message = format!("collector answered {status}");
    let detail: String = body.chars().take(200).collect();
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        SinkError::Retryable {
            retry_after,
            message,
        }
    } else {
        SinkError::Permanent(message)
    }
}

/// `Retry-After` in delta-seconds (the form the collector sends); HTTP dates are ignored and
/// fall back to the shipper's own backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        for code in [408, 429, 500, 502, 503] {
            let status = StatusCode::from_u16(code).expect("valid status");
            assert!(matches!(
                classify(status, None, ""),
                SinkError::Retryable { .. }
            ));
        }
        for code in [400, 401, 403, 413, 415, 422] {
            let status = StatusCode::from_u16(code).expect("valid status");
            assert!(matches!(
                classify(status, None, ""),
                SinkError::Permanent(_)
            ));
        }
    }

    #[test]
    fn builds_the_ingest_url_and_rejects_bad_endpoints() {
        let sink = HttpSink::new("http://127.0.0.1:8080/", "k").expect("valid");
        assert_eq!(sink.url(), "http://127.0.0.1:8080/api/v1/logging/logs");
        assert!(HttpSink::new("not a url", "k").is_err());
        assert!(HttpSink::new("ftp://host", "k").is_err());
        assert!(!format!("{sink:?}").contains("\"k\""));
    }
}
