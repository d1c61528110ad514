//! The "all endpoints" series (`combine=true`) read from the roll-up's family totals answers
//! exactly what merging every series' row of every bucket answers, on SQLite and PostgreSQL:
//! before and after a roll-up, with late minute rows for buckets already rolled up, with the
//! window split anywhere between settled and unsettled buckets, after retention, and for
//! history rolled up before the totals existed (the migration's backlog).

mod common;

use common::{Backend, TestDb};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tracewire_server::monitoring::aggregate::{
    AggregateRow, SeriesKey, SketchesWanted, SummaryRow, roll_up,
};
use tracewire_server::monitoring::combined::combined_summaries;
use tracewire_server::monitoring::read::bucket_summaries;
use tracewire_server::monitoring::rollup::{MonitoringRetention, run_once};
use tracewire_server::monitoring::series::series;
use tracewire_server::monitoring::sketch::Sketch;
use tracewire_server::store::{self, SeriesFilter, Store, StoreOptions};
use tracewire_shared::api::monitoring::{MetricSeries, Period};
use tracewire_shared::validate::Source;
use uuid::Uuid;

const MINUTE: i64 = 60_000_000;
const DAY: i64 = 24 * 60 * MINUTE;
/// Minutes the generated rows span.
const SPAN: i64 = 3 * 24 * 60;
const NAMES: [&str; 3] = ["GET", "POST", "DELETE"];
const ENDPOINTS: [Option<&str>; 4] = [Some("/a"), Some("/b/{id}"), Some("/c"), None];

/// Keep everything: the roll-up must not prune what the test compares.
const KEEP: MonitoringRetention = MonitoringRetention {
    minute_days: 3650,
    five_minute_days: 3650,
    hour_days: 3650,
    day_days: 3650,
    slow_days: 3650,
};

/// A generated minute row: project, source, name, endpoint, minute, values, errors.
type Gen = (u8, bool, usize, usize, i64, Vec<u16>, u8);

fn minute_rows() -> impl Strategy<Value = Vec<Gen>> {
    prop::collection::vec(
        (
            0u8..2,
            any::<bool>(),
            0..NAMES.len(),
            0..ENDPOINTS.len(),
            0..SPAN,
            // Whole numbers, so sums are exact in any order of addition.
            prop::collection::vec(0u16..5_000, 1..5),
            0u8..3,
        ),
        1..40,
    )
}

/// One case: the rows, late rows for the same span (after the first roll-up), where the
/// window starts (minutes), where the settled part ends (minutes; past the span: all
/// settled), a source filter, and which period to prune (with its cutoff in minutes).
#[derive(Debug, Clone)]
struct Case {
    rows: Vec<Gen>,
    late: Vec<Gen>,
    from: i64,
    settled: i64,
    source: Option<bool>,
    prune: Option<(usize, i64)>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        minute_rows(),
        prop::collection::vec(minute_rows(), 0..2),
        0..24 * 60i64,
        0..SPAN + 24 * 60,
        prop::option::of(any::<bool>()),
        prop::option::of((0usize..4, 0..SPAN)),
    )
        .prop_map(|(rows, late, from, settled, source, prune)| Case {
            rows,
            late: late.into_iter().flatten().collect(),
            from,
            settled,
            source,
            prune,
        })
}

fn source(frontend: bool) -> Source {
    if frontend {
        Source::Frontend
    } else {
        Source::Backend
    }
}

/// The generated rows as minute rows of `family` from `base`, one per key.
fn to_rows(family: &str, base: i64, rows: &[Gen]) -> Vec<AggregateRow> {
    let rows: Vec<AggregateRow> = rows
        .iter()
        .map(
            |(project, frontend, name, endpoint, minute, values, errors)| {
                let sketch = Sketch::from_values(values.iter().map(|&v| f64::from(v)));
                AggregateRow {
                    series: SeriesKey {
                        project_id: Uuid::from_u128(u128::from(*project) + 1),
                        source: source(*frontend),
                        metric_type: family.to_owned(),
                        metric_name: NAMES[*name].to_owned(),
                        endpoint: ENDPOINTS[*endpoint].map(str::to_owned),
                    },
                    unit: "ms".into(),
                    period: Period::Minute,
                    period_start_us: base + minute * MINUTE,
                    count: values.len() as u64,
                    errors: u64::from(*errors).min(values.len() as u64),
                    sketch,
                }
            },
        )
        .collect();
    roll_up(&rows, Period::Minute)
}

