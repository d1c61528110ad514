//! Sentry SDK ingest over real HTTP, on both backends: envelopes with an error event, a log and
//! a transaction land as an exception group, logs and a metric under one trace id; keys come
//! from `?sentry_key=`, `X-Sentry-Auth` or the envelope's DSN; a retried envelope is stored once;
//! secrets are redacted as on the native path; a rate limit is answered the way SDKs obey.

mod common;

use common::{Backend, KEY, TestServer};
use serde_json::{Value, json};
use std::io::Write;
use uuid::Uuid;

const TRACE: &str = "5b8efff798038103d269b633813fc60c";

fn envelope(event_id: &str, dsn_key: Option<&str>, items: &[(&str, Value)]) -> Vec<u8> {
    let mut header = json!({
        "event_id": event_id,
        "sdk": {"name": "sentry.javascript.browser", "version": "9.0.0"},
    });
    if let Some(key) = dsn_key {
        header["dsn"] = json!(format!("https://{key}@collector.example/1"));
    }
    let mut body = serde_json::to_vec(&header).expect("json");
    for (kind, payload) in items {
        let payload = serde_json::to_vec(payload).expect("json");
        body.push(b'\n');
        body.extend(
            serde_json::to_vec(&json!({"type": kind, "length": payload.len()})).expect("json"),
        );
        body.push(b'\n');
        body.extend(payload);
    }
    body
}

fn error_event(event_id: &str, message: &str) -> Value {
    json!({
        "event_id": event_id, "level": "error", "platform": "javascript",
        "exception": {"values": [{"type": "TypeError", "value": message,
            "stacktrace": {"frames": [{"function": "checkout", "filename": "shop.js",
                                       "lineno": 12, "colno": 5}]}}]},
        "contexts": {"trace": {"trace_id": TRACE, "span_id": "a0b1c2d3e4f5a6b7"}},
        "request": {"url": "https://shop.example/cart"},
        "user": {"id": "sentry-user"},
        "tags": {"password": "hunter2-sentry"},
    })
}

async fn post(
    server: &TestServer,
    path: &str,
    body: Vec<u8>,
    auth: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = server
        .client
        .post(server.url(path))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body);
    if let Some(auth) = auth {
        request = request.header("x-sentry-auth", auth);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

both_backends!(
    an_envelope_lands_under_its_trace_once,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.admin_token().await;
        let event_id = Uuid::new_v4().simple().to_string();
        let body = envelope(
            &event_id,
            None,
            &[
                ("event", error_event(&event_id, "cart is undefined")),
                (
                    "log",
                    json!({"items": [{"timestamp": 1.7e9, "level": "warn", "body": "slow cart",
                "trace_id": TRACE, "attributes": {"cart.items": {"value": 3, "type": "integer"}}}]}),
                ),
                (
                    "transaction",
                    json!({"transaction": "/cart", "start_timestamp": 1.7e9,
                "timestamp": 1.7e9 + 0.5, "contexts": {"trace": {"trace_id": TRACE, "op": "pageload"}}}),
                ),
                ("client_report", json!({"discarded_events": []})),
            ],
        );
        let path = format!("/api/1/envelope/?sentry_key={KEY}&sentry_version=7");
        let (status, _, answer) = post(&server, &path, body.clone(), None).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["id"], event_id.as_str());
        // The SDK retries the same envelope: stored once.
        let (status, _, _) = post(&server, &path, body, None).await;
        assert_eq!(status, 200);

        let (status, trace) = server
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/logging/traces/{TRACE}"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{trace}");
        assert_eq!(trace["log_count"], 1, "{trace}");
        assert_eq!(trace["exception_count"], 1, "{trace}");
        let (_, logs) = server
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/logging/logs?trace_id={TRACE}"),
                &token,
                None,
            )
            .await;
        let log = &logs["items"][0];
        assert_eq!(log["message"], "slow cart");
        assert_eq!(log["level"], "WARNING");
        assert_eq!(log["source"], "frontend");
        let (_, groups) = server
            .call(
                reqwest::Method::GET,
                "/api/v1/logging/exceptions",
                &token,
                None,
            )
            .await;
        let group = &groups["items"][0];
        assert_eq!(group["exception_type"], "TypeError", "{groups}");
        assert_eq!(group["exception_message"], "cart is undefined");
        assert_eq!(
            group["occurrence_count"], 1,
            "a retried envelope is one occurrence"
        );
        let (_, detail) = server
            .call(
                reqwest::Method::GET,
                &format!(
                    "/api/v1/logging/exceptions/{}",
                    group["id"].as_str().expect("id")
                ),
                &token,
                None,
            )
            .await;
        let text = detail.to_string();
        assert!(text.contains("at checkout (shop.js:12:5)"), "{text}");
        assert!(
            !text.contains("hunter2-sentry"),
            "a secret tag reached the API: {text}"
        );
        let metrics: Vec<(String, i64)> = server
        .pairs("SELECT metric_name, CAST(value AS BIGINT) FROM performance_metrics WHERE metric_type = 'transaction'")
        .await;
        assert_eq!(metrics, [("pageload".to_owned(), 500)]);
        let db = server.stop().await;
        if backend == Backend::Sqlite {
            // Property 8 on disk: the database file and its WAL never held the secret.
            assert!(
                !db.sqlite_file_contains(b"hunter2-sentry"),
                "the secret reached disk"
            );
        }
    }
);

