//! Sentry's envelope protocol, turned into an [`IngestBatch`], so an app instrumented with a
//! Sentry SDK sends to Tracewire by changing its DSN only. Everything after the conversion
//! (validation, redaction, dedup, rate limit, the writer) is the native path's.
//!
//! An envelope is a JSON header line, then items: a JSON item header (with `type` and an
//! optional `length` in bytes) and its payload. What becomes what:
//! - `event` (and the legacy `/store/` body): each value of `exception.values` an exception
//!   (stack frames as text, tags, user, request, breadcrumbs and contexts kept in its
//!   details and context); an event without one, a log at the event's level;
//! - `log` (Sentry structured logs): each item a log, attributes in `extra_data`;
//! - `transaction`: one `transaction` metric of its duration, named by its operation, with the
//!   transaction's name as endpoint;
//! - anything else (sessions, client reports, attachments, replays…): accepted and counted in
//!   [`Converted::ignored`].
//!
//! The trace context (`contexts.trace.trace_id`/`span_id`, or a log's `trace_id`) lands in the
//! entries' trace fields, so a Sentry-instrumented page shows up in the same trace view.

use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use tracewire_shared::validate::format_timestamp_us;
use tracewire_shared::wire::{ExceptionEntry, IngestBatch, LogEntry, MetricEntry, Sdk};
use uuid::Uuid;

/// Why an envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope's header line is not a JSON object.
    #[error("envelope header is not a JSON object")]
    Header,
    /// An item's header is not a JSON object with a `type`.
    #[error("item {0}: header is not a JSON object with a type")]
    ItemHeader(usize),
    /// An item declares more bytes than the envelope holds.
    #[error("item {0}: length runs past the end of the envelope")]
    Length(usize),
    /// An event, log or transaction payload is not a JSON object.
    #[error("item {0}: payload is not a JSON object")]
    Payload(usize),
}

/// One envelope, converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The batch for the native pipeline (`batch_id` from the event id, or from the bytes).
    pub batch: IngestBatch,
    /// The event id answered to the SDK (`{"id": …}`), when the envelope names one.
    pub event_id: Option<String>,
    /// The DSN's public key from the envelope header, if it carries the DSN.
    pub dsn_key: Option<String>,
    /// Items of types that carry nothing Tracewire stores.
    pub ignored: usize,
}

/// Reads an envelope (`POST /api/{project}/envelope/`).
pub fn convert_envelope(body: &[u8]) -> Result<Converted, EnvelopeError> {
    let (header_line, mut rest) = split_line(body);
    let header: Map<String, Value> =
        serde_json::from_slice(header_line).map_err(|_| EnvelopeError::Header)?;
    let mut out = Output::new(&header, body);
    let mut index = 0;
    while !rest.is_empty() {
        let (line, after) = split_line(rest);
        if line.iter().all(u8::is_ascii_whitespace) {
            rest = after;
            continue;
        }
        index += 1;
        let item: Map<String, Value> =
            serde_json::from_slice(line).map_err(|_| EnvelopeError::ItemHeader(index))?;
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .ok_or(EnvelopeError::ItemHeader(index))?;
        let (payload, after) = match item.get("length").and_then(Value::as_u64) {
            Some(len) => {
                let len = usize::try_from(len).map_err(|_| EnvelopeError::Length(index))?;
                if len > after.len() {
                    return Err(EnvelopeError::Length(index));
                }
                let (payload, tail) = after.split_at(len);
                (payload, tail.strip_prefix(b"\n").unwrap_or(tail))
            }
            None => split_line(after),
        };
        rest = after;
        let object = || -> Result<Map<String, Value>, EnvelopeError> {
            serde_json::from_slice(payload).map_err(|_| EnvelopeError::Payload(index))
        };
        match kind {
            "event" => out.event(&object()?),
            "log" => out.logs(&object()?),
            "transaction" => out.transaction(&object()?),
            _ => out.ignored += 1,
        }
    }
    Ok(out.finish())
}

/// Reads the legacy single-event body (`POST /api/{project}/store/`).
pub fn convert_store(body: &[u8]) -> Result<Converted, EnvelopeError> {
    let event: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| EnvelopeError::Payload(1))?;
    let header = Map::new();
    let mut out = Output::new(&header, body);
    out.event(&event);
    Ok(out.finish())
}

/// The public key in an `X-Sentry-Auth` header (`Sentry sentry_key=…, sentry_version=7, …`).
pub fn auth_header_key(value: &str) -> Option<&str> {
    let fields = value.trim().strip_prefix("Sentry").unwrap_or(value);
    fields.split(',').find_map(|f| {
        let (name, value) = f.trim().split_once('=')?;
        (name.trim() == "sentry_key").then(|| value.trim())
    })
}

/// The public key of a DSN (`https://KEY@host/PROJECT`).
pub fn dsn_key(dsn: &str) -> Option<&str> {
    let after_scheme = dsn.split_once("://")?.1;
    let (userinfo, _) = after_scheme.split_once('@')?;
    let key = userinfo.split(':').next()?;
    (!key.is_empty()).then_some(key)
}

