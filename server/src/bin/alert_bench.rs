//! `tracewire-alert-bench`: how long one alert evaluation round takes with many rules over a
//! large SQLite store.
//!
//! Fills a SQLite file (after the collector's own migrations) with `--rows` logs spread over
//! the last `--span-hours`, plus exception groups and occurrences through the ingest writer's
//! own transaction, stores `--rules` rules of every store-backed condition type (log counts
//! by level and module, message regexes, new, regressed and counted exceptions) with windows of
//! 5 to 60 minutes and no channels, then times `--rounds` rounds of the real
//! [`Evaluator`], each 30 s after the last (so every rule is due every round).
//!
//! `--db path --reuse` keeps a filled file between runs.

use clap::Parser;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracewire_server::alerting::channels::RetryPolicy;
use tracewire_server::alerting::conditions::{ReadLimits, observe};
use tracewire_server::alerting::evaluator::Evaluator;
use tracewire_server::alerting::notify::Notifier;
use tracewire_server::alerting::rules::{RuleOrigin, to_record};
use tracewire_server::store::{self, CountedTable, ExceptionRow, Store, StoreOptions};
use tracewire_shared::api::monitoring::AlertRuleRequest;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Alert evaluation benchmark of the Tracewire collector.
#[derive(Debug, Parser)]
#[command(name = "tracewire-alert-bench")]
struct Args {
    /// Logs to store, written straight into the SQLite file, evenly spaced over `--span-hours`.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Hours the logs span, ending now (the density in a rule's window is rows / span).
    #[arg(long, default_value_t = 24)]
    span_hours: i64,
    /// Exception occurrences to store (in 200 groups, a tenth of them resolved).
    #[arg(long, default_value_t = 20_000)]
    exceptions: u64,
    /// Rules to store, spread over the store-backed condition types, windows 5 to 60 minutes.
    #[arg(long, default_value_t = 100)]
    rules: usize,
    /// Timed evaluation rounds, 30 s apart on the data's clock so every rule is due each time.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// SQLite file (default: a fresh temp file, removed afterwards).
    #[arg(long)]
    db: Option<std::path::PathBuf>,
    /// Keep an existing `--db` file that is already filled.
    #[arg(long)]
    reuse: bool,
}

const HOUR_US: i64 = 3_600_000_000;
const LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const MODULES: [&str; 5] = ["cart", "auth", "search", "orders", "ui"];
const WORDS: [&str; 6] = ["checkout", "payment", "timeout", "cache", "login", "retry"];

/// SplitMix64, so every run stores the same data.
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

/// 30 % DEBUG, 50 % INFO, 12 % WARNING, 7 % ERROR, 1 % CRITICAL, as in the query benchmark.
fn level(r: u64) -> &'static str {
    match r % 100 {
        0..=29 => LEVELS[0],
        30..=79 => LEVELS[1],
        80..=91 => LEVELS[2],
        92..=98 => LEVELS[3],
        _ => LEVELS[4],
    }
}

const INSERT: &str = "INSERT INTO app_logs (id, project_id, timestamp, level, source, message, \
    module, dedup_count, first_seen_at, last_seen_at, created_at) VALUES ";
const PER_STATEMENT: u64 = 500;
const PER_TRANSACTION: u64 = 50_000;

