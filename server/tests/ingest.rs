//! The ingest contract of ARCHITECTURE.md §4 over a real socket, on SQLite and PostgreSQL.

mod common;

use common::{Backend, KEY, TestServer, batch};
use serde_json::{Value, json};
use std::io::Write;
use tracewire_server::store::CountedTable;
use uuid::Uuid;

both_backends!(accepts_and_stores_a_full_batch, |backend| async move {
    let s = TestServer::start(backend).await;
    let body = json!({
        "batch_id": Uuid::new_v4().to_string(),
        "sdk": {"name": "tracewire-logger", "version": "0.1.0"},
        "source": "frontend",
        "logs": [
            {"level": "error", "message": "checkout failed", "timestamp": "2026-11-25T10:00:00.123Z",
             "module": "cart", "function": "submit", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
             "span_id": "00f067aa0ba902b7", "request_method": "post", "request_path": "/api/orders",
             "request_data": {"items": 3, "password": "hunter2"}, "response_status": 500,
             "duration_ms": 812, "extra_data": {"retry": true, "nested": {"Api-Key": "k"}}},
            {"level": "warn", "message": "slow"}
        ],
        "exceptions": [{"exception_type": "TypeError", "exception_message": "x is undefined",
            "stack_trace": "TypeError: x\n    at submit (https://shop.example/app.js:10:5)"}],
        "metrics": [{"metric_type": "web_vital", "metric_name": "LCP", "value": 1830, "unit": "ms"}]
    });
    let (status, answer) = s.ingest(&body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["accepted"],
        json!({"logs": 2, "exceptions": 1, "metrics": 1})
    );
    assert_eq!(answer["duplicate"], json!(false));
    assert_eq!(s.count(CountedTable::Logs).await, 2);
    assert_eq!(s.count(CountedTable::ExceptionGroups).await, 1);
    assert_eq!(s.count(CountedTable::ExceptionEvents).await, 1);
    assert_eq!(s.count(CountedTable::Metrics).await, 1);

    // Server-side redaction: nothing secret reaches the database.
    let stored = s
        .pairs("SELECT CAST(request_data AS TEXT) || CAST(extra_data AS TEXT), dedup_count FROM app_logs WHERE message = 'checkout failed'")
        .await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains("hunter2"), "{}", stored[0].0);
    assert!(stored[0].0.contains("***REDACTED***"), "{}", stored[0].0);
    let levels = s
        .pairs("SELECT level, COUNT(*) FROM app_logs GROUP BY level ORDER BY level")
        .await;
    assert_eq!(
        levels,
        vec![("ERROR".to_owned(), 1), ("WARNING".to_owned(), 1)]
    );
    s.stop().await;
});

both_backends!(a_repeated_batch_id_is_stored_once, |backend| async move {
    let s = TestServer::start(backend).await;
    let body = batch(5);
    let (first, a) = s.ingest(&body).await;
    let (second, b) = s.ingest(&body).await;
    assert_eq!((first, second), (200, 200));
    assert_eq!(a["duplicate"], json!(false));
    assert_eq!(b["duplicate"], json!(true));
    assert_eq!(b["accepted"]["logs"], json!(5));
    assert_eq!(s.count(CountedTable::Logs).await, 5);
    assert_eq!(s.count(CountedTable::Batches).await, 1);
    s.stop().await;
});

