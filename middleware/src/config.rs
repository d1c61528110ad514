//! Settings of the middleware: where batches go and how the shipper batches, queues and retries.

use std::fmt;
use std::time::Duration;

use tracewire_shared::wire::DEFAULT_MAX_ENTRIES;

use crate::error::Error;

/// Everything [`crate::init`] needs. Build it with [`Config::new`] and adjust fields as needed.
#[derive(Clone)]
pub struct Config {
    /// Base URL of the collector, e.g. `http://127.0.0.1:8080`; the ingest path is appended.
    pub endpoint: String,
    /// Ingest key of the project the backend logs belong to (sent as `X-Tracewire-Key`).
    pub key: String,
    /// A batch is sent as soon as this many entries are queued (1..=1000, the collector's limit).
    pub batch_size: usize,
    /// A partial batch is sent at the latest after this long, so quiet services still report.
    pub flush_interval: Duration,
    /// Entries held in memory while the collector is slow or down; newer entries are dropped
    /// (and counted) beyond this, so a logging outage never exhausts the application's memory.
    pub queue_capacity: usize,
    /// Attempts after the first failed one before a batch is given up (and counted).
    pub max_retries: u32,
    /// Ship `tracing` events that happen outside any request span (without a trace id).
    pub capture_outside_requests: bool,
    /// Database statements (sqlx's `sqlx::query` events) at least this slow, in milliseconds,
    /// are flagged `slow` in their metric, so the collector keeps them with their trace id.
    pub slow_query_ms: u64,
}

impl Config {
    /// Default batch size: big enough to amortize HTTP, small enough to arrive quickly.
    pub const DEFAULT_BATCH_SIZE: usize = 100;
    /// Default longest wait before a partial batch is sent.
    pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
    /// Default queue bound.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;
    /// Default retry budget per batch.
    pub const DEFAULT_MAX_RETRIES: u32 = 5;
    /// Default slow-statement threshold (the collector's default too).
    pub const DEFAULT_SLOW_QUERY_MS: u64 = 500;

    /// A configuration for `endpoint` and `key` with every other setting at its default.
    pub fn new(endpoint: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            key: key.into(),
            ..Self::default()
        }
    }

    /// Rejects settings the shipper cannot work with, before anything is spawned.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.batch_size == 0 || self.batch_size > DEFAULT_MAX_ENTRIES {
            return Err(Error::InvalidConfig(format!(
                "batch_size must be between 1 and {DEFAULT_MAX_ENTRIES}, got {}",
                self.batch_size
            )));
        }
        if self.queue_capacity == 0 {
            return Err(Error::InvalidConfig(
                "queue_capacity must be at least 1".into(),
            ));
        }
        if self.flush_interval.is_zero() {
            return Err(Error::InvalidConfig(
                "flush_interval must be greater than zero".into(),
            ));
        }
        Ok(())
    }
}

impl Default for Config {
    /// Points at a collector on its default listen address (`127.0.0.1:8080`) with no key.
    fn default() -> Self {
        Self {
            endpoint: "http://127.0.0.1:8080".into(),
            key: String::new(),
            batch_size: Self::DEFAULT_BATCH_SIZE,
            flush_interval: Self::DEFAULT_FLUSH_INTERVAL,
            queue_capacity: Self::DEFAULT_QUEUE_CAPACITY,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            capture_outside_requests: true,
            slow_query_ms: Self::DEFAULT_SLOW_QUERY_MS,
        }
    }
}

impl fmt::Debug for Config {
    /// Never prints the ingest key: configs end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("key", &"***")
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_retries", &self.max_retries)
            .field("capture_outside_requests", &self.capture_outside_requests)
            .field("slow_query_ms", &self.slow_query_ms)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_debug_hides_the_key() {
        let config = Config::new("http://collector", "secret-key");
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("secret-key"));
    }

    #[test]
    fn rejects_unusable_settings() {
        for config in [
            Config {
                batch_size: 0,
                ..Config::default()
            },
            Config {
                batch_size: 1001,
                ..Config::default()
            },
            Config {
                queue_capacity: 0,
                ..Config::default()
            },
            Config {
                flush_interval: Duration::ZERO,
                ..Config::default()
            },
        ] {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}
