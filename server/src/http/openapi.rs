//! The OpenAPI 3.1 document of the HTTP API, served at `GET /api/openapi.json`.
//!
//! Built from the `shared::api` types (their `ToSchema` derives, behind the shared crate's
//! `openapi` feature) and the `#[utoipa::path]` attribute on each handler, so a changed type or
//! route changes the document with it. The error answers are added by [`ErrorAnswers`] from
//! what each operation's extractors can refuse, instead of being repeated on every handler;
//! `server/tests/openapi.rs` checks that every route of the router is in the document.

use super::{alerts, auth, exceptions, export, health, ingest, logs, monitoring, stream};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi};

/// Path of the document itself.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// The document's root: every documented handler and the schemes its operations name.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tracewire",
        description = "Self-hosted logging for web applications: ingest (native, Sentry, \
                       OTLP), log and exception queries, monitoring and alerting. Every error \
                       answers with the envelope `{\"error\":{\"code\",\"message\",\"details\"}}`."
    ),
    paths(
        ingest::post_logs,
        ingest::preflight_logs,
        ingest::post_sentry_envelope,
        ingest::post_sentry_store,
        ingest::preflight_sentry,
        ingest::preflight_sentry_store,
        ingest::post_otlp_logs,
        auth::post_login,
        auth::post_logout,
        auth::get_me,
        logs::list_logs,
        logs::get_statistics,
        logs::get_log,
        logs::get_trace,
        stream::stream_logs,
        export::export_logs,
        exceptions::list_exceptions,
        exceptions::get_patterns,
        exceptions::get_histogram,
        exceptions::get_exception,
        exceptions::resolve_exception,
        monitoring::metrics,
        monitoring::slow_requests,
        monitoring::slow_queries,
        monitoring::error_rates,
        monitoring::web_vitals,
        alerts::list_alerts,
        alerts::create_alert,
        alerts::get_alert,
        alerts::replace_alert,
        alerts::delete_alert,
        alerts::preview_alert,
        alerts::test_alert,
        alerts::list_history,
        alerts::acknowledge_history,
        health::get_health,
        health::get_ready,
        health::get_metrics,
        get_openapi,
    ),
    components(schemas(tracewire_shared::wire::ErrorEnvelope)),
    modifiers(&Schemes, &ErrorAnswers),
    tags(
        (name = "ingest", description = "Batches from the browser logger, the middleware, \
                                         Sentry SDKs and OTLP exporters; an ingest key each"),
        (name = "auth", description = "Sessions (cookie) and bearer tokens"),
        (name = "logs", description = "The log explorer: list, one log, statistics, traces, \
                                       live tail, export"),
        (name = "exceptions", description = "Grouped exceptions and their occurrences"),
        (name = "monitoring", description = "Request, query and web-vital metrics"),
        (name = "alerts", description = "Alert rules, their preview, test and history"),
        (name = "operations", description = "Probes, Prometheus metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The router of the document (no authentication: it describes, it holds no data).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(OPENAPI_PATH, get(get_openapi))
}

/// The document as JSON, built once per process.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn get_openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document_json(),
    )
        .into_response()
}

