//! Continuing or starting a trace from request headers (ARCHITECTURE.md §3): a valid
//! `traceparent` wins, else a valid `X-Trace-Id`, else a new random trace. Our hop always gets a
//! fresh span id.

use http::HeaderMap;
use rand::Rng;
use tracewire_shared::traceparent::{
    SpanId, TRACEPARENT_HEADER, TraceContext, TraceId, X_TRACE_ID_HEADER,
};

/// Where the trace of a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TraceOrigin {
    /// A valid `traceparent` header.
    Traceparent,
    /// A valid `X-Trace-Id` header (no `traceparent`, or an invalid one).
    XTraceId,
    /// Nothing usable came in; we started the trace.
    New,
}

impl TraceOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TraceOrigin::Traceparent => "traceparent",
            TraceOrigin::XTraceId => "x-trace-id",
            TraceOrigin::New => "new",
        }
    }
}

/// The trace context of this server hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerContext {
    /// The trace, our new span and the flags to propagate.
    pub(crate) ctx: TraceContext,
    /// The caller's span, when it sent a `traceparent`.
    pub(crate) parent_span: Option<SpanId>,
    /// How the trace was obtained.
    pub(crate) origin: TraceOrigin,
}

/// A random, never all-zero trace id.
pub(crate) fn random_trace_id() -> TraceId {
    let mut rng = rand::rng();
    loop {
        if let Some(id) = TraceId::from_bytes(rng.random()) {
            return id;
        }
    }
}

/// A random, never all-zero span id.
pub(crate) fn random_span_id() -> SpanId {
    let mut rng = rand::rng();
    loop {
        if let Some(id) = SpanId::from_bytes(rng.random()) {
            return id;
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads the incoming trace headers and returns the context of our hop.
pub(crate) fn from_headers(headers: &HeaderMap) -> ServerContext {
    let span_id = random_span_id();
    if let Some(parent) = header(headers, TRACEPARENT_HEADER).and_then(|v| v.parse().ok()) {
        let parent: TraceContext = parent;
        return ServerContext {
            ctx: parent.child(span_id),
            parent_span: Some(parent.span_id),
            origin: TraceOrigin::Traceparent,
        };
    }
    let (trace_id, origin) =
        match header(headers, X_TRACE_ID_HEADER).and_then(|v| v.trim().parse::<TraceId>().ok()) {
            Some(id) => (id, TraceOrigin::XTraceId),
            None => (random_trace_id(), TraceOrigin::New),
        };
    ServerContext {
        ctx: TraceContext {
            trace_id,
            span_id,
            flags: TraceContext::SAMPLED,
        },
        parent_span: None,
        origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const OTHER: &str = "0af7651916cd43dd8448eb211c80319c";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("valid header"));
        }
        map
    }

    #[test]
    fn traceparent_wins_and_gets_a_new_span() {
        let tp = format!("00-{TRACE}-00f067aa0ba902b7-00");
        let server = from_headers(&headers(&[("traceparent", &tp), ("x-trace-id", OTHER)]));
        assert_eq!(server.ctx.trace_id.to_string(), TRACE);
        assert_ne!(server.ctx.span_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(server.ctx.flags, 0);
        assert_eq!(server.origin, TraceOrigin::Traceparent);
    }

    #[test]
    fn invalid_traceparent_falls_back_to_x_trace_id_then_new() {
        let bad = format!("00-{}-00f067aa0ba902b7-01", TRACE.to_uppercase());
        let server = from_headers(&headers(&[("traceparent", &bad), ("x-trace-id", OTHER)]));
        assert_eq!(server.ctx.trace_id.to_string(), OTHER);
        assert_eq!(server.origin, TraceOrigin::XTraceId);

        let server = from_headers(&headers(&[(
            "x-trace-id",
            "00000000000000000000000000000000",
        )]));
        assert_eq!(server.origin, TraceOrigin::New);
    }
}
