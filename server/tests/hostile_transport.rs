//! Hostile clients at the transport level, against the real `tracewire` binary: slow headers,
//! bodies that never end, more connections than the cap, a client that holds shutdown up, a full
//! disk; and what every answer carries (the error envelope, security headers, private files).
//!
//! The limits are set through their environment variables, so on a collector without them the
//! tests run and fail on the behaviour rather than on an unknown flag.

mod common;

use common::binary::Collector;
use common::{Backend, TestDb};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

const KEY: &str = "tw_transport_key";

/// Reads until the peer closes the connection (EOF or reset) or `deadline` passes; returns what
/// was read, or `None` when the connection was still open at the deadline.
async fn read_until_closed(stream: &mut TcpStream, deadline: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + deadline;
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_elapsed) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Splits a raw HTTP/1.1 answer into its status and its body parsed as JSON (chunked or not).
fn parse_answer(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let json_part = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if b > a => &body[a..=b],
        _ => "",
    };
    (
        status,
        serde_json::from_str(json_part).unwrap_or(Value::Null),
    )
}

/// Asserts `body` is the error envelope with `code`, and that `details` is present.
fn assert_envelope(body: &Value, what: &str) -> String {
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("{what}: no envelope in {body}"));
    assert!(error["code"].is_string(), "{what}: code in {body}");
    assert!(error["message"].is_string(), "{what}: message in {body}");
    assert!(
        error.as_object().is_some_and(|o| o.contains_key("details")),
        "{what}: details missing in {body}"
    );
    error["code"].as_str().unwrap_or_default().to_owned()
}

async fn healthz_latency(client: &reqwest::Client, base: &str) -> Duration {
    let start = Instant::now();
    let status = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz")
        .status();
    assert_eq!(status, 200);
    start.elapsed()
}

/// Peak RSS budget of a collector holding 100 slow connections (measured: 38 MiB, debug build).
const SLOW_CLIENTS_RSS_BUDGET_KIB: u64 = 96 * 1024;

/// 100 clients send a request head at one byte a second: each is closed after the header
/// timeout, and `/healthz` answers fast all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_healthz_stays_fast() {
    let db = TestDb::new(Backend::Sqlite).await;
    let collector =
        Collector::start_with_env(&db, KEY, &[], &[("TRACEWIRE_HEADER_TIMEOUT_SECS", "2")]).await;
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut slow = Vec::new();
    for _ in 0..100 {
        let addr = format!("127.0.0.1:{}", collector.port);
        slow.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let start = Instant::now();
            for byte in head {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                // A closed connection shows up as EOF here, well before the next byte is due.
                let mut buf = [0u8; 1024];
                match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
                    Ok(Ok(_)) => return start.elapsed(),
                    Err(_still_open) => {}
                }
            }
            Duration::MAX
        }));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        worst = worst.max(healthz_latency(&client, &collector.base).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        worst < Duration::from_millis(500),
        "/healthz took {worst:?} beside 100 slow clients"
    );
    let peak = collector.peak_rss_kib();
    eprintln!("peak RSS with 100 slow clients: {peak} KiB");
    assert!(
        peak < SLOW_CLIENTS_RSS_BUDGET_KIB,
        "peak RSS {peak} KiB over the {SLOW_CLIENTS_RSS_BUDGET_KIB} KiB budget"
    );
    for task in slow {
        let held = task.await.expect("slow client");
        assert!(
            held < Duration::from_secs(5),
            "a slow-header connection stayed open {held:?} (header timeout 2 s)"
        );
    }
}

