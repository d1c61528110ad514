//! `tracewire-query-bench`: query latency and export throughput over a large SQLite store.
//!
//! Fills a SQLite file with `--rows` realistic logs (bulk multi-value INSERTs in big
//! transactions straight through sqlx, after the collector's own migrations), then times
//! `--queries` runs of each query kind through the store's real query methods with a
//! [`LogFilter`] (the code path of `GET /api/v1/logging/logs`): the page alone (`page_logs`) and
//! the page with its `total` (`query_logs`, what the API answers). Also times the JSON-lines
//! export walk (pages of 1,000 formatted like `POST /logs/export`) and, as a baseline, a raw
//! `SELECT COUNT(*)` scan of the table.
//!
//! `--db path --reuse` keeps a filled file between runs (filling 10 M rows takes minutes).
//! `--database-url postgres://…/db` fills and queries an empty PostgreSQL database instead
//! (same rows, same queries; `--reuse` works there too).

use clap::Parser;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::{Duration, Instant};
use tracewire_server::http::export::format::ExportFormat;
use tracewire_server::query::cursor::Cursor;
use tracewire_server::query::logs::LogFilter;
use tracewire_server::store::{self, CountedTable, Store, StoreOptions};
use tracewire_shared::level::Level;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Query latency benchmark of the Tracewire store.
#[derive(Debug, Parser)]
#[command(name = "tracewire-query-bench")]
struct Args {
    /// Logs to store (1,000,000; try 10,000,000).
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// SQLite file (default: a fresh temp file, removed afterwards).
    #[arg(long)]
    db: Option<std::path::PathBuf>,
    /// Write the `--rows` generated logs as JSON lines to this file and exit (for the reference
    /// run of another engine on the same rows, `scripts/chdb-reference.py`).
    #[arg(long)]
    dump_rows: Option<std::path::PathBuf>,
    /// An empty PostgreSQL database to fill and query instead of a SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Keep an existing `--db` file that already holds `--rows` logs instead of refilling it.
    #[arg(long)]
    reuse: bool,
    /// Timed runs of each query kind.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Page size of the timed queries.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Logs the export walk formats (newest first).
    #[arg(long, default_value_t = 200_000)]
    export_rows: u64,
}

/// Days the generated logs span, ending now.
const SPAN_DAYS: i64 = 30;
const DAY_US: i64 = 86_400_000_000;
const WORDS: [&str; 12] = [
    "checkout",
    "payment",
    "timeout",
    "cache",
    "login",
    "search",
    "inventory",
    "render",
    "retry",
    "session",
    "upload",
    "webhook",
];
const PATHS: [&str; 6] = [
    "/api/cart",
    "/api/orders",
    "/api/login",
    "/api/search",
    "/products",
    "/checkout",
];
const MODULES: [&str; 5] = ["cart", "auth", "search", "orders", "ui"];

/// SplitMix64: fast and deterministic, so every run stores the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Level mix of a typical application: mostly INFO and DEBUG, few errors.
fn level(r: u64) -> Level {
    match r % 100 {
        0..=29 => Level::Debug,
        30..=79 => Level::Info,
        80..=91 => Level::Warning,
        92..=98 => Level::Error,
        _ => Level::Critical,
    }
}

fn trace_id(n: u64) -> String {
    format!(
        "{:032x}",
        u128::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
    )
}

/// One generated log: the same rows on either backend and in `--dump-rows`.
struct GenRow {
    id: Uuid,
    ts: i64,
    level: &'static str,
    source: &'static str,
    message: String,
    module: &'static str,
    trace_id: Option<String>,
    user_id: String,
    path: &'static str,
    duration_ms: f64,
}

/// Row `i` of a fill of `step`-spaced logs from `start_us`, drawing from `rng` in a fixed order
/// (so the same seed gives the same rows).
fn gen_row(rng: &mut Rng, i: u64, start_us: i64, step: i64) -> GenRow {
    let ts = start_us + i as i64 * step;
    let id_ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        (ts / 1_000_000) as u64,
        ((ts % 1_000_000) * 1000) as u32,
    );
    let level = level(rng.next()).as_str();
    let word = WORDS[rng.below(WORDS.len() as u64) as usize];
    let path = PATHS[rng.below(PATHS.len() as u64) as usize];
    // About five logs per trace; a fifth of the logs (browser noise) have none.
    let trace_id = (rng.below(5) > 0).then(|| trace_id(i / 5));
    let message = format!(
        "{word} request {path} handled for order {}",
        rng.below(100_000)
    );
    let module = MODULES[rng.below(MODULES.len() as u64) as usize];
    let user_id = format!("user-{}", rng.below(5_000));
    let duration_ms = rng.below(500) as f64 / 3.0;
    GenRow {
        id: Uuid::new_v7(id_ts),
        ts,
        level,
        source: if i.is_multiple_of(3) {
            "frontend"
        } else {
            "backend"
        },
        message,
        module,
        trace_id,
        user_id,
        path,
        duration_ms,
    }
}

