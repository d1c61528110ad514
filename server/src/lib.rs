//! The Tracewire collector.
//!
//! # Layout
//! - [`config`]: command line and environment settings.
//! - [`store`]: the `Store` trait over SQLite and PostgreSQL, the dedup index and the writer.
//! - [`ingest`]: the ingest pipeline (key, origin, decode, validate, rate limit, redact, write).
//! - [`auth`]: login, sessions, roles, failed-login throttling, audit rows.
//! - [`query`]: query-string filters and their translation to SQL (pure).
//! - [`http`]: routes; each module owns its own.
//! - [`retention`]: archiving then deleting rows past their retention (periodic and CLI).
//! - [`bootstrap`]: first admin user, default project and ingest key.
//! - [`selflog`]: the collector's own request logs, shipped in-process.
//! - [`error`]: the one error type and its HTTP envelope.
//! - [`monitoring`]: metric sketches and minute aggregates with roll-ups (pure).
//! - [`alerting`]: alert rule state machine, notification messages and channels.
//!
//! [`run`] serves on a listener the caller bound (tests bind port 0 and never sleep for
//! readiness) until the shutdown future resolves, then drains the writer.

#![deny(missing_docs)]

pub mod alerting;
pub mod auth;
pub mod bootstrap;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod ingest;
pub mod monitoring;
pub mod query;
pub mod retention;
pub mod selflog;
pub mod state;
pub mod store;
pub mod telemetry;

use config::ServeConfig;
use ingest::writer::{self, WriterConfig};
use ingest::{IngestLimits, IngestService, ratelimit::RateLimiter};
use state::AppState;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tracewire_shared::redact::Redactor;
use tracewire_shared::validate::Limits;