async fn write(store: &dyn Store, rows: &[AggregateRow]) {
    let mut tx = store.begin_write().await.expect("begin");
    tx.merge_aggregates(rows).await.expect("merge");
    tx.commit().await.expect("commit");
}

/// The chart both ways: every series' rows merged per bucket (the read before family totals),
/// and the family totals' read.
async fn both_reads(
    store: &dyn Store,
    filter: &SeriesFilter,
    settled: i64,
) -> (Vec<MetricSeries>, Vec<MetricSeries>) {
    let as_one = |mut rows: Vec<SummaryRow>| {
        for r in &mut rows {
            r.series.metric_name = String::new();
            r.series.endpoint = None;
        }
        series(&rows, filter.period)
    };
    let every = bucket_summaries(store, filter.clone(), settled, SketchesWanted::All)
        .await
        .expect("every row");
    let totals = combined_summaries(store, filter.clone(), settled)
        .await
        .expect("family totals");
    (as_one(every), as_one(totals))
}

/// For each chart period and two split points (the case's and "all settled"), both reads agree.
async fn agree(
    store: &dyn Store,
    family: &str,
    base: i64,
    case: &Case,
    stage: &str,
) -> Result<(), TestCaseError> {
    for period in [
        Period::Minute,
        Period::FiveMinutes,
        Period::Hour,
        Period::Day,
    ] {
        for settled in [base + case.settled * MINUTE, base + 10 * DAY] {
            let filter = SeriesFilter {
                metric_type: family.to_owned(),
                metric_name: None,
                endpoint: None,
                source: case.source.map(|f| source(f).as_str().to_owned()),
                period,
                from_us: base + case.from * MINUTE,
                to_us: base + SPAN * MINUTE + DAY,
            };
            let (every, totals) = both_reads(store, &filter, settled).await;
            prop_assert_eq!(
                &every,
                &totals,
                "{} {:?} settled at {}",
                stage,
                period,
                settled
            );
        }
    }
    Ok(())
}

/// The property, on one store for all cases (each case its own metric family).
fn combined_equals_merge_of_every_row(backend: Backend) {
    let case_no = AtomicI64::new(0);
    let case_no = &case_no;
    let setup = async {
        let db = TestDb::new(backend).await;
        let store = store::connect(&db.url, &StoreOptions::default())
            .await
            .expect("store");
        (db, store)
    };
    common::check_property(
        24,
        cases(),
        setup,
        |fixture: Arc<(TestDb, Arc<dyn Store>)>, case| async move {
            let store = fixture.1.as_ref();
            let family = format!("family_{}", case_no.fetch_add(1, Ordering::Relaxed));
            let now = tracewire_server::clock::now_us();
            let base = (now - 6 * DAY).div_euclid(DAY) * DAY;
            let rows = to_rows(&family, base, &case.rows);
            write(store, &rows).await;
            agree(store, &family, base, &case, "before any roll-up").await?;
            run_once(store, &KEEP, now).await.expect("roll-up");
            agree(store, &family, base, &case, "rolled up").await?;
            // Late minutes for buckets already rolled up: equal while they wait (the stored
            // hours are stale for both reads alike) and after the next roll-up.
            let late = to_rows(&family, base, &case.late);
            if !late.is_empty() {
                write(store, &late).await;
                agree(store, &family, base, &case, "late, not rolled up").await?;
                run_once(store, &KEEP, now).await.expect("roll-up");
                agree(store, &family, base, &case, "late, rolled up").await?;
            }
            // Everything settled and rolled up: the chart holds every generated observation.
            let wanted =
                |r: &&AggregateRow| case.source.is_none_or(|f| r.series.source == source(f));
            let expected: i64 = rows
                .iter()
                .chain(&late)
                .filter(wanted)
                .map(|r| r.count as i64)
                .sum();
            let all = SeriesFilter {
                metric_type: family.clone(),
                metric_name: None,
                endpoint: None,
                source: case.source.map(|f| source(f).as_str().to_owned()),
                period: Period::Day,
                from_us: base,
                to_us: base + SPAN * MINUTE + DAY,
            };
            let (_, totals) = both_reads(store, &all, now).await;
            let counted: i64 = totals.iter().flat_map(|s| &s.points).map(|p| p.count).sum();
            prop_assert_eq!(counted, expected);
            if let Some((period, cutoff)) = case.prune {
                store
                    .prune_aggregates(Period::ALL[period], base + cutoff * MINUTE)
                    .await
                    .expect("prune");
                agree(store, &family, base, &case, "pruned").await?;
            }
            Ok(())
        },
        |(db, store)| async move {
            drop(store);
            drop(db);
        },
    );
}