/// The JSON text of every generated row's `extra_data`.
const EXTRA_DATA: &str = r#"{"region":"eu-west","build":"1.4.2"}"#;

/// Binds the 19 columns of generated row `i` to `q` (the same rows on either backend).
macro_rules! bind_row {
    ($q:expr, $rng:expr, $i:expr, $start_us:expr, $step:expr, $project:expr) => {{
        let r = gen_row(&mut $rng, $i, $start_us, $step);
        $q.bind(r.id)
            .bind($project)
            .bind(r.ts)
            .bind(r.level)
            .bind(r.source)
            .bind(r.message)
            .bind(r.module)
            .bind("handle")
            .bind(r.trace_id)
            .bind(r.user_id)
            .bind("GET")
            .bind(r.path)
            .bind(200i32)
            .bind(r.duration_ms)
            .bind(EXTRA_DATA)
            .bind(1i64)
            .bind(r.ts)
            .bind(r.ts)
            .bind(r.ts)
    }};
}

const COLUMNS: &str = "INSERT INTO app_logs (id, project_id, timestamp, level, source, message, \
    module, function, trace_id, user_id, request_method, request_path, response_status, \
    duration_ms, extra_data, dedup_count, first_seen_at, last_seen_at, created_at) VALUES ";
const PER_STATEMENT: u64 = 500;
const PER_TRANSACTION: u64 = 50_000;

