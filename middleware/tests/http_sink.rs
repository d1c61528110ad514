//! `HttpSink` against a small axum server standing in for the collector, over real HTTP:
//! a 429 with `Retry-After` is retried with the same batch id, nothing is lost or duplicated,
//! and permanent rejections are counted without retrying.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tracewire_middleware::{Config, init};
use tracewire_shared::wire::{Accepted, INGEST_PATH, IngestBatch, IngestResponse, LogEntry};

/// A scripted answer: status and optional `Retry-After` seconds.
type Answer = (StatusCode, Option<&'static str>);

/// What the stand-in collector saw and stored.
#[derive(Clone, Default)]
struct Collector {
    /// Status codes to answer first, one per request, before answering 200.
    script: Arc<Mutex<Vec<Answer>>>,
    /// Every request: (key header, batch).
    received: Arc<Mutex<Vec<(String, IngestBatch)>>>,
    /// Batches stored (answered 200), keyed by batch id as the real collector does.
    stored: Arc<Mutex<BTreeMap<String, IngestBatch>>>,
    duplicates: Arc<AtomicUsize>,
}

async fn post_logs(
    State(collector): State<Collector>,
    headers: HeaderMap,
    Json(batch): Json<IngestBatch>,
) -> Response {
    let key = headers
        .get("x-tracewire-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    collector
        .received
        .lock()
        .expect("lock")
        .push((key, batch.clone()));
    let scripted = {
        let mut script = collector.script.lock().expect("lock");
        (!script.is_empty()).then(|| script.remove(0))
    };
    if let Some((status, retry_after)) = scripted {
        let body = Json(serde_json::json!({"error": {"code": "scripted", "message": "try later"}}));
        let mut response = (status, body).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, seconds.parse().expect("header value"));
        }
        return response;
    }
    let accepted = Accepted {
        logs: batch.logs.len(),
        exceptions: batch.exceptions.len(),
        metrics: batch.metrics.len(),
    };
    let batch_id = batch.batch_id.clone();
    let duplicate = collector
        .stored
        .lock()
        .expect("lock")
        .insert(batch_id.clone(), batch)
        .is_some();
    if duplicate {
        collector.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    Json(IngestResponse {
        batch_id,
        accepted,
        duplicate,
    })
    .into_response()
}

async fn start_collector(script: Vec<Answer>) -> (String, Collector) {
    let collector = Collector {
        script: Arc::new(Mutex::new(script)),
        ..Collector::default()
    };
    let router = Router::new()
        .route(INGEST_PATH, post(post_logs))
        .with_state(collector.clone());
    (common::serve(router).await, collector)
}

fn log(i: usize) -> LogEntry {
    LogEntry {
        level: "INFO".into(),
        message: format!("entry {i}"),
        ..LogEntry::default()
    }
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_with_the_same_batch_id() {
    let (endpoint, collector) =
        start_collector(vec![(StatusCode::TOO_MANY_REQUESTS, Some("1"))]).await;
    let tracewire = init(Config {
        batch_size: 50,
        flush_interval: Duration::from_secs(3600),
        ..Config::new(endpoint, "test-key")
    })
    .expect("init");
    for i in 0..120 {
        assert!(tracewire.shipper().push_log(log(i)));
    }
    let started = Instant::now();
    tracewire.shipper().flush().await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );

    let received = collector.received.lock().expect("lock").clone();
    assert_eq!(received.len(), 4, "three batches, the first sent twice");
    assert!(received.iter().all(|(key, _)| key == "test-key"));
    assert_eq!(received[0].1.batch_id, received[1].1.batch_id);
    assert_eq!(
        received[0].1, received[1].1,
        "the retry resends the same batch"
    );

    let stored = collector.stored.lock().expect("lock").clone();
    assert_eq!(stored.len(), 3);
    assert_eq!(collector.duplicates.load(Ordering::Relaxed), 0);
    let mut messages: Vec<String> = stored
        .values()
        .flat_map(|b| b.logs.iter().map(|l| l.message.clone()))
        .collect();
    messages.sort();
    let mut expected: Vec<String> = (0..120).map(|i| format!("entry {i}")).collect();
    expected.sort();
    assert_eq!(messages, expected, "every entry stored exactly once");

    let stats = tracewire.stats();
    assert_eq!(stats.sent, 120);
    assert_eq!(stats.batches_sent, 3);
    assert_eq!(
        stats.dropped_after_retries + stats.dropped_permanent + stats.dropped_queue_full,
        0
    );
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (endpoint, collector) = start_collector(vec![
        (StatusCode::SERVICE_UNAVAILABLE, None),
        (StatusCode::UNAUTHORIZED, None),
    ])
    .await;
    let tracewire = init(Config {
        flush_interval: Duration::from_secs(3600),
        ..Config::new(endpoint, "wrong-key")
    })
    .expect("init");
    tracewire.shipper().push_log(log(0));
    tracewire.shipper().push_log(log(1));
    tracewire.shipper().flush().await;

    assert_eq!(
        collector.received.lock().expect("lock").len(),
        2,
        "503 retried, 401 not"
    );
    assert!(collector.stored.lock().expect("lock").is_empty());
    let stats = tracewire.stats();
    assert_eq!(stats.dropped_permanent, 2);
    let error = stats.last_permanent_error.expect("error kept");
    assert!(error.contains("401"), "{error}");
}

#[tokio::test]
async fn an_unreachable_collector_is_retried_then_counted() {
    // Bind then drop a listener: the port is known and nothing listens on it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let tracewire = init(Config {
        max_retries: 1,
        flush_interval: Duration::from_secs(3600),
        ..Config::new(format!("http://{addr}"), "k")
    })
    .expect("init");
    tracewire.shipper().push_log(log(0));
    tracewire.shipper().flush().await;
    assert_eq!(tracewire.stats().dropped_after_retries, 1);
}
