//! The index follower (trace, user and, on SQLite, full-text entries written after the
//! acknowledgement; migration 0010 on SQLite, 0013 on PostgreSQL): it catches up on its own,
//! queries are exact before and after it does, deleted rows take their entries (on SQLite
//! through a queue the follower applies to the lookups file, and no seq is handed out twice),
//! databases filled under the previous schemas upgrade in place with exact lookups, a SQLite
//! lookups file ahead of its database is rebuilt, and on PostgreSQL the watermark never passes
//! a row a writer has drawn but not committed yet.

mod common;

use common::{Backend, TestDb, TestServer};
use serde_json::{Value, json};
use std::time::Duration;
use tracewire_server::config::ServeConfig;
use uuid::Uuid;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `n` distinct logs (none a duplicate of an earlier one) of one trace and one user whose
/// messages hold `word`.
fn batch(n: usize, word: &str) -> Value {
    let logs: Vec<Value> = (0..n)
        .map(|i| {
            let message = format!("{word} {i} {}", Uuid::new_v4());
            json!({"level": "INFO", "message": message, "trace_id": TRACE,
                   "user_id": "u-follow"})
        })
        .collect();
    json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend", "logs": logs})
}

/// How many logs each lookup finds, as `total`: by trace, by user, by a rare term.
async fn lookups(server: &TestServer, token: &str, word: &str) -> [u64; 3] {
    let mut out = [0; 3];
    for (i, (name, value)) in [("trace_id", TRACE), ("user_id", "u-follow"), ("q", word)]
        .into_iter()
        .enumerate()
    {
        let body: Value = server
            .client
            .get(server.url("/api/v1/logging/logs"))
            .bearer_auth(token)
            .query(&[(name, value)])
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("json");
        out[i] = body["total"].as_u64().expect("total");
    }
    out
}

/// (indexed_through, MAX(seq)) of the database.
async fn watermark(server: &TestServer) -> (i64, i64) {
    let rows: Vec<(i64, i64)> = server
        .db
        .rows(
            "SELECT indexed_through, COALESCE((SELECT MAX(seq) FROM app_logs), 0) \
             FROM log_index_state",
        )
        .await;
    rows[0]
}

