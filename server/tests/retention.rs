//! Retention on SQLite and PostgreSQL: seed property 7 as a property test (every row past its
//! level's retention is gone from the database and in the archives exactly once, every other row
//! stays, and the per-hour tally behind `total` loses exactly the deleted logs), a failing archive directory that deletes nothing, and the lease between collectors.

mod common;

use common::{Backend, TestDb};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracewire_server::config::LevelDays;
use tracewire_server::error::Error;
use tracewire_server::query::count::bucket_of;
use tracewire_server::retention::archive::read_archive;
use tracewire_server::retention::plan::RetentionPolicy;
use tracewire_server::retention::{RetentionSettings, run_once};
use tracewire_server::store::{
    self, ExceptionRow, LeaseName, LogRow, MetricRow, Store, StoreOptions,
};
use tracewire_shared::level::Level;
use tracewire_shared::validate::Source;
use uuid::Uuid;

/// "Now" of every run: 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600_000_000;
const HOUR: i64 = 3_600_000_000;

async fn open(db: &TestDb) -> Arc<dyn Store> {
    store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("store opens")
}

fn log(level: Level, timestamp: i64, n: usize) -> LogRow {
    let source = if n.is_multiple_of(2) {
        Source::Backend
    } else {
        Source::Frontend
    };
    LogRow::new(Uuid::nil(), timestamp, level, source, format!("log {n}"))
}

fn exception(timestamp: i64) -> ExceptionRow {
    ExceptionRow {
        group_id: Uuid::now_v7(),
        event_id: Uuid::now_v7(),
        project_id: Uuid::nil(),
        fingerprint: "fp".into(),
        source: "backend",
        exception_type: "Boom".into(),
        exception_message: "boom".into(),
        stack_trace: None,
        timestamp,
        trace_id: None,
        span_id: None,
        user_id: None,
        request_path: None,
        exception_details: None,
        context_data: None,
    }
}

fn metric(timestamp: i64) -> MetricRow {
    MetricRow {
        id: Uuid::now_v7(),
        project_id: Uuid::nil(),
        source: "backend".into(),
        metric_type: "http".into(),
        metric_name: "latency".into(),
        value: 1.5,
        unit: None,
        timestamp,
        endpoint: None,
        trace_id: None,
        tags: None,
    }
}

async fn rows<T>(db: &TestDb, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    db.rows(sql).await
}

/// Ids left in `table`.
async fn ids(db: &TestDb, table: &str) -> HashSet<Uuid> {
    let ids: Vec<(Uuid,)> = rows(db, &format!("SELECT id FROM {table}")).await;
    ids.into_iter().map(|(id,)| id).collect()
}

/// The per-hour `log_counts` tally (non-zero entries).
async fn tally(db: &TestDb) -> HashMap<(i64, String, String), i64> {
    let sql = "SELECT bucket, level, source, log_rows FROM log_counts WHERE log_rows <> 0";
    let tally: Vec<(i64, String, String, i64)> = rows(db, sql).await;
    tally
        .into_iter()
        .map(|(b, l, s, n)| ((b, l, s), n))
        .collect()
}

/// Every archived row's id, per table (from the file name's prefix), counting repeats.
fn archived(dir: &std::path::Path) -> HashMap<Uuid, (String, usize, Value)> {
    let mut out: HashMap<Uuid, (String, usize, Value)> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(name.ends_with(".jsonl.gz"), "stray file {name}");
        let table = name.split('-').next().expect("table").to_owned();
        for row in read_archive(&path).expect("archive parses") {
            let id: Uuid = row["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
            out.entry(id)
                .and_modify(|e| e.1 += 1)
                .or_insert((table.clone(), 1, row));
        }
    }
    out
}

/// Generated rows: (level index, age in hours, offset µs) for logs, ages for the others.
type Case = (Vec<u32>, Vec<(usize, i64, i64)>, Vec<i64>, Vec<i64>, u32);

