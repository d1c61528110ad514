//! Test harness: a real collector on a real socket over a real database, for both backends.
//!
//! `both_backends!` turns one async test body into a SQLite test and a PostgreSQL test, so the
//! two backends are held to one contract by one suite. PostgreSQL tests create a fresh database
//! per test on the server named by `TRACEWIRE_TEST_PG` (default: the local trust-auth server).
#![allow(dead_code)]

pub mod binary;
pub mod receivers;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tracewire_server::bootstrap::{BootstrapSecrets, bootstrap};
use tracewire_server::config::ServeConfig;
use tracewire_server::store::{self, CountedTable, Store};
use uuid::Uuid;

/// Key every test server is bootstrapped with.
pub const KEY: &str = "tw_test_key";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    /// False for an [`TestDb::alias`]: only the owner drops the PostgreSQL database.
    owner: bool,
}

pub fn pg_admin_url() -> String {
    std::env::var("TRACEWIRE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("tracewire.db").display());
                Self {
                    url,
                    backend,
                    _dir: Some(dir),
                    owner: true,
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!("tw_test_{}", Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&admin)
                    .await
                    .expect("PostgreSQL reachable");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create test database");
                pool.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Self {
                    url: format!("{base}/{name}"),
                    backend,
                    _dir: None,
                    owner: true,
                }
            }
        }
    }
}

/// A PostgreSQL test database is dropped with its `TestDb`, so a run leaves none behind (the
/// test command compares the count of `tw_test_*` databases before and after). `WITH (FORCE)`
/// ends connections a pool still holds; the drop runs on its own thread and runtime because
/// `Drop` cannot await and the test's runtime may be shutting down.
impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend != Backend::Postgres || !self.owner {
            return;
        }
        let Some((_, name)) = self.url.rsplit_once('/') else {
            return;
        };
        let name = name.to_owned();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let pool = sqlx::PgPool::connect(&pg_admin_url()).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                Ok::<(), sqlx::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.url);
        }
    }
}

impl TestDb {
    /// Every row `sql` returns, read with plain SQL on a fresh connection (not through the code
    /// under test).
    pub async fn rows<T>(&self, sql: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(&self.url).await;
                let v = sqlx::query_as(sql).fetch_all(&pool).await.expect("rows");
                pool.close().await;
                v
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("pg");
                let v = sqlx::query_as(sql).fetch_all(&pool).await.expect("rows");
                pool.close().await;
                v
            }
        }
    }

    /// The bytes of a SQLite database file, its lookups file and their WALs, for tests that check no
    /// secret is left anywhere on disk.
    pub fn sqlite_file_bytes(&self) -> Vec<u8> {
        let path = self.url.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(path).expect("database file");
        let lookups = tracewire_server::store::sqlite_lookups_path(path.as_ref());
        let lookups = lookups.to_string_lossy();
        for file in [
            format!("{path}-wal"),
            lookups.to_string(),
            format!("{lookups}-wal"),
        ] {
            if let Ok(more) = std::fs::read(file) {
                bytes.extend(more);
            }
        }
        bytes
    }

    /// Whether `needle` appears anywhere in the SQLite file or its WAL (a secret reached disk).
    pub fn sqlite_file_contains(&self, needle: &[u8]) -> bool {
        self.sqlite_file_bytes()
            .windows(needle.len())
            .any(|w| w == needle)
    }

    /// A SQLite database at `dir/tracewire.db` in a directory the test owns (e.g. a small tmpfs).
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        Self {
            url: format!("sqlite://{}", dir.join("tracewire.db").display()),
            backend: Backend::Sqlite,
            _dir: None,
            owner: true,
        }
    }

    /// Another handle on the same database (a second collector on it); it must not outlive
    /// `self`, which alone drops the database.
    pub fn alias(&self) -> Self {
        Self {
            url: self.url.clone(),
            backend: self.backend,
            _dir: None,
            owner: false,
        }
    }
}

