//! Seed properties 1 and 2 (ARCHITECTURE.md §9) on the backend side, as property tests over
//! random request sequences against a real server:
//!
//! 1. every HTTP request yields exactly one backend request log with its trace id;
//! 2. the caller's trace id (from a valid `traceparent`, else a valid `X-Trace-Id`) reaches
//!    every backend log of that request — the request log, each handler event, the exception.
//!
//! Requests hit routes that succeed, answer 4xx or 5xx, panic, emit 0–3 events or match no
//! route; each carries a random mix of absent, valid and invalid trace headers. Some valid
//! headers reuse a small pool of trace ids, as the requests of one page load would.

mod common;

use common::{handler_events, request_logs, response_context, spawn_app};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tracewire_shared::traceparent::TraceContext;

#[derive(Debug, Clone, Copy)]
enum Route {
    Ok,
    ClientError,
    ServerError,
    Panic,
    Events(u32),
    Unrouted,
}

impl Route {
    fn path(self) -> String {
        match self {
            Route::Ok => "/ok".into(),
            Route::ClientError => "/client-error".into(),
            Route::ServerError => "/server-error".into(),
            Route::Panic => "/panic".into(),
            Route::Events(n) => format!("/events/{n}"),
            Route::Unrouted => "/no/such/route".into(),
        }
    }

    fn status(self) -> u16 {
        match self {
            Route::Ok | Route::Events(_) => 200,
            Route::ClientError => 400,
            Route::ServerError => 503,
            Route::Panic => 500,
            Route::Unrouted => 404,
        }
    }

    fn events(self) -> usize {
        match self {
            Route::Events(n) => n as usize,
            _ => 0,
        }
    }
}

/// One incoming trace header: absent, valid (with the trace id it names) or invalid.
#[derive(Debug, Clone)]
enum Header {
    Absent,
    Valid { value: String, trace_id: String },
    Invalid(String),
}

#[derive(Debug, Clone)]
struct Req {
    route: Route,
    traceparent: Header,
    x_trace_id: Header,
}

impl Req {
    /// The trace id the backend must continue, or `None` when it must start a new one.
    fn expected_trace(&self) -> Option<&str> {
        match (&self.traceparent, &self.x_trace_id) {
            (Header::Valid { trace_id, .. }, _) | (_, Header::Valid { trace_id, .. }) => {
                Some(trace_id)
            }
            _ => None,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Trace ids shared by several requests in a sequence.
const POOL: [&str; 2] = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "0af7651916cd43dd8448eb211c80319c",
];

fn trace_id() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(POOL.to_vec()).prop_map(str::to_owned),
        any::<[u8; 16]>()
            .prop_filter("non-zero", |b| b != &[0; 16])
            .prop_map(|b| hex(&b)),
    ]
}

fn span_id() -> impl Strategy<Value = String> {
    any::<[u8; 8]>()
        .prop_filter("non-zero", |b| b != &[0; 8])
        .prop_map(|b| hex(&b))
}

fn garbage() -> impl Strategy<Value = String> {
    "[a-z0-9-]{0,60}".prop_filter("not accidentally valid", |s| {
        TraceContext::parse(s).is_err() && s.parse::<tracewire_shared::TraceId>().is_err()
    })
}

fn traceparent() -> impl Strategy<Value = Header> {
    let valid = (trace_id(), span_id(), any::<u8>()).prop_map(|(t, s, f)| Header::Valid {
        value: format!("00-{t}-{s}-{f:02x}"),
        trace_id: t,
    });
    let invalid = prop_oneof![
        (trace_id(), span_id()).prop_map(|(t, s)| format!("00-{}-{s}-01", t.to_uppercase())),
        (trace_id(), span_id()).prop_map(|(t, s)| format!("ff-{t}-{s}-01")),
        span_id().prop_map(|s| format!("00-{}-{s}-01", "0".repeat(32))),
        trace_id().prop_map(|t| format!("00-{t}-{}-01", "0".repeat(16))),
        (trace_id(), span_id()).prop_map(|(t, s)| format!("00-{}-{s}-01", &t[..31])),
        garbage(),
    ]
    .prop_map(Header::Invalid);
    prop_oneof![Just(Header::Absent), valid, invalid]
}

fn x_trace_id() -> impl Strategy<Value = Header> {
    let valid = trace_id().prop_map(|t| Header::Valid {
        value: t.clone(),
        trace_id: t,
    });
    let invalid = prop_oneof![
        trace_id().prop_map(|t| t.to_uppercase()),
        Just("0".repeat(32)),
        trace_id().prop_map(|t| format!("{t}0")),
        garbage(),
    ]
    .prop_map(Header::Invalid);
    prop_oneof![Just(Header::Absent), valid, invalid]
}