fn property_7(backend: Backend) {
    let strategy = (
        prop::collection::vec(0u32..5, 5),
        prop::collection::vec(
            (0usize..5, 0i64..150, prop_oneof![Just(0i64), 0i64..HOUR]),
            0..80,
        ),
        prop::collection::vec(0i64..150, 0..10),
        prop::collection::vec(0i64..150, 0..10),
        1u32..9,
    );
    common::check_property(
        10,
        strategy,
        async {},
        |_, (days, logs, events, metrics, batch): Case| async move {
            let db = TestDb::new(backend).await;
            let store = open(&db).await;
            let overrides: Vec<LevelDays> = Level::ALL
                .iter()
                .zip(&days)
                .map(|(l, d)| LevelDays {
                    level: *l,
                    days: *d,
                })
                .collect();
            let policy = RetentionPolicy::new(3, &overrides);
            let others = policy.others_cutoff(NOW);
            let mut expired: HashMap<Uuid, &str> = HashMap::new();
            let mut kept: HashSet<Uuid> = HashSet::new();
            let mut tx = store.begin_write().await.expect("begin");
            let rows: Vec<LogRow> = logs
                .iter()
                .enumerate()
                .map(|(n, (l, age, off))| log(Level::ALL[*l], NOW - age * HOUR - off, n))
                .collect();
            for r in &rows {
                let level = r.level.parse::<Level>().expect("level");
                match policy.cutoff(level, NOW) {
                    Some(c) if r.timestamp < c => expired.insert(r.id, "app_logs"),
                    _ => kept.insert(r.id).then_some(""),
                };
            }
            tx.insert_logs(&rows).await.expect("logs");
            for age in &events {
                let e = exception(NOW - age * HOUR);
                match others {
                    Some(c) if e.timestamp < c => expired.insert(e.event_id, "exception_events"),
                    _ => kept.insert(e.event_id).then_some(""),
                };
                tx.record_exception(&e).await.expect("exception");
            }
            let ms: Vec<MetricRow> = metrics.iter().map(|a| metric(NOW - a * HOUR)).collect();
            for m in &ms {
                match others {
                    Some(c) if m.timestamp < c => expired.insert(m.id, "performance_metrics"),
                    _ => kept.insert(m.id).then_some(""),
                };
            }
            tx.insert_metrics(&ms).await.expect("metrics");
            tx.commit().await.expect("commit");

            let dir = tempfile::tempdir().expect("dir");
            let settings = RetentionSettings {
                policy,
                archive_dir: dir.path().join("archive"),
                batch,
                vacuum: false,
            };
            let mut batches = 0;
            let report = run_once(
                store.as_ref(),
                &settings,
                NOW,
                "test",
                |_| batches += 1,
                || false,
            )
            .await
            .expect("retention runs");
            prop_assert_eq!(report.archived(), expired.len() as u64);
            prop_assert_eq!(report.deleted(), expired.len() as u64);
            prop_assert_eq!(batches, report.batches.len());

            let mut left = ids(&db, "app_logs").await;
            left.extend(ids(&db, "exception_events").await);
            left.extend(ids(&db, "performance_metrics").await);
            prop_assert_eq!(&left, &kept, "exactly the rows within retention remain");
            // The per-hour tally behind `total` lost exactly the deleted logs.
            let mut expected_tally: HashMap<(i64, String, String), i64> = HashMap::new();
            for r in rows.iter().filter(|r| kept.contains(&r.id)) {
                let key = (
                    bucket_of(r.timestamp),
                    r.level.to_string(),
                    r.source.to_string(),
                );
                *expected_tally.entry(key).or_default() += 1;
            }
            prop_assert_eq!(tally(&db).await, expected_tally);
            let files = archived(&settings.archive_dir);
            prop_assert_eq!(files.len(), expired.len());
            for (id, table) in &expired {
                let entry = files.get(id);
                prop_assert!(entry.is_some(), "expired row {} not archived", id);
                if let Some((file_table, count, _)) = entry {
                    prop_assert_eq!(*count, 1, "row {} archived more than once", id);
                    prop_assert_eq!(file_table, table);
                }
            }
            for r in &rows {
                if let Some((_, _, json)) = files.get(&r.id) {
                    prop_assert_eq!(json["message"].as_str(), Some(r.message.as_str()));
                    prop_assert_eq!(json["timestamp"].as_i64(), Some(r.timestamp));
                    prop_assert_eq!(json["level"].as_str(), Some(&*r.level));
                }
            }
            Ok(())
        },
        |()| async {},
    );
}