/// The DSN a Sentry SDK uses to send to a collector listening on `addr` with ingest key `key`
/// (an unspecified address is written as `localhost`; behind a proxy, use its address). The
/// project id `1` is a placeholder SDKs require; the key decides the project.
pub fn dsn(key: &str, addr: std::net::SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{key}@{host}:{}/1", addr.port())
}

/// The `X-Sentry-Rate-Limits` value that tells an SDK to send nothing for `secs` seconds.
pub fn rate_limits_header(secs: u64) -> String {
    format!("{secs}::organization")
}

/// What is being built from one envelope.
struct Output {
    batch: IngestBatch,
    event_id: Option<String>,
    dsn_key: Option<String>,
    ignored: usize,
    body_id: Uuid,
}

impl Output {
    fn new(header: &Map<String, Value>, body: &[u8]) -> Self {
        let sdk = header.get("sdk").and_then(sdk_of);
        let source = source_of(sdk.as_ref(), None);
        Self {
            batch: IngestBatch {
                batch_id: String::new(),
                sdk,
                source: source.into(),
                logs: Vec::new(),
                exceptions: Vec::new(),
                metrics: Vec::new(),
            },
            event_id: header
                .get("event_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            dsn_key: header
                .get("dsn")
                .and_then(Value::as_str)
                .and_then(dsn_key)
                .map(str::to_owned),
            ignored: 0,
            body_id: super::body_uuid(body),
        }
    }

    fn event(&mut self, e: &Map<String, Value>) {
        if self.event_id.is_none() {
            self.event_id = str_of(e, "event_id").map(str::to_owned);
        }
        if self.batch.sdk.is_none() {
            self.batch.sdk = e.get("sdk").and_then(sdk_of);
        }
        self.batch.source = source_of(self.batch.sdk.as_ref(), str_of(e, "platform")).into();
        let timestamp = e.get("timestamp").and_then(timestamp_of);
        let (trace_id, span_id) = trace_of(e);
        let user_id = e.get("user").and_then(user_of);
        let request_path = e
            .get("request")
            .and_then(|r| r.get("url"))
            .and_then(Value::as_str)
            .map(path_of);
        let context = context_of(e);
        let exceptions = e
            .get("exception")
            .and_then(|x| x.get("values").or(Some(x)))
            .and_then(Value::as_array);
        match exceptions {
            Some(values) if !values.is_empty() => {
                for x in values {
                    let exception_type = x
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("Error")
                        .to_owned();
                    let exception_message = x
                        .get("value")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| message_of(e))
                        .unwrap_or_default();
                    self.batch.exceptions.push(ExceptionEntry {
                        exception_type,
                        exception_message,
                        stack_trace: x.get("stacktrace").and_then(stack_text),
                        timestamp: timestamp.clone(),
                        trace_id: trace_id.clone(),
                        span_id: span_id.clone(),
                        user_id: user_id.clone(),
                        request_path: request_path.clone(),
                        exception_details: Some(json!({
                            "mechanism": x.get("mechanism"),
                            "stacktrace": x.get("stacktrace"),
                        })),
                        context_data: Some(context.clone()),
                    });
                }
            }
            _ => self.batch.logs.push(LogEntry {
                level: level_of(str_of(e, "level").unwrap_or("error")).into(),
                message: message_of(e).unwrap_or_else(|| "(no message)".into()),
                timestamp,
                module: str_of(e, "logger").map(str::to_owned),
                trace_id,
                span_id,
                user_id,
                request_path,
                extra_data: Some(context),
                ..LogEntry::default()
            }),
        }
    }

    fn logs(&mut self, payload: &Map<String, Value>) {
        let Some(items) = payload.get("items").and_then(Value::as_array) else {
            return;
        };
        for l in items {
            let attributes = l.get("attributes").and_then(Value::as_object);
            let attribute = |name: &str| {
                attributes
                    .and_then(|a| a.get(name))
                    .and_then(|v| v.get("value").or(Some(v)))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let extra: Map<String, Value> = attributes
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            self.batch.logs.push(LogEntry {
                level: level_of(l.get("level").and_then(Value::as_str).unwrap_or("info")).into(),
                message: l
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                timestamp: l.get("timestamp").and_then(timestamp_of),
                trace_id: l.get("trace_id").and_then(Value::as_str).map(str::to_owned),
                span_id: attribute("sentry.trace.parent_span_id"),
                user_id: attribute("user.id").or_else(|| attribute("user.email")),
                extra_data: (!extra.is_empty()).then_some(Value::Object(extra)),
                ..LogEntry::default()
            });
        }
    }

    fn transaction(&mut self, t: &Map<String, Value>) {
        let (Some(start), Some(end)) = (
            t.get("start_timestamp").and_then(seconds_of),
            t.get("timestamp").and_then(seconds_of),
        ) else {
            self.ignored += 1;
            return;
        };
        let (trace_id, _) = trace_of(t);
        let op = t
            .get("contexts")
            .and_then(|c| c.get("trace"))
            .and_then(|c| c.get("op"))
            .and_then(Value::as_str)
            .unwrap_or("transaction");
        self.batch.metrics.push(MetricEntry {
            metric_type: "transaction".into(),
            metric_name: op.to_owned(),
            value: ((end - start) * 1000.0).max(0.0),
            unit: Some("ms".into()),
            timestamp: t.get("timestamp").and_then(timestamp_of),
            endpoint: str_of(t, "transaction").map(str::to_owned),
            trace_id,
            tags: t.get("tags").cloned(),
        });
    }

    fn finish(mut self) -> Converted {
        // Retries of one event reuse its id, so the batch is stored once; without one, the
        // envelope's bytes stand for it (a retry sends the same bytes).
        let id = self
            .event_id
            .as_deref()
            .and_then(|e| Uuid::parse_str(e).ok())
            .unwrap_or(self.body_id);
        self.batch.batch_id = id.to_string();
        Converted {
            batch: self.batch,
            event_id: self.event_id,
            dsn_key: self.dsn_key,
            ignored: self.ignored,
        }
    }
}

/// The line up to (not including) the first `\n`, and what follows it.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

fn str_of<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    o.get(name).and_then(Value::as_str)
}

