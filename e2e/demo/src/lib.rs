//! The demo shop's backend: a tiny axum app that a newcomer clicks through to see one trace id
//! join a browser exception, the backend's error log and its request log in the collector.
//!
//! # Layout
//! - [`DemoConfig`]: command line and environment settings.
//! - [`api`]: the shop's JSON routes (products, orders, a failing checkout, a slow request, a
//!   panic), traced by `tracewire-middleware`.
//! - [`app`]: the router — `/api` behind the trace layer, `/vendor` serving the *installed* npm
//!   packages (what `npm install` gave, not the build output), everything else from the page's
//!   static files.
//! - [`run`]: serves until shutdown, then flushes the middleware so the last logs arrive.

pub mod api;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tracewire_middleware::{TraceLayer, Tracewire};
use tracing_subscriber::filter::Targets;

/// Settings of the demo; each flag also reads the `TRACEWIRE_DEMO_*` variable beside it
/// (prefixed so it never picks up the collector's `TRACEWIRE_LISTEN` when both run together).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "tracewire-demo", version, about = "Tracewire demo shop")]
pub struct DemoConfig {
    /// Address the shop listens on.
    #[arg(long, env = "TRACEWIRE_DEMO_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Base URL of the collector the backend logs are shipped to.
    #[arg(
        long,
        env = "TRACEWIRE_DEMO_COLLECTOR",
        default_value = "http://127.0.0.1:8080"
    )]
    pub collector: String,
    /// Ingest key of the collector project (the one `npm start` creates).
    #[arg(long, env = "TRACEWIRE_DEMO_KEY", default_value = "tw_demo_key")]
    pub key: String,
    /// Directory of the page (index.html, app.js).
    #[arg(long, env = "TRACEWIRE_DEMO_PUBLIC_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/public"))]
    pub public_dir: PathBuf,
    /// The demo's installed npm packages, served under `/vendor`.
    #[arg(long, env = "TRACEWIRE_DEMO_VENDOR_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules"))]
    pub vendor_dir: PathBuf,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The middleware rejected its settings (e.g. a malformed collector URL).
    #[error("tracewire middleware: {0}")]
    Middleware(#[from] tracewire_middleware::Error),
    /// Socket error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Which `tracing` events go to the collector: the shop's own. The HTTP client and the
/// middleware stay on the console, so shipping can never log about itself in a loop.
pub fn shipped_events() -> Targets {
    Targets::new().with_target("tracewire_demo", tracing::Level::INFO)
}

/// The demo's router. Only `/api` is traced: static files would drown the request logs.
pub fn app(config: &DemoConfig, trace_layer: TraceLayer) -> Router {
    // The API is same-origin with the page, so no cross-origin preflight needs allowing.
    // `layer` wraps only the routes that exist when it is called: the API, not what follows.
    api::router()
        .layer(trace_layer)
        .nest_service("/vendor", ServeDir::new(&config.vendor_dir))
        .fallback_service(ServeDir::new(&config.public_dir))
}

/// Serves the shop on `listener` until `shutdown` resolves, then sends the middleware's queued
/// logs to the collector before returning.
pub async fn run(
    config: &DemoConfig,
    tracewire: Tracewire,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DemoError> {
    let router = app(config, tracewire.trace_layer());
    tracing::info!(addr = %listener.local_addr()?, "demo shop listening");
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    tracewire.shutdown().await;
    served?;
    Ok(())
}