property_on_both_backends!(
    combined_read_equals_merge_of_every_row,
    super::combined_equals_merge_of_every_row
);

// History rolled up before migration 0009 has coarse rows and no family totals; the
// migration queues its buckets and the next roll-up builds their totals.
both_backends!(backlog_of_old_buckets_gets_totals, |backend| async move {
    let db = TestDb::new(backend).await;
    let store = store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("store");
    let now = tracewire_server::clock::now_us();
    let base = (now - 6 * DAY).div_euclid(DAY) * DAY;
    let generated: Vec<Gen> = (0..60)
        .map(|i| {
            let i = i as usize;
            (
                (i % 2) as u8,
                i.is_multiple_of(3),
                i % 3,
                i % 4,
                (i as i64) * 97,
                vec![(i * 37 % 1000) as u16, 7],
                (i % 2) as u8,
            )
        })
        .collect();
    write(store.as_ref(), &to_rows("http_request", base, &generated)).await;
    run_once(store.as_ref(), &KEEP, now).await.expect("roll-up");
    let filter = SeriesFilter {
        metric_type: "http_request".into(),
        metric_name: None,
        endpoint: None,
        source: None,
        period: Period::Hour,
        from_us: base,
        to_us: base + SPAN * MINUTE,
    };
    let (every, totals) = both_reads(store.as_ref(), &filter, now).await;
    assert_eq!(every, totals);
    // As a collector before 0009 left it: no totals; the migration's queue.
    execute(&db, "DELETE FROM metric_family_totals").await;
    execute(
        &db,
        "INSERT INTO metric_family_pending \
         (aggregation_period, metric_type, period_start, source, project_id) \
         SELECT DISTINCT aggregation_period, metric_type, period_start, source, project_id \
         FROM metric_aggregates WHERE aggregation_period <> '1m'",
    )
    .await;
    let (_, missing) = both_reads(store.as_ref(), &filter, now).await;
    assert_ne!(
        every, missing,
        "without totals the settled buckets are empty"
    );
    let report = run_once(store.as_ref(), &KEEP, now)
        .await
        .expect("roll-up")
        .expect("lease");
    assert!(report.rolled_up > 0);
    let (again, totals) = both_reads(store.as_ref(), &filter, now).await;
    assert_eq!(again, every);
    assert_eq!(totals, every);
    let left: Vec<(i64,)> = db.rows("SELECT COUNT(*) FROM metric_family_pending").await;
    assert_eq!(left, [(0,)]);
});

/// Runs `sql` on a connection of its own, as an older collector or an operator would.
async fn execute(db: &TestDb, sql: &str) {
    if db.backend == Backend::Sqlite {
        let pool = sqlx::SqlitePool::connect(&db.url).await.expect("sqlite");
        sqlx::query(sql).execute(&pool).await.expect("statement");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.expect("postgres");
        sqlx::query(sql).execute(&pool).await.expect("statement");
        pool.close().await;
    }
}
