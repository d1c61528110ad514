//! HTTP surface. Each module owns its routes; [`router`] assembles them.

pub mod auth;
mod exceptions;
mod export;
mod health;
mod ingest;
mod logs;
mod stream;
mod views;

use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracewire_middleware::TraceLayer;
use tracewire_shared::wire::{ErrorBody, ErrorEnvelope};

/// The whole application router. `trace` (the collector's own tracing middleware) wraps every
/// route except ingest: tracing the ingest path would log each batch as another batch.
pub fn router(state: AppState, trace: Option<TraceLayer>) -> Router {
    let mut api = Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(logs::router())
        .merge(exceptions::router())
        .merge(export::router())
        .merge(stream::router())
        .fallback(not_found);
    if let Some(layer) = trace {
        api = api.layer(layer);
    }
    Router::new()
        .merge(ingest::router(&state))
        .merge(api)
        .with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(ErrorEnvelope {
            error: ErrorBody {
                code: "not_found".into(),
                message: "no such endpoint".into(),
                details: None,
            },
        }),
    )
        .into_response()
}
