//! The tower layer over real HTTP: trace continuation, response headers, request logs,
//! exception capture, handler events and CORS preflights.

mod common;

use common::{handler_events, request_logs, response_context, spawn_app, spawn_app_with};
use tracewire_middleware::TraceContext;
use tracewire_shared::traceparent::{SpanId, TraceId};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn continues_an_incoming_traceparent_with_a_new_span() {
    let app = spawn_app().await;
    let incoming = format!("00-{TRACE}-{PARENT_SPAN}-01");
    let response = app
        .client
        .get(app.url("/context"))
        .header("traceparent", &incoming)
        .send()
        .await
        .expect("request succeeds");
    assert_eq!(response.status(), 200);
    let ctx = response_context(&response);
    assert_eq!(ctx.trace_id.to_string(), TRACE);
    assert_ne!(ctx.span_id.to_string(), PARENT_SPAN);
    assert_eq!(ctx.flags, 1);
    assert_eq!(response.headers()["x-trace-id"], TRACE);
    // The handler saw the same context the response announces.
    let body = response.text().await.expect("body");
    assert_eq!(body, ctx.to_string());

    let (logs, exceptions) = app.shipped().await;
    let requests = request_logs(&logs);
    assert_eq!(requests.len(), 1);
    let log = requests[0];
    assert_eq!(log.trace_id.as_deref(), Some(TRACE));
    assert_eq!(log.span_id, Some(ctx.span_id.to_string()));
    assert_eq!(log.message, "GET /context 200");
    assert_eq!(log.level, "INFO");
    assert_eq!(log.request_method.as_deref(), Some("GET"));
    assert_eq!(log.request_path.as_deref(), Some("/context"));
    assert_eq!(log.response_status, Some(200));
    assert!(log.duration_ms.is_some_and(|d| d >= 0.0));
    let extra = log.extra_data.as_ref().expect("extra data");
    assert_eq!(extra["parent_span_id"], PARENT_SPAN);
    assert!(exceptions.is_empty());
}

#[tokio::test]
async fn continues_an_x_trace_id_when_there_is_no_valid_traceparent() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/ok"))
        .header("traceparent", "00-not-a-valid-header-01")
        .header("x-trace-id", TRACE)
        .send()
        .await
        .expect("request succeeds");
    let ctx = response_context(&response);
    assert_eq!(ctx.trace_id.to_string(), TRACE);
    assert_eq!(response.headers()["x-trace-id"], TRACE);
}

#[tokio::test]
async fn starts_a_new_trace_when_none_or_an_invalid_one_comes_in() {
    let app = spawn_app().await;
    let invalid = [
        None,
        Some((
            "traceparent",
            format!("00-{}-{PARENT_SPAN}-01", TRACE.to_uppercase()),
        )),
        Some(("traceparent", format!("ff-{TRACE}-{PARENT_SPAN}-01"))),
        Some(("x-trace-id", "0".repeat(32))),
        Some(("x-trace-id", format!("{TRACE}00"))),
    ];
    let mut seen = Vec::new();
    for header in invalid {
        let mut request = app.client.get(app.url("/ok"));
        if let Some((name, value)) = &header {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("request succeeds");
        let ctx = response_context(&response);
        assert_ne!(ctx.trace_id.to_string(), TRACE, "{header:?}");
        assert_eq!(
            response.headers()["x-trace-id"],
            ctx.trace_id.to_string().as_str()
        );
        seen.push(ctx.trace_id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "every new trace is distinct");
}

#[tokio::test]
async fn a_panic_becomes_a_500_and_an_exception_with_backtrace() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/panic"))
        .header("x-seq", "7")
        .header("x-trace-id", TRACE)
        .send()
        .await
        .expect("request succeeds");
    assert_eq!(response.status(), 500);
    let ctx = response_context(&response);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "internal", "message": "internal error"}})
    );

    let (logs, exceptions) = app.shipped().await;
    let requests = request_logs(&logs);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].level, "ERROR");
    assert_eq!(requests[0].message, "GET /panic 500");
    assert_eq!(exceptions.len(), 1);
    let exception = &exceptions[0];
    assert_eq!(exception.exception_type, "panic");
    assert_eq!(exception.exception_message, "handler exploded (seq 7)");
    assert_eq!(exception.trace_id.as_deref(), Some(TRACE));
    assert_eq!(exception.span_id, Some(ctx.span_id.to_string()));
    assert_eq!(exception.request_path.as_deref(), Some("/panic"));
    let stack = exception
        .stack_trace
        .as_deref()
        .expect("backtrace captured");
    assert!(stack.contains("panicking_handler"), "{stack}");
    let location = &exception.exception_details.as_ref().expect("details")["location"];
    assert!(
        location.as_str().is_some_and(|l| l.contains("common")),
        "{location}"
    );
}

