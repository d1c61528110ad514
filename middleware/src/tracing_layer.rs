//! [`TracewireLayer`]: a `tracing-subscriber` layer that ships `tracing` events as log entries
//! tagged with the trace of the request they happened in.
//!
//! When a span opens, the layer looks for `trace_id` / `span_id` fields (the `request` span of
//! [`crate::TraceLayer`] has them, and so may an application's own spans); a span without them
//! inherits its parent's. The result is stored in the span's extensions, so an event finds its
//! trace with one lookup of its innermost span.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use tracewire_shared::Level;
use tracewire_shared::traceparent::{is_valid_span_id, is_valid_trace_id};
use tracewire_shared::wire::LogEntry;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::clock::now_rfc3339;
use crate::scope::{self, RequestScope};
use crate::shipper::Shipper;
use crate::sql::{SQLX_QUERY_TARGET, SqlFields};

/// Event targets never shipped: our own (the shipper must not feed itself) and the HTTP stack
/// the shipper uses, whose events during a send would otherwise queue more sends.
pub const IGNORED_TARGETS: &[&str] = &[
    "tracewire_middleware",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "want",
];

/// Whether events of `target` are never shipped.
fn ignored(target: &str) -> bool {
    IGNORED_TARGETS.iter().any(|prefix| {
        target
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Ships events as [`LogEntry`]s through a [`Shipper`]. Compose it with other layers, e.g.
/// `registry().with(fmt::layer()).with(tracewire.tracing_layer())`; apply a filter with
/// `Layer::with_filter` to choose what is shipped.
#[derive(Clone, Debug)]
pub struct TracewireLayer {
    shipper: Shipper,
    capture_outside_requests: bool,
    slow_query_ms: u64,
}

impl TracewireLayer {
    /// A layer pushing into `shipper`; events outside any traced span are shipped only when
    /// `capture_outside_requests` is true.
    pub fn new(shipper: Shipper, capture_outside_requests: bool) -> Self {
        Self {
            shipper,
            capture_outside_requests,
            slow_query_ms: crate::Config::DEFAULT_SLOW_QUERY_MS,
        }
    }

    /// Flags sqlx statements at least this slow (milliseconds) as `slow` in their metric.
    pub fn slow_query_ms(mut self, ms: u64) -> Self {
        self.slow_query_ms = ms;
        self
    }
}

/// The trace a span belongs to, kept in its extensions.
#[derive(Debug, Clone)]
struct SpanTrace(Arc<RequestScope>);

/// Collects the trace fields of a span.
#[derive(Default)]
struct TraceFields {
    trace_id: Option<String>,
    span_id: Option<String>,
    method: Option<String>,
    path: Option<String>,
    route: Option<String>,
}

impl Visit for TraceFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "trace_id" => &mut self.trace_id,
            "span_id" => &mut self.span_id,
            "method" => &mut self.method,
            "path" => &mut self.path,
            "route" => &mut self.route,
            _ => return,
        };
        *slot = Some(value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if matches!(
            field.name(),
            "trace_id" | "span_id" | "method" | "path" | "route"
        ) {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

impl TraceFields {
    /// A scope when the span names a valid trace; its span id is optional (the trace matters).
    fn into_scope(self) -> Option<RequestScope> {
        let route = self.route.unwrap_or_default();
        let trace_id = self.trace_id.filter(|t| is_valid_trace_id(t))?;
        Some(RequestScope {
            trace_id,
            span_id: self
                .span_id
                .filter(|s| is_valid_span_id(s))
                .unwrap_or_default(),
            method: self.method.unwrap_or_default(),
            path: self.path.unwrap_or_default(),
            route,
        })
    }
}

/// Collects an event's message and other fields.
#[derive(Default)]
struct EventFields {
    message: Option<String>,
    module: Option<String>,
    extra: Map<String, Value>,
}

impl EventFields {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.message = Some(match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                });
            }
            // Events bridged from the `log` crate describe their origin in these fields.
            "log.module_path" => self.module = value.as_str().map(str::to_owned),
            "log.target" | "log.file" | "log.line" => {}
            name => {
                self.extra.insert(name.to_owned(), value);
            }
        }
    }
}

