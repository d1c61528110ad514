//! The demo's failing checkout against a real collector: the backend request log (5xx) and the
//! handler's error log reach the collector's database under the trace id the browser sent.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracewire_demo::DemoConfig;
use tracewire_server::bootstrap::{BootstrapSecrets, bootstrap};
use tracewire_server::config::ServeConfig;
use tracewire_server::store;
use tracing_subscriber::prelude::*;

const KEY: &str = "tw_demo_test_key";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `level, source, message, module, response_status` of one stored log.
type LogRow = (String, String, String, Option<String>, Option<i64>);

/// A task serving until its stop sender fires.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("stops within 30 s")
            .expect("task ends without panicking");
    }
}

async fn start_collector(database_url: &str) -> (String, Running) {
    let config = ServeConfig::for_database(database_url);
    let store = store::connect(database_url, &tracewire_server::store_options(&config))
        .await
        .expect("store opens");
    let secrets = BootstrapSecrets {
        admin_password: Some("admin-password".into()),
        ingest_key: Some(KEY.into()),
    };
    bootstrap(store.as_ref(), &secrets)
        .await
        .expect("bootstrap");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        tracewire_server::run(config, Arc::clone(&store), listener, shutdown)
            .await
            .expect("collector runs");
    });
    (base, Running { stop, task })
}

async fn start_demo(collector: &str) -> (String, Running) {
    let config = DemoConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        collector: collector.to_owned(),
        key: KEY.to_owned(),
        public_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/public").into(),
        vendor_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules").into(),
    };
    let tracewire = tracewire_middleware::init(tracewire_middleware::Config::new(
        config.collector.clone(),
        config.key.clone(),
    ))
    .expect("middleware starts");
    // This test binary has one test, so it may own the global subscriber.
    tracing_subscriber::registry()
        .with(
            tracewire
                .tracing_layer()
                .with_filter(tracewire_demo::shipped_events()),
        )
        .init();
    let listener = TcpListener::bind(config.listen).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        tracewire_demo::run(&config, tracewire, listener, shutdown)
            .await
            .expect("demo runs");
    });
    (base, Running { stop, task })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_checkout_reaches_the_collector_under_the_incoming_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("tracewire.db").display());
    let (collector, collector_task) = start_collector(&database_url).await;
    let (demo, demo_task) = start_demo(&collector).await;

    let response = reqwest::Client::new()
        .post(format!("{demo}/api/checkout/fail"))
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .send()
        .await
        .expect("demo answers");
    assert_eq!(response.status().as_u16(), 502);
    let echoed = response
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(echoed.contains(TRACE_ID), "traceparent echoed: {echoed:?}");
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body["error"]["code"], "payment_declined");

    // Stopping the demo flushes the middleware; a batch is acknowledged only once committed.
    demo_task.stop().await;

    let pool = sqlx::SqlitePool::connect(&database_url)
        .await
        .expect("database opens");
    let rows: Vec<LogRow> = sqlx::query_as(
        "SELECT level, source, message, module, response_status FROM app_logs WHERE trace_id = $1",
    )
    .bind(TRACE_ID)
    .fetch_all(&pool)
    .await
    .expect("query logs");
    pool.close().await;
    collector_task.stop().await;

    let request_log = rows.iter().find(|(_, source, _, module, status)| {
        source == "backend"
            && module.as_deref() == Some(tracewire_middleware::REQUEST_LOG_MODULE)
            && status.is_some_and(|s| (500..600).contains(&s))
    });
    assert!(request_log.is_some(), "no 5xx request log in {rows:#?}");
    let error_log = rows.iter().find(|(level, source, message, _, _)| {
        source == "backend" && level == "ERROR" && message.contains("payment provider declined")
    });
    assert!(error_log.is_some(), "no backend error log in {rows:#?}");
}
