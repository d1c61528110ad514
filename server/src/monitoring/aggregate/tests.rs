use super::*;
use proptest::prelude::*;

const T0: i64 = 1_765_000_000_000_000; // some minute boundary area, microseconds

fn obs(project: Uuid, endpoint: &str, value: f64, is_error: bool, ts: i64) -> Observation<'_> {
    Observation {
        project_id: project,
        source: Source::Backend,
        metric_type: "http_request",
        metric_name: "GET",
        endpoint: Some(endpoint),
        unit: "ms",
        value,
        is_error,
        timestamp_us: ts,
    }
}

#[test]
fn observations_group_by_series_and_minute() {
    let p = Uuid::from_u128(1);
    let mut agg = Aggregator::new(10);
    let minute = period_start(Period::Minute, T0);
    agg.observe(obs(p, "/a/{id}", 10.0, false, minute + 1));
    agg.observe(obs(p, "/a/{id}", 30.0, true, minute + 59_999_999));
    agg.observe(obs(p, "/a/{id}", 20.0, false, minute + MINUTE_US));
    agg.observe(obs(p, "/b", 5.0, false, minute));
    let drained = agg.drain();
    let summary: Vec<_> = drained
        .rows
        .iter()
        .map(|r| {
            (
                r.series.endpoint.clone().unwrap_or_default(),
                r.period_start_us - minute,
                r.count,
                r.errors,
                r.sketch.min(),
                r.sketch.max(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("/a/{id}".into(), 0, 2, 1, Some(10.0), Some(30.0)),
            ("/a/{id}".into(), MINUTE_US, 1, 0, Some(20.0), Some(20.0)),
            ("/b".into(), 0, 1, 0, Some(5.0), Some(5.0)),
        ]
    );
    assert_eq!(drained.rows[0].mean(), 20.0);
    assert!(
        agg.drain().rows.is_empty(),
        "a drain empties the aggregator"
    );
}

#[test]
fn the_series_cap_counts_what_it_drops_per_project() {
    let (p, q) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let mut agg = Aggregator::new(2);
    assert!(agg.observe(obs(p, "/1", 1.0, false, T0)));
    assert!(agg.observe(obs(p, "/2", 1.0, false, T0)));
    assert!(!agg.observe(obs(p, "/3", 1.0, false, T0)));
    assert!(!agg.observe(obs(p, "/4", 1.0, false, T0)));
    assert!(
        agg.observe(obs(p, "/1", 2.0, false, T0)),
        "known series go on"
    );
    assert!(
        agg.observe(obs(q, "/3", 1.0, false, T0)),
        "caps are per project"
    );
    let drained = agg.drain();
    assert_eq!(drained.dropped.get(&p), Some(&2));
    assert_eq!(drained.dropped.get(&q), None);
    assert_eq!(drained.rows.len(), 3);
    // The cap outlives a drain: series stay known.
    assert!(!agg.observe(obs(p, "/5", 1.0, false, T0)));
    assert_eq!(agg.series_count(p), 2);
}

#[test]
fn a_missing_endpoint_is_its_own_series() {
    let p = Uuid::from_u128(1);
    let mut agg = Aggregator::new(10);
    let mut none = obs(p, "", 1.0, false, T0);
    none.endpoint = None;
    agg.observe(none);
    agg.observe(obs(p, "", 1.0, false, T0));
    let rows = agg.drain().rows;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| r.series.endpoint.is_none()));
}

#[test]
fn days_start_at_midnight_utc_even_before_1970() {
    let day = 86_400_000_000;
    assert_eq!(period_start(Period::Day, 3 * day + 5), 3 * day);
    assert_eq!(period_start(Period::Day, -5), -day);
    assert_eq!(
        period_start(Period::FiveMinutes, 7 * MINUTE_US),
        5 * MINUTE_US
    );
}

proptest! {
    /// Rolling minute rows up gives what aggregating straight into the coarse period would:
    /// the same counts, errors and sketch — so percentiles of an hour are never averages.
    #[test]
    fn roll_ups_equal_direct_aggregation(
        samples in prop::collection::vec((0i64..3 * 3600, 0.1f64..5_000.0, any::<bool>(), 0usize..3), 1..300),
        period in prop::sample::select(vec![Period::FiveMinutes, Period::Hour, Period::Day]),
    ) {
        let p = Uuid::from_u128(7);
        let endpoints = ["/a", "/b/{id}", "/c"];
        let mut agg = Aggregator::new(100);
        for &(sec, value, err, e) in &samples {
            agg.observe(obs(p, endpoints[e], value, err, T0 + sec * 1_000_000));
        }
        let minutes = agg.drain().rows;
        prop_assert!(minutes.iter().all(|r| r.period == Period::Minute));
        let rolled = roll_up(&minutes, period);
        // Rolling up twice (minute → 5 min → period) changes nothing either.
        let twice = roll_up(&roll_up(&minutes, Period::FiveMinutes), period);
        prop_assert_eq!(&rolled.iter().map(|r| (r.count, r.errors, r.sketch.quantile(0.99))).collect::<Vec<_>>(),
                        &twice.iter().map(|r| (r.count, r.errors, r.sketch.quantile(0.99))).collect::<Vec<_>>());

        let mut expected: HashMap<(String, i64), (u64, u64, Sketch)> = HashMap::new();
        for &(sec, value, err, e) in &samples {
            let start = period_start(period, T0 + sec * 1_000_000);
            let slot = expected.entry((endpoints[e].to_owned(), start)).or_insert((0, 0, Sketch::new()));
            slot.0 += 1;
            slot.1 += u64::from(err);
            slot.2.add(value);
        }
        prop_assert_eq!(rolled.len(), expected.len());
        for row in &rolled {
            let key = (row.series.endpoint.clone().unwrap_or_default(), row.period_start_us);
            let (count, errors, sketch) = expected.get(&key).expect("same keys");
            prop_assert_eq!(row.count, *count);
            prop_assert_eq!(row.errors, *errors);
            prop_assert_eq!(row.period, period);
            for q in [0.5, 0.95, 0.99] {
                prop_assert_eq!(row.sketch.quantile(q), sketch.quantile(q));
            }
        }
    }
}