/// A running collector.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub db: TestDb,
    pub store: Arc<dyn Store>,
    pub project_id: Uuid,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// A collector whose ingest rate limit never bites: for tests that load many rows through
    /// the ingest endpoint before querying them.
    pub async fn start_unthrottled(backend: Backend) -> Self {
        Self::start_with(backend, |c| {
            c.rate_limit = 1e9;
            c.rate_burst = 1e9;
        })
        .await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut ServeConfig)) -> Self {
        let db = TestDb::new(backend).await;
        let mut config = ServeConfig::for_database(&db.url);
        tweak(&mut config);
        Self::start_on(db, config).await
    }

    /// Starts a new collector on an existing database (after a stop or a crash).
    pub async fn reopen(db: TestDb) -> Self {
        let config = ServeConfig::for_database(&db.url);
        Self::start_on(db, config).await
    }

    pub async fn start_on(db: TestDb, config: ServeConfig) -> Self {
        let store = store::connect(&db.url, &tracewire_server::store_options(&config))
            .await
            .expect("store opens");
        let secrets = BootstrapSecrets {
            admin_password: Some("admin-password".into()),
            ingest_key: Some(KEY.into()),
        };
        let boot = bootstrap(store.as_ref(), &secrets)
            .await
            .expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let run_store = store.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            tracewire_server::run(config, run_store, listener, shutdown)
                .await
                .expect("collector runs");
        });
        Self {
            addr,
            base: format!("http://{addr}"),
            db,
            store,
            project_id: boot.project_id,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Graceful shutdown; returns once the writer has drained.
    pub async fn stop(mut self) -> TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("collector task");
        }
        self.db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a JSON value to the ingest endpoint with the test key.
    pub async fn ingest(&self, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/api/v1/logging/logs"))
            .header("x-tracewire-key", KEY)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// One API call with a bearer token: the status and the JSON body (`null` when the body
    /// is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Logs in as the bootstrapped `admin` and returns the bearer token.
    pub async fn admin_token(&self) -> String {
        self.login("admin", "admin-password").await
    }

    /// Creates the user `viewer` (role viewer) and returns its bearer token.
    pub async fn viewer_token(&self) -> String {
        self.store
            .insert_user(&store::NewUser {
                id: Uuid::now_v7(),
                username: "viewer".into(),
                password_hash: tracewire_server::bootstrap::hash_password("viewer-password".into())
                    .await
                    .expect("hash"),
                role: "viewer".into(),
                created_at: tracewire_server::clock::now_us(),
            })
            .await
            .expect("viewer");
        self.login("viewer", "viewer-password").await
    }

    /// Signs in and returns the bearer token.
    async fn login(&self, username: &str, password: &str) -> String {
        let body: Value = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn count(&self, table: CountedTable) -> i64 {
        self.store.count_rows(table).await.expect("count")
    }

    /// Runs a read-only SQL query returning (text, i64) pairs on whichever backend this is.
    pub async fn pairs(&self, sql: &str) -> Vec<(String, i64)> {
        match self.db.backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(&self.db.url).await;
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
                pool.close().await;
                rows
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db.url).await.expect("pg");
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
                pool.close().await;
                rows
            }
        }
    }

    /// Runs a statement (for test setup such as marking an exception resolved).
    pub async fn execute(&self, sql: &str) {
        match self.db.backend {
            Backend::Sqlite => {
                let pool = sqlite_pool(&self.db.url).await;
                sqlx::query(sql).execute(&pool).await.expect("statement");
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db.url).await.expect("pg");
                sqlx::query(sql).execute(&pool).await.expect("statement");
                pool.close().await;
            }
        }
    }
}

/// One connection to a SQLite database with its lookups file attached as the collector's
/// connections have it, so statements can name the index follower's tables.
pub async fn sqlite_pool(url: &str) -> sqlx::SqlitePool {
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("sqlite url");
    tracewire_server::store::sqlite_open_with_lookups(options)
        .await
        .expect("sqlite")
}

/// The whole seconds of an answer's `Retry-After`, if it has a valid one.
pub fn retry_after_secs(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A small valid batch with `n` distinct logs.
pub fn batch(n: usize) -> Value {
    let logs: Vec<Value> = (0..n)
        .map(|i| json!({"level": "INFO", "message": format!("log {i} {}", Uuid::new_v4())}))
        .collect();
    json!({ "batch_id": Uuid::new_v4().to_string(), "source": "frontend", "logs": logs })
}

/// Runs a property test whose cases are async, on one runtime for the whole run: `setup` builds
/// the fixture once (a server, a database), each of `cases` values of `strategy` is checked by
/// `case` with a handle on it, and `teardown` stops the fixture before a failure is reported, so
/// a failing case leaves no server running. Proptest still shrinks to the smallest failure.
pub fn check_property<S, T, C, CF, D, DF>(
    cases: u32,
    strategy: S,
    setup: impl std::future::Future<Output = T>,
    case: C,
    teardown: D,
) where
    S: proptest::strategy::Strategy,
    C: Fn(Arc<T>, S::Value) -> CF,
    CF: std::future::Future<Output = Result<(), proptest::test_runner::TestCaseError>>,
    D: FnOnce(T) -> DF,
    DF: std::future::Future,
{
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fixture = Arc::new(runtime.block_on(setup));
    let mut runner =
        proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(cases));
    let result = runner.run(&strategy, |value| {
        runtime.block_on(case(Arc::clone(&fixture), value))
    });
    if let Ok(fixture) = Arc::try_unwrap(fixture) {
        runtime.block_on(teardown(fixture));
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Declares `$name::sqlite` and `$name::postgres`, each calling `$property(backend)`: the
/// two-backend pair of a property test that owns its runtime ([`check_property`]).
#[macro_export]
macro_rules! property_on_both_backends {
    ($name:ident, $property:path) => {
        mod $name {
            #[test]
            fn sqlite() {
                $property(super::common::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                $property(super::common::Backend::Postgres)
            }
        }
    };
}

/// Runs one async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(common::Backend::Postgres).await
            }
        }
    };
}