fn route() -> impl Strategy<Value = Route> {
    prop_oneof![
        Just(Route::Ok),
        Just(Route::ClientError),
        Just(Route::ServerError),
        Just(Route::Panic),
        (0u32..=3).prop_map(Route::Events),
        Just(Route::Unrouted),
    ]
}

fn request() -> impl Strategy<Value = Req> {
    (route(), traceparent(), x_trace_id()).prop_map(|(route, traceparent, x_trace_id)| Req {
        route,
        traceparent,
        x_trace_id,
    })
}

/// Sends the requests in order, flushes, and checks both properties for every request.
async fn check(requests: Vec<Req>) -> Result<(), TestCaseError> {
    let app = spawn_app().await;
    let mut answered = Vec::new();
    for (seq, req) in requests.iter().enumerate() {
        let mut builder = app
            .client
            .get(app.url(&req.route.path()))
            .header("x-seq", seq.to_string());
        for (name, header) in [
            ("traceparent", &req.traceparent),
            ("x-trace-id", &req.x_trace_id),
        ] {
            match header {
                Header::Absent => {}
                Header::Valid { value, .. } | Header::Invalid(value) => {
                    builder = builder.header(name, value);
                }
            }
        }
        let response = builder
            .send()
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(response.status().as_u16(), req.route.status());
        let ctx = response_context(&response);
        let echoed = response
            .headers()
            .get("x-trace-id")
            .and_then(|v| v.to_str().ok());
        let announced = ctx.trace_id.to_string();
        prop_assert_eq!(echoed, Some(announced.as_str()));
        answered.push(ctx);
    }
    let (logs, exceptions) = app.shipped().await;
    let requests_logged = request_logs(&logs);
    prop_assert_eq!(
        requests_logged.len(),
        requests.len(),
        "one request log per request"
    );

    for (seq, (req, ctx)) in requests.iter().zip(&answered).enumerate() {
        let trace = ctx.trace_id.to_string();
        let span = ctx.span_id.to_string();
        match req.expected_trace() {
            Some(expected) => prop_assert_eq!(&trace, expected, "request {} continues", seq),
            None => {
                for header in [&req.traceparent, &req.x_trace_id] {
                    if let Header::Invalid(value) = header {
                        prop_assert!(
                            !value.contains(&trace),
                            "request {} starts a new trace",
                            seq
                        );
                    }
                }
            }
        }
        if let Header::Valid { value, .. } = &req.traceparent {
            prop_assert!(!value.contains(&span), "request {} gets its own span", seq);
        }

        // Property 1: exactly one request log, with this request's trace.
        let own: Vec<_> = requests_logged
            .iter()
            .filter(|l| l.span_id.as_deref() == Some(span.as_str()))
            .collect();
        prop_assert_eq!(own.len(), 1, "request {} has one request log", seq);
        let log = own[0];
        prop_assert_eq!(log.trace_id.as_deref(), Some(trace.as_str()));
        prop_assert_eq!(log.response_status, Some(i64::from(req.route.status())));
        let message = format!("GET {} {}", req.route.path(), req.route.status());
        prop_assert_eq!(&log.message, &message);

        // Property 2: every event of the request carries the same trace.
        let events: Vec<_> = handler_events(&logs)
            .into_iter()
            .filter(|l| l.extra_data.as_ref().and_then(|e| e["seq"].as_u64()) == Some(seq as u64))
            .collect();
        prop_assert_eq!(events.len(), req.route.events(), "request {} events", seq);
        for event in events {
            prop_assert_eq!(event.trace_id.as_deref(), Some(trace.as_str()));
            prop_assert_eq!(event.span_id.as_deref(), Some(span.as_str()));
        }

        // And its exception, for panics and 5xx, carries it too.
        let own_exceptions: Vec<_> = exceptions
            .iter()
            .filter(|e| e.span_id.as_deref() == Some(span.as_str()))
            .collect();
        let expected_type = match req.route {
            Route::Panic => Some("panic"),
            Route::ServerError => Some("http_5xx"),
            _ => None,
        };
        prop_assert_eq!(own_exceptions.len(), usize::from(expected_type.is_some()));
        if let (Some(kind), Some(exception)) = (expected_type, own_exceptions.first()) {
            prop_assert_eq!(exception.exception_type.as_str(), kind);
            prop_assert_eq!(exception.trace_id.as_deref(), Some(trace.as_str()));
        }
    }
    app.tracewire.shipper().shutdown().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_request_logs_once_and_every_log_carries_the_callers_trace(
        requests in prop::collection::vec(request(), 1..8)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        runtime.block_on(check(requests))?;
    }
}