both_backends!(
    keys_from_the_auth_header_or_the_dsn_and_bad_ones_refused,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        let message = |text: &str| {
            json!({"message": text, "level": "info",
                                      "contexts": {"trace": {"trace_id": TRACE}}})
        };
        let id = Uuid::new_v4().simple().to_string();
        let auth =
            format!("Sentry sentry_version=7, sentry_key={KEY}, sentry_client=sentry.rust/0.36");
        let (status, _, _) = post(
            &server,
            "/api/1/envelope/",
            envelope(&id, None, &[("event", message("by header"))]),
            Some(&auth),
        )
        .await;
        assert_eq!(status, 200);
        let id = Uuid::new_v4().simple().to_string();
        let (status, _, _) = post(
            &server,
            "/api/1/envelope/",
            envelope(&id, Some(KEY), &[("event", message("by dsn"))]),
            None,
        )
        .await;
        assert_eq!(status, 200);
        // The legacy store endpoint: one event, gzip.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&serde_json::to_vec(&message("by store")).expect("json"))
            .expect("gzip");
        let response = server
            .client
            .post(server.url("/api/1/store/"))
            .header("x-sentry-auth", &auth)
            .header("content-encoding", "gzip")
            .body(gz.finish().expect("gzip"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        let id = Uuid::new_v4().simple().to_string();
        let (status, _, body) = post(
            &server,
            "/api/1/envelope/?sentry_key=wrong",
            envelope(&id, None, &[("event", message("refused"))]),
            None,
        )
        .await;
        assert_eq!(status, 401, "{body}");
        let (status, _, body) = post(
            &server,
            &format!("/api/1/envelope/?sentry_key={KEY}"),
            b"not an envelope".to_vec(),
            None,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
        let messages: Vec<(String, i64)> = server
        .pairs("SELECT message, dedup_count FROM app_logs WHERE source <> 'collector' ORDER BY message")
        .await;
        assert_eq!(
            messages,
            [
                ("by dsn".to_owned(), 1),
                ("by header".to_owned(), 1),
                ("by store".to_owned(), 1)
            ]
        );
        server.stop().await;
    }
);

both_backends!(
    rate_limits_are_answered_as_sentry_sdks_expect,
    |backend: Backend| async move {
        let server = TestServer::start_with(backend, |c| {
            c.rate_limit = 1.0;
            c.rate_burst = 2.0;
        })
        .await;
        let path = format!("/api/1/envelope/?sentry_key={KEY}");
        let mut limited = None;
        for i in 0..5 {
            let id = Uuid::new_v4().simple().to_string();
            let event = json!({"message": format!("burst {i}"), "level": "info"});
            let (status, headers, _) = post(
                &server,
                &path,
                envelope(&id, None, &[("event", event)]),
                None,
            )
            .await;
            if status == 429 {
                limited = Some(headers);
                break;
            }
            assert_eq!(status, 200);
        }
        let headers = limited.expect("the burst is limited");
        let retry = headers["retry-after"].to_str().expect("retry-after");
        assert!(retry.parse::<u64>().expect("seconds") >= 1);
        assert_eq!(
            headers["x-sentry-rate-limits"].to_str().expect("header"),
            format!("{retry}::organization")
        );
        server.stop().await;
    }
);

/// The Rust `sentry` crate's transport for this test: each envelope, serialized by the SDK,
/// posted with the test's reqwest before `send_envelope` returns (so no flush can lose one).
struct PostEnvelopes {
    handle: tokio::runtime::Handle,
    client: reqwest::Client,
    url: String,
    auth: String,
}

impl sentry::Transport for PostEnvelopes {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        let mut body = Vec::new();
        envelope.to_writer(&mut body).expect("envelope serializes");
        let request = self
            .client
            .post(&self.url)
            .header("x-sentry-auth", &self.auth)
            .body(body)
            .send();
        let status = self.handle.block_on(request).expect("post").status();
        assert_eq!(
            status.as_u16(),
            200,
            "the collector took the SDK's envelope"
        );
    }
}

both_backends!(
    the_rust_sentry_sdk_reports_from_a_backend,
    |backend: Backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.admin_token().await;
        let transport = std::sync::Arc::new(PostEnvelopes {
            handle: tokio::runtime::Handle::current(),
            client: reqwest::Client::new(),
            url: server.url("/api/1/envelope/"),
            auth: format!("Sentry sentry_version=7, sentry_key={KEY}, sentry_client=sentry.rust"),
        });
        let dsn = format!("http://{KEY}@{}/1", server.addr);
        // The SDK is synchronous: run it off the async workers, as a backend's request thread.
        let trace_id = tokio::task::spawn_blocking(move || {
            let mut options = sentry::ClientOptions::new().traces_sample_rate(1.0);
            options.dsn = Some(dsn.parse().expect("dsn"));
            let factory: std::sync::Arc<dyn sentry::TransportFactory> =
                std::sync::Arc::new(transport);
            options.transport = Some(factory);
            let _sentry = sentry::init(options);
            let transaction = sentry::start_transaction(sentry::TransactionContext::new(
                "POST /orders",
                "http.server",
            ));
            sentry::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            let trace_id = transaction.get_trace_context().trace_id.to_string();
            sentry::capture_error(&std::io::Error::other("stock service unreachable"));
            sentry::capture_message("order queued", sentry::Level::Warning);
            transaction.finish();
            trace_id
        })
        .await
        .expect("sdk thread");

        let (status, trace) = server
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/logging/traces/{trace_id}"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{trace}");
        assert_eq!(trace["exception_count"], 1, "{trace}");
        assert_eq!(trace["log_count"], 1, "{trace}");
        let text = trace.to_string();
        assert!(text.contains("stock service unreachable"), "{text}");
        assert!(text.contains("order queued"), "{text}");
        assert!(
            text.contains("\"source\":\"backend\""),
            "the Rust SDK is a backend: {text}"
        );
        let metrics: Vec<(String, i64)> = server
        .pairs("SELECT metric_name, COUNT(*) FROM performance_metrics WHERE metric_type = 'transaction' GROUP BY metric_name")
        .await;
        assert_eq!(metrics, [("http.server".to_owned(), 1)]);
        server.stop().await;
    }
);
