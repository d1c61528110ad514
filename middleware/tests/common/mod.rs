//! Helpers shared by the integration tests: a small axum app behind the Tracewire layers,
//! served over real TCP on an ephemeral port, and ways to find the entries it shipped.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use tracewire_middleware::{Config, MemorySink, TraceContext, Tracewire};
use tracewire_shared::wire::{ExceptionEntry, LogEntry};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// The module of request logs written by the trace layer.
pub const REQUEST_MODULE: &str = tracewire_middleware::REQUEST_LOG_MODULE;

/// A running app, its in-memory sink and an HTTP client.
pub struct TestApp {
    pub base: String,
    pub sink: MemorySink,
    pub tracewire: Tracewire,
    pub client: reqwest::Client,
    /// Keeps the test's subscriber installed on this thread for the test's lifetime.
    _subscriber: tracing::subscriber::DefaultGuard,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Flushes the shipper and returns everything shipped so far.
    pub async fn shipped(&self) -> (Vec<LogEntry>, Vec<ExceptionEntry>) {
        self.tracewire.shipper().flush().await;
        (self.sink.logs(), self.sink.exceptions())
    }
}

/// A config that only sends on flush, so tests decide when batches go out.
pub fn manual_config() -> Config {
    Config {
        flush_interval: Duration::from_secs(3600),
        batch_size: 1000,
        ..Config::default()
    }
}

/// The `seq` header a test request carries, echoed into the handler's events.
fn seq(headers: &HeaderMap) -> i64 {
    headers
        .get("x-seq")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

#[tracing::instrument(skip_all)]
async fn emit_events(n: u32, seq: i64) {
    for i in 0..n {
        tracing::info!(seq, i, "event {i} of request {seq}");
    }
}

#[inline(never)]
async fn panicking_handler(headers: HeaderMap) -> &'static str {
    tokio::task::yield_now().await;
    panic!("handler exploded (seq {})", seq(&headers));
}

/// Routes covering every outcome the layer distinguishes.
pub fn routes() -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/client-error",
            get(|| async { (StatusCode::BAD_REQUEST, "bad") }),
        )
        .route(
            "/server-error",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route("/panic", get(panicking_handler))
        .route(
            "/events/{n}",
            get(|Path(n): Path<u32>, headers: HeaderMap| async move {
                emit_events(n, seq(&headers)).await;
                "done"
            }),
        )
        .route(
            "/context",
            get(|Extension(ctx): Extension<TraceContext>| async move { ctx.to_string() }),
        )
        .route("/users/{id}", get(|| async { "user" }))
}

/// Serves `router` (already layered) on 127.0.0.1:0 and returns its base URL. The listener is
/// bound before the server task starts, so requests never race the startup.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Starts the test app with `config`; `extra` may add more layers inside the trace layer.
pub async fn spawn_app_with(
    config: Config,
    allow_origins: &[&str],
    extra: impl FnOnce(Router) -> Router,
) -> TestApp {
    let everything = Targets::new().with_default(LevelFilter::TRACE);
    spawn_app_filtered(config, allow_origins, extra, everything).await
}

/// Like [`spawn_app_with`], with `filter` as the subscriber's global filter.
pub async fn spawn_app_filtered(
    config: Config,
    allow_origins: &[&str],
    extra: impl FnOnce(Router) -> Router,
    filter: Targets,
) -> TestApp {
    let sink = MemorySink::new();
    let tracewire =
        Tracewire::with_sink(Arc::new(sink.clone()), config).expect("middleware starts");
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(tracewire.tracing_layer());
    let guard = tracing::subscriber::set_default(subscriber);
    let trace_layer = tracewire
        .trace_layer()
        .allow_origins(allow_origins.iter().copied());
    let router = extra(routes()).layer(trace_layer);
    let base = serve(router).await;
    TestApp {
        base,
        sink,
        tracewire,
        client: reqwest::Client::new(),
        _subscriber: guard,
    }
}

/// Starts the test app with the manual-flush config and no extra layers.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(manual_config(), &[], |r| r).await
}

/// The trace context a response announced in `traceparent`.
pub fn response_context(response: &reqwest::Response) -> TraceContext {
    let value = response
        .headers()
        .get("traceparent")
        .expect("response has traceparent")
        .to_str()
        .expect("ascii header");
    TraceContext::parse(value).expect("valid traceparent on the response")
}

/// The logs of events a test handler emitted (they carry a `seq` field).
pub fn handler_events(logs: &[LogEntry]) -> Vec<&LogEntry> {
    logs.iter()
        .filter(|l| {
            l.extra_data
                .as_ref()
                .is_some_and(|e| e.get("seq").is_some())
        })
        .collect()
}

/// The request logs among `logs`.
pub fn request_logs(logs: &[LogEntry]) -> Vec<&LogEntry> {
    logs.iter()
        .filter(|l| l.module.as_deref() == Some(REQUEST_MODULE))
        .collect()
}