/// A kept-alive connection that sends nothing more is closed after the header timeout too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let collector =
        Collector::start_with_env(&db, KEY, &[], &[("TRACEWIRE_HEADER_TIMEOUT_SECS", "2")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", collector.port))
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.expect("answer");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let start = Instant::now();
    assert!(
        read_until_closed(&mut stream, Duration::from_secs(6))
            .await
            .is_some(),
        "idle keep-alive connection still open after 6 s"
    );
    assert!(start.elapsed() >= Duration::from_millis(1500));
}

/// A chunked body that never ends (one chunk every 300 ms) is answered 408 in the envelope
/// within the body timeout, on ingest and on a route that reads its body with the extractor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_is_answered_408() {
    let db = TestDb::new(Backend::Sqlite).await;
    let collector = Collector::start_with_env(
        &db,
        KEY,
        &[],
        &[
            ("TRACEWIRE_BODY_TIMEOUT_SECS", "2"),
            ("TRACEWIRE_HEADER_TIMEOUT_SECS", "30"),
        ],
    )
    .await;
    for path in ["/api/v1/logging/logs", "/api/v1/auth/login"] {
        let mut stream = TcpStream::connect(("127.0.0.1", collector.port))
            .await
            .expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nX-Tracewire-Key: {KEY}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        let start = Instant::now();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while start.elapsed() < Duration::from_secs(8) {
            // Keep the body coming, slowly, until the collector answers.
            let _ = stream.write_all(b"1\r\n \r\n").await;
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await
            {
                answer.extend_from_slice(&buf[..n]);
                if n == 0 || answer.windows(4).any(|w| w == b"}}\r\n" || w == b"null") {
                    break;
                }
            }
        }
        let elapsed = start.elapsed();
        let (status, body) = parse_answer(&answer);
        assert_eq!(status, 408, "{path}: {}", String::from_utf8_lossy(&answer));
        assert_eq!(assert_envelope(&body, path), "request_timeout");
        assert!(
            elapsed < Duration::from_secs(5),
            "{path}: answered after {elapsed:?}"
        );
    }
}

/// At the connection cap new connections wait (they are accepted once others close, not
/// refused): with 4 idle connections holding a cap of 4, `/healthz` on a fifth waits until the
/// header timeout closes the idle ones, then answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_new_connections_wait() {
    let db = TestDb::new(Backend::Sqlite).await;
    let collector = Collector::start_with_env(
        &db,
        KEY,
        &[],
        &[
            ("TRACEWIRE_MAX_CONNECTIONS", "4"),
            ("TRACEWIRE_HEADER_TIMEOUT_SECS", "3"),
        ],
    )
    .await;
    // The readiness poll's own kept-alive connection closes after the header timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(
            TcpStream::connect(("127.0.0.1", collector.port))
                .await
                .expect("connect"),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let start = Instant::now();
    let status = client
        .get(format!("{}/healthz", collector.base))
        .send()
        .await
        .expect("healthz answers once the idle connections are closed")
        .status();
    let waited = start.elapsed();
    assert_eq!(status, 200);
    assert!(
        waited >= Duration::from_millis(1500),
        "answered after {waited:?}: the cap of 4 did not hold"
    );
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
    drop(idle);
}

