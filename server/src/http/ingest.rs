//! `POST /api/v1/logging/logs` and its CORS preflight.
//!
//! Browsers post cross-origin, so every answer (errors too) echoes the Origin and exposes
//! `Retry-After`; the real access decision is the key's Origin allow-list, checked in the
//! service. The route reads its own body with its own limit instead of a global one.

use super::extract::{AppQuery, read_limited};
use crate::error::Result;
use crate::ingest::IngestRequest;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use tracewire_shared::wire::{INGEST_PATH, KEY_HEADER};

/// The ingest route and its CORS preflight; key-authenticated, so no session and no audit row.
pub fn router(_state: &AppState) -> Router<AppState> {
    Router::new().route(INGEST_PATH, post(post_logs).options(preflight_logs))
}

/// `?key=` for `navigator.sendBeacon`, which cannot set headers.
#[derive(Debug, Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

async fn post_logs(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<KeyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let origin = header_str(&headers, header::ORIGIN).map(str::to_owned);
    let result = handle(&state, query, &headers, body).await;
    let mut response = match result {
        Ok(r) => (StatusCode::OK, Json(r)).into_response(),
        Err(e) => {
            metrics::counter!(crate::telemetry::INGEST_REJECTED, "reason" => e.code()).increment(1);
            e.into_response()
        }
    };
    add_cors(response.headers_mut(), origin.as_deref());
    response
}

async fn handle(
    state: &AppState,
    query: KeyQuery,
    headers: &HeaderMap,
    body: Body,
) -> Result<tracewire_shared::wire::IngestResponse> {
    let body = read_limited(headers, body, state.ingest.limits().max_body_bytes).await?;
    let key = header_str(headers, KEY_HEADER).or(query.key.as_deref());
    let request = IngestRequest {
        key,
        origin: header_str(headers, header::ORIGIN),
        content_type: header_str(headers, header::CONTENT_TYPE),
        content_encoding: header_str(headers, header::CONTENT_ENCODING),
        body,
    };
    state.ingest.ingest(request).await
}

async fn preflight_logs(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    add_cors(h, header_str(&headers, header::ORIGIN));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, content-encoding, x-tracewire-key"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

fn add_cors(h: &mut HeaderMap, origin: Option<&str>) {
    let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return;
    };
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    h.append(header::VARY, HeaderValue::from_static("origin"));
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