both_backends!(every_error_status_uses_the_envelope, |backend| async move {
    let s = TestServer::start_with(backend, |c| {
        c.max_body_bytes = 4096;
        c.max_entries = 10;
    })
    .await;
    let url = s.url("/api/v1/logging/logs");
    let post = |key: Option<&str>, ct: &str, body: Vec<u8>| {
        let mut r = s.client.post(&url).header("content-type", ct).body(body);
        if let Some(k) = key {
            r = r.header("x-tracewire-key", k);
        }
        r
    };
    let good = serde_json::to_vec(&batch(1)).unwrap();
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (post(Some(KEY), "application/json", b"{\"batch_id\": ".to_vec()), 400, "malformed_json"),
        (post(None, "application/json", good.clone()), 401, "invalid_key"),
        (post(Some("nope"), "application/json", good.clone()), 401, "invalid_key"),
        (post(Some(KEY), "application/json", vec![b' '; 5000]), 413, "too_large"),
        (post(Some(KEY), "application/json", serde_json::to_vec(&batch(11)).unwrap()), 413, "too_large"),
        (post(Some(KEY), "application/xml", good.clone()), 415, "unsupported_media_type"),
        (
            post(Some(KEY), "application/json", br#"{"batch_id":"nope","source":"mobile","logs":[{"level":"LOUD","message":"x","trace_id":"XYZ"}]}"#.to_vec()),
            422,
            "validation_failed",
        ),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "expected {code}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!(code), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // 422 lists every bad field by path.
    let response = post(Some(KEY), "application/json", br#"{"batch_id":"nope","source":"mobile","logs":[{"level":"INFO","message":"ok"},{"level":"LOUD","message":"x","trace_id":"XYZ"}]}"#.to_vec())
        .send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    for p in ["batch_id", "source", "logs[1].level", "logs[1].trace_id"] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    assert_eq!(
        s.count(CountedTable::Logs).await,
        0,
        "nothing from a rejected batch is stored"
    );
    s.stop().await;
});

both_backends!(origin_allow_list_and_cors, |backend| async move {
    let s = TestServer::start(backend).await;
    s.execute(&format!(
        "UPDATE ingest_keys SET allowed_origins = '[\"https://shop.example\"]' WHERE key_hash = '{}'",
        tracewire_server::ingest::keys::key_hash(KEY)
    ))
    .await;
    let url = s.url("/api/v1/logging/logs");
    let body = serde_json::to_vec(&batch(1)).unwrap();
    let send = |origin: &'static str| {
        s.client
            .post(&url)
            .header("x-tracewire-key", KEY)
            .header("origin", origin)
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
    };
    let denied = send("https://evil.example").await.unwrap();
    assert_eq!(denied.status().as_u16(), 403);
    let body_json: Value = denied.json().await.unwrap();
    assert_eq!(body_json["error"]["code"], json!("origin_not_allowed"));
    let allowed = send("https://shop.example").await.unwrap();
    assert_eq!(allowed.status().as_u16(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );

    let preflight = s
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-tracewire-key",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    let allow = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allow.contains("x-tracewire-key"));
    s.stop().await;
});

both_backends!(beacon_gzip_and_lone_surrogates, |backend| async move {
    let s = TestServer::start(backend).await;
    // sendBeacon: key in the query string, text/plain body.
    let beacon = s
        .client
        .post(s.url(&format!("/api/v1/logging/logs?key={KEY}")))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(serde_json::to_vec(&batch(2)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(beacon.status().as_u16(), 200);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&batch(3)).unwrap())
        .unwrap();
    let gzipped = s
        .client
        .post(s.url("/api/v1/logging/logs"))
        .header("x-tracewire-key", KEY)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status().as_u16(), 200);

    let surrogate = format!(
        r#"{{"batch_id":"{}","source":"frontend","logs":[{{"level":"INFO","message":"half \ud83d emoji"}}]}}"#,
        Uuid::new_v4()
    );
    let lone = s
        .client
        .post(s.url("/api/v1/logging/logs"))
        .header("x-tracewire-key", KEY)
        .header("content-type", "application/json")
        .body(surrogate)
        .send()
        .await
        .unwrap();
    assert_eq!(lone.status().as_u16(), 200);
    let stored = s
        .pairs("SELECT message, dedup_count FROM app_logs WHERE message LIKE 'half%'")
        .await;
    assert_eq!(stored[0].0, "half \u{fffd} emoji");
    assert_eq!(s.count(CountedTable::Logs).await, 6);
    s.stop().await;
});

both_backends!(
    rate_limit_answers_429_with_retry_after,
    |backend| async move {
        let s = TestServer::start_with(backend, |c| {
            c.rate_limit = 1.0;
            c.rate_burst = 5.0;
        })
        .await;
        let (first, _) = s.ingest(&batch(5)).await;
        assert_eq!(first, 200);
        let response = s
            .client
            .post(s.url("/api/v1/logging/logs"))
            .header("x-tracewire-key", KEY)
            .json(&batch(3))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 429);
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3).contains(&retry), "retry-after {retry}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!("rate_limited"));
        assert_eq!(
            s.count(CountedTable::Logs).await,
            5,
            "the limited batch stored nothing"
        );
        s.stop().await;
    }
);

