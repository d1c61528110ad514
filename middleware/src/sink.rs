//! Where batches go: the [`Sink`] trait and the in-process sinks ([`MemorySink`] for tests and
//! inspection, [`ChannelSink`] to hand batches to another part of the same process). The HTTP
//! sink lives in [`crate::http_sink`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tracewire_shared::wire::{ExceptionEntry, IngestBatch, LogEntry, MetricEntry};

/// A destination for batches. Object-safe, so the shipper holds an `Arc<dyn Sink>` and tests,
/// the HTTP client and in-process delivery are interchangeable.
pub trait Sink: Send + Sync + 'static {
    /// Delivers one batch. The shipper retries [`SinkError::Retryable`] failures with the same
    /// `batch_id`, so implementations must not mutate the batch's identity.
    fn send(&self, batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>>;
}

/// Why a delivery failed, which decides whether the shipper tries again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Worth retrying (network error, timeout, 408, 429, 5xx).
    #[error("retryable delivery failure: {message}")]
    Retryable {
        /// How long the destination asked us to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// What went wrong, for [`crate::Stats`].
        message: String,
    },
    /// Retrying cannot help (bad key, invalid batch); the batch is dropped and counted.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

/// Keeps every batch in memory, so tests and tools can look at exactly what would be shipped.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    batches: Arc<Mutex<Vec<IngestBatch>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every batch received so far, in arrival order.
    pub fn batches(&self) -> Vec<IngestBatch> {
        self.batches.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Every log entry received so far, across batches.
    pub fn logs(&self) -> Vec<LogEntry> {
        self.batches().into_iter().flat_map(|b| b.logs).collect()
    }

    /// Every exception received so far, across batches.
    pub fn exceptions(&self) -> Vec<ExceptionEntry> {
        self.batches()
            .into_iter()
            .flat_map(|b| b.exceptions)
            .collect()
    }

    /// Every metric received so far, across batches.
    pub fn metrics(&self) -> Vec<MetricEntry> {
        self.batches().into_iter().flat_map(|b| b.metrics).collect()
    }

    /// Forgets everything received so far.
    pub fn clear(&self) {
        if let Ok(mut batches) = self.batches.lock() {
            batches.clear();
        }
    }
}

impl Sink for MemorySink {
    fn send(&self, batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>> {
        let result = self
            .batches
            .lock()
            .map(|mut batches| batches.push(batch))
            .map_err(|_| SinkError::Permanent("memory sink lock poisoned".into()));
        Box::pin(async move { result })
    }
}

/// Hands batches to a receiver in the same process (for example the collector ingesting its
/// own backend logs without an HTTP round trip).
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::UnboundedSender<IngestBatch>,
}

impl ChannelSink {
    /// A sink and the receiving end its batches arrive on. Memory is bounded by the shipper's
    /// queue upstream, so the channel itself need not be.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<IngestBatch>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }
}

impl Sink for ChannelSink {
    fn send(&self, batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>> {
        let result = self
            .tx
            .send(batch)
            .map_err(|_| SinkError::Permanent("channel sink receiver dropped".into()));
        Box::pin(async move { result })
    }
}
