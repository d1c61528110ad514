//! `tracewire-metrics-bench`: how fast the monitoring API's series query answers over a month
//! of minute aggregates, and what one roll-up of that month costs.
//!
//! Fills a SQLite store with `--days` days of 1-minute `http_request` rows for `--series`
//! series (route × method) through the writer's own `merge_aggregates`, runs the roll-up job
//! until every 5-minute, hourly and daily row exists, then times `--queries` runs of the
//! series query for windows of 1 hour, 24 hours, 7 days and 30 days ending now: the rows read
//! as `GET /api/v1/monitoring/metrics` reads them ([`bucket_summaries`]: settled buckets as
//! stored, with their percentiles, the recent tail from finer rows) and turned into points with percentiles ([`series`]),
//! without HTTP and JSON around them; then the same for the "all endpoints" chart
//! (`combine=true`), read from the roll-up's family totals ([`combined_summaries`]) against
//! the merge of every series' rows, checking on every run that both give the same points. Retention does not run, so the month of minute rows stays
//! in the table (and its indexes) while it is queried.

use clap::Parser;
use std::time::{Duration, Instant};
use tracewire_server::clock::now_us;
use tracewire_server::monitoring::aggregate::{
    AggregateRow, SeriesKey, SketchesWanted, SummaryRow,
};
use tracewire_server::monitoring::combined::combined_summaries;
use tracewire_server::monitoring::read::{bucket_rows, bucket_summaries};
use tracewire_server::monitoring::rollup::{MonitoringRetention, run_once};
use tracewire_server::monitoring::series::{choose_period, series};
use tracewire_server::monitoring::sketch::Sketch;
use tracewire_server::store::{self, SeriesFilter, StoreOptions};
use tracewire_shared::api::monitoring::{MetricPoint, MetricSeries, Period};
use tracewire_shared::validate::Source;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Series query benchmark of the monitoring store.
#[derive(Debug, Parser)]
#[command(name = "tracewire-metrics-bench")]
struct Args {
    /// Days of minute rows, ending now.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Series (route × method pairs).
    #[arg(long, default_value_t = 20)]
    series: usize,
    /// Timed runs of each read per window (1 h, 24 h, 7 d, 30 d), reported as p50 and p95.
    #[arg(long, default_value_t = 100)]
    queries: usize,
    /// Database file to fill and keep (default: a temporary file, removed at the end); it
    /// must not exist yet.
    #[arg(long)]
    db: Option<std::path::PathBuf>,
}

const MINUTE_US: i64 = 60_000_000;