fn sdk_of(v: &Value) -> Option<Sdk> {
    Some(Sdk {
        name: v.get("name")?.as_str()?.to_owned(),
        version: v
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    })
}

/// Browser SDKs (`sentry.javascript.browser`, `…react`, `…vue`…, platform `javascript`) are
/// the frontend; every other SDK a backend.
fn source_of(sdk: Option<&Sdk>, platform: Option<&str>) -> &'static str {
    let browser_sdk = sdk.is_some_and(|s| {
        s.name.starts_with("sentry.javascript.")
            && ![
                "node",
                "bun",
                "deno",
                "nextjs",
                "remix",
                "sveltekit",
                "nestjs",
            ]
            .iter()
            .any(|server| s.name.ends_with(server))
    });
    if browser_sdk || (sdk.is_none() && platform == Some("javascript")) {
        "frontend"
    } else {
        "backend"
    }
}

/// Sentry's levels onto ours.
fn level_of(level: &str) -> &'static str {
    match level.to_ascii_lowercase().as_str() {
        "fatal" | "critical" => "CRITICAL",
        "error" => "ERROR",
        "warning" | "warn" => "WARNING",
        "debug" | "trace" => "DEBUG",
        _ => "INFO",
    }
}

/// Seconds since the epoch (a number, or an RFC 3339 string as some SDKs send).
fn seconds_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|s| s.is_finite()),
        Value::String(s) => {
            tracewire_shared::validate::parse_timestamp_us(s).map(|us| us as f64 / 1e6)
        }
        _ => None,
    }
}

fn timestamp_of(v: &Value) -> Option<String> {
    let seconds = seconds_of(v)?;
    Some(format_timestamp_us((seconds * 1e6).round() as i64))
}

fn trace_of(o: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let trace = o.get("contexts").and_then(|c| c.get("trace"));
    let field = |name: &str| {
        trace
            .and_then(|t| t.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    (field("trace_id"), field("span_id"))
}

fn user_of(user: &Value) -> Option<String> {
    ["id", "email", "username", "ip_address"]
        .iter()
        .find_map(|k| match user.get(*k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// The path (and query) of a URL; a string that is not a URL is kept as it is.
fn path_of(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        },
        None => url.to_owned(),
    }
}

fn message_of(e: &Map<String, Value>) -> Option<String> {
    let logentry = e.get("logentry").or_else(|| e.get("message"));
    match logentry? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("formatted")
            .or_else(|| o.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

/// Tags, user, request, breadcrumbs, contexts, release and environment: what an event says
/// about where it happened.
fn context_of(e: &Map<String, Value>) -> Value {
    let mut context = Map::new();
    for key in [
        "tags",
        "user",
        "request",
        "breadcrumbs",
        "contexts",
        "release",
        "environment",
        "extra",
    ] {
        if let Some(v) = e.get(key) {
            context.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(context)
}

/// Frames as text, innermost first like a JS stack (Sentry lists them outermost first).
fn stack_text(stacktrace: &Value) -> Option<String> {
    let frames = stacktrace.get("frames")?.as_array()?;
    let mut out = String::new();
    for f in frames.iter().rev() {
        let function = f.get("function").and_then(Value::as_str).unwrap_or("?");
        let file = f
            .get("filename")
            .or_else(|| f.get("abs_path"))
            .or_else(|| f.get("module"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let _ = write!(out, "    at {function} ({file}");
        if let Some(line) = f.get("lineno").and_then(Value::as_u64) {
            let _ = write!(out, ":{line}");
            if let Some(col) = f.get("colno").and_then(Value::as_u64) {
                let _ = write!(out, ":{col}");
            }
        }
        out.push_str(")\n");
    }
    (!out.is_empty()).then(|| out.trim_end().to_owned())
}

#[cfg(test)]
mod tests;