both_backends!(
    the_follower_catches_up_and_lookups_stay_exact,
    |backend| async move {
        let server = TestServer::start_with(backend, |c| c.index_interval_ms = 50).await;
        let token = server.admin_token().await;
        let (status, body) = server.ingest(&batch(30, "zebrafinch")).await;
        assert_eq!(status, 200, "{body}");
        // Acknowledged means queryable, indexed or not.
        assert_eq!(lookups(&server, &token, "zebrafinch").await, [30, 30, 30]);
        let mut caught_up = false;
        for _ in 0..100 {
            let (through, newest) = watermark(&server).await;
            if through == newest {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(caught_up, "the follower did not reach the newest row");
        let entries: Vec<(i64,)> = server
            .db
            .rows(&format!(
                "SELECT COUNT(*) FROM app_logs_by_trace WHERE trace_id = '{TRACE}'"
            ))
            .await;
        assert_eq!(entries[0].0, 30, "every row of the trace has its entry");
        assert_eq!(lookups(&server, &token, "zebrafinch").await, [30, 30, 30]);
        server.stop().await;
    }
);

both_backends!(deleted_rows_take_their_entries, |backend| async move {
    let server = TestServer::start_with(backend, |c| c.index_interval_ms = 0).await;
    let token = server.admin_token().await;
    let (status, _) = server.ingest(&batch(5, "kingfisher")).await;
    assert_eq!(status, 200);
    server.store.index_logs(1_000).await.expect("index");
    let (through, newest) = watermark(&server).await;
    assert_eq!(through, newest);
    // Every row goes (as retention does when nothing newer arrived). Neither backend hands a
    // seq out twice (SQLite numbers new rows above the highest seq ever deleted), so the
    // watermark stays where it was.
    server.execute("DELETE FROM app_logs").await;
    assert_eq!(watermark(&server).await, (through, 0));
    if backend == Backend::Sqlite {
        // The entries are in the lookups file, which a delete in the database cannot reach:
        // the deletes wait in a queue for the follower's next step.
        let queued: Vec<(i64,)> = server
            .db
            .rows("SELECT COUNT(*) FROM log_index_deletes")
            .await;
        assert_eq!(queued[0].0, 5, "the deleted rows are queued");
        server.store.index_logs(1_000).await.expect("index");
        let queued: Vec<(i64,)> = server
            .db
            .rows("SELECT COUNT(*) FROM log_index_deletes")
            .await;
        assert_eq!(queued[0].0, 0, "the step forgot the deletes it applied");
    }
    let orphans: Vec<(i64,)> = server
        .db
        .rows(match backend {
            Backend::Sqlite => {
                "SELECT (SELECT COUNT(*) FROM app_logs_by_trace) \
                 + (SELECT COUNT(*) FROM app_logs_by_user) + (SELECT COUNT(*) FROM app_logs_fts)"
            }
            Backend::Postgres => {
                "SELECT (SELECT COUNT(*) FROM app_logs_by_trace) \
                 + (SELECT COUNT(*) FROM app_logs_by_user) + (SELECT COUNT(*) FROM app_logs_text)"
            }
        })
        .await;
    assert_eq!(orphans[0].0, 0, "entries went with their rows");
    let (status, _) = server.ingest(&batch(3, "kingfisher")).await;
    assert_eq!(status, 200);
    let (_, newest) = watermark(&server).await;
    assert!(
        newest > through,
        "new rows are numbered above the deleted ones"
    );
    // Not indexed yet, found through the tail.
    assert_eq!(lookups(&server, &token, "kingfisher").await, [3, 3, 3]);
    let step = server.store.index_logs(1_000).await.expect("index");
    assert!(step.covered >= 3, "the new rows are indexed: {step:?}");
    assert_eq!(lookups(&server, &token, "kingfisher").await, [3, 3, 3]);
    server.stop().await;
});

/// Rows written the old way, before the follower's migration (on SQLite by the FTS trigger and
/// the app_logs indexes of migration 0003; on PostgreSQL with no seq yet).
macro_rules! fill_previous_schema {
    ($pool:expr, $project:expr) => {
        for i in 0..20_i64 {
            sqlx::query(
                "INSERT INTO app_logs (id, project_id, timestamp, level, source, message, \
                 trace_id, user_id, dedup_count, first_seen_at, last_seen_at, created_at) \
                 VALUES ($1, $2, $3, 'INFO', 'backend', $4, $5, $6, 1, $3, $3, $3)",
            )
            .bind(Uuid::now_v7())
            .bind($project)
            .bind(1_600_000_000_000_000 + i)
            .bind(format!("ptarmigan {i}"))
            .bind((i % 2 == 0).then_some(TRACE))
            .bind((i % 4 == 0).then_some("u-follow"))
            .execute(&$pool)
            .await
            .expect("old row");
        }
        $pool.close().await;
    };
}

both_backends!(
    a_database_of_the_previous_schema_upgrades_in_place,
    |backend| async move {
        let db = TestDb::new(backend).await;
        let (dir, follower_version) = match backend {
            Backend::Sqlite => ("migrations/sqlite", 10),
            Backend::Postgres => ("migrations/postgres", 13),
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut before = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
        let before_count = before.migrations.len();
        before.migrations = before
            .migrations
            .iter()
            .filter(|m| m.version < follower_version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        assert!(before.migrations.len() < before_count);
        let project = Uuid::now_v7();
        match backend {
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(db.url.trim_start_matches("sqlite://"))
                    .create_if_missing(true);
                let pool = sqlx::SqlitePool::connect_with(options).await.expect("open");
                before.run(&pool).await.expect("previous schema");
                fill_previous_schema!(pool, project);
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&db.url).await.expect("open");
                before.run(&pool).await.expect("previous schema");
                fill_previous_schema!(pool, project);
            }
        }

        let mut config = ServeConfig::for_database(&db.url);
        config.index_interval_ms = 0;
        let server = TestServer::start_on(db, config).await;
        let token = server.admin_token().await;
        let (through, newest) = watermark(&server).await;
        match backend {
            Backend::Sqlite => {
                // The lookups now live in their own file, which starts empty: the old rows are
                // found through the tail until the follower reaches them.
                assert_eq!((through, newest), (0, 20), "the lookups file starts empty");
                assert_eq!(lookups(&server, &token, "ptarmigan").await, [10, 5, 20]);
                server.store.index_logs(1_000).await.expect("index");
                assert_eq!(watermark(&server).await, (20, 20));
            }
            Backend::Postgres => {
                assert_eq!((through, newest), (20, 20), "the old rows count as indexed");
            }
        }
        let counts: Vec<(i64, i64)> = server
            .db
            .rows(
                "SELECT (SELECT COUNT(*) FROM app_logs_by_trace), \
             (SELECT COUNT(*) FROM app_logs_by_user)",
            )
            .await;
        assert_eq!(
            counts[0],
            (10, 5),
            "the old rows' entries were carried over"
        );
        assert_eq!(lookups(&server, &token, "ptarmigan").await, [10, 5, 20]);
        // New rows after the upgrade join them through the tail, then through the follower.
        let (status, _) = server.ingest(&batch(4, "ptarmigan")).await;
        assert_eq!(status, 200);
        assert_eq!(lookups(&server, &token, "ptarmigan").await, [14, 9, 24]);
        server.store.index_logs(1_000).await.expect("index");
        assert_eq!(lookups(&server, &token, "ptarmigan").await, [14, 9, 24]);
        server.stop().await;
    }
);

/// A SQLite database whose follower wrote its entries into the database file itself (migrations
/// 0010 and 0011) upgrades in place: the old structures leave the file, the lookups file is
/// filled from the start, and lookups are exact before and after it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lookups_leave_the_database_file() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut before = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 12)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db.url.trim_start_matches("sqlite://"))
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("open");
    before.run(&pool).await.expect("previous schema");
    let project = Uuid::now_v7();
    let rows = pool.clone();
    fill_previous_schema!(rows, project);
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("open");
    // The previous follower's step, as it ran in this file.
    for sql in [
        "INSERT INTO app_logs_by_trace (trace_id, seq) SELECT trace_id, seq FROM app_logs \
         WHERE trace_id IS NOT NULL",
        "INSERT INTO app_logs_by_user (user_id, timestamp, seq) SELECT user_id, timestamp, seq \
         FROM app_logs WHERE user_id IS NOT NULL",
        "INSERT INTO app_logs_fts (rowid, message) SELECT seq, message FROM app_logs",
        "UPDATE log_index_state SET indexed_through = 20",
    ] {
        sqlx::query(sql).execute(&pool).await.expect("old step");
    }
    pool.close().await;

    let mut config = ServeConfig::for_database(&db.url);
    config.index_interval_ms = 0;
    let server = TestServer::start_on(db, config).await;
    let token = server.admin_token().await;
    let left: Vec<(i64,)> = server
        .db
        .rows(
            "SELECT COUNT(*) FROM main.sqlite_master WHERE name IN ('app_logs_by_trace', \
             'app_logs_by_user', 'app_logs_fts', 'log_index_state')",
        )
        .await;
    assert_eq!(left[0].0, 0, "the old structures left the database file");
    assert_eq!(watermark(&server).await, (0, 20));
    assert_eq!(lookups(&server, &token, "ptarmigan").await, [10, 5, 20]);
    server.store.index_logs(1_000).await.expect("index");
    assert_eq!(watermark(&server).await, (20, 20));
    assert_eq!(lookups(&server, &token, "ptarmigan").await, [10, 5, 20]);
    server.stop().await;
}

/// A SQLite database restored from a copy older than its lookups file (or that lost commits the
/// lookups file kept): the watermark is above every seq the database has handed out, so new
/// rows would be numbered below it and never indexed. The collector empties the lookups file at
/// start instead, and the new rows are found before and after the follower reaches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lookups_ahead_of_the_database_are_rebuilt() {
    let server = TestServer::start_with(Backend::Sqlite, |c| c.index_interval_ms = 0).await;
    let (status, _) = server.ingest(&batch(5, "wagtail")).await;
    assert_eq!(status, 200);
    server.store.index_logs(1_000).await.expect("index");
    assert_eq!(watermark(&server).await, (5, 5));
    let db = server.stop().await;
    // The database as it was before those rows, with the lookups file kept.
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("open");
    for sql in [
        "DROP TRIGGER app_logs_index_delete",
        "DELETE FROM app_logs",
        "DELETE FROM ingest_batches",
        "DELETE FROM log_counts",
    ] {
        sqlx::query(sql).execute(&pool).await.expect("restore");
    }
    pool.close().await;

    let mut config = ServeConfig::for_database(&db.url);
    config.index_interval_ms = 0;
    let server = TestServer::start_on(db, config).await;
    let token = server.admin_token().await;
    assert_eq!(
        watermark(&server).await,
        (0, 0),
        "the lookups file was emptied"
    );
    let (status, _) = server.ingest(&batch(3, "wagtail")).await;
    assert_eq!(status, 200);
    assert_eq!(lookups(&server, &token, "wagtail").await, [3, 3, 3]);
    server.store.index_logs(1_000).await.expect("index");
    assert_eq!(watermark(&server).await, (3, 3));
    assert_eq!(lookups(&server, &token, "wagtail").await, [3, 3, 3]);
    server.stop().await;
}

