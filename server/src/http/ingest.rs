//! `POST /api/v1/logging/logs` and its CORS preflight, and the Sentry SDK endpoints
//! (`POST /api/{project}/envelope/` and the legacy `/api/{project}/store/`), and OTLP/HTTP logs
//! (`POST /v1/logs`).
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
use tracewire_shared::wire::{INGEST_PATH, IngestBatch, IngestResponse, KEY_HEADER};

/// The ingest route and its CORS preflight; key-authenticated, so no session and no audit row.
pub fn router(_state: &AppState) -> Router<AppState> {
    Router::new()
        .route(INGEST_PATH, post(post_logs).options(preflight_logs))
        // The DSN's project id (the path segment) is not ours to check: the key names the
        // project, as a Sentry DSN's key does.
        .route(
            "/api/{project}/envelope/",
            post(post_sentry_envelope).options(preflight_sentry),
        )
        .route(
            "/api/{project}/store/",
            post(post_sentry_store).options(preflight_sentry_store),
        )
        .route("/v1/logs", post(post_otlp_logs))
}

/// `POST /v1/logs`: protobuf or JSON as the Content-Type says (anything else 415, as OTLP/HTTP
/// specifies), the answer in the same encoding; the key in `X-Tracewire-Key` or
/// `Authorization: Bearer`.
#[utoipa::path(
    post,
    path = "/v1/logs",
    tag = "ingest",
    request_body(
        description = "An OTLP `ExportLogsServiceRequest`, protobuf or JSON (optionally gzip)",
        content(
            (Vec<u8> = "application/x-protobuf"),
            (serde_json::Value = "application/json"),
        )
    ),
    responses(
        (status = 200, description = "An `ExportLogsServiceResponse` in the request's encoding; \
                                      `partial_success` counts the records refused",
         content((Vec<u8> = "application/x-protobuf"), (serde_json::Value = "application/json"))),
    ),
    security(("ingest_key" = []), ("bearer" = []))
)]
async fn post_otlp_logs(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let content_type = header_str(&headers, header::CONTENT_TYPE);
    let Some(encoding) = crate::ingest::otlp::Encoding::from_content_type(content_type) else {
        return crate::error::Error::UnsupportedMediaType(
            content_type.unwrap_or("none").to_owned(),
        )
        .into_response();
    };
    let result = async {
        let body = read_limited(&headers, body, state.ingest.limits().max_body_bytes).await?;
        let bearer = header_str(&headers, header::AUTHORIZATION)
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let key = header_str(&headers, KEY_HEADER).or(bearer);
        let request = ingest_request(&headers, key, body);
        state.ingest.ingest_otlp(request, encoding).await
    }
    .await;
    match result {
        Ok(outcome) => {
            let body = crate::ingest::otlp::encode_response(&outcome.response(), encoding);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, encoding.content_type())],
                body,
            )
                .into_response()
        }
        Err(e) => refused(e),
    }
}

/// What a Sentry endpoint answers on success: the stored event's id, as Sentry does.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(super) struct SentryAccepted {
    /// The event id (32 hex digits); `null` when the request named none (an envelope without
    /// an `event_id`, such as one of logs only), as Sentry answers then.
    id: Option<String>,
}

/// `?sentry_key=`: how browser SDKs authenticate (a header would need a preflight).
#[derive(Debug, Deserialize)]
struct SentryQuery {
    sentry_key: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/{project}/envelope/",
    tag = "ingest",
    params(
        ("project" = String, Path, description = "The DSN's project id (the key names the project)"),
    ),
    request_body(description = "A Sentry envelope (optionally gzip)",
                 content((String = "application/x-sentry-envelope"), (String = "text/plain"))),
    responses(
        (status = 200, description = "Stored; the event id", body = SentryAccepted),
    ),
    security(("sentry_key" = []), ("sentry_auth" = []))
)]
async fn post_sentry_envelope(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<SentryQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    sentry(&state, query, &headers, body, false).await
}

#[utoipa::path(
    post,
    path = "/api/{project}/store/",
    tag = "ingest",
    params(
        ("project" = String, Path, description = "The DSN's project id (the key names the project)"),
    ),
    request_body(description = "One Sentry event as JSON (the legacy store endpoint)",
                 content((serde_json::Value = "application/json"), (serde_json::Value = "text/plain"))),
    responses(
        (status = 200, description = "Stored; the event id", body = SentryAccepted),
    ),
    security(("sentry_key" = []), ("sentry_auth" = []))
)]
async fn post_sentry_store(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<SentryQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    sentry(&state, query, &headers, body, true).await
}