/// Why the collector could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Database connection, migration or writer start failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A redaction pattern did not compile.
    #[error(transparent)]
    Redact(#[from] tracewire_shared::redact::RedactError),
    /// The listener's local address could not be read; accept errors never end `run`.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Store options derived from the settings.
pub fn store_options(config: &ServeConfig) -> StoreOptions {
    StoreOptions {
        sqlite_synchronous: config.sqlite_synchronous.clone(),
        ..StoreOptions::default()
    }
}

/// Serves the collector on `listener` until `shutdown` resolves; then stops accepting, finishes
/// in-flight requests and waits until every queued batch is committed.
pub async fn run(
    config: ServeConfig,
    store: Arc<dyn Store>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // Installed before the first request so every counter exists from the start.
    telemetry::handle();
    let redactor = Redactor::new(&config.redact_keys, &config.redact_patterns)?
        .with_emails(config.redact_emails);
    let (writer, writer_task) = writer::spawn(
        store.clone(),
        WriterConfig {
            queue_capacity: config.writer_queue,
            max_group_entries: config.writer_group_entries,
            slow_request_ms: config.slow_request_ms,
            slow_query_ms: config.slow_query_ms,
            max_series: config.max_metric_series,
            aggregate: !config.no_metric_aggregation,
            shared_dedup: !config.no_shared_dedup,
            ..WriterConfig::default()
        },
    )
    .await?;
    let limits = IngestLimits {
        max_body_bytes: config.max_body_bytes,
        max_decompressed_bytes: config.max_decompressed_bytes,
        shape: ingest::ShapeLimits {
            max_elements: config.max_json_elements,
            max_depth: config.max_json_depth,
        },
        validation: Limits {
            max_entries: config.max_entries,
            max_structured_bytes: config.max_field_bytes,
            ..Limits::default()
        },
        ..IngestLimits::default()
    };
    let ingest = IngestService::new(
        store.clone(),
        writer,
        redactor,
        if config.no_shared_rate_limit {
            RateLimiter::new(config.rate_limit, config.rate_burst)
        } else {
            RateLimiter::shared(config.rate_limit, config.rate_burst, store.clone())
        },
        limits,
    );
    let ingest = Arc::new(ingest);
    let self_trace = match store.default_project().await? {
        Some(project) => {
            let sink = Arc::new(selflog::InProcessSink::new(ingest.clone(), &project));
            let settings = tracewire_middleware::Config::new("in-process", "");
            match tracewire_middleware::Tracewire::with_sink(sink, settings) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::warn!(error = %e, "self-tracing disabled");
                    None
                }
            }
        }
        None => None,
    };
    let maintenance = tokio::spawn(maintenance(store.clone()));
    let (stop_tx, stopping) = tokio::sync::watch::channel(false);
    let retention = (config.retention_interval_secs > 0).then(|| {
        tokio::spawn(retention::periodic(
            store.clone(),
            retention::RetentionSettings::from_config(&config),
            std::time::Duration::from_secs(config.retention_interval_secs),
            stopping.clone(),
        ))
    });
    let alerts = match (config.alert_interval_secs > 0)
        .then(|| alerting::notify::Notifier::from_config(&config))
    {
        Some(Ok(notifier)) => Some(tokio::spawn(alerting::evaluator::periodic(
            alerting::evaluator::Evaluator::new(
                store.clone(),
                notifier,
                Duration::from_secs(config.alert_interval_secs),
            )
            .with_limits(alerting::conditions::ReadLimits {
                slow_request_ms: config.slow_request_ms,
                ..alerting::conditions::ReadLimits::default()
            }),
            stopping.clone(),
        ))),
        Some(Err(e)) => {
            tracing::error!(error = %e, "alert evaluator not started: the SMTP settings are unusable");
            None
        }
        None => None,
    };
    let follower = (config.index_interval_ms > 0).then(|| {
        tokio::spawn(crate::ingest::follower::periodic(
            store.clone(),
            Duration::from_millis(config.index_interval_ms),
            i64::try_from(config.index_batch_rows).unwrap_or(i64::MAX),
            stopping.clone(),
        ))
    });
    let rollup = tokio::spawn(monitoring::rollup::periodic(
        store.clone(),
        config.metric_retention,
        std::time::Duration::from_secs(config.rollup_interval_secs),
        stopping.clone(),
    ));
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let login_limits = auth::LoginLimits::new(config.login_concurrency, config.login_queue);
    let state = AppState {
        config: Arc::new(config),
        auth: Arc::new(auth::AuthService::new(store.clone(), login_limits)),
        stopping,
        store,
        ingest,
    };
    let limits = http::serve::ConnectionLimits {
        header_timeout: Duration::from_secs(state.config.header_timeout_secs),
        max_connections: state.config.max_connections as usize,
        shutdown_timeout: Duration::from_secs(state.config.shutdown_timeout_secs),
    };
    let limits_shutdown = limits.shutdown_timeout;
    let app = http::router(state, self_trace.as_ref().map(|t| t.trace_layer()));
    tracing::info!(addr = %listener.local_addr()?, "collector listening");
    // The peer address (the router's `ConnectInfo`) feeds failed-login throttling.
    http::serve::serve(listener, app, limits, shutdown).await;
    maintenance.abort();
    if let Err(e) = rollup.await {
        tracing::error!(error = %e, "metric roll-up task failed");
    }
    // A retention run in progress stops after its current batch (archive, then delete).
    if let Some(task) = retention
        && let Err(e) = task.await
    {
        tracing::error!(error = %e, "retention task failed");
    }
    // An alert round in progress finishes (its notifications are sent and recorded) unless it
    // outlasts the shutdown timeout; cut off mid-send, the outbox marks the entry interrupted.
    if let Some(task) = alerts {
        let abort = task.abort_handle();
        if tokio::time::timeout(limits_shutdown, task).await.is_err() {
            abort.abort();
            tracing::warn!("alert round cut off by shutdown");
        }
    }
    // The collector's own request logs still queued go into the writer before it drains.
    if let Some(t) = self_trace {
        t.shutdown().await;
    }
    // Every handle lived in the router, which `serve` has dropped: the writer drains and stops.
    if let Err(e) = writer_task.await {
        tracing::error!(error = %e, "writer task failed");
    }
    // Stopped after the writer, so its step in progress (if any) finishes; what it has not
    // reached is indexed after the next start.
    if let Some(task) = follower
        && let Err(e) = task.await
    {
        tracing::error!(error = %e, "index follower task failed");
    }
    tracing::info!("collector stopped; every acknowledged batch is committed");
    Ok(())
}

/// Hourly housekeeping: idempotency records are kept for a day; expired sessions go.
async fn maintenance(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let day_ago = clock::now_us() - 24 * 3600 * 1_000_000;
        match store.prune_ingest_batches(day_ago).await {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "pruned old batch ids"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning batch ids failed"),
        }
        match store.prune_sessions(clock::now_us()).await {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "pruned expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning sessions failed"),
        }
    }
}
