//! Crash test: `kill -9` the real `tracewire` binary while four clients post batches, restart it
//! on the same database, and check what the ingest contract promises after a crash:
//!
//! - every batch answered 200 is stored completely, each log exactly once;
//! - no batch is stored partially (each batch id has 0 or all of its logs);
//! - resending the unanswered batches with the same batch_id leaves every batch stored once.
//!
//! Each log's message embeds its batch id and index, so the check is a plain count per batch id.

mod common;

use common::binary::Collector;
use common::{Backend, TestDb};
use rand::Rng;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const KEY: &str = "tw_crash_key";
const CLIENTS: usize = 4;
const LOGS_PER_BATCH: usize = 20;
const MESSAGE_PREFIX: &str = "crash-test";

/// A batch of `LOGS_PER_BATCH` unique logs whose messages name the batch.
fn crash_batch(batch_id: Uuid) -> Value {
    let logs: Vec<Value> = (0..LOGS_PER_BATCH)
        .map(|i| {
            json!({
                "level": if i % 5 == 0 { "ERROR" } else { "INFO" },
                "message": format!("{MESSAGE_PREFIX} {batch_id} {i}"),
                "trace_id": format!("{:032x}", batch_id.as_u128() ^ i as u128),
                "extra_data": {"index": i, "password": "hunter2"},
            })
        })
        .collect();
    json!({"batch_id": batch_id.to_string(), "source": "backend", "logs": logs})
}

async fn post(client: &reqwest::Client, base: &str, body: &Value) -> Option<u16> {
    let response = client
        .post(format!("{base}/api/v1/logging/logs"))
        .header("x-tracewire-key", KEY)
        .json(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    // A 200 counts only once its body arrived: that is what a client sees as acknowledged.
    response.bytes().await.ok()?;
    Some(status)
}

/// Stored log count per batch id, read straight from the database.
async fn counts_by_batch(db: &TestDb) -> HashMap<Uuid, i64> {
    let sql = format!("SELECT message FROM app_logs WHERE message LIKE '{MESSAGE_PREFIX} %'");
    let messages: Vec<(String,)> = db.rows(&sql).await;
    let mut counts = HashMap::new();
    for (message,) in messages {
        let id = message
            .split(' ')
            .nth(1)
            .and_then(|s| Uuid::parse_str(s).ok())
            .expect("message names its batch");
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// Every batch some client tried to send, and the ones answered 200.
#[derive(Default)]
struct Ledger {
    attempted: Vec<Uuid>,
    acked: HashSet<Uuid>,
}

async fn crash_and_recover(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut collector = Collector::start(&db, KEY, &[]).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (ledger, stop, base) = (ledger.clone(), stop.clone(), collector.base.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            while !stop.load(Ordering::Relaxed) {
                let batch_id = Uuid::now_v7();
                ledger.lock().expect("ledger").attempted.push(batch_id);
                match post(&client, &base, &crash_batch(batch_id)).await {
                    Some(200) => {
                        ledger.lock().expect("ledger").acked.insert(batch_id);
                    }
                    Some(status) => assert!(
                        status == 429 || status == 503,
                        "unexpected status {status} before the crash"
                    ),
                    // Connection refused or reset: the collector is gone.
                    None => break,
                }
            }
        }));
    }

    let run_for = Duration::from_millis(rand::rng().random_range(300..=1200));
    tokio::time::sleep(run_for).await;
    collector.kill9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client task");
    }
    let (attempted, acked) = {
        let l = ledger.lock().expect("ledger");
        (l.attempted.clone(), l.acked.clone())
    };
    assert!(
        !acked.is_empty(),
        "no batch was acknowledged in {run_for:?}; the test proves nothing"
    );

    let collector = Collector::start(&db, KEY, &[]).await;
    let counts = counts_by_batch(&db).await;
    for id in &acked {
        assert_eq!(
            counts.get(id).copied().unwrap_or(0),
            LOGS_PER_BATCH as i64,
            "acknowledged batch {id} is not stored exactly once after the crash"
        );
    }
    for (id, n) in &counts {
        assert!(
            *n == LOGS_PER_BATCH as i64,
            "batch {id} is stored partially or twice: {n} rows"
        );
    }
    let known: HashSet<Uuid> = attempted.iter().copied().collect();
    assert!(
        counts.keys().all(|id| known.contains(id)),
        "rows of a batch nobody sent"
    );

    let client = reqwest::Client::new();
    let unacked: Vec<Uuid> = attempted
        .iter()
        .copied()
        .filter(|id| !acked.contains(id))
        .collect();
    for id in &unacked {
        let status = post(&client, &collector.base, &crash_batch(*id)).await;
        assert_eq!(status, Some(200), "resending batch {id} after the restart");
    }
    let counts = counts_by_batch(&db).await;
    assert_eq!(
        counts.len(),
        attempted.len(),
        "every batch stored after resend"
    );
    for id in &attempted {
        assert_eq!(
            counts.get(id).copied().unwrap_or(0),
            LOGS_PER_BATCH as i64,
            "batch {id} after resend"
        );
    }
    eprintln!(
        "{backend:?}: killed after {run_for:?}; {} batches acknowledged, {} resent",
        acked.len(),
        unacked.len()
    );
}

both_backends!(kill9_during_ingest, crash_and_recover);
