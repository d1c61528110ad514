//! Records the API's answers as JSON fixtures for `shared/tests/api_roundtrip.rs`, from a real
//! collector on SQLite over loopback. Ignored by default; refresh the fixtures with
//!
//! ```text
//! RECORD_API_FIXTURES=../shared/tests/fixtures cargo test -p tracewire-server --test api_fixtures -- --ignored
//! ```
//!
//! (cargo runs the test in `server/`, hence the `..`). Without the variable it only checks that
//! every endpoint answers.

mod common;

use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut rb = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    r.json().await.expect("json")
}

fn record(name: &str, value: &Value) {
    if let Ok(dir) = std::env::var("RECORD_API_FIXTURES") {
        let path = std::path::Path::new(&dir).join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(value).expect("json") + "\n";
        std::fs::write(&path, text).expect("write fixture");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records fixtures; run with RECORD_API_FIXTURES=<dir>"]
async fn record_api_fixtures() {
    let s = TestServer::start(Backend::Sqlite).await;
    let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
        "logs": [
            {"level": "ERROR", "message": "payment failed", "timestamp": "2026-03-01T12:00:00.123456Z",
             "module": "billing", "function": "charge", "trace_id": TRACE,
             "span_id": "00f067aa0ba902b7", "user_id": "u-42", "request_method": "POST",
             "request_path": "/api/pay", "request_data": {"amount": 12, "card": "4111111111111111"},
             "response_status": 502, "duration_ms": 18.5, "extra_data": {"attempt": 2}},
            {"level": "INFO", "message": "started", "timestamp": "2026-03-01T11:59:59Z"}],
        "exceptions": [{"exception_type": "KeyError", "exception_message": "missing 'sku'",
            "stack_trace": "Traceback…\n  File \"pay.py\", line 3", "trace_id": TRACE,
            "span_id": "00f067aa0ba902b7", "user_id": "u-42", "request_path": "/api/pay",
            "timestamp": "2026-03-01T12:00:00.2Z"}]});
    let (status, body) = s.ingest(&batch).await;
    assert_eq!(status, 200, "{body}");

    let login = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "admin-password"}))
        .send()
        .await
        .expect("login")
        .json::<Value>()
        .await
        .expect("json");
    record("login_response", &login);
    let t = login["token"].as_str().expect("token").to_owned();
    record(
        "me",
        &call(&s, Method::GET, "/api/v1/auth/me", &t, None).await,
    );

    let to = "&to=2026-03-02T00:00:00Z";
    let logs = call(
        &s,
        Method::GET,
        &format!("/api/v1/logging/logs?limit=1{to}"),
        &t,
        None,
    )
    .await;
    assert!(logs["next_cursor"].is_string(), "{logs}");
    record("page_log_view", &logs);
    let id = logs["items"][0]["id"].as_str().expect("id").to_owned();
    record(
        "log_view",
        &call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/logs/{id}"),
            &t,
            None,
        )
        .await,
    );
    // A log with every optional column empty: `null`s stay in the shape.
    let sparse = call(
        &s,
        Method::GET,
        &format!("/api/v1/logging/logs?level=INFO{to}"),
        &t,
        None,
    )
    .await;
    record("log_view_sparse", &sparse["items"][0]);
    record(
        "trace",
        &call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/traces/{TRACE}"),
            &t,
            None,
        )
        .await,
    );
    record(
        "statistics",
        &call(
            &s,
            Method::GET,
            "/api/v1/logging/logs/statistics?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z",
            &t,
            None,
        )
        .await,
    );
    let groups = call(&s, Method::GET, "/api/v1/logging/exceptions", &t, None).await;
    record("page_exception_group", &groups);
    let group = groups["items"][0]["id"].as_str().expect("group").to_owned();
    record(
        "exception_detail",
        &call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/exceptions/{group}"),
            &t,
            None,
        )
        .await,
    );
    record(
        "exception_histogram",
        &call(
            &s,
            Method::GET,
            &format!(
                "/api/v1/logging/exceptions/histogram?ids={group}&buckets=4\
                 &from=2026-03-01T12:00:00Z&to=2026-03-01T12:59:59.999Z"
            ),
            &t,
            None,
        )
        .await,
    );
    record(
        "patterns",
        &call(
            &s,
            Method::GET,
            "/api/v1/logging/exceptions/patterns?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z",
            &t,
            None,
        )
        .await,
    );
    record(
        "exception_group_resolved",
        &call(
            &s,
            Method::PUT,
            &format!("/api/v1/logging/exceptions/{group}/resolve"),
            &t,
            Some(json!({"notes": "fixed in 1.2"})),
        )
        .await,
    );
    record(
        "error_validation",
        &call(&s, Method::GET, "/api/v1/logging/logs/not-a-uuid", &t, None).await,
    );
    record(
        "error_not_found",
        &call(&s, Method::GET, "/api/v1/nothing", &t, None).await,
    );
    for (name, path) in [("health", "/healthz"), ("ready", "/readyz")] {
        let body: Value = s
            .client
            .get(s.url(path))
            .send()
            .await
            .expect("probe")
            .json()
            .await
            .expect("json");
        record(name, &body);
    }
    s.stop().await;
}
