//! `tracewire-ingest-bench`: sustained ingest over HTTP on loopback.
//!
//! By default it starts the real `tracewire` binary (found next to this one) on a fresh database
//! (a temp SQLite file, or a fresh `tw_bench_*` database when `--database-url` names a
//! PostgreSQL server's admin database), drives it with `--clients` concurrent clients posting
//! batches of `--batch-size` realistic logs, and reports logs/s, acknowledgement latency per
//! batch, the collector's peak RSS (VmHWM) and errors by status. Afterwards it checks that the
//! database holds exactly the acknowledged logs (rows plus dedup counts).
//!
//! On a spawned collector over SQLite it also reports the bytes the collector wrote to disk per
//! acknowledged log (`/proc/<pid>/io`, checkpoints included) and the index follower's lag (rows
//! committed but not yet in the trace, user and full-text lookups), sampled every 100 ms.
//!
//! `--baseline` sends the same load to a trivial in-process endpoint that parses the JSON and
//! answers 200 without storing: the ceiling of HTTP + JSON on this machine. `--url` drives an
//! already running collector instead. `--collectors N` starts N collectors on one PostgreSQL
//! database (ARCHITECTURE §5) and spreads each client's batches over them round-robin, as a
//! load balancer would; the final check then covers what all of them stored.

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use clap::Parser;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracewire_shared::wire::IngestBatch;
use uuid::Uuid;

#[path = "ingest_bench/loggen.rs"]
mod loggen;

use loggen::LogGen;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Sustained ingest benchmark of the Tracewire collector.
#[derive(Debug, Parser)]
#[command(name = "tracewire-ingest-bench")]
struct Args {
    /// Database: `sqlite://path`, a PostgreSQL database URL, or a PostgreSQL URL ending in
    /// `/postgres` (a fresh `tw_bench_*` database is created there and dropped afterwards).
    /// Default: a fresh temp SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Concurrent clients, each with one batch in flight.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Logs per batch; each client posts one batch and waits for its answer before the next.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 20)]
    duration_secs: u64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    /// Benchmark an already running collector at this base URL instead of spawning one.
    #[arg(long)]
    url: Option<String>,
    /// Ingest key (given to the spawned collector, or valid on `--url`).
    #[arg(long, default_value = "tw_bench_key")]
    key: String,
    /// SQLite `synchronous` mode passed to the spawned collector.
    #[arg(long)]
    sqlite_synchronous: Option<String>,
    /// Drive a trivial in-process endpoint (parse JSON, answer 200, store nothing).
    #[arg(long)]
    baseline: bool,
    /// After the run, drive the `--baseline` endpoint with the same load for the same time and
    /// print the collector's throughput as a share of it (the ratio of one invocation).
    #[arg(long)]
    with_baseline: bool,
    /// Collectors to start on the database (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    collectors: u16,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let mut target = Target::start(&args).await?;
    let db = match target.db_url.as_deref() {
        Some(url) => LagDb::open(url).await,
        None => None,
    };
    let lag = match &db {
        Some(db) => sample_index_lag(db.clone()).await,
        None => None,
    };
    let wal_peaks = target.sqlite_file.clone().map(sample_wal_peaks);
    let written_before = target.written_bytes();
    let wal_before = match &db {
        Some(db) => db.wal_lsn().await,
        None => None,
    };
    let report = drive(&args, &target.bases).await;
    let wal_written = match (&db, wal_before) {
        (Some(db), Some(before)) => db.wal_lsn().await.map(|after| after - before),
        _ => None,
    };
    let written = target
        .written_bytes()
        .zip(written_before)
        .map(|(after, before)| after.saturating_sub(before));
    let rss_kib = target.peak_rss_kib();
    let lag = match lag {
        Some((task, stop)) => {
            stop.store(true, Ordering::SeqCst);
            task.await.ok()
        }
        None => None,
    };
    let wal_peaks = match wal_peaks {
        Some((task, stop)) => {
            stop.store(true, Ordering::SeqCst);
            task.await.ok()
        }
        None => None,
    };
    if let Some(db) = db {
        db.close().await;
    }
    let stored = target.stop_and_count().await?;
    report.print(&args, rss_kib);
    // Warm-up and measured window together, over every log acknowledged in them.
    let per_log = |what: &str, bytes: u64| {
        println!(
            "{what}: {:.1} MiB, {:.0} B per acknowledged log",
            bytes as f64 / 1_048_576.0,
            bytes as f64 / report.acked_logs_total.max(1) as f64
        );
    };
    if let Some(bytes) = written {
        per_log("written to disk by the collector", bytes);
    }
    if let Some(bytes) = wal_written {
        // The whole server's WAL, the bench's database and any other activity included.
        per_log("PostgreSQL WAL written", bytes.max(0).unsigned_abs());
    }
    if let Some((database, lookups)) = wal_peaks {
        println!(
            "peak WAL (sampled every 100 ms): database {:.1} MiB, lookups file {:.1} MiB",
            database as f64 / 1_048_576.0,
            lookups as f64 / 1_048_576.0
        );
    }
    if let Some(lag) = lag.filter(|h| !h.is_empty()) {
        println!(
            "index follower lag (rows not yet indexed, every 100 ms): p50 {}, p99 {}, max {}",
            lag.value_at_quantile(0.50),
            lag.value_at_quantile(0.99),
            lag.max()
        );
    }
    if args.with_baseline && !args.baseline {
        // After the collector stopped, so the two never share the cores.
        let base = start_baseline().await?;
        let baseline = drive(&args, &[base]).await;
        let rate = |r: &Report| r.acked_logs_measured as f64 / r.measured.as_secs_f64();
        println!(
            "baseline (HTTP + JSON parse, nothing stored, same load and duration): {:.0} logs/s; \
             the collector ran at {:.1} % of it",
            rate(&baseline),
            100.0 * rate(&report) / rate(&baseline).max(1.0)
        );
    }
    if let Some((rows, total)) = stored {
        let ok = total == report.acked_logs_total;
        println!(
            "verify: app_logs rows {rows}, sum(dedup_count) {total}, acknowledged logs {} -> {}",
            report.acked_logs_total,
            if ok { "OK" } else { "MISMATCH" }
        );
        target.cleanup().await;
        if !ok {
            return Err("stored logs differ from acknowledged logs".into());
        }
    } else {
        target.cleanup().await;
    }
    Ok(())
}