async fn ingest(client: &reqwest::Client, base: &str, body: &Value) -> (u16, Value) {
    match client
        .post(format!("{base}/api/v1/logging/logs"))
        .header("x-tracewire-key", KEY)
        .json(body)
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

fn marked_batch(marker: &str, batch_id: Uuid, logs: usize, pad: usize) -> Value {
    let logs: Vec<Value> = (0..logs)
        .map(|i| {
            json!({
                "level": "INFO",
                "message": format!("{marker} {batch_id} {i} {}", "x".repeat(pad)),
            })
        })
        .collect();
    json!({"batch_id": batch_id.to_string(), "source": "backend", "logs": logs})
}

/// Batch ids that have rows whose message starts with `marker`, read from the database.
async fn stored_batches(db: &TestDb, marker: &str) -> HashSet<Uuid> {
    let sql = format!("SELECT message FROM app_logs WHERE message LIKE '{marker} %'");
    let messages: Vec<(String,)> = db.rows(&sql).await;
    messages
        .iter()
        .filter_map(|(m,)| m.split(' ').nth(1).and_then(|id| id.parse().ok()))
        .collect()
}

/// SIGTERM while a client holds a request open (a body trickling in): the collector still exits
/// within the shutdown timeout, and the batch acknowledged just before is stored.
async fn sigterm_with_a_stuck_client(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut collector = Collector::start_with_env(
        &db,
        KEY,
        &[],
        &[
            ("TRACEWIRE_SHUTDOWN_TIMEOUT_SECS", "2"),
            ("TRACEWIRE_BODY_TIMEOUT_SECS", "600"),
            ("TRACEWIRE_HEADER_TIMEOUT_SECS", "600"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let acked = Uuid::now_v7();
    let (status, _) = ingest(
        &client,
        &collector.base,
        &marked_batch("stuck", acked, 5, 0),
    )
    .await;
    assert_eq!(status, 200);
    let mut stuck = TcpStream::connect(("127.0.0.1", collector.port))
        .await
        .expect("connect");
    stuck
        .write_all(
            format!(
                "POST /api/v1/logging/logs HTTP/1.1\r\nHost: x\r\nX-Tracewire-Key: {KEY}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
            )
            .as_bytes(),
        )
        .await
        .expect("head");
    let keep_trickling = tokio::spawn(async move {
        loop {
            if stuck.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let exited = tokio::task::spawn_blocking(move || {
        let exited = collector.terminate(Duration::from_secs(10));
        (exited, collector)
    })
    .await
    .expect("terminate");
    let took = start.elapsed();
    keep_trickling.abort();
    assert!(
        exited.0,
        "the collector did not exit within 10 s of SIGTERM"
    );
    assert!(
        took < Duration::from_secs(5),
        "exit took {took:?} with a 2 s shutdown timeout"
    );
    assert!(
        stored_batches(&db, "stuck").await.contains(&acked),
        "the acknowledged batch is missing after shutdown"
    );
}

mod sigterm_with_a_stuck_client {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        sigterm_with_a_stuck_client(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        sigterm_with_a_stuck_client(Backend::Postgres).await
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop; `None` where mounting is
/// not permitted (not root, no CAP_SYS_ADMIN).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("dir");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the rest of the file system at `path` with one file; returns its size.
fn fill(path: &std::path::Path) -> u64 {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 4096];
    let mut written = 0;
    while file.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    let _ = file.flush();
    written
}

async fn readyz(client: &reqwest::Client, base: &str) -> (u16, Value) {
    let r = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The disk fills up under a SQLite collector: ingest answers 503 "retry later" and `/readyz`
/// 503; once space is freed, `/readyz` turns 200 by itself (write probe, no traffic) and ingest
/// succeeds, without a restart; every acknowledged batch is stored. SQLite only: the PostgreSQL
/// server's disk is not the test's to fill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_survived_without_restart() {
    let Some(disk) = SmallDisk::mount("6m") else {
        eprintln!("SKIPPED: mounting a tmpfs is not permitted here (needs root)");
        return;
    };
    let db = TestDb::sqlite_in(disk.dir.path());
    let mut collector = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let filler = disk.dir.path().join("filler");
    fill(&filler);
    // Free a little so the collector fills the last of it itself.
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .expect("filler");
        let len = f.metadata().expect("stat").len();
        f.set_len(len.saturating_sub(256 * 1024)).expect("shrink");
    }
    let mut acked = HashSet::new();
    let mut refused = None;
    for _ in 0..200 {
        let id = Uuid::now_v7();
        let (status, body) = ingest(
            &client,
            &collector.base,
            &marked_batch("full", id, 20, 1000),
        )
        .await;
        match status {
            200 => {
                acked.insert(id);
            }
            503 => {
                refused = Some(body);
                break;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let refused = refused.expect("the disk never filled up");
    assert_eq!(
        assert_envelope(&refused, "full disk"),
        "storage_unavailable"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("retry later"),
        "{refused}"
    );
    let (status, body) = readyz(&client, &collector.base).await;
    assert_eq!(status, 503, "readyz while the disk is full: {body}");
    assert_envelope(&body, "readyz");
    // The write probe runs every 2 s while writes fail; it must not call a full disk ready.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, body) = readyz(&client, &collector.base).await;
    assert_eq!(status, 503, "readyz 5 s later, the disk still full: {body}");
    let (status, body) = ingest(
        &client,
        &collector.base,
        &marked_batch("full", Uuid::now_v7(), 20, 1000),
    )
    .await;
    assert_eq!(status, 503, "ingest while the disk is still full: {body}");

    std::fs::remove_file(&filler).expect("free the space");
    // No traffic: the writer's probe notices the space by itself.
    let start = Instant::now();
    loop {
        let (status, _) = readyz(&client, &collector.base).await;
        if status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "/readyz still {status} 15 s after space was freed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for _ in 0..5 {
        let id = Uuid::now_v7();
        let (status, body) =
            ingest(&client, &collector.base, &marked_batch("full", id, 20, 10)).await;
        assert_eq!(status, 200, "ingest after space was freed: {body}");
        acked.insert(id);
    }
    assert!(collector.terminate(Duration::from_secs(15)), "clean exit");
    let stored = stored_batches(&db, "full").await;
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged batches lost: {lost:?}");
}

/// A handful of bad requests: every answer is the envelope (with `details`), every answer has
/// the security headers, API answers are `no-store`, and ingest keeps its CORS answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_an_envelope_with_security_headers() {
    let db = TestDb::new(Backend::Sqlite).await;
    let collector = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let base = &collector.base;
    // Over the login's 16 KiB limit, small enough to sit in the socket buffers: the collector
    // refuses it from Content-Length without reading it and closes the connection, and a body
    // larger than the buffers would race that close (a broken pipe instead of the answer).
    let big = "x".repeat(20 * 1024);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "405 on an API route",
            client.delete(format!("{base}/api/v1/logging/logs")),
            405,
        ),
        (
            "405 on /healthz",
            client.put(format!("{base}/healthz")),
            405,
        ),
        (
            "404 on an API path",
            client.get(format!("{base}/api/v1/nothing")),
            404,
        ),
        (
            "login body over the limit",
            // Its own connection: the refused one is closed, and must not be reused.
            reqwest::Client::new()
                .post(format!("{base}/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body(big),
            413,
        ),
        (
            "login body not JSON",
            client
                .post(format!("{base}/api/v1/auth/login"))
                .body("not json"),
            400,
        ),
        (
            "query without a session",
            client.get(format!("{base}/api/v1/logging/logs?limit=abc")),
            401,
        ),
        (
            "ingest without a key",
            client
                .post(format!("{base}/api/v1/logging/logs"))
                .header("origin", "https://app.example")
                .body("{}"),
            401,
        ),
        (
            "ingest with broken JSON",
            client
                .post(format!("{base}/api/v1/logging/logs"))
                .header("x-tracewire-key", KEY)
                .header("content-type", "application/json")
                .body("{"),
            400,
        ),
    ];
    for (what, request, expected) in cases {
        let response = request.send().await.expect(what);
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
        assert_eq!(status, expected, "{what}: {body}");
        assert_envelope(&body, what);
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["x-frame-options"], "DENY", "{what}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
        if status == 405 {
            assert!(headers.contains_key("allow"), "{what}: Allow kept");
        }
        if what.starts_with("ingest without") {
            assert_eq!(
                headers["access-control-allow-origin"], "https://app.example",
                "{what}: CORS kept on errors"
            );
        }
    }
    // Successful API answers are not cached; the health probe and the UI may be.
    let api = client
        .get(format!("{base}/api/v1/auth/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(api.headers()["cache-control"], "no-store");
    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    assert!(health.headers().get("cache-control").is_none());
    // Ingest answers hold no data worth hiding, and `no-store` kept devtools from their bodies.
    let ingest = client
        .post(format!("{base}/api/v1/logging/logs"))
        .header("x-tracewire-key", KEY)
        .body(format!(
            r#"{{"batch_id":"{}","source":"backend","logs":[]}}"#,
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .expect("ingest");
    assert_eq!(ingest.status().as_u16(), 200);
    assert!(ingest.headers().get("cache-control").is_none());
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}/api/v1/logging/logs"),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(preflight.headers()["x-content-type-options"], "nosniff");
}

/// The database file the collector creates, its lookups file, and SQLite's -wal and -shm beside
/// each, are 0600.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new(Backend::Sqlite).await;
    let collector = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let (status, _) = ingest(
        &client,
        &collector.base,
        &marked_batch("mode", Uuid::now_v7(), 1, 0),
    )
    .await;
    assert_eq!(status, 200);
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let lookups = format!("{path}.lookups");
    for file in [
        path.clone(),
        format!("{path}-wal"),
        format!("{path}-shm"),
        lookups.clone(),
        format!("{lookups}-wal"),
        format!("{lookups}-shm"),
    ] {
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file} has mode {mode:o}");
    }
}