impl Visit for EventFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(
            field,
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

/// TRACE and DEBUG → DEBUG, INFO → INFO, WARN → WARNING, ERROR → ERROR.
fn map_level(level: &tracing::Level) -> Level {
    match *level {
        tracing::Level::ERROR => Level::Error,
        tracing::Level::WARN => Level::Warning,
        tracing::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

impl<S> tracing_subscriber::Layer<S> for TracewireLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = TraceFields::default();
        attrs.record(&mut fields);
        let trace = match fields.into_scope() {
            Some(own) => Some(SpanTrace(Arc::new(own))),
            None => span
                .parent()
                .and_then(|parent| parent.extensions().get::<SpanTrace>().cloned()),
        };
        if let Some(trace) = trace {
            span.extensions_mut().insert(trace);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = TraceFields::default();
        values.record(&mut fields);
        // A route recorded later (the route is known only once the router matched) updates
        // the span's trace rather than replacing it.
        let late_route = fields.route.clone();
        if let Some(own) = fields.into_scope() {
            span.extensions_mut().replace(SpanTrace(Arc::new(own)));
        } else if let Some(route) = late_route {
            let mut extensions = span.extensions_mut();
            if let Some(SpanTrace(trace)) = extensions.get_mut::<SpanTrace>() {
                Arc::make_mut(trace).route = route;
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if ignored(metadata.target()) {
            return;
        }
        let span = ctx.event_span(event);
        let trace = span
            .as_ref()
            .and_then(|s| s.extensions().get::<SpanTrace>().map(|t| Arc::clone(&t.0)))
            .or_else(scope::current);
        if metadata.target() == SQLX_QUERY_TARGET {
            // Statement timings travel as metrics (also outside requests: a slow background
            // query matters as much), never as one log line per statement.
            let mut fields = SqlFields::default();
            event.record(&mut fields);
            if let Some(metric) = fields.into_metric(trace.as_deref(), self.slow_query_ms) {
                self.shipper.push_metric(metric);
            }
            return;
        }
        if trace.is_none() && !self.capture_outside_requests {
            return;
        }
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let non_empty = |s: &String| !s.is_empty();
        let entry = LogEntry {
            level: map_level(metadata.level()).as_str().into(),
            message: fields.message.unwrap_or_default(),
            timestamp: now_rfc3339(),
            module: fields
                .module
                .or_else(|| metadata.module_path().map(str::to_owned))
                .or_else(|| Some(metadata.target().to_owned())),
            function: span.as_ref().map(|s| s.name().to_owned()),
            trace_id: trace.as_ref().map(|t| t.trace_id.clone()),
            span_id: trace.as_ref().map(|t| t.span_id.clone()).filter(non_empty),
            request_method: trace.as_ref().map(|t| t.method.clone()).filter(non_empty),
            request_path: trace.as_ref().map(|t| t.path.clone()).filter(non_empty),
            extra_data: (!fields.extra.is_empty()).then_some(Value::Object(fields.extra)),
            ..LogEntry::default()
        };
        self.shipper.push_log(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_whole_path_segments_only() {
        assert!(ignored("hyper"));
        assert!(ignored("hyper::proto::h1"));
        assert!(ignored("tracewire_middleware::request"));
        assert!(!ignored("hyperloop"));
        assert!(!ignored("my_app::handlers"));
    }

    #[test]
    fn maps_levels() {
        assert_eq!(map_level(&tracing::Level::TRACE), Level::Debug);
        assert_eq!(map_level(&tracing::Level::DEBUG), Level::Debug);
        assert_eq!(map_level(&tracing::Level::INFO), Level::Info);
        assert_eq!(map_level(&tracing::Level::WARN), Level::Warning);
        assert_eq!(map_level(&tracing::Level::ERROR), Level::Error);
    }
}