/// What the load runs against, and how to tear it down.
struct Target {
    /// Base URLs the clients spread their batches over.
    bases: Vec<String>,
    /// The spawned collectors (none for `--url` and `--baseline`).
    children: Vec<Child>,
    /// URL of the database the collector writes to, when known (for the final check).
    db_url: Option<String>,
    /// Fresh PostgreSQL database to drop afterwards: (admin URL, name).
    drop_pg: Option<(String, String)>,
    /// Temp SQLite file to remove afterwards.
    sqlite_file: Option<std::path::PathBuf>,
}

impl Target {
    async fn start(args: &Args) -> Result<Self, BoxError> {
        let mut target = Target {
            bases: Vec::new(),
            children: Vec::new(),
            db_url: args.database_url.clone(),
            drop_pg: None,
            sqlite_file: None,
        };
        if args.baseline {
            target.bases = vec![start_baseline().await?];
            target.db_url = None;
            return Ok(target);
        }
        if let Some(url) = &args.url {
            target.bases = vec![url.trim_end_matches('/').to_owned()];
            return Ok(target);
        }
        if args.collectors > 1
            && !args
                .database_url
                .as_deref()
                .is_some_and(|u| u.starts_with("postgres"))
        {
            return Err("--collectors above 1 needs a PostgreSQL --database-url".into());
        }
        let db_url = match args.database_url.as_deref() {
            None => {
                let path =
                    std::env::temp_dir().join(format!("tw_bench_{}.db", Uuid::now_v7().simple()));
                target.sqlite_file = Some(path.clone());
                format!("sqlite://{}", path.display())
            }
            Some(url) if url.starts_with("postgres") && url.ends_with("/postgres") => {
                let name = format!("tw_bench_{}", Uuid::now_v7().simple());
                let pool = sqlx::PgPool::connect(url).await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                target.drop_pg = Some((url.to_owned(), name.clone()));
                format!("{}/{name}", url.trim_end_matches("/postgres"))
            }
            Some(url) => url.to_owned(),
        };
        target.db_url = Some(db_url.clone());
        // One after the other: the first migrates and bootstraps, the others find both done.
        for _ in 0..args.collectors {
            target.spawn_collector(args, &db_url).await?;
        }
        Ok(target)
    }