/// Query parameters of the logs list (`LOG_PARAMS`); the live tail, statistics and export take
/// the same filters without the page parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct LogFilterParams {
    /// `frontend` or `backend`.
    #[param(pattern = "^(frontend|backend)$")]
    source: Option<String>,
    /// One level or several, comma separated (`ERROR,CRITICAL`); case-insensitive, `WARN`
    /// and `FATAL` accepted as aliases.
    #[param(
        pattern = "^([dD][eE][bB][uU][gG]|[iI][nN][fF][oO]|[wW][aA][rR][nN][iI][nN][gG]|[wW][aA][rR][nN]|[eE][rR][rR][oO][rR]|[cC][rR][iI][tT][iI][cC][aA][lL]|[fF][aA][tT][aA][lL])(,([dD][eE][bB][uU][gG]|[iI][nN][fF][oO]|[wW][aA][rR][nN][iI][nN][gG]|[wW][aA][rR][nN]|[eE][rR][rR][oO][rR]|[cC][rR][iI][tT][iI][cC][aA][lL]|[fF][aA][tT][aA][lL]))*$"
    )]
    level: Option<String>,
    /// This level and the ones above it.
    #[param(
        pattern = "^([dD][eE][bB][uU][gG]|[iI][nN][fF][oO]|[wW][aA][rR][nN][iI][nN][gG]|[wW][aA][rR][nN]|[eE][rR][rR][oO][rR]|[cC][rR][iI][tT][iI][cC][aA][lL]|[fF][aA][tT][aA][lL])$"
    )]
    min_level: Option<String>,
    /// W3C trace id: 32 hex digits, not all zero.
    #[param(pattern = "^(?!0{32})[0-9a-fA-F]{32}$")]
    trace_id: Option<String>,
    /// Exact user id.
    user_id: Option<String>,
    /// Exact module.
    module: Option<String>,
    /// Exact request path, or a prefix when it ends with `*` (`/api/orders*`).
    path: Option<String>,
    /// Full-text search over the message (all words, case-insensitive for ASCII).
    q: Option<String>,
    /// Window start, RFC 3339.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Window end, RFC 3339.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Leave out logs of this source (repeatable, as every `not.` parameter).
    #[param(rename = "not.source")]
    not_source: Option<String>,
    /// Leave out logs of this level.
    #[param(rename = "not.level")]
    not_level: Option<String>,
    /// Leave out logs of this module (logs without one stay).
    #[param(rename = "not.module")]
    not_module: Option<String>,
    /// Leave out logs of this function.
    #[param(rename = "not.function")]
    not_function: Option<String>,
    /// Leave out logs of this user.
    #[param(rename = "not.user_id")]
    not_user_id: Option<String>,
    /// Leave out logs of this trace.
    #[param(rename = "not.trace_id")]
    not_trace_id: Option<String>,
    /// Leave out this request path (or prefix, with a trailing `*`).
    #[param(rename = "not.path")]
    not_path: Option<String>,
    /// Leave out this request method.
    #[param(rename = "not.request_method")]
    not_request_method: Option<String>,
    /// Leave out this response status.
    #[param(rename = "not.response_status")]
    not_response_status: Option<String>,
}

/// Keyset paging of the logs list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct LogPageParams {
    /// Page size, 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `desc` (newest first, default) or `asc`.
    #[param(pattern = "^(asc|desc)$")]
    order: Option<String>,
}

/// The statistics' bucket width.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct BucketParam {
    /// Bucket width such as `30s`, `5m`, `1h` or `1d` (default `1h`).
    #[param(pattern = "^[0-9]+[smhd]$")]
    bucket: Option<String>,
}

/// Filters, sort and paging of the exceptions list (`EXCEPTION_PARAMS`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ExceptionParams {
    /// `frontend` or `backend`.
    #[param(pattern = "^(frontend|backend)$")]
    source: Option<String>,
    /// `true`: resolved groups only; `false`: unresolved only.
    resolved: Option<bool>,
    /// `unresolved`, `resolved` or `regressed` (the tracker's tabs).
    #[param(pattern = "^(unresolved|resolved|regressed)$")]
    status: Option<String>,
    /// `last_seen` (default), `first_seen` or `count`.
    #[param(pattern = "^(last_seen|first_seen|count)$")]
    sort: Option<String>,
    /// Exact exception type.
    exception_type: Option<String>,
    /// Groups seen at or after this time (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Groups seen at or before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Page size, 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A time window (RFC 3339 bounds; each endpoint says its default).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct WindowParams {
    /// Window start, RFC 3339.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Window end, RFC 3339.
    #[param(format = DateTime)]
    to: Option<String>,
}

/// The slow-requests and slow-queries lists (`slow_params` in `monitoring.rs`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct SlowListParams {
    /// Only entries at least this slow, in milliseconds (the collector's threshold by default).
    #[param(minimum = 0)]
    threshold_ms: Option<f64>,
    /// Window start, RFC 3339.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Window end, RFC 3339.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Page size, 1..=1000.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The error-rate and web-vital summaries (`family_rows` in `monitoring.rs`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct FamilyParams {
    /// Window start, RFC 3339.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Window end, RFC 3339.
    #[param(format = DateTime)]
    to: Option<String>,
    /// `frontend` or `backend`.
    #[param(pattern = "^(frontend|backend)$")]
    source: Option<String>,
}