/// The same points, but for averages within float rounding: the bench's values are not whole
/// numbers, and a total sums them in another order than the merge of every row.
fn same_points(a: &[MetricSeries], b: &[MetricSeries]) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.points.len() == b.points.len()
                && a.points.iter().zip(&b.points).all(|(p, q)| {
                    close(p.avg, q.avg)
                        && MetricPoint {
                            avg: q.avg,
                            ..p.clone()
                        } == *q
                })
        })
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let keep = args.db.is_some();
    let path = args.db.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tw-metrics-bench-{}.db", Uuid::now_v7()))
    });
    let url = format!("sqlite://{}", path.display());
    let store = store::connect(&url, &StoreOptions::default()).await?;
    let now = now_us();
    let first = (now - args.days * 24 * 60 * MINUTE_US).div_euclid(MINUTE_US) * MINUTE_US;
    let keys: Vec<SeriesKey> = (0..args.series)
        .map(|i| SeriesKey {
            project_id: Uuid::nil(),
            source: Source::Backend,
            metric_type: "http_request".into(),
            metric_name: ["GET", "POST"][i % 2].into(),
            endpoint: Some(format!("/api/resource{}/{{id}}", i / 2)),
        })
        .collect();
    let started = Instant::now();
    let mut rows = 0usize;
    let mut minute = first;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    while minute < now {
        // One hour of minutes per transaction, like a writer group under steady load.
        let mut group = Vec::new();
        for _ in 0..60 {
            if minute >= now {
                break;
            }
            for key in &keys {
                let values = (0..20).map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    5.0 + (seed % 2_000) as f64 / 10.0
                });
                let sketch = Sketch::from_values(values);
                group.push(AggregateRow {
                    series: key.clone(),
                    unit: "ms".into(),
                    period: Period::Minute,
                    period_start_us: minute,
                    count: sketch.count(),
                    errors: u64::from(minute % (7 * MINUTE_US) == 0),
                    sketch,
                });
            }
            minute += MINUTE_US;
        }
        rows += group.len();
        let mut tx = store.begin_write().await?;
        tx.merge_aggregates(&group).await?;
        tx.commit().await?;
    }
    let filled = started.elapsed();
    println!(
        "filled {rows} minute rows ({} series × {} days) in {:.1} s",
        args.series,
        args.days,
        filled.as_secs_f64()
    );
    let started = Instant::now();
    let retention = MonitoringRetention {
        minute_days: 3650,
        five_minute_days: 3650,
        hour_days: 3650,
        day_days: 3650,
        slow_days: 3650,
    };
    let report = run_once(store.as_ref(), &retention, now).await?;
    println!(
        "roll-up of the whole month: {:.1} s, {} coarse rows",
        started.elapsed().as_secs_f64(),
        report.map_or(0, |r| r.rolled_up)
    );
    // As the API does with the default roll-up interval (60 s).
    let settled = now - 120_000_000;
    println!(
        "| window | series | buckets | rows read | stored percentiles p50 / p95 ms | \
         every sketch p50 / p95 ms | p95 ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    let one = keys[0].endpoint.clone();
    for (label, hours, endpoint) in [
        ("1 h", 1, None),
        ("24 h", 24, None),
        ("7 days", 24 * 7, None),
        ("30 days", 24 * 30, None),
        ("30 days", 24 * 30, one),
    ] {
        let from = now - hours * 60 * MINUTE_US;
        let period = choose_period(from, now);
        let series_read = if endpoint.is_some() { 1 } else { args.series };
        let filter = SeriesFilter {
            metric_type: "http_request".into(),
            metric_name: endpoint.as_ref().map(|_| "GET".to_owned()),
            endpoint,
            source: None,
            period,
            from_us: from,
            to_us: now,
        };
        // Alternating runs of the API's read (stored percentiles, sketches only where a bucket
        // merges rows) and of the previous one (every row's sketch read, decoded and merged),
        // so both see the same machine load.
        let mut stored = Vec::with_capacity(args.queries);
        let mut sketches = Vec::with_capacity(args.queries);
        let mut read = 0;
        for _ in 0..args.queries {
            let t = Instant::now();
            let rows = bucket_summaries(
                store.as_ref(),
                filter.clone(),
                settled,
                SketchesWanted::WhereMerged,
            )
            .await?;
            read = rows.len();
            std::hint::black_box(series(&rows, period));
            stored.push(t.elapsed());

            let t = Instant::now();
            let rows: Vec<SummaryRow> = bucket_rows(store.as_ref(), filter.clone(), settled)
                .await?
                .into_iter()
                .map(SummaryRow::from)
                .collect();
            std::hint::black_box(series(&rows, period));
            sketches.push(t.elapsed());
        }
        stored.sort();
        sketches.sort();
        println!(
            "| {label} | {series_read} | {} | {read} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2} |",
            period.as_str(),
            percentile(&stored, 0.5),
            percentile(&stored, 0.95),
            percentile(&sketches, 0.5),
            percentile(&sketches, 0.95),
            percentile(&sketches, 0.95) / percentile(&stored, 0.95),
        );
    }
    // The dashboard's "all endpoints" chart (`combine=true`): every series of the family
    // merged per bucket. Alternating runs of the read from the roll-up's family totals (what
    // the API does now) and of the merge of every series' rows with their sketches (what it
    // did before), each turned into the one combined series.
    println!();
    println!(
        "| window | combined series | buckets | rows read | family totals p50 / p95 ms | \
         every row merged p50 / p95 ms | p95 ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (label, hours) in [("24 h", 24), ("7 days", 24 * 7), ("30 days", 24 * 30)] {
        let from = now - hours * 60 * MINUTE_US;
        let period = choose_period(from, now);
        let filter = SeriesFilter {
            metric_type: "http_request".into(),
            metric_name: None,
            endpoint: None,
            source: None,
            period,
            from_us: from,
            to_us: now,
        };
        let as_one = |mut rows: Vec<SummaryRow>| {
            for r in &mut rows {
                r.series.metric_name = String::new();
                r.series.endpoint = None;
            }
            series(&rows, period)
        };
        let mut totals = Vec::with_capacity(args.queries);
        let mut every = Vec::with_capacity(args.queries);
        let (mut read_totals, mut read_every) = (0, 0);
        for _ in 0..args.queries {
            let t = Instant::now();
            let rows = combined_summaries(store.as_ref(), filter.clone(), settled).await?;
            read_totals = rows.len();
            let new = as_one(rows);
            totals.push(t.elapsed());

            let t = Instant::now();
            let rows =
                bucket_summaries(store.as_ref(), filter.clone(), settled, SketchesWanted::All)
                    .await?;
            read_every = rows.len();
            let old = as_one(rows);
            every.push(t.elapsed());
            if !same_points(&new, &old) {
                return Err(format!("{label}: the two reads disagree").into());
            }
        }
        totals.sort();
        every.sort();
        println!(
            "| {label} | 1 of {} | {} | {read_totals} (was {read_every}) | {:.1} / {:.1} | \
             {:.1} / {:.1} | {:.2} |",
            args.series,
            period.as_str(),
            percentile(&totals, 0.5),
            percentile(&totals, 0.95),
            percentile(&every, 0.5),
            percentile(&every, 0.95),
            percentile(&every, 0.95) / percentile(&totals, 0.95),
        );
    }
    drop(store);
    if keep {
        return Ok(());
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
