//! Tracewire for Rust backends: the same trace ids as the browser, one log per request,
//! exception capture and `tracing` events, shipped in batches to a Tracewire collector.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tracewire_middleware::Error> {
//! use tracing_subscriber::prelude::*;
//! let tracewire = tracewire_middleware::init(tracewire_middleware::Config::new(
//!     "http://127.0.0.1:8080",
//!     "my-ingest-key",
//! ))?;
//! tracing_subscriber::registry().with(tracewire.tracing_layer()).init();
//! let app: axum::Router = axum::Router::new()
//!     .route("/", axum::routing::get(|| async { "hi" }))
//!     .layer(tracewire.trace_layer());
//! // … serve `app`; on shutdown:
//! tracewire.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`config`]: [`Config`], the settings.
//! - [`trace_layer`]: [`TraceLayer`], the tower layer (trace context, request span, response
//!   headers, request log, panic and 5xx capture, CORS preflights for trace headers).
//! - [`tracing_layer`]: [`TracewireLayer`], the `tracing-subscriber` layer shipping events with
//!   the trace of their request.
//! - [`shipper`]: [`Shipper`], the bounded queue and batching task.
//! - [`sink`] and [`http_sink`]: where batches go ([`Sink`], [`HttpSink`], [`MemorySink`],
//!   [`ChannelSink`]).
//! - [`stats`]: [`Stats`], delivery counters.
//! - Internal: `context` (reading trace headers), `scope` (the request a thread is polling),
//!   `panic` (panic hook and catching future), `report` (the entries a request produces),
//!   `cors`, `retry` (backoff), `clock` (timestamps), `sql` (sqlx statement events as
//!   `db_query` metrics).
#![deny(missing_docs)]

mod clock;
pub mod config;
mod context;
mod cors;
pub mod error;
pub mod http_sink;
mod panic;
mod report;
mod retry;
mod scope;
pub mod shipper;
pub mod sink;
mod sql;
pub mod stats;
pub mod trace_layer;
pub mod tracing_layer;

use std::sync::Arc;

pub use config::Config;
pub use error::Error;
pub use http_sink::HttpSink;
pub use report::REQUEST_LOG_MODULE;
pub use shipper::Shipper;
pub use sink::{ChannelSink, MemorySink, Sink, SinkError};
pub use stats::Stats;
pub use trace_layer::{TraceLayer, TraceService, trace_context};
pub use tracewire_shared::TraceContext;
pub use tracing_layer::TracewireLayer;

/// Sets up shipping to the collector at `config.endpoint` and returns the handle that makes the
/// layers. Must run inside a Tokio runtime (the shipper's task is spawned on it).
pub fn init(config: Config) -> Result<Tracewire, Error> {
    let sink = HttpSink::new(&config.endpoint, config.key.clone())?;
    Tracewire::with_sink(Arc::new(sink), config)
}

/// A running middleware: one shipper, and the layers that feed it.
#[derive(Clone, Debug)]
pub struct Tracewire {
    shipper: Shipper,
    capture_outside_requests: bool,
    slow_query_ms: u64,
}

impl Tracewire {
    /// Like [`init`] with any destination, e.g. a [`MemorySink`] in tests or a [`ChannelSink`]
    /// in-process; `config.endpoint` and `config.key` are not used.
    pub fn with_sink(sink: Arc<dyn Sink>, config: Config) -> Result<Self, Error> {
        Ok(Self {
            shipper: Shipper::spawn(sink, &config)?,
            capture_outside_requests: config.capture_outside_requests,
            slow_query_ms: config.slow_query_ms,
        })
    }

    /// The tower layer for the application's router.
    pub fn trace_layer(&self) -> TraceLayer {
        TraceLayer::new(self.shipper.clone())
    }

    /// The `tracing-subscriber` layer for the application's subscriber.
    pub fn tracing_layer(&self) -> TracewireLayer {
        TracewireLayer::new(self.shipper.clone(), self.capture_outside_requests)
            .slow_query_ms(self.slow_query_ms)
    }

    /// The shipper, for `flush`, `shutdown` and pushing entries directly.
    pub fn shipper(&self) -> &Shipper {
        &self.shipper
    }

    /// Delivery counters so far.
    pub fn stats(&self) -> Stats {
        self.shipper.stats()
    }

    /// Sends everything queued and stops shipping; call it after the server stopped accepting
    /// requests so their logs are not lost.
    pub async fn shutdown(&self) {
        self.shipper.shutdown().await;
    }
}
