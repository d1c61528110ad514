//! Several collectors on one PostgreSQL (ARCHITECTURE §5: stateless collectors): three real
//! `tracewire` processes on one database, with batches, sign-ins and queries spread over them.
//! What holds across processes: a session made on one is valid (and ended) on all; a batch id
//! is stored once whichever collector receives it again; a refused batch stores nothing; every
//! collector answers the same totals; identical logs within the dedup window collapse into one
//! row with the exact count whichever collectors receive them (seed property 3); a live tail on
//! one sees logs ingested through another; killing one mid-load loses nothing any of them
//! acknowledged; five failed sign-ins spread over the collectors lock the user out on all of
//! them; a collector whose database is gone says it is not ready and answers 503 with
//! `Retry-After`; alert evaluation goes on when the collectors running it are killed, and a
//! firing rule notifies once across all of them and the kills (seed property 6); an ingest key's
//! rate limit holds for the key across the collectors, not once per collector; write groups of
//! three collectors on the same tallies, series and exception groups never deadlock.

mod common;

use common::binary::{ADMIN_PASSWORD, Collector};
use common::receivers::receiver;
use common::{Backend, TestDb};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const KEY: &str = "tw_scale_out_key";

/// Three collectors on one fresh PostgreSQL database, started one after the other (the first
/// migrates and bootstraps; the others find both done).
async fn three() -> (TestDb, Vec<Collector>) {
    let db = TestDb::new(Backend::Postgres).await;
    let mut collectors = Vec::new();
    for _ in 0..3 {
        collectors.push(Collector::start(&db, KEY, &[]).await);
    }
    (db, collectors)
}

/// A batch of distinct logs (the batch id is in each message, so none is a duplicate of another
/// batch's).
fn batch(marker: &str, logs: usize) -> Value {
    let id = Uuid::now_v7();
    let logs: Vec<Value> = (0..logs)
        .map(|i| json!({"level": "INFO", "message": format!("{marker} {} {i}", id.simple())}))
        .collect();
    json!({"batch_id": id.to_string(), "source": "backend", "logs": logs})
}

async fn post(client: &reqwest::Client, base: &str, body: &Value) -> (u16, Value) {
    let response = client
        .post(format!("{base}/api/v1/logging/logs"))
        .header("x-tracewire-key", KEY)
        .json(body)
        .send()
        .await
        .expect("ingest answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login answers");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("login body");
    body["token"].as_str().expect("token").to_owned()
}