/// Answers as Sentry does: `{"id": …}` on success; on a rate limit 429 with `Retry-After` and
/// `X-Sentry-Rate-Limits`, which SDKs obey for every category; errors in our envelope.
async fn sentry(
    state: &AppState,
    query: SentryQuery,
    headers: &HeaderMap,
    body: Body,
    legacy_store: bool,
) -> Response {
    let origin = header_str(headers, header::ORIGIN).map(str::to_owned);
    let result = async {
        let body = read_limited(headers, body, state.ingest.limits().max_body_bytes).await?;
        let auth_key =
            header_str(headers, "x-sentry-auth").and_then(crate::ingest::sentry::auth_header_key);
        let request = ingest_request(headers, auth_key.or(query.sentry_key.as_deref()), body);
        state.ingest.ingest_sentry(request, legacy_store).await
    }
    .await;
    let mut response = match result {
        Ok(id) => (StatusCode::OK, Json(serde_json::json!({ "id": id }))).into_response(),
        Err(e) => {
            let limited = match &e {
                crate::error::Error::RateLimited { retry_after_secs }
                | crate::error::Error::Overloaded { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            };
            let mut response = refused(e);
            if let Some(secs) = limited
                && let Ok(v) =
                    HeaderValue::from_str(&crate::ingest::sentry::rate_limits_header(secs))
            {
                response.headers_mut().insert("x-sentry-rate-limits", v);
            }
            response
        }
    };
    add_cors(response.headers_mut(), origin.as_deref());
    if origin.is_some() {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-sentry-rate-limits"),
        );
    }
    response
}

#[utoipa::path(
    options,
    path = "/api/{project}/envelope/",
    tag = "ingest",
    params(("project" = String, Path, description = "The DSN's project id")),
    responses((status = 204, description = "CORS preflight: the methods and headers a browser may send"))
)]
async fn preflight_sentry(headers: HeaderMap) -> Response {
    preflight(&headers, "content-type, content-encoding, x-sentry-auth")
}

#[utoipa::path(
    options,
    path = "/api/{project}/store/",
    tag = "ingest",
    params(("project" = String, Path, description = "The DSN's project id")),
    responses((status = 204, description = "CORS preflight: the methods and headers a browser may send"))
)]
async fn preflight_sentry_store(headers: HeaderMap) -> Response {
    preflight_sentry(headers).await
}

/// `?key=` for `navigator.sendBeacon`, which cannot set headers.
#[derive(Debug, Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/logging/logs",
    tag = "ingest",
    params(("key" = Option<String>, Query, description = "The ingest key, for `navigator.sendBeacon`, which cannot set headers")),
    request_body(description = "One batch (optionally gzip); `text/plain` is read as JSON",
                 content((IngestBatch = "application/json"), (IngestBatch = "text/plain"))),
    responses(
        (status = 200, description = "Stored (or already stored: `duplicate`)", body = IngestResponse),
    ),
    security(("ingest_key" = []))
)]
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
        Err(e) => refused(e),
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
    state
        .ingest
        .ingest(ingest_request(headers, key, body))
        .await
}

/// The pipeline's view of one request: the key each route finds in its own places, the rest
/// from the headers every ingest route reads alike.
fn ingest_request<'a>(
    headers: &'a HeaderMap,
    key: Option<&'a str>,
    body: bytes::Bytes,
) -> IngestRequest<'a> {
    IngestRequest {
        key,
        origin: header_str(headers, header::ORIGIN),
        content_type: header_str(headers, header::CONTENT_TYPE),
        content_encoding: header_str(headers, header::CONTENT_ENCODING),
        body,
    }
}

/// Counts a refused ingest request by its error code (`/metrics`) and answers it.
fn refused(e: crate::error::Error) -> Response {
    metrics::counter!(crate::telemetry::INGEST_REJECTED, "reason" => e.code()).increment(1);
    e.into_response()
}

#[utoipa::path(
    options,
    path = "/api/v1/logging/logs",
    tag = "ingest",
    responses((status = 204, description = "CORS preflight: the methods and headers a browser may send"))
)]
async fn preflight_logs(headers: HeaderMap) -> Response {
    preflight(&headers, "content-type, content-encoding, x-tracewire-key")
}

/// A CORS preflight answer for an ingest route whose request may carry `allow_headers`.
fn preflight(headers: &HeaderMap, allow_headers: &'static str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    add_cors(h, header_str(headers, header::ORIGIN));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(allow_headers),
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
