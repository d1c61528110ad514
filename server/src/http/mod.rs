//! HTTP surface. Each module owns its routes; [`router`] assembles them and adds what every
//! answer shares: the body deadline, the error envelope and the security headers.

mod alerts;
pub mod auth;
mod exceptions;
pub mod export;
pub mod extract;
mod health;
mod ingest;
mod logs;
mod monitoring;
pub mod openapi;
pub mod serve;
mod stream;
mod ui;
pub mod views;

use crate::config::SelfLog;
use crate::error::Error;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;
use tracewire_middleware::TraceLayer;

/// The whole application router. `trace` (the collector's own tracing middleware) wraps the
/// API; with `--self-log all` also the probes, the UI's files and unknown paths. Never ingest:
/// tracing the ingest path would log each batch as another batch.
pub fn router(state: AppState, trace: Option<TraceLayer>) -> Router {
    let ui_source = ui::detect(state.config.ui_dir.as_deref());
    let body_timeout = Duration::from_secs(state.config.body_timeout_secs);
    let mut api = Router::new()
        .merge(auth::router())
        .merge(logs::router())
        .merge(exceptions::router())
        .merge(export::router())
        .merge(monitoring::router())
        .merge(stream::router())
        .merge(alerts::router())
        // These answers hold logs and sessions: no cache (browser or proxy) may keep them.
        // Ingest answers (a batch id and counts) stay cacheable-as-usual: `no-store` there also
        // kept browsers' devtools, and the e2e suite reading answers through them, from the body.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let mut rest = Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .fallback(move |request: axum::extract::Request| ui::fallback(ui_source.clone(), request));
    match (trace, state.config.self_log) {
        (Some(layer), SelfLog::Api) => api = api.layer(layer),
        (Some(layer), SelfLog::All) => {
            api = api.layer(layer.clone());
            rest = rest.layer(layer);
        }
        (None, _) | (_, SelfLog::Off) => {}
    }
    Router::new()
        .merge(ingest::router(&state))
        .merge(api)
        .merge(rest)
        .with_state(state)
        // A body still arriving after the deadline fails to read; handlers answer 408.
        .layer(RequestBodyDeadlineLayer::new(body_timeout))
        .layer(middleware::map_response(crate::error::log_internal_causes))
        .layer(middleware::map_response(into_envelope))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// Longest framework error text kept as the envelope's message.
const MAX_FRAMEWORK_TEXT: usize = 4096;

/// Puts error answers that did not come from [`Error`] (axum's 405 with an empty body, its
/// plain-text extractor rejections, middleware refusals) into the one error envelope, keeping
/// their status and headers (`Allow`, CORS) and their text as the message.
async fn into_envelope(response: Response) -> Response {
    if !needs_envelope(response.status(), response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_FRAMEWORK_TEXT)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok());
    let message = framework_message(parts.status, text.as_deref());
    let (fresh, body) = Error::Http {
        status: parts.status,
        message,
    }
    .into_response()
    .into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(content_type) = fresh.headers.get(header::CONTENT_TYPE) {
        parts
            .headers
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    Response::from_parts(parts, body)
}

/// Whether an answer is an error that is not already JSON (our envelope is always JSON).
fn needs_envelope(status: StatusCode, headers: &HeaderMap) -> bool {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (status.is_client_error() || status.is_server_error()) && !json
}

/// The framework's own text when it has one, else the status's reason phrase.
fn framework_message(status: StatusCode, text: Option<&str>) -> String {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_json_errors_are_rewrapped() {
        let mut json = HeaderMap::new();
        json.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let mut text = HeaderMap::new();
        text.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        assert!(needs_envelope(
            StatusCode::METHOD_NOT_ALLOWED,
            &HeaderMap::new()
        ));
        assert!(needs_envelope(StatusCode::PAYLOAD_TOO_LARGE, &text));
        assert!(!needs_envelope(StatusCode::UNPROCESSABLE_ENTITY, &json));
        assert!(!needs_envelope(StatusCode::OK, &text));
        assert!(!needs_envelope(StatusCode::NO_CONTENT, &HeaderMap::new()));
    }

    #[test]
    fn framework_text_becomes_the_message() {
        assert_eq!(
            framework_message(StatusCode::METHOD_NOT_ALLOWED, Some("")),
            "Method Not Allowed"
        );
        assert_eq!(
            framework_message(StatusCode::BAD_REQUEST, Some(" Invalid URL \n")),
            "Invalid URL"
        );
        assert_eq!(
            framework_message(StatusCode::REQUEST_TIMEOUT, None),
            "Request Timeout"
        );
    }
}
