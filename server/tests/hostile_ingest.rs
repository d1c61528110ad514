//! Hostile ingest bodies against the real `tracewire` binary on both databases: decompression
//! bombs and element floods, NUL characters, forged far-future times, and producer fields longer
//! than the limits. Each asserts the answer a client gets, what reaches the database, and, for
//! the bombs, the process's peak memory.

mod common;

use common::binary::{ADMIN_PASSWORD, Collector};
use common::{Backend, TestDb};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};
use uuid::Uuid;

const KEY: &str = "tw_hostile_key";

/// What 16 parallel 8 MiB bombs may add to the collector's peak RSS. Before the element limit
/// one such body alone added ~265 MB and 16 in parallel reached 2–4 GB.
const BOMB_RSS_BUDGET_KIB: u64 = 160 * 1024;

fn ingest_url(c: &Collector) -> String {
    format!("{}/api/v1/logging/logs", c.base)
}

async fn post_json(client: &reqwest::Client, c: &Collector, body: &Value) -> (u16, Value) {
    let r = client
        .post(ingest_url(c))
        .header("x-tracewire-key", KEY)
        .json(body)
        .send()
        .await
        .expect("ingest answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// One log whose `request_data` is an array of `n` zeros: ~2 bytes per element on the wire.
fn flood_body(n: usize, message: &str) -> Vec<u8> {
    let mut body = format!(
        r#"{{"batch_id":"{}","source":"backend","logs":[{{"level":"INFO","message":"{message}","request_data":["#,
        Uuid::new_v4()
    )
    .into_bytes();
    for i in 0..n {
        body.extend_from_slice(if i == 0 { b"0" } else { b",0" });
    }
    body.extend_from_slice(b"]}]}");
    body
}

/// Text of one column of the rows a query selects, read straight from the database.
async fn strings(db: &TestDb, sql: &str) -> Vec<String> {
    let rows: Vec<(String,)> = db.rows(sql).await;
    rows.into_iter().map(|r| r.0).collect()
}

async fn ints(db: &TestDb, sql: &str) -> Vec<i64> {
    let rows: Vec<(i64,)> = db.rows(sql).await;
    rows.into_iter().map(|r| r.0).collect()
}

/// `CAST(x AS TEXT)` reads a JSON column as its text on both backends.
fn json_text(column: &str) -> String {
    format!("CAST({column} AS TEXT)")
}

async fn admin_token(client: &reqwest::Client, c: &Collector) -> String {
    let r = client
        .post(format!("{}/api/v1/auth/login", c.base))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login answers");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("login body");
    body["token"].as_str().expect("token").to_owned()
}

async fn bombs_are_refused_with_bounded_memory(backend: Backend) {
    let db = TestDb::new(backend).await;
    let c = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let (status, _) = post_json(
        &client,
        &c,
        &json!({"batch_id": Uuid::new_v4(), "source": "backend",
                "logs": [{"level": "INFO", "message": "accepted before the bombs"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let baseline = c.peak_rss_kib();

    // 8 KB of gzip that inflates to ~8 MB of valid JSON: 4 million array elements.
    let bomb = gzip(&flood_body(3_999_000, "bomb"));
    assert!(bomb.len() < 64 * 1024, "a bomb is small on the wire");
    let healthz = format!("{}/healthz", c.base);
    let probe_client = client.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe_stop = stop.clone();
    let probe = tokio::spawn(async move {
        let mut worst = Duration::ZERO;
        while !probe_stop.load(std::sync::atomic::Ordering::Relaxed) {
            let started = Instant::now();
            let ok = probe_client
                .get(&healthz)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            assert!(ok, "/healthz answers during the bombs");
            worst = worst.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worst
    });
    let sends = (0..16).map(|_| {
        let client = client.clone();
        let url = ingest_url(&c);
        let bomb = bomb.clone();
        tokio::spawn(async move {
            let r = client
                .post(url)
                .header("x-tracewire-key", KEY)
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .body(bomb)
                .send()
                .await
                .expect("bomb answered");
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("envelope");
            (status, body)
        })
    });
    for send in sends.collect::<Vec<_>>() {
        let (status, body) = send.await.expect("task");
        assert_eq!(status, 413, "{body}");
        assert_eq!(body["error"]["code"], "too_large");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let worst = probe.await.expect("probe");
    let grown = c.peak_rss_kib().saturating_sub(baseline);
    eprintln!(
        "{backend:?}: 16 parallel bombs: peak RSS +{} MiB, slowest /healthz {worst:?}",
        grown / 1024
    );
    assert!(
        grown < BOMB_RSS_BUDGET_KIB,
        "peak RSS grew by {grown} KiB; budget {BOMB_RSS_BUDGET_KIB} KiB"
    );
    assert!(worst < Duration::from_secs(2), "/healthz took {worst:?}");

    // Under the element limit a large field is kept, truncated, with the rest of the batch.
    let big = flood_body(200_000, "big field");
    let r = client
        .post(ingest_url(&c))
        .header("x-tracewire-key", KEY)
        .header("content-encoding", "gzip")
        .body(gzip(&big))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 200);
    let stored = strings(
        &db,
        &format!(
            "SELECT {} FROM app_logs WHERE message = 'big field'",
            json_text("request_data")
        ),
    )
    .await;
    assert_eq!(stored.len(), 1);
    let text: String = serde_json::from_str(&stored[0]).expect("a JSON string");
    assert!(text.starts_with("[0,0,0") && text.ends_with("…[truncated]"));
    assert!(text.len() <= 64 * 1024);

    // Nothing accepted before was lost, and the bombs stored nothing.
    let messages = strings(&db, "SELECT message FROM app_logs ORDER BY message").await;
    assert!(messages.contains(&"accepted before the bombs".to_owned()));
    assert!(!messages.contains(&"bomb".to_owned()));

    // Deep nesting is refused before parsing, with the same envelope.
    let deep = format!(
        r#"{{"batch_id":"{}","source":"backend","logs":[{{"level":"INFO","message":"deep","extra_data":{}1{}}}]}}"#,
        Uuid::new_v4(),
        "[".repeat(100),
        "]".repeat(100)
    );
    let r = client
        .post(ingest_url(&c))
        .header("x-tracewire-key", KEY)
        .body(deep)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 413);
}

async fn nul_is_stored_replaced_and_refused_in_queries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let c = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let body = r#"{"batch_id":"BATCH","source":"backend",
        "logs":[{"level":"ERROR","message":"nul\u0000here","module":"m\u0000","user_id":"u\u0000",
                 "request_data":{"k\u0000":"v\u0000"}}],
        "exceptions":[{"exception_type":"E\u0000","exception_message":"x\u0000",
                       "stack_trace":"at f\u0000 (app.js:1:1)","context_data":{"a":"\u0000"}}]}"#
        .replace("BATCH", &Uuid::new_v4().to_string());
    let r = client
        .post(ingest_url(&c))
        .header("x-tracewire-key", KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    let logs = strings(
        &db,
        &format!(
            "SELECT message || '|' || module || '|' || user_id || '|' || {} FROM app_logs WHERE level = 'ERROR'",
            json_text("request_data")
        ),
    )
    .await;
    assert_eq!(logs.len(), 1);
    let (text, data) = logs[0].rsplit_once('|').expect("joined");
    assert_eq!(text, "nul\u{fffd}here|m\u{fffd}|u\u{fffd}");
    let data: Value = serde_json::from_str(data).expect("json");
    assert_eq!(data, json!({"k\u{fffd}": "v\u{fffd}"}));
    let stacks = strings(&db, "SELECT stack_trace FROM exception_events").await;
    assert_eq!(stacks, vec!["at f\u{fffd} (app.js:1:1)".to_owned()]);

    // NUL in a query parameter is the client's mistake: 422 naming it, on both backends.
    let token = admin_token(&client, &c).await;
    for path in [
        "/api/v1/logging/logs?q=a%00b",
        "/api/v1/logging/logs?module=%00",
        "/api/v1/logging/exceptions?exception_type=%00",
    ] {
        let r = client
            .get(format!("{}{path}", c.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered");
        assert_eq!(r.status(), 422, "{path}");
        let body: Value = r.json().await.expect("envelope");
        assert_eq!(body["error"]["code"], "validation_failed", "{path}");
    }
}

async fn far_future_times_take_the_receive_time(backend: Backend) {
    let db = TestDb::new(backend).await;
    let c = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let before = now_us();
    let (status, body) = post_json(
        &client,
        &c,
        &json!({"batch_id": Uuid::new_v4(), "source": "backend", "logs": [
            {"level": "INFO", "message": "from 9999", "timestamp": "9999-12-31T23:59:59Z"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let after = now_us();
    let stamps = ints(
        &db,
        "SELECT timestamp FROM app_logs WHERE message = 'from 9999'",
    )
    .await;
    assert_eq!(stamps.len(), 1);
    assert!(
        (before..=after).contains(&stamps[0]),
        "stored {} outside [{before}, {after}]",
        stamps[0]
    );
}

async fn long_paths_keep_the_collectors_own_request_logs(backend: Backend) {
    let db = TestDb::new(backend).await;
    let c = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let token = admin_token(&client, &c).await;
    let long = format!("/api/v1/logging/logs/{}", "x".repeat(2000));
    let r = client
        .get(format!("{}{long}", c.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 422);
    // The collector's own request log of that request arrives, its path cut to the limit.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let paths = strings(
            &db,
            "SELECT request_path FROM app_logs WHERE request_path LIKE '/api/v1/logging/logs/xxxx%'",
        )
        .await;
        if let Some(path) = paths.first() {
            assert!(path.len() <= 1024 && path.ends_with('…'), "{path}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the request log of the long path never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn now_us() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since.as_micros()).expect("fits")
}

both_backends!(bombs, bombs_are_refused_with_bounded_memory);
both_backends!(nul, nul_is_stored_replaced_and_refused_in_queries);
both_backends!(future, far_future_times_take_the_receive_time);
both_backends!(long_paths, long_paths_keep_the_collectors_own_request_logs);