/// Bulk-inserts the logs straight through sqlx (the writer would take minutes for millions).
async fn fill_logs(url: &str, rows: u64, span_us: i64, now_us: i64) -> Result<(), BoxError> {
    let options = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-262144");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let project = Uuid::now_v7();
    let start_us = now_us - span_us;
    let step = span_us / rows.max(1) as i64;
    let mut rng = Rng(11);
    let row = format!("({})", ["?"; 11].join(","));
    let statement_for = |n: u64| format!("{INSERT}{}", vec![row.as_str(); n as usize].join(","));
    let started = Instant::now();
    let mut n = 0u64;
    while n < rows {
        let mut tx = pool.begin().await?;
        let end = (n + PER_TRANSACTION).min(rows);
        while n < end {
            let count = PER_STATEMENT.min(rows - n);
            let statement = statement_for(count);
            let mut q = sqlx::query(&statement);
            for i in n..n + count {
                let ts = start_us + i as i64 * step;
                let id_ts = uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    (ts / 1_000_000) as u64,
                    ((ts % 1_000_000) * 1000) as u32,
                );
                let word = WORDS[rng.below(WORDS.len() as u64) as usize];
                q = q
                    .bind(Uuid::new_v7(id_ts))
                    .bind(project)
                    .bind(ts)
                    .bind(level(rng.next()))
                    .bind(if i % 3 == 0 { "frontend" } else { "backend" })
                    .bind(format!(
                        "{word} failed for order {} after {} ms",
                        rng.below(100_000),
                        rng.below(5_000)
                    ))
                    .bind(MODULES[rng.below(MODULES.len() as u64) as usize])
                    .bind(1i64)
                    .bind(ts)
                    .bind(ts)
                    .bind(ts);
            }
            q.execute(&mut *tx).await?;
            n += count;
        }
        tx.commit().await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
        eprint!(
            "\rfilled {n} / {rows} logs ({:.0} rows/s)",
            n as f64 / started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    let bucket = tracewire_server::query::count::BUCKET_SQL;
    sqlx::query("DELETE FROM log_counts").execute(&pool).await?;
    sqlx::query(&format!(
        "INSERT INTO log_counts (bucket, level, source, log_rows) \
         SELECT {bucket}, level, source, COUNT(*) FROM app_logs GROUP BY {bucket}, level, source"
    ))
    .execute(&pool)
    .await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Exception occurrences through the ingest writer's transaction (grouping, regression and
/// receive time as in production); a tenth of the groups are then resolved and occur again.
async fn fill_exceptions(
    store: &dyn Store,
    n: u64,
    span_us: i64,
    now_us: i64,
) -> Result<(), BoxError> {
    let project = Uuid::now_v7();
    let mut rng = Rng(5);
    let mut groups = Vec::new();
    let mut tx = store.begin_write().await?;
    for i in 0..n {
        let g = rng.below(200);
        let row = ExceptionRow {
            group_id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
            project_id: project,
            fingerprint: format!("fp{g}"),
            source: if g.is_multiple_of(2) {
                "frontend"
            } else {
                "backend"
            },
            exception_type: ["TypeError", "KeyError", "Timeout"][(g % 3) as usize].to_owned(),
            exception_message: format!("failure {g}"),
            stack_trace: None,
            timestamp: now_us - span_us + (i as i64) * (span_us / n.max(1) as i64),
            trace_id: None,
            span_id: None,
            user_id: None,
            request_path: None,
            exception_details: None,
            context_data: None,
        };
        let id = tx.record_exception(&row).await?;
        if i < 200 {
            groups.push(id);
        }
    }
    tx.commit().await?;
    for id in groups.iter().step_by(10) {
        store
            .resolve_exception(*id, now_us - span_us, "bench", None)
            .await?;
    }
    Ok(())
}

/// A mix of every store-backed condition type, windows of 5 to 60 minutes, no channels.
fn rule(i: usize) -> Result<AlertRuleRequest, BoxError> {
    let window = [5, 10, 15, 30, 60][i % 5];
    let module = MODULES[i % MODULES.len()];
    let condition = match i % 10 {
        0..=3 => json!({"type": "log_count", "filters": {"min_level": LEVELS[2 + i % 3]}}),
        4 => json!({"type": "log_count", "filters": {"level": "ERROR", "module": module}}),
        5 | 6 => {
            json!({"type": "message_regex", "pattern": format!("{} failed .* after \\d{{4}} ms", WORDS[i % WORDS.len()]),
                        "filters": {"min_level": "WARNING"}})
        }
        7 => json!({"type": "new_exception"}),
        8 => json!({"type": "regressed_exception", "source": "backend"}),
        _ => json!({"type": "exception_count", "exception_type": "TypeError"}),
    };
    Ok(serde_json::from_value(json!({
        "name": format!("rule {i}"), "severity": "warning", "condition": condition,
        "operator": "gte", "threshold": 100, "window_minutes": window,
        "pending_evaluations": 2, "throttle_minutes": 60
    }))?)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let temp = args.db.is_none().then(|| {
        std::env::temp_dir().join(format!("tracewire-alert-bench-{}.db", std::process::id()))
    });
    let path = args
        .db
        .clone()
        .or_else(|| temp.clone())
        .ok_or("no database path")?;
    let url = format!("sqlite://{}", path.display());
    let now_us = tracewire_server::clock::now_us();
    let span_us = args.span_hours.max(1) * HOUR_US;
    if !args.reuse {
        let _ = std::fs::remove_file(&path);
    }
    let store = store::connect(&url, &StoreOptions::default()).await?;
    if !args.reuse {
        fill_logs(&url, args.rows, span_us, now_us).await?;
        fill_exceptions(store.as_ref(), args.exceptions, span_us, now_us).await?;
        let project = Uuid::now_v7();
        for i in 0..args.rules {
            let record = to_record(
                &rule(i)?,
                RuleOrigin {
                    id: Uuid::now_v7(),
                    project_id: project,
                    created_at: now_us,
                    now_us,
                    existing: &[],
                },
            )
            .map_err(|e| format!("rule {i}: {e:?}"))?;
            store.insert_rule(&record).await?;
        }
    }
    let logs = store.count_rows(CountedTable::Logs).await?;
    let events = store.count_rows(CountedTable::ExceptionEvents).await?;
    let rules = store.list_rules().await?.len();
    println!("logs: {logs}, exception occurrences: {events}, rules: {rules}");
    let notifier = Notifier::new(None, RetryPolicy::default(), "http://127.0.0.1:8080".into())?;
    let evaluator = Evaluator::new(Arc::clone(&store), notifier, Duration::from_secs(30));
    let mut times = Vec::new();
    for round in 0..args.rounds {
        // Rounds 30 s apart on the data's clock: every rule is due each time.
        let at = now_us + round as i64 * 30_000_000;
        let started = Instant::now();
        let report = evaluator.round(at).await?;
        let took = started.elapsed();
        println!(
            "round {round}: {:.1} ms (evaluated {}, skipped {}, history entries {})",
            took.as_secs_f64() * 1000.0,
            report.evaluated,
            report.skipped,
            report.recorded
        );
        times.push(took);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Where a round's time goes: each rule's condition read alone, summed by type.
    let at = now_us + args.rounds as i64 * 30_000_000;
    let mut by_type: Vec<(&'static str, usize, Duration)> = Vec::new();
    for rule in store.list_rules().await? {
        let window = u32::try_from(rule.window_minutes).unwrap_or(1);
        let started = Instant::now();
        observe(
            store.as_ref(),
            &rule.condition.0,
            window,
            at,
            &ReadLimits::default(),
        )
        .await?;
        let took = started.elapsed();
        let name = rule.condition.0.type_name();
        match by_type.iter_mut().find(|(n, _, _)| *n == name) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += took;
            }
            None => by_type.push((name, 1, took)),
        }
    }
    for (name, rules, total) in &by_type {
        println!("| {name} | {rules} rules | {:.1} ms in all |", ms(*total));
    }
    if let (Some(first), Some(last)) = (times.first(), times.last()) {
        println!(
            "| {logs} logs | {rules} rules | min {:.1} ms | median {:.1} ms | max {:.1} ms |",
            ms(*first),
            ms(times[times.len() / 2]),
            ms(*last)
        );
    }
    drop(evaluator);
    drop(store);
    if let Some(temp) = temp {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    Ok(())
}