#[tokio::test]
async fn status_classes_map_to_levels_and_5xx_to_exceptions() {
    let app = spawn_app().await;
    for path in ["/ok", "/client-error", "/server-error", "/missing"] {
        app.client
            .get(app.url(path))
            .send()
            .await
            .expect("request succeeds");
    }
    let (logs, exceptions) = app.shipped().await;
    let levels: Vec<(&str, &str)> = request_logs(&logs)
        .iter()
        .map(|l| (l.message.as_str(), l.level.as_str()))
        .collect();
    assert_eq!(
        levels,
        [
            ("GET /ok 200", "INFO"),
            ("GET /client-error 400", "WARNING"),
            ("GET /server-error 503", "ERROR"),
            ("GET /missing 404", "WARNING"),
        ]
    );
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].exception_type, "http_5xx");
    assert_eq!(exceptions[0].request_path.as_deref(), Some("/server-error"));
}

#[tokio::test]
async fn request_logs_name_the_matched_route_and_keep_the_raw_path() {
    let app = spawn_app().await;
    app.client
        .get(app.url("/users/42"))
        .send()
        .await
        .expect("request succeeds");
    let (logs, _) = app.shipped().await;
    let log = request_logs(&logs)[0];
    assert_eq!(log.request_path.as_deref(), Some("/users/42"));
    assert_eq!(log.function.as_deref(), Some("/users/{id}"));
    assert_eq!(
        log.extra_data.as_ref().expect("extra")["route"],
        "/users/{id}"
    );
}

#[tokio::test]
async fn handler_events_carry_the_request_trace() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/events/3"))
        .header("traceparent", format!("00-{TRACE}-{PARENT_SPAN}-01"))
        .header("x-seq", "1")
        .send()
        .await
        .expect("request succeeds");
    let ctx = response_context(&response);
    let (logs, _) = app.shipped().await;
    let events = handler_events(&logs);
    assert_eq!(events.len(), 3, "{logs:#?}");
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.trace_id.as_deref(), Some(TRACE));
        assert_eq!(event.span_id, Some(ctx.span_id.to_string()));
        assert_eq!(event.level, "INFO");
        assert_eq!(event.message, format!("event {i} of request 1"));
        assert_eq!(event.function.as_deref(), Some("emit_events"));
        assert_eq!(event.module.as_deref(), Some("trace_layer::common"));
        assert_eq!(event.request_path.as_deref(), Some("/events/3"));
        let extra = event.extra_data.as_ref().expect("fields");
        assert_eq!(extra["seq"], 1);
        assert_eq!(extra["i"], i);
    }
}

#[tokio::test]
async fn handler_events_keep_the_trace_when_a_filter_disables_the_request_span() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let filter = Targets::new()
        .with_target("tracewire_middleware", LevelFilter::OFF)
        .with_default(LevelFilter::TRACE);
    let app = common::spawn_app_filtered(common::manual_config(), &[], |r| r, filter).await;
    let response = app
        .client
        .get(app.url("/events/2"))
        .header("x-trace-id", TRACE)
        .header("x-seq", "5")
        .send()
        .await
        .expect("request succeeds");
    let ctx = response_context(&response);
    let (logs, _) = app.shipped().await;
    let events = handler_events(&logs);
    assert_eq!(events.len(), 2);
    for event in events {
        assert_eq!(event.trace_id.as_deref(), Some(TRACE));
        assert_eq!(event.span_id, Some(ctx.span_id.to_string()));
    }
    // The request log does not depend on the subscriber at all.
    assert_eq!(request_logs(&logs).len(), 1);
}