/// Stores `$rows` generated logs through `$pool` in transactions of [`PER_TRANSACTION`] rows
/// of `$statement_for(count)`-row INSERTs, running `$after_commit` after each transaction,
/// then rebuilds the per-hour tally (the bulk INSERTs bypass the writer, so it is rebuilt as
/// the migration does) and runs `$finish`. A macro because the two drivers share no type.
macro_rules! fill_rows {
    ($pool:expr, $rows:expr, $now_us:expr, $statement_for:expr, $after_commit:expr, $finish:expr) => {{
        let (pool, rows, statement_for) = ($pool, $rows, $statement_for);
        let project = Uuid::now_v7();
        let start_us = $now_us - SPAN_DAYS * DAY_US;
        let step = (SPAN_DAYS * DAY_US) / rows.max(1) as i64;
        let mut rng = Rng(7);
        let full = statement_for(PER_STATEMENT);
        let started = Instant::now();
        let mut n = 0u64;
        while n < rows {
            let mut tx = pool.begin().await?;
            let end = (n + PER_TRANSACTION).min(rows);
            while n < end {
                let count = PER_STATEMENT.min(rows - n);
                let statement = if count == PER_STATEMENT {
                    full.clone()
                } else {
                    statement_for(count)
                };
                let mut q = sqlx::query(&statement);
                for i in n..n + count {
                    q = bind_row!(q, rng, i, start_us, step, project);
                }
                q.execute(&mut *tx).await?;
                n += count;
            }
            tx.commit().await?;
            for sql in $after_commit {
                sqlx::query(sql).execute(&pool).await?;
            }
            eprint!(
                "\rfilled {n} / {rows} rows ({:.0} rows/s)",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
        eprintln!();
        sqlx::query("DELETE FROM log_counts").execute(&pool).await?;
        let bucket = tracewire_server::query::count::BUCKET_SQL;
        sqlx::query(&format!(
            "INSERT INTO log_counts (bucket, level, source, log_rows) \
             SELECT {bucket}, level, source, COUNT(*) FROM app_logs GROUP BY {bucket}, level, source"
        ))
        .execute(&pool)
        .await?;
        for sql in $finish {
            sqlx::query(sql).execute(&pool).await?;
        }
        pool.close().await;
    }};
}

async fn fill(path: &std::path::Path, rows: u64, now_us: i64) -> Result<(), BoxError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-262144");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    // `?` placeholders: sqlx binds numbered `$n` ones through a name lookup per parameter,
    // which made 9,500-parameter statements ten times slower.
    let row = format!("({})", vec!["?"; 19].join(","));
    let statement_for =
        |count: u64| format!("{COLUMNS}{}", vec![row.as_str(); count as usize].join(","));
    // Keep the WAL to one transaction: without the checkpoint it grew to 9 GB at 4.5 M rows.
    let checkpoint = "PRAGMA wal_checkpoint(TRUNCATE)";
    fill_rows!(
        pool,
        rows,
        now_us,
        statement_for,
        [checkpoint],
        ["ANALYZE", checkpoint]
    );
    Ok(())
}

/// The rows [`fill`] would store, as JSON lines (timestamps in microseconds).
fn dump(path: &std::path::Path, rows: u64, now_us: i64) -> Result<(), BoxError> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let start_us = now_us - SPAN_DAYS * DAY_US;
    let step = (SPAN_DAYS * DAY_US) / rows.max(1) as i64;
    let mut rng = Rng(7);
    for i in 0..rows {
        let r = gen_row(&mut rng, i, start_us, step);
        let line = serde_json::json!({
            "id": r.id, "timestamp": r.ts, "level": r.level, "source": r.source,
            "message": r.message, "module": r.module, "function": "handle",
            "trace_id": r.trace_id, "user_id": r.user_id, "request_method": "GET",
            "request_path": r.path, "response_status": 200, "duration_ms": r.duration_ms,
            "extra_data": EXTRA_DATA,
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// [`fill`] on PostgreSQL: the same rows, with `$n` placeholders (extra_data cast to JSONB).
async fn fill_pg(url: &str, rows: u64, now_us: i64) -> Result<(), BoxError> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let statement_for = |count: u64| {
        let rows: Vec<String> = (0..count)
            .map(|r| {
                // Column 15 is extra_data, JSONB on PostgreSQL, bound as text.
                let marks: Vec<String> = (1..=19)
                    .map(|c| {
                        let cast = if c == 15 { "::jsonb" } else { "" };
                        format!("${}{cast}", r * 19 + c)
                    })
                    .collect();
                format!("({})", marks.join(","))
            })
            .collect();
        format!("{COLUMNS}{}", rows.join(","))
    };
    fill_rows!(
        pool,
        rows,
        now_us,
        statement_for,
        [] as [&str; 0],
        ["VACUUM ANALYZE"]
    );
    Ok(())
}

/// One `i64` read with plain SQL from either backend.
async fn scalar(url: &str, sql: &str) -> Result<i64, BoxError> {
    Ok(if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let v = sqlx::query_scalar(sql).fetch_one(&pool).await?;
        pool.close().await;
        v
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let v = sqlx::query_scalar(sql).fetch_one(&pool).await?;
        pool.close().await;
        v
    })
}

/// p50 and p95 of a list of durations, in milliseconds.
fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let at = |p: f64| {
        let i = ((d.len() as f64 * p).ceil() as usize).saturating_sub(1);
        d.get(i).map_or(0.0, |x| x.as_secs_f64() * 1000.0)
    };
    (at(0.50), at(0.95))
}

async fn time_kind(
    store: &dyn Store,
    name: &str,
    queries: usize,
    mut filter: impl FnMut(usize) -> LogFilter,
) -> Result<(), BoxError> {
    let (mut page, mut total, mut rows) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..queries {
        let f = filter(i);
        let t = Instant::now();
        rows += store.page_logs(&f).await?.len();
        page.push(t.elapsed());
        let t = Instant::now();
        store.query_logs(&f).await?;
        total.push(t.elapsed());
    }
    let (p50, p95) = percentiles(page);
    let (t50, t95) = percentiles(total);
    println!(
        "| {name} | {p50:.2} | {p95:.2} | {t50:.2} | {t95:.2} | {:.1} |",
        rows as f64 / queries.max(1) as f64
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if let Some(path) = &args.dump_rows {
        dump(path, args.rows, tracewire_server::clock::now_us())?;
        println!("{} rows written to {}", args.rows, path.display());
        return Ok(());
    }
    let temp = args.db.is_none().then(|| {
        std::env::temp_dir().join(format!(
            "tracewire-query-bench-{}.db",
            Uuid::now_v7().simple()
        ))
    });
    let path = args
        .db
        .clone()
        .or_else(|| temp.clone())
        .ok_or("no database path")?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", path.display()),
    };
    let now_us = tracewire_server::clock::now_us();
    // The store (migrations, count) is closed while filling: with its pooled connections and
    // background checkpointer open, the fill's WAL was not reset and grew to 9 GB at 4.5 M rows.
    let store = store::connect(&url, &StoreOptions::default()).await?;
    let stored = store.count_rows(CountedTable::Logs).await?;
    drop(store);
    if !(args.reuse && stored as u64 >= args.rows) {
        if stored > 0 {
            return Err(format!(
                "{} already holds {stored} logs; pass --reuse or a new --db",
                path.display()
            )
            .into());
        }
        if args.database_url.is_some() {
            fill_pg(&url, args.rows, now_us).await?;
        } else {
            fill(&path, args.rows, now_us).await?;
        }
    }
    let store = store::connect(&url, &StoreOptions::default()).await?;
    // The fill wrote rows only; the index follower writes their lookups, as it would behind
    // the writer (its throughput alone, one core, no ingest beside it).
    let (started, mut indexed) = (Instant::now(), 0);
    loop {
        let step = store.index_logs(100_000).await?;
        indexed += step.covered;
        if step.pending == 0 {
            break;
        }
    }
    if indexed > 0 {
        let secs = started.elapsed().as_secs_f64();
        println!(
            "index follower: {indexed} rows indexed in {secs:.1} s ({:.0} rows/s)",
            indexed as f64 / secs
        );
    }
    let stored = store.count_rows(CountedTable::Logs).await?;
    let newest = scalar(&url, "SELECT MAX(timestamp) FROM app_logs").await?;
    let span = SPAN_DAYS * DAY_US;
    let bytes = if args.database_url.is_some() {
        scalar(&url, "SELECT pg_database_size(current_database())").await?
    } else {
        i64::try_from(std::fs::metadata(&path)?.len())?
    };
    println!(
        "{stored} logs in {} ({} MB)",
        args.database_url
            .as_deref()
            .unwrap_or(&path.display().to_string()),
        bytes / 1_000_000
    );
    println!(
        "| query | page p50 ms | page p95 ms | page+total p50 ms | page+total p95 ms | rows/page |"
    );
    println!("|---|---|---|---|---|---|");
    let limit = args.limit;
    let base = LogFilter {
        limit,
        ..LogFilter::default()
    };
    let mut rng = Rng(11);
    time_kind(store.as_ref(), "latest page", args.queries, |_| {
        base.clone()
    })
    .await?;
    time_kind(
        store.as_ref(),
        "level=ERROR, random 6 h window",
        args.queries,
        |_| {
            let from =
                newest - rng.below((span - 6 * 3_600_000_000) as u64) as i64 - 6 * 3_600_000_000;
            LogFilter {
                levels: vec![Level::Error],
                from_us: Some(from),
                to_us: Some(from + 6 * 3_600_000_000),
                ..base.clone()
            }
        },
    )
    .await?;
    time_kind(store.as_ref(), "one trace_id", args.queries, |_| {
        LogFilter {
            trace_id: Some(trace_id(rng.below(stored as u64 / 5))),
            ..base.clone()
        }
    })
    .await?;
    time_kind(store.as_ref(), "one user_id", args.queries, |_| LogFilter {
        user_id: Some(format!("user-{}", rng.below(5_000))),
        ..base.clone()
    })
    .await?;
    time_kind(
        store.as_ref(),
        "q=<word> (1 in 12 logs), last 24 h",
        args.queries.min(50),
        |i| LogFilter {
            q: Some(WORDS[i % WORDS.len()].into()),
            from_us: Some(newest - DAY_US),
            ..base.clone()
        },
    )
    .await?;
    time_kind(
        store.as_ref(),
        "q=<word> (1 in 12 logs), all time",
        args.queries.min(20),
        |i| LogFilter {
            q: Some(WORDS[i % WORDS.len()].into()),
            ..base.clone()
        },
    )
    .await?;
    time_kind(
        store.as_ref(),
        "q=order <n> (1 in 100,000 logs), all time",
        args.queries.min(50),
        |_| LogFilter {
            q: Some(format!("order {}", 10_000 + rng.below(90_000))),
            ..base.clone()
        },
    )
    .await?;

    // Export: the same page walk and formatting as POST /logs/export (format json).
    let started = Instant::now();
    let mut filter = LogFilter {
        limit: 1000,
        ..LogFilter::default()
    };
    let (mut exported, mut bytes) = (0u64, 0usize);
    while exported < args.export_rows {
        let mut page = store.page_logs(&filter).await?;
        page.truncate(1000);
        let Some(last) = page.last() else { break };
        filter.cursor = Some(Cursor {
            time_us: last.timestamp,
            id: last.id,
        });
        for r in &page {
            bytes += ExportFormat::JsonLines
                .row(r, tracewire_server::http::views::log_view)
                .len();
        }
        exported += page.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "export (json lines, pages of 1,000): {exported} rows in {secs:.2} s = {:.0} rows/s, {:.0} MB/s",
        exported as f64 / secs,
        bytes as f64 / secs / 1e6
    );

    let mut scans = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        scalar(&url, "SELECT COUNT(*) FROM app_logs").await?;
        scans.push(t.elapsed());
    }
    let (p50, _) = percentiles(scans);
    println!(
        "baseline: raw SELECT COUNT(*) FROM app_logs, p50 of 5: {p50:.1} ms (connect included)"
    );
    if let Some(temp) = temp {
        for file in tracewire_server::store::sqlite_files(&temp) {
            let _ = std::fs::remove_file(file);
        }
    }
    Ok(())
}
