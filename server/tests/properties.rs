//! Seed properties 3 (dedup counts are exact) and 10 (a batch is atomic) as property tests
//! against a real collector over HTTP, on SQLite and on PostgreSQL.

mod common;

use common::{Backend, TestServer};
use proptest::prelude::*;
use serde_json::{Value, json};
use tracewire_server::store::CountedTable;
use uuid::Uuid;

/// Ways to break one entry; each must reject the whole batch.
#[derive(Debug, Clone, Copy)]
enum Corruption {
    Level,
    TraceId,
    EmptyMessage,
    Timestamp,
    Status,
    MetricValue,
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        Just(Corruption::Level),
        Just(Corruption::TraceId),
        Just(Corruption::EmptyMessage),
        Just(Corruption::Timestamp),
        Just(Corruption::Status),
        Just(Corruption::MetricValue),
    ]
}

fn corrupt(batch: &mut Value, at: usize, how: Corruption) {
    let logs = batch["logs"].as_array_mut().expect("logs");
    let index = at % logs.len();
    let log = &mut logs[index];
    match how {
        Corruption::Level => log["level"] = json!("LOUD"),
        Corruption::TraceId => log["trace_id"] = json!("00000000000000000000000000000000"),
        Corruption::EmptyMessage => log["message"] = json!("   "),
        Corruption::Timestamp => log["timestamp"] = json!("yesterday"),
        Corruption::Status => log["response_status"] = json!(1000),
        Corruption::MetricValue => {
            batch["metrics"] =
                json!([{"metric_type": "web_vital", "metric_name": "LCP", "value": "fast"}])
        }
    }
}

fn property_10(backend: Backend) {
    let strategy = (
        1usize..25,
        any::<usize>(),
        prop::option::of(corruption()),
        0usize..3,
    );
    common::check_property(
        24,
        strategy,
        TestServer::start(backend),
        |server, (logs, at, how, exceptions)| async move {
            let before = server.count(CountedTable::Logs).await;
            let events_before = server.count(CountedTable::ExceptionEvents).await;
            let mut batch = common::batch(logs);
            batch["exceptions"] =
                json!((0..exceptions)
                .map(|i| json!({"exception_type": "Error", "exception_message": format!("e{i}")}))
                .collect::<Vec<_>>());
            if let Some(how) = how {
                corrupt(&mut batch, at, how);
            }
            let (status, body) = server.ingest(&batch).await;
            let after = server.count(CountedTable::Logs).await;
            let events_after = server.count(CountedTable::ExceptionEvents).await;
            if how.is_some() {
                prop_assert_eq!(status, 422, "{}", body);
                prop_assert_eq!(after, before, "a rejected batch stored logs");
                prop_assert_eq!(
                    events_after,
                    events_before,
                    "a rejected batch stored exceptions"
                );
            } else {
                prop_assert_eq!(status, 200, "{}", body);
                prop_assert_eq!(after, before + logs as i64);
                prop_assert_eq!(events_after, events_before + exceptions as i64);
            }
            Ok(())
        },
        TestServer::stop,
    );
}

fn property_3(backend: Backend) {
    // Batches of (key index, client-side dedup count, offset in ms inside the window).
    let strategy = prop::collection::vec(
        prop::collection::vec((0usize..4, 1i64..5, 0i64..9_000), 1..15),
        1..6,
    );
    common::check_property(
        16,
        strategy,
        TestServer::start(backend),
        |server, batches| async move {
            let case = Uuid::new_v4().simple().to_string();
            let base = time::OffsetDateTime::now_utc();
            let mut expected = [0i64; 4];
            for entries in &batches {
                let logs: Vec<Value> = entries
                    .iter()
                    .map(|&(key, count, offset_ms)| {
                        expected[key] += count;
                        let at = base + time::Duration::milliseconds(offset_ms);
                        let at = at.format(&time::format_description::well_known::Rfc3339).expect("format");
                        json!({"level": if key % 2 == 0 { "INFO" } else { "ERROR" },
                               "message": format!("{case} key {key}"), "module": "cart",
                               "dedup_count": count, "timestamp": at, "first_seen_at": at, "last_seen_at": at})
                    })
                    .collect();
                let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend", "logs": logs});
                let (status, body) = server.ingest(&batch).await;
                prop_assert_eq!(status, 200, "{}", body);
            }
            let rows = server
                .pairs(&format!(
                    "SELECT message, dedup_count FROM app_logs WHERE message LIKE '{case}%' ORDER BY message"
                ))
                .await;
            for (key, total) in expected.iter().enumerate() {
                let message = format!("{case} key {key}");
                let matching: Vec<i64> = rows
                    .iter()
                    .filter(|r| r.0 == message)
                    .map(|r| r.1)
                    .collect();
                if *total == 0 {
                    prop_assert!(matching.is_empty());
                } else {
                    prop_assert_eq!(
                        matching.len(),
                        1,
                        "one row per key inside the window: {:?}",
                        rows
                    );
                    prop_assert_eq!(matching[0], *total, "dedup_count is the exact total");
                }
            }
            Ok(())
        },
        TestServer::stop,
    );
}

property_on_both_backends!(property_10_batches_are_atomic, super::property_10);
property_on_both_backends!(
    property_3_duplicates_collapse_with_exact_counts,
    super::property_3
);
