//! Issue 19 item 5: redaction over every stored text field, and deleted text gone from disk.
//!
//! - A batch whose messages, stack traces, paths, user ids, module/function names, metric
//!   names and structured values carry one secret of every default class (and a match of the
//!   operator's `--redact-patterns`) is ingested over HTTP; then the database is read without
//!   the collector (SQLite: the bytes of the database file and its WAL; PostgreSQL: every row of
//!   every table as JSON) and none of the secrets is there, while the surrounding text is.
//! - Rows retention deletes leave no trace of their text in the SQLite file or WAL bytes.

mod common;

use common::{Backend, TestDb, TestServer};
use serde_json::json;
use std::sync::Arc;
use tracewire_server::retention::plan::RetentionPolicy;
use tracewire_server::retention::{RetentionSettings, run_once};
use tracewire_server::store::{self, LogRow, Store, StoreOptions};
use tracewire_shared::level::Level;
use tracewire_shared::validate::Source;
use uuid::Uuid;

/// The operator's pattern of the test server.
const PATTERN: &str = "sk_live_[0-9a-zA-Z]{8,}";

/// Each secret class as it appears in a field, and the part that must not be stored.
const SECRETS: &[(&str, &str)] = &[
    ("card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    ("card 5500-0000-0000-0004", "5500-0000-0000-0004"),
    ("iban GB82WEST12345698765432", "WEST12345698765432"),
    ("iban DE89 3704 0044 0532 0130 00", "3704 0044 0532"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAzq9TwPem\n-----END RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEAzq9TwPem",
    ),
    (
        "db postgres://app:Pq9s3cretUrl@db:5432/logs",
        "Pq9s3cretUrl",
    ),
    (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1",
        "eyJhbGciOiJIUzI1NiJ9",
    ),
    ("ssn 078-05-1120", "078-05-1120"),
    ("login failed password=Hunter2xKv user=ann", "Hunter2xKv"),
    ("/oauth/cb?code=1&access_token=AtK9x7QzPl&x=1", "AtK9x7QzPl"),
    ("{\"private_key\":\"PkJsonSecret7\"}", "PkJsonSecret7"),
    ("charge with sk_live_Zx81Kq2mWq", "sk_live_Zx81Kq2mWq"),
];

/// Every secret of [`SECRETS`] joined into one text.
fn all_secrets() -> String {
    SECRETS
        .iter()
        .map(|(shown, _)| *shown)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Everything the database holds, read without the collector.
async fn database_text(db: &TestDb) -> String {
    match db.backend {
        Backend::Sqlite => sqlite_bytes(db),
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.expect("pg");
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&pool)
            .await
            .expect("tables");
            let mut all = String::new();
            for (table,) in tables {
                let rows: (Option<String>,) = sqlx::query_as(&format!(
                    "SELECT string_agg(row_to_json(t)::text, ' ') FROM \"{table}\" t"
                ))
                .fetch_one(&pool)
                .await
                .expect("rows");
                all.push_str(&rows.0.unwrap_or_default());
            }
            pool.close().await;
            all
        }
    }
}

/// The bytes of the SQLite database file and its WAL, as (lossy) text.
fn sqlite_bytes(db: &TestDb) -> String {
    String::from_utf8_lossy(&db.sqlite_file_bytes()).into_owned()
}

both_backends!(
    every_stored_text_field_is_redacted_with_the_same_rules,
    |backend| async move {
        let s = TestServer::start_with(backend, |c| c.redact_patterns = vec![PATTERN.into()]).await;
        let text = all_secrets();
        let body = json!({
            "batch_id": Uuid::new_v4().to_string(),
            "source": "backend",
            "logs": [{
                "level": "ERROR",
                "message": format!("checkout for ann@example.com failed: {text}"),
                "module": "db postgres://app:Pq9s3cretUrl@db:5432/logs",
                "function": "charge with sk_live_Zx81Kq2mWq",
                "user_id": "078-05-1120",
                "request_method": "POST",
                "request_path": "/oauth/cb?code=1&access_token=AtK9x7QzPl&x=1",
                "extra_data": {"note": text, "card": 4012888888881881u64, "auth": "AuthSecret42"},
                "request_data": {"list": [text]},
            }],
            "exceptions": [{
                "exception_type": "Error sk_live_Zx81Kq2mWq",
                "exception_message": text,
                "stack_trace": format!("at pay ({text})\n    at main"),
                "user_id": "ann password=Hunter2xKv",
                "request_path": "/pay?token=AtK9x7QzPl",
                "context_data": {"credentials": "CredSecret9", "msg": text},
            }],
            "metrics": [{
                "metric_type": "http_request",
                "metric_name": "GET /oauth/cb?access_token=AtK9x7QzPl",
                "value": 12.5,
                "unit": "ms",
                "endpoint": "/pay?iban=GB82WEST12345698765432",
                "tags": {"url": "https://u:Pq9s3cretUrl@h/x", "n": 4012888888881881u64},
            }],
        });
        let (status, answer) = s.ingest(&body).await;
        assert_eq!(status, 200, "{answer}");
        let db = s.stop().await;
        let stored = database_text(&db).await;
        let mut needles: Vec<&str> = SECRETS.iter().map(|(_, hidden)| *hidden).collect();
        needles.extend(["4012888888881881", "AuthSecret42", "CredSecret9"]);
        for needle in needles {
            assert!(
                !stored.contains(needle),
                "{needle:?} is stored ({backend:?})"
            );
        }
        // The method can see stored text: the context around the secrets is there, and emails
        // are kept by default.
        for kept in [
            "checkout for ann@example.com failed",
            "***REDACTED***",
            "/oauth/cb?code=1&access_token=",
            "postgres://",
            "@db:5432/logs",
            "Authorization: Bearer ",
        ] {
            assert!(stored.contains(kept), "{kept:?} missing ({backend:?})");
        }
    }
);