async fn get(client: &reqwest::Client, base: &str, path: &str, token: &str) -> (u16, Value) {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `total` of the logs matching `q`, as collector `base` answers it.
async fn total(client: &reqwest::Client, base: &str, token: &str, q: &str) -> i64 {
    let (status, body) = get(
        client,
        base,
        &format!("/api/v1/logging/logs?q={q}&limit=1"),
        token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_i64().expect("total")
}

#[tokio::test]
async fn three_collectors_share_sessions_batches_and_answers() {
    let (_db, c) = three().await;
    let client = reqwest::Client::new();

    // A session made on one collector is valid on every one, and ended on every one.
    let token = login(&client, &c[0].base).await;
    for collector in &c {
        let (status, me) = get(&client, &collector.base, "/api/v1/auth/me", &token).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["user"]["username"], "admin");
    }
    let short = login(&client, &c[2].base).await;
    let ended = client
        .post(format!("{}/api/v1/auth/logout", c[1].base))
        .bearer_auth(&short)
        .send()
        .await
        .expect("logout");
    assert_eq!(ended.status().as_u16(), 204);
    for collector in &c {
        let (status, _) = get(&client, &collector.base, "/api/v1/auth/me", &short).await;
        assert_eq!(
            status, 401,
            "a session ended on one collector is ended on all"
        );
    }

    // Batches spread round-robin: every collector answers the same total.
    let marker = format!("spread{}", Uuid::now_v7().simple());
    for i in 0..30 {
        let (status, body) = post(&client, &c[i % 3].base, &batch(&marker, 10)).await;
        assert_eq!(status, 200, "{body}");
    }
    for collector in &c {
        assert_eq!(total(&client, &collector.base, &token, &marker).await, 300);
    }

    // A retry of the same batch id through another collector is answered as a duplicate and
    // stores nothing again.
    let again = format!("again{}", Uuid::now_v7().simple());
    let body = batch(&again, 5);
    let (first, answer) = post(&client, &c[0].base, &body).await;
    assert_eq!((first, answer["duplicate"].clone()), (200, json!(false)));
    for collector in &c[1..] {
        let (status, answer) = post(&client, &collector.base, &body).await;
        assert_eq!((status, answer["duplicate"].clone()), (200, json!(true)));
    }
    assert_eq!(total(&client, &c[2].base, &token, &again).await, 5);

    // A batch with one bad entry stores nothing, whichever collector refuses it.
    let refused = format!("refused{}", Uuid::now_v7().simple());
    let mut bad = batch(&refused, 3);
    bad["logs"][2]["level"] = json!("LOUD");
    let (status, answer) = post(&client, &c[1].base, &bad).await;
    assert_eq!(status, 422, "{answer}");
    for collector in &c {
        assert_eq!(total(&client, &collector.base, &token, &refused).await, 0);
    }
}

#[tokio::test]
async fn a_live_tail_on_one_collector_sees_logs_ingested_through_another() {
    let (_db, c) = three().await;
    let client = reqwest::Client::new();
    let token = login(&client, &c[1].base).await;
    let marker = format!("tail{}", Uuid::now_v7().simple());
    let mut stream = client
        .get(format!(
            "{}/api/v1/logging/logs/stream?q={marker}",
            c[2].base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream opens");
    assert_eq!(stream.status().as_u16(), 200);
    let (status, _) = post(&client, &c[0].base, &batch(&marker, 2)).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while seen.matches(&marker).count() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the tail saw only: {seen}");
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, stream.chunk()).await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test]
async fn killing_one_collector_mid_load_loses_nothing_the_others_or_it_acknowledged() {
    let (db, mut c) = three().await;
    let bases: Vec<String> = c.iter().map(|x| x.base.clone()).collect();
    let marker = format!("kill{}", Uuid::now_v7().simple());
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for n in 0..4 {
        let (bases, marker, stop) = (bases.clone(), marker.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            let mut acknowledged = Vec::new();
            let mut i = n;
            while !stop.load(Ordering::Relaxed) {
                let id = Uuid::now_v7();
                let logs: Vec<Value> = (0..10)
                    .map(|k| json!({"level": "INFO", "message": format!("{marker} {id} {k}")}))
                    .collect();
                let body = json!({"batch_id": id.to_string(), "source": "backend", "logs": logs});
                let sent = client
                    .post(format!("{}/api/v1/logging/logs", bases[i % 3]))
                    .header("x-tracewire-key", KEY)
                    .json(&body)
                    .send()
                    .await;
                if let Ok(response) = sent
                    && response.status().as_u16() == 200
                    && response.bytes().await.is_ok()
                {
                    acknowledged.push(id);
                }
                i += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c[1].kill9();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.expect("client task"));
    }
    assert!(
        acknowledged.len() > 20,
        "too little load: {}",
        acknowledged.len()
    );

    let sql = format!("SELECT message FROM app_logs WHERE message LIKE '{marker} %'");
    let messages: Vec<(String,)> = db.rows(&sql).await;
    let mut per_batch: HashMap<String, usize> = HashMap::new();
    for (m,) in &messages {
        if let Some(id) = m.split(' ').nth(1) {
            *per_batch.entry(id.to_owned()).or_default() += 1;
        }
    }
    for id in &acknowledged {
        assert_eq!(
            per_batch.get(&id.to_string()).copied().unwrap_or(0),
            10,
            "acknowledged batch {id} is not stored whole"
        );
    }
    assert!(
        per_batch.values().all(|&n| n == 10),
        "a batch was stored partially"
    );
}

#[tokio::test]
async fn identical_logs_spread_over_collectors_collapse_into_one_row_each_with_the_exact_count() {
    let (db, c) = three().await;
    let bases: Vec<String> = c.iter().map(|x| x.base.clone()).collect();
    let marker = format!("dedup{}", Uuid::now_v7().simple());
    // Four clients at once, each batch to the next collector: 40 batches, each carrying the
    // same ten messages once (the first with a count of 3, as a logger's own dedup sends it).
    let mut clients = Vec::new();
    for n in 0..4 {
        let (bases, marker) = (bases.clone(), marker.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..10 {
                let logs: Vec<Value> = (0..10)
                    .map(|k| {
                        json!({"level": "WARNING", "message": format!("{marker} {k}"),
                               "dedup_count": if k == 0 { 3 } else { 1 }})
                    })
                    .collect();
                let body = json!({"batch_id": Uuid::now_v7().to_string(),
                                  "source": "frontend", "logs": logs});
                let (status, answer) = post(&client, &bases[(n + i) % 3], &body).await;
                assert_eq!(status, 200, "{answer}");
            }
        }));
    }
    for client in clients {
        client.await.expect("client task");
    }
    let sql = format!(
        "SELECT message, dedup_count FROM app_logs WHERE message LIKE '{marker} %' ORDER BY message"
    );
    let rows: Vec<(String, i64)> = db.rows(&sql).await;
    let expected: Vec<(String, i64)> = (0..10)
        .map(|k| (format!("{marker} {k}"), if k == 0 { 120 } else { 40 }))
        .collect();
    assert_eq!(
        rows, expected,
        "one row per message, counting all 40 batches"
    );
}

#[tokio::test]
async fn failed_sign_ins_spread_over_collectors_lock_the_user_out_on_all_of_them() {
    let (_db, c) = three().await;
    let client = reqwest::Client::new();
    let attempt = |base: String, password: &'static str| {
        let client = client.clone();
        async move {
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": "admin", "password": password}))
                .send()
                .await
                .expect("login answers")
        }
    };
    // Five wrong passwords, spread so that no collector alone sees more than two.
    for i in 0..5 {
        let r = attempt(c[i % 3].base.clone(), "wrong password").await;
        assert_eq!(r.status().as_u16(), 401, "attempt {i}");
    }
    // The right password is now refused everywhere, with a Retry-After, until the lockout ends.
    for collector in &c {
        let r = attempt(collector.base.clone(), ADMIN_PASSWORD).await;
        assert_eq!(r.status().as_u16(), 429);
        let retry = common::retry_after_secs(&r).expect("Retry-After");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
}

#[tokio::test]
async fn an_ingest_key_gets_its_rate_limit_once_across_all_collectors_not_once_per_collector() {
    let (rate, burst) = (100.0, 300.0);
    let db = TestDb::new(Backend::Postgres).await;
    let mut c = Vec::new();
    for _ in 0..3 {
        let args = ["--rate-limit", "100", "--rate-burst", "300"];
        c.push(Collector::start(&db, KEY, &args).await);
    }
    let client = reqwest::Client::new();
    let marker = format!("limit{}", Uuid::now_v7().simple());
    let started = Instant::now();
    let (mut accepted, mut refused) = (0usize, 0usize);
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let response = client
            .post(format!("{}/api/v1/logging/logs", c[i % 3].base))
            .header("x-tracewire-key", KEY)
            .json(&batch(&marker, 50))
            .send()
            .await
            .expect("ingest answers");
        match response.status().as_u16() {
            200 => accepted += 50,
            429 => {
                let retry = common::retry_after_secs(&response).expect("a 429 says when to retry");
                assert!((1..=3).contains(&retry), "Retry-After {retry}");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
        i += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Per collector, three buckets would pass up to 3 × (300 + 100 × 2) = 1,500 entries.
    let allowed = burst + rate * elapsed;
    assert!(
        accepted as f64 <= allowed,
        "{accepted} entries accepted in {elapsed:.2} s; one key's bucket allows {allowed:.0}"
    );
    assert!(accepted as f64 >= burst, "the burst passes: {accepted}");
    assert!(refused > 0);
    // What was refused stored nothing; what was accepted is there whole.
    let sql = format!("SELECT count(*) FROM app_logs WHERE message LIKE '{marker} %'");
    let stored: Vec<(i64,)> = db.rows(&sql).await;
    assert_eq!(stored[0].0, accepted as i64);
}

/// The application name of the collector holding the retention lease (a transaction-scoped
/// advisory lock on key "tracewir" + 1, which `pg_locks` shows split into two 32-bit halves).
const RETENTION_HOLDER: &str = "SELECT a.application_name FROM pg_locks l \
     JOIN pg_stat_activity a ON a.pid = l.pid \
     WHERE l.locktype = 'advisory' AND l.granted \
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
       AND l.classid = x'74726163'::int AND l.objid = x'65776901'::int AND l.objsubid = 1";

#[tokio::test]
async fn retention_runs_on_one_collector_at_a_time_and_another_finishes_when_it_is_killed() {
    let db = TestDb::new(Backend::Postgres).await;
    // One archive directory for all three, as on a shared volume: whichever collector runs
    // retention archives there.
    let archive = tempfile::tempdir().expect("archive dir");
    let archive_dir = archive.path().to_str().expect("utf-8 path").to_owned();
    let mut c = Vec::new();
    for n in 0..3 {
        // Each collector's connections carry its name, so the test can see who holds the lease.
        let mut named = db.alias();
        let sep = if named.url.contains('?') { '&' } else { '?' };
        named.url = format!("{}{sep}application_name=collector{n}", named.url);
        let args = [
            "--retention-days",
            "1",
            "--retention-interval-secs",
            "1",
            "--retention-batch",
            "10",
            "--archive-dir",
            archive_dir.as_str(),
        ];
        c.push(Collector::start(&named, KEY, &args).await);
    }
    let client = reqwest::Client::new();
    let marker = format!("expired{}", Uuid::now_v7().simple());
    let old = days_ago(3);
    let mut expired = std::collections::HashSet::new();
    for b in 0..40 {
        let logs: Vec<Value> = (0..100)
            .map(|i| {
                let message = format!("{marker} {b} {i}");
                expired.insert(message.clone());
                json!({"level": "INFO", "message": message, "timestamp": old})
            })
            .collect();
        let body =
            json!({"batch_id": Uuid::now_v7().to_string(), "source": "backend", "logs": logs});
        let (status, answer) = post(&client, &c[b % 3].base, &body).await;
        assert_eq!(status, 200, "{answer}");
    }
    let fresh = format!("fresh{}", Uuid::now_v7().simple());
    let (status, _) = post(&client, &c[0].base, &batch(&fresh, 50)).await;
    assert_eq!(status, 200);

    let pool = sqlx::PgPool::connect(&db.url).await.expect("pg");
    let remaining = |pool: sqlx::PgPool, marker: String| async move {
        let sql = format!("SELECT count(*) FROM app_logs WHERE message LIKE '{marker} %'");
        let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(&pool).await.expect("count");
        n
    };
    // Wait for a run to be under way, then kill the collector running it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let holder = loop {
        assert!(
            Instant::now() < deadline,
            "no collector took the retention lease"
        );
        let held: Option<(String,)> = sqlx::query_as(RETENTION_HOLDER)
            .fetch_optional(&pool)
            .await
            .expect("pg_locks");
        if let Some((name,)) = held
            && let Some(n) = name
                .strip_prefix("collector")
                .and_then(|n| n.parse::<usize>().ok())
        {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    c[holder].kill9();
    let left_at_kill = remaining(pool.clone(), marker.clone()).await;
    assert!(
        left_at_kill > 0,
        "the run finished before the kill; nothing was handed over"
    );

    // Another collector takes the lease over and finishes: every expired row goes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while remaining(pool.clone(), marker.clone()).await > 0 {
        assert!(
            Instant::now() < deadline,
            "retention did not finish after the kill"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Seed property 7 across the kill: every deleted row is in an archive (the batch archived
    // but not yet deleted when the kill came may be archived twice), nothing within its
    // retention went.
    let mut archived: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir(archive.path()).expect("archive dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue; // the killed collector's file in progress, never renamed into place
        }
        let rows = tracewire_server::retention::archive::read_archive(&path).expect("archive");
        for row in rows {
            if let Some(message) = row["message"].as_str() {
                *archived.entry(message.to_owned()).or_default() += 1;
            }
        }
    }
    let missing: Vec<&String> = expired
        .iter()
        .filter(|m| !archived.contains_key(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "{} deleted rows are in no archive",
        missing.len()
    );
    let twice = archived.values().filter(|&&n| n > 1).count();
    assert!(
        twice <= 10,
        "{twice} rows archived twice: more than the one batch the kill cut"
    );
    assert_eq!(remaining(pool.clone(), fresh.clone()).await, 50);
    let runs: Vec<(i64,)> = db
        .rows("SELECT count(*) FROM audit_logs WHERE action = 'retention.run'")
        .await;
    assert!(runs[0].0 >= 1, "the surviving collectors record their runs");
    pool.close().await;
}

/// An RFC 3339 time `days` days before now.
fn days_ago(days: i64) -> String {
    hours_ago(days * 24)
}

#[tokio::test]
async fn write_groups_of_three_collectors_on_the_same_rows_never_deadlock() {
    let (db, c) = three().await;
    let bases: Vec<String> = c.iter().map(|x| x.base.clone()).collect();
    let levels = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for n in 0..6usize {
        let (bases, stop) = (bases.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut statuses: HashMap<u16, usize> = HashMap::new();
            let mut i = n;
            while !stop.load(Ordering::Relaxed) {
                // Every batch touches the same hourly tallies, request series and exception
                // groups as the others, each client listing them in its own order.
                let mut logs = Vec::new();
                let mut exceptions = Vec::new();
                for k in 0..40usize {
                    let m = (k * 7 + i * 3) % 40;
                    logs.push(json!({
                        "level": levels[m % 5],
                        "message": format!("contended {} {k}", Uuid::now_v7().simple()),
                        "timestamp": hours_ago((m % 4) as i64),
                        "request_method": "GET",
                        "request_path": format!("/api/r{}", m % 6),
                        "response_status": 200,
                        "duration_ms": 12.5,
                    }));
                    if k % 8 == 0 {
                        exceptions.push(json!({
                            "exception_type": format!("E{}", (m / 8) % 5),
                            "exception_message": "contended",
                            "stack_trace": "at f (app.js:1:1)",
                        }));
                    }
                }
                let body = json!({"batch_id": Uuid::now_v7().to_string(), "source": "backend",
                                  "logs": logs, "exceptions": exceptions});
                let response = client
                    .post(format!("{}/api/v1/logging/logs", bases[i % 3]))
                    .header("x-tracewire-key", KEY)
                    .json(&body)
                    .send()
                    .await
                    .expect("ingest answers");
                *statuses.entry(response.status().as_u16()).or_default() += 1;
                i += 1;
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for client in clients {
        for (status, n) in client.await.expect("client") {
            *statuses.entry(status).or_default() += n;
        }
    }
    assert_eq!(
        statuses.keys().copied().collect::<Vec<_>>(),
        vec![200],
        "{statuses:?}"
    );
    assert!(statuses[&200] >= 30, "too little load: {statuses:?}");
    // PostgreSQL's own count, flushed to its statistics within a second of each transaction.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deadlocks: Vec<(i64,)> = db
        .rows("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        .await;
    assert_eq!(deadlocks[0].0, 0, "write groups deadlocked");
}

/// An RFC 3339 time `hours` hours before now.
fn hours_ago(hours: i64) -> String {
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64;
    tracewire_shared::validate::format_timestamp_us(now_us - hours * 3_600_000_000)
}

#[tokio::test]
async fn a_collector_that_loses_its_database_is_not_ready_and_answers_503_with_retry_after() {
    let db = TestDb::new(Backend::Postgres).await;
    let collector = Collector::start(&db, KEY, &[]).await;
    let client = reqwest::Client::new();
    let (status, _) = post(&client, &collector.base, &batch("before", 2)).await;
    assert_eq!(status, 200);

    // The database goes away under the running collector (its connections are cut).
    let name = db
        .url
        .rsplit_once('/')
        .map(|(_, n)| n.to_owned())
        .expect("db name");
    let admin = sqlx::PgPool::connect(&common::pg_admin_url())
        .await
        .expect("admin");
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("drop the collector's database");
    admin.close().await;

    let response = client
        .post(format!("{}/api/v1/logging/logs", collector.base))
        .header("x-tracewire-key", KEY)
        .json(&batch("after", 2))
        .send()
        .await
        .expect("ingest answers");
    // The key is still cached, so the batch reaches the writer, whose write fails.
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let body: Value = response.json().await.expect("envelope");
    assert_eq!(body["error"]["code"], "storage_unavailable");

    let ready = client
        .get(format!("{}/readyz", collector.base))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(ready.status().as_u16(), 503);
    assert!(ready.headers().get("retry-after").is_some());
}

/// `state.last_evaluated_at` of a rule, as collector `base` reads it.
async fn last_evaluated(client: &reqwest::Client, base: &str, token: &str, id: &str) -> String {
    let (status, rule) = get(
        client,
        base,
        &format!("/api/v1/monitoring/alerts/{id}"),
        token,
    )
    .await;
    assert_eq!(status, 200, "{rule}");
    rule["state"]["last_evaluated_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn alert_evaluation_survives_killed_collectors_and_notifies_once_across_them() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut c = Vec::new();
    for _ in 0..3 {
        c.push(Collector::start(&db, KEY, &["--alert-interval-secs", "1"]).await);
    }
    let (hook, received) = receiver(0).await;
    let client = reqwest::Client::new();
    let token = login(&client, &c[0].base).await;
    let rule = json!({
        "name": "any log", "severity": "critical",
        "condition": {"type": "log_count", "filters": {}},
        "operator": "gt", "threshold": 0, "window_minutes": 1,
        "pending_evaluations": 1, "throttle_minutes": 60,
        "channels": [{"type": "webhook", "url": hook, "send_resolved": false}],
    });
    let created = client
        .post(format!("{}/api/v1/monitoring/alerts", c[1].base))
        .bearer_auth(&token)
        .json(&rule)
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<Value>().await.expect("rule")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = post(&client, &c[2].base, &batch("alerting", 3)).await;
    assert_eq!(status, 200);

    // Whichever collector evaluates a round, the rule fires and notifies once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.requests.lock().await.is_empty() {
        assert!(Instant::now() < deadline, "no notification");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Two of the three die without a goodbye; logs keep arriving through the third.
    c[0].kill9();
    c[1].kill9();
    let before = last_evaluated(&client, &c[2].base, &token, &id).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut evaluated_again = false;
    let mut posted = 0;
    while !evaluated_again || posted < 4 {
        assert!(
            Instant::now() < deadline,
            "the survivor never evaluated after {before}"
        );
        let (status, _) = post(&client, &c[2].base, &batch("alerting", 1)).await;
        assert_eq!(status, 200);
        posted += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
        evaluated_again = last_evaluated(&client, &c[2].base, &token, &id).await > before;
    }
    assert_eq!(
        received.requests.lock().await.len(),
        1,
        "one notification across the collectors and the kills (the throttle holds)"
    );
}
