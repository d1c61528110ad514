//! sqlx statement timings become `db_query` metrics of the request's route and trace: a real
//! axum app on loopback, a real SQLite database through sqlx, sqlx's own `sqlx::query` events.
//!
//! sqlx runs SQLite statements on a worker thread, so the subscriber must be the global one
//! (as in an application); this file therefore holds a single test, and no other test binary
//! shares its process.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Row, SqlitePool};
use tracewire_middleware::{Config, MemorySink, Tracewire};
use tracing_subscriber::prelude::*;

const SLOW_MS: u64 = 20;

async fn order(State(pool): State<SqlitePool>, Path(id): Path<i64>) -> String {
    sqlx::query("SELECT name FROM orders WHERE id = ?")
        .bind(id)
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten()
        .map(|row| row.get::<String, _>(0))
        .unwrap_or_default()
}

/// Two million rows of a recursive CTE: far over the threshold on any machine.
async fn report(State(pool): State<SqlitePool>) -> String {
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) \
               SELECT count(*) FROM c";
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap_or(-1);
    n.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_ship_as_metrics_of_their_route_and_trace() {
    let sink = MemorySink::new();
    let config = Config {
        flush_interval: Duration::from_secs(3600),
        batch_size: 1000,
        slow_query_ms: SLOW_MS,
        ..Config::default()
    };
    let tracewire = Tracewire::with_sink(Arc::new(sink.clone()), config).expect("middleware");
    tracing_subscriber::registry()
        .with(tracewire.tracing_layer())
        .try_init()
        .expect("the only subscriber of this process");

    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite");
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("create");
    sqlx::query("INSERT INTO orders (id, name) VALUES (42, 'tea')")
        .execute(&pool)
        .await
        .expect("insert");

    let app = Router::new()
        .route("/orders/{id}", get(order))
        .route("/report", get(report))
        .with_state(pool)
        .layer(tracewire.trace_layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let mut traces = Vec::new();
    for path in ["/orders/42", "/report"] {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let trace = response.headers()["x-trace-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let body = response.text().await.expect("body");
        assert!(body == "tea" || body == "2000000", "{body}");
        traces.push(trace);
    }
    tracewire.shipper().flush().await;

    let metrics = sink.metrics();
    assert!(
        metrics
            .iter()
            .all(|m| m.metric_type == "db_query" && m.unit.as_deref() == Some("ms"))
    );
    // The flag follows the configured threshold for every statement.
    for m in &metrics {
        let slow = m.tags.as_ref().and_then(|t| t["slow"].as_bool());
        assert_eq!(slow, Some(m.value >= SLOW_MS as f64), "{m:?}");
    }
    // Setup statements ran outside any request: shipped, without trace or route.
    let create = metrics
        .iter()
        .find(|m| m.metric_name.starts_with("CREATE TABLE"))
        .expect("the CREATE statement was timed");
    assert_eq!(
        (create.trace_id.as_ref(), create.endpoint.as_ref()),
        (None, None)
    );

    let select = metrics
        .iter()
        .find(|m| m.trace_id.as_ref() == Some(&traces[0]))
        .expect("the request's statement carries its trace");
    assert_eq!(
        select.endpoint.as_deref(),
        Some("/orders/{id}"),
        "route template, not /orders/42"
    );
    // sqlx's summary (its first words) names the metric; the whole text rides in the tags.
    assert_eq!(select.metric_name, "SELECT name FROM orders");
    assert_eq!(
        select.tags.as_ref().map(|t| t["statement"].clone()),
        Some("SELECT name FROM orders WHERE id = ?".into())
    );
    assert_eq!(
        select.tags.as_ref().map(|t| t["rows_returned"].clone()),
        Some(1.into())
    );

    let slow = metrics
        .iter()
        .find(|m| m.trace_id.as_ref() == Some(&traces[1]))
        .expect("the report's statement carries its trace");
    assert_eq!(slow.endpoint.as_deref(), Some("/report"));
    assert!(slow.value >= SLOW_MS as f64, "{}", slow.value);
    assert_eq!(
        slow.tags.as_ref().map(|t| t["slow"].clone()),
        Some(true.into())
    );
    let statement = slow
        .tags
        .as_ref()
        .and_then(|t| t["statement"].as_str())
        .unwrap_or_default();
    assert!(statement.starts_with("WITH RECURSIVE c(x)"), "{statement}");

    // Statements are metrics only, never log lines; request logs name the route template.
    let logs = sink.logs();
    assert!(
        logs.iter()
            .all(|l| l.module.as_deref() != Some("sqlx::query"))
    );
    let request = logs
        .iter()
        .find(|l| {
            l.trace_id.as_ref() == Some(&traces[0])
                && l.module.as_deref() == Some(tracewire_middleware::REQUEST_LOG_MODULE)
        })
        .expect("request log");
    assert_eq!(request.function.as_deref(), Some("/orders/{id}"));
    assert_eq!(request.request_path.as_deref(), Some("/orders/42"));
    tracewire.shutdown().await;
}
