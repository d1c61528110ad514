//! The entries a finished request produces: exactly one request log, plus an exception for a
//! panic or a 5xx answer.

use std::time::Instant;

use serde_json::{Map, Value, json};
use tracewire_shared::Level;
use tracewire_shared::wire::{ExceptionEntry, LogEntry};

use crate::clock::now_rfc3339;
use crate::context::ServerContext;
use crate::panic::CaughtPanic;

/// `module` of request logs: the Rust path of this crate's request reporting, so it can be
/// told apart from application events and filtered on.
pub const REQUEST_LOG_MODULE: &str = "tracewire_middleware::request";

/// What the middleware knows about a request from its start.
#[derive(Debug, Clone)]
pub(crate) struct RequestInfo {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The axum route pattern (`/users/{id}`), when the router matched one.
    pub(crate) route: Option<String>,
    pub(crate) server: ServerContext,
    pub(crate) started: Instant,
}

/// How a request ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// A response with this status was produced.
    Status(u16),
    /// The handler panicked; a 500 was answered.
    Panic(CaughtPanic),
    /// The inner service failed without a response (the connection is closed).
    ServiceError,
    /// The request future was dropped before finishing (client went away, timeout layer…).
    Cancelled,
}

impl Outcome {
    /// Status recorded for the request log; 499 is the nginx convention for "client closed".
    pub(crate) fn status(&self) -> u16 {
        match self {
            Outcome::Status(status) => *status,
            Outcome::Panic(_) | Outcome::ServiceError => 500,
            Outcome::Cancelled => 499,
        }
    }
}

/// INFO below 400, WARNING for 4xx, ERROR for 5xx.
pub(crate) fn level_for(status: u16) -> Level {
    match status {
        0..=399 => Level::Info,
        400..=499 => Level::Warning,
        _ => Level::Error,
    }
}

fn context_data(info: &RequestInfo) -> Value {
    let mut data = Map::new();
    data.insert("method".into(), json!(info.method));
    if let Some(route) = &info.route {
        data.insert("route".into(), json!(route));
    }
    if let Some(parent) = info.server.parent_span {
        data.insert("parent_span_id".into(), json!(parent.to_string()));
    }
    data.insert("trace_origin".into(), json!(info.server.origin.as_str()));
    Value::Object(data)
}

/// The one request log of a request.
pub(crate) fn request_log(info: &RequestInfo, outcome: &Outcome) -> LogEntry {
    let status = outcome.status();
    let duration_ms = info.started.elapsed().as_secs_f64() * 1000.0;
    let mut extra = context_data(info);
    if let (Outcome::Cancelled, Value::Object(map)) = (outcome, &mut extra) {
        map.insert("cancelled".into(), json!(true));
    }
    LogEntry {
        level: level_for(status).as_str().into(),
        message: format!("{} {} {}", info.method, info.path, status),
        timestamp: now_rfc3339(),
        module: Some(REQUEST_LOG_MODULE.into()),
        function: info.route.clone(),
        trace_id: Some(info.server.ctx.trace_id.to_string()),
        span_id: Some(info.server.ctx.span_id.to_string()),
        request_method: Some(info.method.clone()),
        request_path: Some(info.path.clone()),
        response_status: Some(i64::from(status)),
        duration_ms: Some(duration_ms),
        extra_data: Some(extra),
        ..LogEntry::default()
    }
}

/// The exception a request produces, if any: panics and 5xx answers.
pub(crate) fn exception(info: &RequestInfo, outcome: &Outcome) -> Option<ExceptionEntry> {
    let (exception_type, message, stack_trace, details) = match outcome {
        Outcome::Panic(panic) => (
            "panic",
            panic.message.clone(),
            panic.backtrace.clone(),
            json!({ "location": panic.location }),
        ),
        Outcome::Status(status) if *status >= 500 => (
            "http_5xx",
            format!("{} {} answered {}", info.method, info.path, status),
            None,
            json!({ "status": status }),
        ),
        Outcome::ServiceError => (
            "http_5xx",
            format!("{} {} failed without a response", info.method, info.path),
            None,
            json!({ "status": 500 }),
        ),
        Outcome::Status(_) | Outcome::Cancelled => return None,
    };
    Some(ExceptionEntry {
        exception_type: exception_type.into(),
        exception_message: message,
        stack_trace,
        timestamp: now_rfc3339(),
        trace_id: Some(info.server.ctx.trace_id.to_string()),
        span_id: Some(info.server.ctx.span_id.to_string()),
        request_path: Some(info.path.clone()),
        exception_details: Some(details),
        context_data: Some(context_data(info)),
        ..ExceptionEntry::default()
    })
}

/// Mirrors the request log as a local `tracing` event, so the application's own console shows
/// it. Its target starts with `tracewire_middleware`, which the shipping layer ignores, so it is
/// not shipped twice.
pub(crate) fn emit_local_event(log: &LogEntry) {
    let status = log.response_status.unwrap_or_default();
    let duration_ms = log.duration_ms.unwrap_or_default();
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(target: REQUEST_LOG_MODULE, $level,
                status, duration_ms, "{}", log.message)
        };
    }
    match log.level.as_str() {
        "ERROR" => emit!(tracing::Level::ERROR),
        "WARNING" => emit!(tracing::Level::WARN),
        _ => emit!(tracing::Level::INFO),
    }
}