#[tokio::test]
async fn preflights_from_allowed_origins_allow_the_trace_headers() {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let app = spawn_app_with(common::manual_config(), &["http://app.example"], |router| {
        router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::exact(
                    "http://app.example".parse().expect("origin"),
                ))
                .allow_headers([http::header::CONTENT_TYPE]),
        )
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/ok"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "traceparent, content-type",
            )
            .send()
    };
    let response = preflight("http://app.example").await.expect("preflight");
    assert!(response.status().is_success());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert_eq!(allowed, "content-type, traceparent, tracestate, x-trace-id");

    let response = preflight("http://other.example").await.expect("preflight");
    let allowed = response.headers().get("access-control-allow-headers");
    assert!(allowed.is_none_or(|v| !v.to_str().unwrap_or("").contains("traceparent")));
}

#[tokio::test]
async fn preflights_the_app_does_not_handle_are_answered() {
    let app = spawn_app_with(common::manual_config(), &["http://app.example"], |r| r).await;
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/ok"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    assert_eq!(
        response.headers()["access-control-allow-headers"],
        "traceparent, tracestate, x-trace-id"
    );
    // Actual requests from that origin may read the echoed trace headers.
    let response = app
        .client
        .get(app.url("/ok"))
        .header("origin", "http://app.example")
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "traceparent, x-trace-id"
    );
}

#[tokio::test]
async fn events_outside_requests_follow_the_flag_and_internal_targets_are_ignored() {
    for capture in [true, false] {
        let config = tracewire_middleware::Config {
            capture_outside_requests: capture,
            ..common::manual_config()
        };
        let app = spawn_app_with(config, &[], |r| r).await;
        tracing::warn!(answer = 42, "outside any request");
        tracing::info!(target: "hyper::proto", "internal");
        tracing::info!(target: "tracewire_middleware::shipper", "internal");
        let (logs, _) = app.shipped().await;
        // The server's own connection events are not what this test is about.
        let logs: Vec<_> = logs
            .iter()
            .filter(|l| !l.message.starts_with("connection"))
            .collect();
        if capture {
            assert_eq!(logs.len(), 1, "{logs:#?}");
            assert_eq!(logs[0].level, "WARNING");
            assert_eq!(logs[0].message, "outside any request");
            assert_eq!(logs[0].trace_id, None);
            assert_eq!(logs[0].extra_data, Some(serde_json::json!({"answer": 42})));
        } else {
            assert!(logs.is_empty(), "{logs:#?}");
        }
    }
}

#[test]
fn trace_context_types_are_the_shared_ones() {
    // Handlers extract the shared crate's type, so the collector and apps agree on it.
    let ctx = TraceContext {
        trace_id: TRACE.parse::<TraceId>().expect("valid"),
        span_id: PARENT_SPAN.parse::<SpanId>().expect("valid"),
        flags: 1,
    };
    assert_eq!(ctx.to_string(), format!("00-{TRACE}-{PARENT_SPAN}-01"));
}

#[tokio::test]
async fn a_request_cancelled_before_it_finishes_still_leaves_one_log() {
    use tower::{Service, ServiceExt};
    let app = spawn_app().await;
    let router = axum::Router::new()
        .route(
            "/hang",
            axum::routing::get(std::future::pending::<&'static str>),
        )
        .layer(app.tracewire.trace_layer());
    let mut service = router.into_service::<axum::body::Body>();
    let request = http::Request::builder()
        .uri("/hang")
        .header("x-trace-id", TRACE)
        .body(axum::body::Body::empty())
        .expect("request");
    let ready = service.ready().await.expect("ready");
    let mut call = Box::pin(ready.call(request));
    // Poll once so the handler is running, then drop it as a disconnecting client would.
    assert!(futures_util::FutureExt::now_or_never(call.as_mut()).is_none());
    drop(call);

    let (logs, exceptions) = app.shipped().await;
    let requests = request_logs(&logs);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].message, "GET /hang 499");
    assert_eq!(requests[0].trace_id.as_deref(), Some(TRACE));
    assert_eq!(
        requests[0].extra_data.as_ref().expect("extra")["cancelled"],
        true
    );
    assert!(exceptions.is_empty());
}
