//! Liveness and readiness probes for load balancers and orchestrators.

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
}

async fn get_health() -> Json<Health> {
    Json(Health::ok())
}

/// Not ready while the database is unreachable or refused the writer's last write (disk full):
/// a load balancer then sends ingest elsewhere instead of to a collector that answers 503.
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