/// Declares the two ways to authenticate: the session cookie the admin UI holds, and the
/// bearer token `POST /api/v1/auth/login` returns for scripts.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "sentry_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("sentry_key"))),
        );
        components.add_security_scheme(
            "sentry_auth",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Sentry-Auth"))),
        );
        components.add_security_scheme(
            "ingest_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(
                tracewire_shared::wire::KEY_HEADER,
            ))),
        );
    }
}

/// Adds to every operation the error answers its extractors can give, each the error envelope:
/// 401 where a session or an ingest key is needed, 403 on session writes (viewer role,
/// cross-site check) and on ingest (the key's Origin and source rules), 429 on ingest, 422 and
/// 400 on parameters and bodies, 404 on a path id, 413/415/408 on bodies, 503 where storage is
/// read. An answer the handler's own attribute already lists is left as it is.
struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    add_error_answers(path, method, operation);
                }
            }
        }
    }
}

fn add_error_answers(path: &str, method: HttpMethod, op: &mut Operation) {
    // The requirement's scheme names, as the document spells them.
    let schemes = op
        .security
        .as_ref()
        .and_then(|s| serde_json::to_string(s).ok())
        .unwrap_or_default();
    let session = schemes.contains("\"session\"");
    let ingest = schemes.contains("\"ingest_key\"") || schemes.contains("\"sentry_key\"");
    let parameters = op.parameters.as_deref().unwrap_or_default();
    let located = |place: ParameterIn| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let has_query = located(ParameterIn::Query);
    let has_path_param = located(ParameterIn::Path);
    let has_body = op.request_body.is_some();
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, answer: utoipa::openapi::Response| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(answer));
    };
    let operations_path = path == "/healthz" || path == "/metrics" || path == OPENAPI_PATH;
    if session {
        add(
            "401",
            error_answer("No valid session or bearer token (`unauthorized`)"),
        );
        if method != HttpMethod::Get {
            add(
                "403",
                error_answer(
                    "The admin role is needed, or a cookie-authenticated write came from \
                     another origin (`forbidden`, `csrf_rejected`)",
                ),
            );
        }
    }
    if ingest {
        add(
            "401",
            error_answer("Missing, unknown or revoked ingest key (`invalid_key`)"),
        );
        add(
            "403",
            error_answer("The key does not allow this Origin, or this source"),
        );
        let mut limited = error_answer("Rate limited or busy; retry after `Retry-After` seconds");
        let mut retry_after = utoipa::openapi::header::Header::new(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer),
        );
        retry_after.description = Some("Seconds to wait".to_owned());
        limited
            .headers
            .insert("retry-after".to_owned(), RefOr::T(retry_after));
        add("429", limited);
    }
    if has_query || has_path_param {
        add(
            "422",
            error_answer("A parameter is invalid; `details` lists each one (`validation_failed`)"),
        );
    }
    if has_path_param && path.contains("{id}") {
        add("404", error_answer("No such item (`not_found`)"));
    }
    if has_body {
        add(
            "400",
            error_answer("The body is not JSON (`malformed_json`) or could not be read"),
        );
        add(
            "408",
            error_answer("The body did not arrive within the body timeout"),
        );
        add(
            "413",
            error_answer("The body is over its limit (`too_large`)"),
        );
        add(
            "415",
            error_answer("The body's Content-Type or Content-Encoding is not read here"),
        );
        add(
            "422",
            error_answer(
                "A field is invalid; `details` lists each one by path (`validation_failed`); \
                 nothing of a refused batch is stored",
            ),
        );
    }
    if !operations_path {
        add(
            "503",
            error_answer(
                "Storage is unavailable, or the collector is shutting down; nothing was \
                 stored; retry after `Retry-After` seconds",
            ),
        );
    }
}

fn error_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .build()
}
