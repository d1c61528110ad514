//! HTTP surface. Each module owns its routes; [`router`] assembles them.

mod health;
mod ingest;

use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracewire_shared::wire::{ErrorBody, ErrorEnvelope};

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ingest::router(&state))
        .merge(health::router())
        .fallback(not_found)
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