/// The key of the advisory lock every PostgreSQL write group holds shared
/// (`store::postgres::WRITERS_LOCK`).
const WRITERS_LOCK: i64 = 0x7472_6163_6577_6900 + 16;

/// On PostgreSQL rows draw their seq at insert and appear at commit, so a row can commit above
/// one still open. The step must wait for the open one: had the watermark passed it, that row
/// would be neither in the entries nor in the tail scanned above the watermark, and its trace
/// would lose it for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_watermark_waits_for_a_writer_holding_a_lower_seq() {
    let server = TestServer::start_with(Backend::Postgres, |c| c.index_interval_ms = 0).await;
    let token = server.admin_token().await;
    let project: Vec<(Uuid,)> = server.db.rows("SELECT id FROM projects LIMIT 1").await;
    let pool = sqlx::PgPool::connect(&server.db.url).await.expect("pg");
    // A write group as the writer opens it, with its row inserted but not committed.
    let mut open = pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
        .bind(WRITERS_LOCK)
        .execute(&mut *open)
        .await
        .expect("shared lock");
    let lower: i64 = sqlx::query_scalar(
        "INSERT INTO app_logs (id, project_id, timestamp, level, source, message, trace_id, \
         user_id, dedup_count, first_seen_at, last_seen_at, created_at) \
         VALUES ($1, $2, 1, 'INFO', 'backend', 'osprey early', $3, 'u-follow', 1, 1, 1, 1) \
         RETURNING seq",
    )
    .bind(Uuid::now_v7())
    .bind(project[0].0)
    .bind(TRACE)
    .fetch_one(&mut *open)
    .await
    .expect("open row");
    // A later batch commits above it.
    let (status, body) = server.ingest(&batch(3, "osprey")).await;
    assert_eq!(status, 200, "{body}");
    let (_, newest) = watermark(&server).await;
    assert!(newest > lower, "the committed rows drew higher seqs");
    // The step cannot finish while the lower row's transaction is open.
    let store = server.store.clone();
    let mut step = tokio::spawn(async move { store.index_logs(1_000).await });
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut step).await;
    assert!(
        waited.is_err(),
        "the step passed an open writer: {waited:?}"
    );
    open.commit().await.expect("commit");
    let step = step.await.expect("join").expect("step");
    assert!(step.covered > 0, "{step:?}");
    let (through, newest) = watermark(&server).await;
    assert_eq!(through, newest, "the step covered both rows");
    let entries: Vec<(i64,)> = server
        .db
        .rows(&format!(
            "SELECT COUNT(*) FROM app_logs_by_trace WHERE trace_id = '{TRACE}' AND seq = {lower}"
        ))
        .await;
    assert_eq!(entries[0].0, 1, "the late row has its entry");
    assert_eq!(lookups(&server, &token, "osprey").await, [4, 4, 4]);
    pool.close().await;
    server.stop().await;
}