both_backends!(emails_are_redacted_when_enabled, |backend| async move {
    let s = TestServer::start_with(backend, |c| c.redact_emails = true).await;
    let body = json!({
        "batch_id": Uuid::new_v4().to_string(),
        "source": "backend",
        "logs": [{"level": "INFO", "message": "welcome ann.lee@example.org", "user_id": "bob@example.net"}],
    });
    let (status, answer) = s.ingest(&body).await;
    assert_eq!(status, 200, "{answer}");
    let db = s.stop().await;
    let stored = database_text(&db).await;
    for needle in ["ann.lee@example.org", "bob@example.net"] {
        assert!(!stored.contains(needle), "{needle:?} is stored");
    }
    assert!(stored.contains("welcome ***REDACTED***"));
});

/// "Now" of the retention run: 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600_000_000;
const DAY: i64 = 86_400_000_000;

fn log_row(timestamp: i64, message: String) -> LogRow {
    LogRow {
        user_id: Some(format!("user-{message}")),
        extra_data: Some(sqlx::types::Json(json!({ "detail": message }))),
        ..LogRow::new(
            Uuid::nil(),
            timestamp,
            Level::Info,
            Source::Backend,
            &message,
        )
    }
}

/// Inserts 300 rows that expire and 300 that stay, runs retention, and returns how many copies
/// of the deleted rows' text the database and lookups files hold and their WALs' length
/// afterwards.
async fn retention_leaves(vacuum: bool) -> (usize, u64) {
    let db = TestDb::new(Backend::Sqlite).await;
    let store: Arc<dyn Store> = store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("store opens");
    // Expired rows (two days old, one day of retention) and kept rows, interleaved; the text
    // is in the message (and its FTS index), the user id index and the JSON.
    let mut tx = store.begin_write().await.expect("begin");
    let mut rows = Vec::new();
    for n in 0..300 {
        rows.push(log_row(
            NOW - 2 * DAY,
            format!("ExpiredText{n:04}qz {}", "x".repeat(200)),
        ));
        rows.push(log_row(NOW, format!("KeptText{n:04}qz")));
    }
    tx.insert_logs(&rows).await.expect("insert");
    tx.commit().await.expect("commit");
    // Their full-text and user entries are in the lookups file.
    let step = store.index_logs(10_000).await.expect("index");
    assert_eq!(step.covered, 600);
    // The pages reach the database file before the run, as on a long-running collector.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;

    let archive = tempfile::tempdir().expect("archive dir");
    let settings = RetentionSettings {
        policy: RetentionPolicy::new(1, &[]),
        archive_dir: archive.path().to_path_buf(),
        batch: 100,
        vacuum,
    };
    let report = run_once(store.as_ref(), &settings, NOW, "test", |_| {}, || false)
        .await
        .expect("retention runs");
    assert_eq!(report.deleted(), 300);

    let path = db.url.trim_start_matches("sqlite://").to_owned();
    // Both WALs: the database's and the lookups file's (where the deleted entries were).
    let wal = [format!("{path}-wal"), format!("{path}.lookups-wal")]
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let bytes = sqlite_bytes(&db);
    assert!(
        bytes.contains("KeptText0299qz"),
        "kept rows are readable in the file, so the search would see deleted ones"
    );
    // The full-text index deleted the rows' trigrams too, not only marked them deleted: "pir"
    // (from "Expired") is in no kept message.
    let pool = common::sqlite_pool(&db.url).await;
    sqlx::query("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(lookups, app_logs_fts, row)")
        .execute(&pool)
        .await
        .expect("vocab");
    let (left_terms,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM temp.vocab WHERE term IN ('pir', 'xxx')")
            .fetch_one(&pool)
            .await
            .expect("terms");
    pool.close().await;
    assert_eq!(
        left_terms, 0,
        "trigrams of deleted messages left in the index"
    );
    drop(store);
    (bytes.matches("ExpiredText").count(), wal)
}

/// Default settings: `secure_delete` zeroes the deleted rows and freed pages, and the WAL
/// (which held every inserted row) is truncated. Pages SQLite rebalanced while deleting may
/// keep a fragment in their unused space (measured: 1 copy left in three runs; before the
/// fix 2,472 copies in the file and an 890 KB WAL); the budget is 5% of the 900 stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_zeroes_deleted_text_and_truncates_the_wal() {
    let (left, wal) = retention_leaves(false).await;
    assert_eq!(wal, 0, "the WAL is truncated after the run");
    assert!(left <= 45, "{left} copies of deleted text left in the file");
}

/// `--retention-vacuum`: not one byte of deleted text is left in the file or the WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_vacuum_leaves_no_deleted_text() {
    let (left, wal) = retention_leaves(true).await;
    assert_eq!(wal, 0, "the WAL is truncated after the run");
    assert_eq!(left, 0, "deleted text left in the file");
}
