//! HTTP surface. Each module owns its routes; [`router`] assembles them.

pub mod auth;
mod exceptions;
mod export;
mod health;
mod ingest;
mod logs;
mod stream;
mod ui;
pub mod views;

use crate::state::AppState;
use axum::Router;
use tracewire_middleware::TraceLayer;

/// The whole application router. `trace` (the collector's own tracing middleware) wraps every
/// route except ingest: tracing the ingest path would log each batch as another batch.
pub fn router(state: AppState, trace: Option<TraceLayer>) -> Router {
    let ui_dir = ui::detect(&state.config.ui_dir);
    let mut api = Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(logs::router())
        .merge(exceptions::router())
        .merge(export::router())
        .merge(stream::router())
        .fallback(move |request: axum::extract::Request| ui::fallback(ui_dir.clone(), request));
    if let Some(layer) = trace {
        api = api.layer(layer);
    }
    Router::new()
        .merge(ingest::router(&state))
        .merge(api)
        .with_state(state)
}