    async fn spawn_collector(&mut self, args: &Args, db_url: &str) -> Result<(), BoxError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let exe = std::env::current_exe()?.with_file_name("tracewire");
        let mut cmd = Command::new(&exe);
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", db_url])
            // Measure the pipeline, not the per-key limiter.
            .args(["--rate-limit", "1000000000", "--rate-burst", "1000000000"])
            .env("TRACEWIRE_INGEST_KEY", &args.key)
            .env("TRACEWIRE_ADMIN_PASSWORD", "bench-admin-password")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        if let Some(sync) = &args.sqlite_synchronous {
            cmd.args(["--sqlite-synchronous", sync]);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        self.children.push(child);
        let base = format!("http://127.0.0.1:{port}");
        self.wait_ready(&base).await?;
        self.bases.push(base);
        Ok(())
    }

    /// Waits for the last spawned collector, at `base`, to answer `/healthz`.
    async fn wait_ready(&mut self, base: &str) -> Result<(), BoxError> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(child) = self.children.last_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(format!("collector exited during start: {status}").into());
            }
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("collector not ready after 30 s".into())
    }

    /// Bytes the spawned collector has caused to be written to storage so far (one collector:
    /// with several, the database's own writes are the ones that count, and they are not here).
    fn written_bytes(&self) -> Option<u64> {
        let [child] = self.children.as_slice() else {
            return None;
        };
        let pid = child.id();
        let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
        let line = io.lines().find(|l| l.starts_with("write_bytes:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Peak resident set (VmHWM) of the largest spawned collector, or of this process in
    /// baseline mode.
    fn peak_rss_kib(&self) -> Option<u64> {
        let pids: Vec<String> = if self.children.is_empty() {
            vec!["self".to_owned()]
        } else {
            self.children.iter().map(|c| c.id().to_string()).collect()
        };
        pids.iter()
            .filter_map(|pid| {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
                let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .max()
    }

    /// Stops the collector gracefully (SIGTERM) and counts the bench's logs in the database (the
    /// collector also stores logs of its own API, e.g. the readiness probe; those are not ours).
    async fn stop_and_count(&mut self) -> Result<Option<(i64, i64)>, BoxError> {
        for child in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for child in &mut self.children {
            while child.try_wait()?.is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let Some(url) = &self.db_url else {
            return Ok(None);
        };
        let sql = "SELECT COUNT(*), CAST(COALESCE(SUM(dedup_count), 0) AS BIGINT) FROM app_logs \
            WHERE user_id LIKE 'user-%'";
        let counts: (i64, i64) = if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(url).await?;
            let row = sqlx::query_as(sql).fetch_one(&pool).await?;
            pool.close().await;
            row
        } else {
            let pool = sqlx::PgPool::connect(url).await?;
            let row = sqlx::query_as(sql).fetch_one(&pool).await?;
            pool.close().await;
            row
        };
        Ok(Some(counts))
    }

    async fn cleanup(&mut self) {
        if let Some((admin, name)) = self.drop_pg.take()
            && let Ok(pool) = sqlx::PgPool::connect(&admin).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(e) = sqlx::query(&drop).execute(&pool).await {
                eprintln!("could not drop {name}: {e}");
            }
            pool.close().await;
        }
        if let Some(path) = self.sqlite_file.take() {
            for file in tracewire_server::store::sqlite_files(&path) {
                let _ = std::fs::remove_file(file);
            }
        }
    }
}

/// Serves [`baseline_ingest`] on a free loopback port; returns its base URL.
async fn start_baseline() -> Result<String, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new().route("/api/v1/logging/logs", post(baseline_ingest));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// The baseline endpoint: the same body parse the collector does, nothing stored.
async fn baseline_ingest(body: Bytes) -> (axum::http::StatusCode, String) {
    match serde_json::from_slice::<IngestBatch>(&body) {
        Ok(b) => (
            axum::http::StatusCode::OK,
            format!(
                r#"{{"batch_id":"{}","accepted":{{"logs":{},"exceptions":0,"metrics":0}},"duplicate":false}}"#,
                b.batch_id,
                b.logs.len()
            ),
        ),
        Err(_) => (axum::http::StatusCode::BAD_REQUEST, String::new()),
    }
}

/// Totals of all clients over one run; `acked_logs_total` is checked against the stored logs.
struct Report {
    measured: Duration,
    acked_logs_measured: u64,
    acked_logs_total: i64,
    latency_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl Report {
    fn print(&self, args: &Args, rss_kib: Option<u64>) {
        let secs = self.measured.as_secs_f64();
        let rate = self.acked_logs_measured as f64 / secs;
        let ms = |us: u64| us as f64 / 1000.0;
        let mode = if args.baseline {
            "baseline (parse only)".to_owned()
        } else if let Some(url) = &args.url {
            format!("collector at {url}")
        } else {
            let db = args.database_url.as_deref().unwrap_or("sqlite (temp file)");
            let sync = args.sqlite_synchronous.as_deref().unwrap_or("default");
            let n = args.collectors;
            let collectors = if n > 1 {
                format!("{n} collectors")
            } else {
                "tracewire".into()
            };
            format!("{collectors} on {db} (sqlite synchronous {sync})")
        };
        println!("mode: {mode}");
        println!(
            "clients {} x batches of {} logs, warm-up {} s, measured {secs:.1} s",
            args.clients, args.batch_size, args.warmup_secs
        );
        println!("logs/s: {rate:.0}");
        println!(
            "ack latency per batch: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} batches)",
            ms(self.latency_us.value_at_quantile(0.50)),
            ms(self.latency_us.value_at_quantile(0.99)),
            ms(self.latency_us.max()),
            self.latency_us.len()
        );
        match rss_kib {
            Some(k) if args.baseline => println!("peak RSS: {} MiB (bench process)", k / 1024),
            Some(k) if args.collectors > 1 => {
                println!("peak RSS of the largest collector: {} MiB", k / 1024)
            }
            Some(k) => println!("collector peak RSS: {} MiB", k / 1024),
            None => println!("collector peak RSS: n/a"),
        }
        println!("errors: {:?}", self.errors);
    }
}

/// Runs the clients through warm-up and the measured window.
async fn drive(args: &Args, bases: &[String]) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let urls: Vec<String> = bases
        .iter()
        .map(|base| format!("{base}/api/v1/logging/logs"))
        .collect();
    let mut tasks = Vec::new();
    for client_no in 0..args.clients {
        let (stop, measuring, url) = (stop.clone(), measuring.clone(), urls.clone());
        let (key, batch_size) = (args.key.clone(), args.batch_size);
        tasks.push(tokio::spawn(async move {
            client_loop(client_no, url, key, batch_size, stop, measuring).await
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup_secs)).await;
    measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration_secs)).await;
    measuring.store(false, Ordering::SeqCst);
    let measured = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut report = Report {
        measured,
        acked_logs_measured: 0,
        acked_logs_total: 0,
        latency_us: Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant figures")),
        errors: BTreeMap::new(),
    };
    for task in tasks {
        let Ok(stats) = task.await else { continue };
        report.acked_logs_measured += stats.acked_measured;
        report.acked_logs_total += stats.acked_total as i64;
        let _ = report.latency_us.add(&stats.latency_us);
        for (k, v) in stats.errors {
            *report.errors.entry(k).or_default() += v;
        }
    }
    report
}

/// What one client saw: logs acknowledged (in the measured window and overall), latencies
/// of the measured window, and failures by status.
struct ClientStats {
    acked_measured: u64,
    acked_total: u64,
    latency_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

/// One client: each batch goes to the next of `urls` (starting at its own offset), waiting for
/// the answer before the next.
async fn client_loop(
    client_no: usize,
    urls: Vec<String>,
    key: String,
    batch_size: usize,
    stop: Arc<AtomicBool>,
    measuring: Arc<AtomicBool>,
) -> ClientStats {
    let client = reqwest::Client::new();
    let mut logs = LogGen::new(client_no);
    let mut stats = ClientStats {
        acked_measured: 0,
        acked_total: 0,
        latency_us: Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant figures")),
        errors: BTreeMap::new(),
    };
    let mut next = client_no;
    while !stop.load(Ordering::Relaxed) {
        let body = logs.batch(batch_size);
        let url = &urls[next % urls.len()];
        next += 1;
        let sent = Instant::now();
        let result = client
            .post(url)
            .header("x-tracewire-key", &key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let status = match result {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Ok(_) => status,
                    Err(_) => 0,
                }
            }
            Err(_) => 0,
        };
        let in_window = measuring.load(Ordering::Relaxed);
        if status == 200 {
            stats.acked_total += batch_size as u64;
            if in_window {
                stats.acked_measured += batch_size as u64;
                let _ = stats.latency_us.record(sent.elapsed().as_micros() as u64);
            }
        } else {
            let label = if status == 0 {
                "connection".to_owned()
            } else {
                status.to_string()
            };
            *stats.errors.entry(label).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    stats
}

/// Samples the length of a SQLite database's WAL and its lookups file's WAL every 100 ms until
/// the returned flag is set; the task then returns the largest of each (the WALs must stay
/// bounded under continuous writes).
fn sample_wal_peaks(
    database: std::path::PathBuf,
) -> (tokio::task::JoinHandle<(u64, u64)>, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let lookups = tracewire_server::store::sqlite_lookups_path(&database);
    let wal = |path: &std::path::Path| {
        let mut name = path.as_os_str().to_owned();
        name.push("-wal");
        std::fs::metadata(name).map_or(0, |m| m.len())
    };
    let task = tokio::spawn(async move {
        let mut peaks = (0, 0);
        while !flag.load(Ordering::SeqCst) {
            peaks.0 = peaks.0.max(wal(&database));
            peaks.1 = peaks.1.max(wal(&lookups));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peaks
    });
    (task, stop)
}

/// On a database with an index follower (SQLite migration 0010, PostgreSQL 0013), samples its
/// lag every 100 ms until the returned flag is set; the task then returns the histogram.
async fn sample_index_lag(
    db: LagDb,
) -> Option<(tokio::task::JoinHandle<Histogram<u64>>, Arc<AtomicBool>)> {
    db.lag().await?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let task = tokio::spawn(async move {
        let mut lag = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant figures"));
        while !flag.load(Ordering::SeqCst) {
            if let Some(rows) = db.lag().await {
                let _ = lag.record(rows.max(0).unsigned_abs());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        lag
    });
    Some((task, stop))
}

/// A connection to the benchmarked database for reading the index follower's lag and, on
/// PostgreSQL, the WAL written (one pool for both; clones share it).
#[derive(Clone)]
enum LagDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl LagDb {
    /// Rows committed but not yet covered by the follower's watermark.
    const LAG: &'static str = "SELECT COALESCE((SELECT MAX(seq) FROM app_logs), 0) \
        - indexed_through FROM log_index_state";
    /// The same on PostgreSQL from the sequence (it also counts the rows of the write group in
    /// flight): `MAX(seq)` walks back over the in-flight group's index entries, and sampled
    /// every 100 ms it cost PostgreSQL a third of a core (39 ms a call) under load.
    const LAG_PG: &'static str = "SELECT COALESCE(pg_sequence_last_value(\
        pg_get_serial_sequence('app_logs', 'seq')::regclass), 0) - indexed_through \
        FROM log_index_state";

    async fn open(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().ok()?;
            // The watermark lives in the lookups file, beside the database.
            let pool = tracewire_server::store::sqlite_open_with_lookups(options.read_only(true))
                .await
                .ok()?;
            Some(Self::Sqlite(pool))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .ok()?;
            Some(Self::Postgres(pool))
        }
    }

    async fn lag(&self) -> Option<i64> {
        match self {
            Self::Sqlite(pool) => sqlx::query_scalar(Self::LAG).fetch_one(pool).await.ok(),
            Self::Postgres(pool) => sqlx::query_scalar(Self::LAG_PG).fetch_one(pool).await.ok(),
        }
    }

    /// The server's WAL position in bytes (PostgreSQL only).
    async fn wal_lsn(&self) -> Option<i64> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(pool) => {
                sqlx::query_scalar("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
                    .fetch_one(pool)
                    .await
                    .ok()
            }
        }
    }

    async fn close(self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}
