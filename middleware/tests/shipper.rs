//! The shipper's queue, batching, drop reporting, retries and shutdown, against in-process
//! sinks. Time is paused where backoff or intervals would otherwise make the tests slow.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tracewire_middleware::{ChannelSink, Config, MemorySink, Shipper, Sink, SinkError};
use tracewire_shared::wire::{IngestBatch, LogEntry};

fn log(message: impl Into<String>) -> LogEntry {
    LogEntry {
        level: "INFO".into(),
        message: message.into(),
        ..LogEntry::default()
    }
}

fn config(batch_size: usize, queue_capacity: usize) -> Config {
    Config {
        batch_size,
        queue_capacity,
        flush_interval: Duration::from_secs(3600),
        ..Config::default()
    }
}

#[tokio::test]
async fn a_full_queue_drops_the_newest_and_reports_the_count_in_the_next_batch() {
    let sink = MemorySink::new();
    let shipper = Shipper::spawn(Arc::new(sink.clone()), &config(100, 5)).expect("spawn");
    let accepted: Vec<bool> = (0..8)
        .map(|i| shipper.push_log(log(format!("m{i}"))))
        .collect();
    assert_eq!(
        accepted,
        [true, true, true, true, true, false, false, false]
    );
    assert_eq!(shipper.stats().dropped_queue_full, 3);

    shipper.flush().await;
    let batches = sink.batches();
    assert_eq!(batches.len(), 1);
    let messages: Vec<&str> = batches[0].logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "tracewire: dropped 3 entries (queue full)",
            "m0",
            "m1",
            "m2",
            "m3",
            "m4"
        ]
    );
    assert_eq!(batches[0].logs[0].level, "WARNING");
    assert_eq!(batches[0].source, "backend");
    let sdk = batches[0].sdk.as_ref().expect("sdk");
    assert_eq!(sdk.name, "tracewire-middleware");
    assert_eq!(sdk.version, env!("CARGO_PKG_VERSION"));
    assert!(uuid::Uuid::parse_str(&batches[0].batch_id).is_ok());

    // The report is sent once; the next batch carries no stale count.
    shipper.push_log(log("later"));
    shipper.flush().await;
    let batches = sink.batches();
    assert_eq!(batches[1].logs.len(), 1);
    assert_eq!(batches[1].logs[0].message, "later");
    assert_ne!(batches[0].batch_id, batches[1].batch_id);
}

#[tokio::test(start_paused = true)]
async fn full_batches_go_out_without_a_flush_and_partial_ones_on_the_interval() {
    let (sink, mut batches) = ChannelSink::new();
    let config = Config {
        flush_interval: Duration::from_secs(5),
        ..config(10, 100)
    };
    let shipper = Shipper::spawn(Arc::new(sink), &config).expect("spawn");
    for i in 0..23 {
        assert!(shipper.push_log(log(format!("m{i}"))));
    }
    let started = tokio::time::Instant::now();
    for _ in 0..2 {
        let batch = batches.recv().await.expect("a full batch");
        assert_eq!(batch.logs.len(), 10);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "full batches do not wait"
    );
    let rest = batches.recv().await.expect("the interval sends the rest");
    assert_eq!(rest.logs.len(), 3);
    assert!(started.elapsed() >= Duration::from_secs(5));
}

/// A destination that is always unavailable, recording what it was offered.
#[derive(Clone, Default)]
struct UnavailableSink {
    attempts: Arc<Mutex<Vec<IngestBatch>>>,
}

impl Sink for UnavailableSink {
    fn send(&self, batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>> {
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.push(batch);
        }
        Box::pin(async {
            Err(SinkError::Retryable {
                retry_after: None,
                message: "collector unavailable".into(),
            })
        })
    }
}

#[tokio::test(start_paused = true)]
async fn retries_reuse_the_batch_id_with_growing_waits_then_give_up_and_count() {
    let sink = UnavailableSink::default();
    let config = Config {
        max_retries: 3,
        ..config(100, 100)
    };
    let shipper = Shipper::spawn(Arc::new(sink.clone()), &config).expect("spawn");
    for i in 0..4 {
        shipper.push_log(log(format!("m{i}")));
    }
    let started = tokio::time::Instant::now();
    shipper.flush().await;
    let waited = started.elapsed();
    // Backoffs of 200, 400 and 800 ms, each jittered down to at least half.
    assert!(waited >= Duration::from_millis(700), "{waited:?}");
    assert!(waited <= Duration::from_millis(1400), "{waited:?}");

    let attempts = sink.attempts.lock().expect("lock").clone();
    assert_eq!(attempts.len(), 4, "one attempt and three retries");
    assert!(attempts.iter().all(|b| b.batch_id == attempts[0].batch_id));
    assert!(attempts.iter().all(|b| b == &attempts[0]));
    let stats = shipper.stats();
    assert_eq!(stats.dropped_after_retries, 4);
    assert_eq!(stats.sent, 0);
}

/// A destination that rejects every batch for good.
struct RejectingSink;

impl Sink for RejectingSink {
    fn send(&self, _batch: IngestBatch) -> BoxFuture<'static, Result<(), SinkError>> {
        Box::pin(async { Err(SinkError::Permanent("collector answered 401".into())) })
    }
}

#[tokio::test]
async fn permanent_failures_are_counted_not_retried() {
    let shipper = Shipper::spawn(Arc::new(RejectingSink), &config(100, 100)).expect("spawn");
    shipper.push_log(log("m"));
    shipper.push_log(log("n"));
    shipper.flush().await;
    let stats = shipper.stats();
    assert_eq!(stats.dropped_permanent, 2);
    assert_eq!(stats.dropped_after_retries, 0);
    assert_eq!(
        stats.last_permanent_error.as_deref(),
        Some("collector answered 401")
    );
}

#[tokio::test]
async fn shutdown_drains_everything_then_refuses_new_entries() {
    let sink = MemorySink::new();
    let shipper = Shipper::spawn(Arc::new(sink.clone()), &config(7, 1000)).expect("spawn");
    for i in 0..50 {
        shipper.push_log(log(format!("m{i}")));
    }
    shipper.shutdown().await;
    let messages: Vec<String> = sink.logs().into_iter().map(|l| l.message).collect();
    let expected: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    assert_eq!(messages, expected);
    assert!(sink.batches().iter().all(|b| b.logs.len() <= 7));

    assert!(!shipper.push_log(log("too late")));
    shipper.flush().await;
    shipper.shutdown().await;
    let stats = shipper.stats();
    assert_eq!(stats.sent, 50);
    assert_eq!(stats.dropped_after_shutdown, 1);
}

#[test]
fn spawning_outside_a_runtime_is_an_error_not_a_panic() {
    let result = Shipper::spawn(Arc::new(MemorySink::new()), &Config::default());
    assert!(matches!(
        result,
        Err(tracewire_middleware::Error::NoRuntime)
    ));
    let result = tracewire_middleware::init(Config {
        batch_size: 0,
        ..Config::default()
    });
    assert!(matches!(
        result,
        Err(tracewire_middleware::Error::InvalidConfig(_))
    ));
}