both_backends!(exceptions_group_and_regress, |backend| async move {
    let s = TestServer::start(backend).await;
    let exc = |line: u32, trace: &str| {
        json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend", "exceptions": [{
            "exception_type": "TypeError", "exception_message": "x is undefined",
            "stack_trace": format!("TypeError: x is undefined\n    at submit (https://shop.example/assets/app.js?v=2:{line}:7)\n    at onClick (https://shop.example/assets/app.js:99:1)"),
            "trace_id": trace }]})
    };
    assert_eq!(
        s.ingest(&exc(10, "4bf92f3577b34da6a3ce929d0e0e4736"))
            .await
            .0,
        200
    );
    assert_eq!(
        s.ingest(&exc(12, "5bf92f3577b34da6a3ce929d0e0e4736"))
            .await
            .0,
        200
    );
    assert_eq!(
        s.count(CountedTable::ExceptionGroups).await,
        1,
        "same error, shifted lines: one group"
    );
    assert_eq!(
        s.count(CountedTable::ExceptionEvents).await,
        2,
        "every occurrence keeps its trace"
    );
    let groups = s
        .pairs("SELECT exception_type, occurrence_count FROM app_exceptions")
        .await;
    assert_eq!(groups, vec![("TypeError".to_owned(), 2)]);

    s.execute("UPDATE app_exceptions SET is_resolved = TRUE, resolved_at = 0")
        .await;
    assert_eq!(
        s.ingest(&exc(14, "6bf92f3577b34da6a3ce929d0e0e4736"))
            .await
            .0,
        200
    );
    let reopened = s
        .pairs("SELECT exception_type, CAST(CASE WHEN is_resolved THEN 1 ELSE 0 END + CASE WHEN regressed_at IS NULL THEN 0 ELSE 10 END AS BIGINT) FROM app_exceptions")
        .await;
    assert_eq!(
        reopened,
        vec![("TypeError".to_owned(), 10)],
        "a resolved group that occurs again reopens"
    );
    s.stop().await;
});

both_backends!(
    graceful_shutdown_drains_and_restarts_clean,
    |backend| async move {
        let s = TestServer::start(backend).await;
        let mut acked = 0;
        for _ in 0..20 {
            if s.ingest(&batch(10)).await.0 == 200 {
                acked += 10;
            }
        }
        let db = s.stop().await;
        let config = tracewire_server::config::ServeConfig::for_database(&db.url);
        let s = TestServer::start_on(db, config).await;
        assert_eq!(s.count(CountedTable::Logs).await, acked);
        s.stop().await;
    }
);

#[tokio::test]
async fn unknown_routes_answer_with_the_envelope() {
    let s = TestServer::start(Backend::Sqlite).await;
    let response = s.client.get(s.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("not_found"));
    // Other paths are the admin UI's client routes when the UI is built in (its page answers
    // and shows its own "not found"); without a UI they answer the envelope too.
    let page = s.client.get(s.url("/nope")).send().await.unwrap();
    match page.status().as_u16() {
        200 => {
            let kind = page.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(kind.starts_with("text/html"), "{kind}");
        }
        status => {
            assert_eq!(status, 404);
            let body: Value = page.json().await.unwrap();
            assert_eq!(body["error"]["code"], json!("not_found"));
        }
    }
    let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    s.stop().await;
}

both_backends!(
    a_full_writer_queue_answers_429_and_loses_nothing_acknowledged,
    |backend| async move {
        let s = TestServer::start_with(backend, |c| c.writer_queue = 1).await;
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let client = s.client.clone();
            let url = s.url("/api/v1/logging/logs");
            tasks.push(tokio::spawn(async move {
                let response = client
                    .post(url)
                    .header("x-tracewire-key", KEY)
                    .json(&batch(200))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").is_some();
                let body: Value = response.json().await.unwrap();
                (status, retry_after, body)
            }));
        }
        let mut acked = 0;
        let mut overloaded = 0;
        for t in tasks {
            let (status, retry_after, body) = t.await.unwrap();
            match status {
                200 => acked += 200,
                429 => {
                    assert!(retry_after, "429 carries Retry-After");
                    assert_eq!(body["error"]["code"], json!("overloaded"));
                    overloaded += 1;
                }
                other => panic!("unexpected status {other}: {body}"),
            }
        }
        assert!(
            overloaded > 0,
            "24 concurrent batches against a queue of one must overflow it"
        );
        assert_eq!(
            s.count(CountedTable::Logs).await,
            acked,
            "every acknowledged log is stored"
        );
        s.stop().await;
    }
);