property_on_both_backends!(
    property_7_expired_rows_are_archived_once_then_deleted,
    super::property_7
);

both_backends!(archive_failure_deletes_nothing, |backend| async move {
    let db = TestDb::new(backend).await;
    let store = open(&db).await;
    let mut tx = store.begin_write().await.expect("begin");
    let rows: Vec<LogRow> = (0..25)
        .map(|n| log(Level::Info, NOW - 40 * 24 * HOUR, n))
        .collect();
    tx.insert_logs(&rows).await.expect("logs");
    tx.commit().await.expect("commit");
    // A regular file where the archive directory should be: no directory can be created
    // there, whoever the test runs as.
    let dir = tempfile::tempdir().expect("dir");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").expect("blocker");
    let settings = RetentionSettings {
        policy: RetentionPolicy::new(30, &[]),
        archive_dir: blocker.join("archive"),
        batch: 10,
        vacuum: false,
    };
    let result = run_once(store.as_ref(), &settings, NOW, "test", |_| {}, || false).await;
    assert!(matches!(result, Err(Error::Archive(_))), "{result:?}");
    assert_eq!(ids(&db, "app_logs").await.len(), 25, "nothing was deleted");
    let audit: Vec<(String, String)> = {
        let sql = "SELECT action, actor FROM audit_logs WHERE action = 'retention.run'";
        match backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&db.url).await.expect("sqlite");
                sqlx::query_as(sql).fetch_all(&pool).await.expect("audit")
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&db.url).await.expect("pg");
                sqlx::query_as(sql).fetch_all(&pool).await.expect("audit")
            }
        }
    };
    assert_eq!(audit, vec![("retention.run".into(), "test".into())]);

    // Once the directory can be written, the same rows are archived and deleted.
    let settings = RetentionSettings {
        archive_dir: dir.path().join("archive"),
        ..settings
    };
    let report = run_once(store.as_ref(), &settings, NOW, "test", |_| {}, || false)
        .await
        .expect("retention runs");
    assert_eq!((report.archived(), report.deleted()), (25, 25));
    assert_eq!(report.batches.len(), 3);
    assert!(ids(&db, "app_logs").await.is_empty());
    assert_eq!(archived(&settings.archive_dir).len(), 25);
});

both_backends!(one_collector_at_a_time, |backend| async move {
    let db = TestDb::new(backend).await;
    let a = open(&db).await;
    let b = open(&db).await;
    let held = a.try_lease(LeaseName::Retention).await.expect("lease");
    assert!(held.is_some());
    let dir = tempfile::tempdir().expect("dir");
    let settings = RetentionSettings {
        policy: RetentionPolicy::new(30, &[]),
        archive_dir: dir.path().to_path_buf(),
        batch: 10,
        vacuum: false,
    };
    let report = run_once(b.as_ref(), &settings, NOW, "test", |_| {}, || false)
        .await
        .expect("runs");
    // PostgreSQL collectors share one database, so the second one skips; SQLite has one.
    assert_eq!(report.skipped, backend == Backend::Postgres);
    if let Some(lease) = held {
        lease.release().await;
    }
    let report = run_once(b.as_ref(), &settings, NOW, "test", |_| {}, || false)
        .await
        .expect("runs");
    assert!(!report.skipped, "a released lease can be taken again");
});