/// The three lookups against what was sent, at random follower progress: rounds of logs over
/// three traces, users and words, each round followed by an index step of a random size (none,
/// part, all), then every lookup's `total` and rows compared with the expected set.
fn lookups_match_what_was_sent_at_any_progress(backend: Backend) {
    use proptest::prelude::*;
    const TRACES: [&str; 3] = [
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0af7651916cd43dd8448eb211c80319c",
        "11111111111111111111111111111111",
    ];
    const USERS: [&str; 3] = ["u1", "u2", "u3"];
    const WORDS: [&str; 3] = ["heron", "egret", "bittern"];
    // (trace, user, word) per log; the message is "<word> <n>", unique by n.
    type Log = (Option<usize>, Option<usize>, usize);
    let sent: std::cell::RefCell<Vec<Log>> = std::cell::RefCell::new(Vec::new());
    let sent = &sent;
    let log = (
        prop::option::of(0usize..3),
        prop::option::of(0usize..3),
        0usize..3,
    );
    let strategy = (prop::collection::vec(log, 0..30), 0i64..60);
    let setup = async {
        let server = TestServer::start_with(backend, |c| {
            c.rate_limit = 1e9;
            c.rate_burst = 1e9;
            c.index_interval_ms = 0;
        })
        .await;
        let token = server.admin_token().await;
        (server, token)
    };
    common::check_property(
        24,
        strategy,
        setup,
        |fixture, (logs, step)| async move {
            let (server, token) = &*fixture;
            let base = sent.borrow().len();
            if !logs.is_empty() {
                let entries: Vec<Value> = logs
                    .iter()
                    .enumerate()
                    .map(|(i, (t, u, w))| {
                        json!({"level": "INFO", "message": format!("{} {}", WORDS[*w], base + i),
                               "trace_id": t.map(|t| TRACES[t]), "user_id": u.map(|u| USERS[u])})
                    })
                    .collect();
                let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
                                   "logs": entries});
                let (status, body) = server.ingest(&batch).await;
                prop_assert_eq!(status, 200, "{}", body);
                sent.borrow_mut().extend(logs);
            }
            if step > 0 {
                server.store.index_logs(step).await.expect("index step");
            }
            let sent = sent.borrow().clone();
            for k in 0..3 {
                let queries = [
                    ("trace_id", TRACES[k]),
                    ("user_id", USERS[k]),
                    ("q", WORDS[k]),
                ];
                for (field, (name, value)) in queries.into_iter().enumerate() {
                    let wanted = |l: &Log| match field {
                        0 => l.0 == Some(k),
                        1 => l.1 == Some(k),
                        _ => l.2 == k,
                    };
                    let mut expected: Vec<String> = sent
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| wanted(l))
                        .map(|(n, l)| format!("{} {n}", WORDS[l.2]))
                        .collect();
                    expected.sort();
                    let body: Value = server
                        .client
                        .get(server.url("/api/v1/logging/logs"))
                        .bearer_auth(token)
                        .query(&[(name, value), ("limit", "1000")])
                        .send()
                        .await
                        .expect("query")
                        .json()
                        .await
                        .expect("json");
                    let mut got: Vec<String> = body["items"]
                        .as_array()
                        .expect("items")
                        .iter()
                        .filter_map(|i| i["message"].as_str().map(str::to_owned))
                        .collect();
                    got.sort();
                    prop_assert_eq!(&got, &expected, "{}={}", name, value);
                    prop_assert_eq!(body["total"].as_u64(), Some(expected.len() as u64));
                }
            }
            Ok(())
        },
        |(server, _)| server.stop(),
    );
}

property_on_both_backends!(
    property_9_lookups_at_any_follower_progress,
    super::lookups_match_what_was_sent_at_any_progress
);
