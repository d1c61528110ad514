//! Liveness and readiness probes for load balancers and orchestrators, and the collector's own
//! metrics for Prometheus (no session: like the probes, meant for the operator's network).

use crate::error::Error;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tracewire_shared::api::{Health, Ready};

/// `/healthz` (process is up) and `/readyz` (database answers and accepts writes).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(get_health))
        .route("/readyz", get(get_ready))
        .route("/metrics", get(get_metrics))
}

/// The Prometheus text exposition format, version 0.0.4.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    ),
)]
async fn get_metrics() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::telemetry::render(),
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The process is up", body = Health),
    ),
)]
async fn get_health() -> Json<Health> {
    Json(Health::ok())
}

/// Not ready while the database is unreachable or refused the writer's last write (disk full):
/// a load balancer then sends ingest elsewhere instead of to a collector that answers 503.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "The database serves reads and writes", body = Ready),
        (status = 503, description = "Not ready; the message says why", body = tracewire_shared::wire::ErrorEnvelope),
    ),
)]
async fn get_ready(State(state): State<AppState>) -> Response {
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness check failed");
        return not_ready("the database is unreachable");
    }
    if state.ingest.write_health().failure().is_some() {
        return not_ready("the database does not accept writes");
    }
    Json(Ready::ok()).into_response()
}

fn not_ready(reason: &'static str) -> Response {
    Error::NotReady(reason).into_response()
}
