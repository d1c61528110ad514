//! The "all endpoints" series of a metric family (`combine=true` with no name or endpoint):
//! every metric name and endpoint of the family merged per bucket.
//!
//! Merging every series' row of every bucket cost a month-long chart about 14,400 rows read and
//! decoded for 20 endpoints, so the roll-up also keeps one *family total* per (project, source,
//! family, period, bucket) — [`family_totals`] of the bucket's coarse rows, written in the
//! transaction that rebuilds them — and this read takes settled buckets from those (about 721
//! rows for a month of hours) and only the unsettled tail from finer rows, split exactly as
//! [`super::read::bucket_summaries`] splits. Sketches merge by adding bucket counts, so the
//! answer is the one the merge of every row gives (counts, errors, min, max, percentiles; sums
//! up to the order of float additions).

use super::aggregate::{AggregateRow, SeriesKey, SummaryRow, period_start, roll_up};
use super::read::{Rows, finer, split_window, summaries_where_merged};
use crate::store::{MonitoringStore, SeriesFilter, StoreResult};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The series a family total is stored and answered under: the row's project, source and
/// family, with no metric name and no endpoint.
pub fn family_key(series: &SeriesKey) -> SeriesKey {
    SeriesKey {
        project_id: series.project_id,
        source: series.source,
        metric_type: series.metric_type.clone(),
        metric_name: String::new(),
        endpoint: None,
    }
}

/// Merges `rows` into one row per (project, source, family, period, period start) under
/// [`family_key`]; the unit is the first row's. Ordered by series, then time.
pub fn family_totals<'a>(rows: impl IntoIterator<Item = &'a AggregateRow>) -> Vec<AggregateRow> {
    let mut merged: HashMap<(SeriesKey, i64, i64), AggregateRow> = HashMap::new();
    for row in rows {
        let key = (
            family_key(&row.series),
            row.period.seconds(),
            row.period_start_us,
        );
        match merged.entry(key) {
            Entry::Occupied(mut e) => e.get_mut().absorb(row),
            Entry::Vacant(e) => {
                let series = e.key().0.clone();
                e.insert(AggregateRow {
                    series,
                    ..row.clone()
                });
            }
        }
    }
    let mut out: Vec<AggregateRow> = merged.into_values().collect();
    out.sort_by(|a, b| {
        (&a.series, a.period.seconds(), a.period_start_us).cmp(&(
            &b.series,
            b.period.seconds(),
            b.period_start_us,
        ))
    });
    out
}

/// The filter without name and endpoint: a family total covers all of them.
fn whole_family(filter: SeriesFilter) -> SeriesFilter {
    SeriesFilter {
        metric_name: None,
        endpoint: None,
        ..filter
    }
}

/// [`super::read::bucket_rows`] for the whole family: family totals of `filter.period` for
/// settled buckets, the tail merged from finer totals, down to minute rows merged here. Rows
/// carry [`family_key`] series and their sketches.
pub async fn combined_rows(
    store: &dyn MonitoringStore,
    filter: SeriesFilter,
    settled_before_us: i64,
) -> StoreResult<Vec<AggregateRow>> {
    let filter = whole_family(filter);
    let wanted = filter.period;
    let Some(finer) = finer(wanted) else {
        let filter = SeriesFilter {
            from_us: period_start(wanted, filter.from_us),
            ..filter
        };
        return Ok(family_totals(&store.aggregate_rows(&filter).await?));
    };
    let (settled, tail) = split_window(&filter, settled_before_us);
    let mut rows = store.family_rows(&settled).await?;
    if let Some(tail) = tail {
        let tail = Box::pin(combined_rows(
            store,
            SeriesFilter {
                period: finer,
                ..tail
            },
            settled_before_us,
        ))
        .await?;
        rows.extend(roll_up(&tail, wanted));
    }
    Ok(rows)
}

/// What `combine=true` reads without a name or endpoint filter: settled buckets as stored
/// family totals (their percentiles; sketches only where a bucket holds several projects or
/// sources), the unsettled tail from [`combined_rows`]. One row per project and source per
/// bucket, under [`family_key`].
pub async fn combined_summaries(
    store: &dyn MonitoringStore,
    filter: SeriesFilter,
    settled_before_us: i64,
) -> StoreResult<Vec<SummaryRow>> {
    let filter = whole_family(filter);
    if finer(filter.period).is_none() {
        let rows = combined_rows(store, filter, settled_before_us).await?;
        return Ok(rows.into_iter().map(SummaryRow::from).collect());
    }
    let (settled, tail) = split_window(&filter, settled_before_us);
    let mut rows = summaries_where_merged(store, &settled, Rows::Family).await?;
    if let Some(tail) = tail {
        let tail = combined_rows(store, tail, settled_before_us).await?;
        rows.extend(tail.into_iter().map(SummaryRow::from));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::sketch::Sketch;
    use tracewire_shared::api::monitoring::Period;
    use tracewire_shared::validate::Source;
    use uuid::Uuid;

    fn row(project: u128, source: Source, name: &str, endpoint: Option<&str>) -> AggregateRow {
        AggregateRow {
            series: SeriesKey {
                project_id: Uuid::from_u128(project),
                source,
                metric_type: "http_request".into(),
                metric_name: name.into(),
                endpoint: endpoint.map(str::to_owned),
            },
            unit: "ms".into(),
            period: Period::Hour,
            period_start_us: 0,
            count: 2,
            errors: 1,
            sketch: Sketch::from_values([1.0, 100.0]),
        }
    }

    #[test]
    fn names_and_endpoints_merge_projects_and_sources_do_not() {
        let rows = [
            row(1, Source::Backend, "GET", Some("/a")),
            row(1, Source::Backend, "POST", Some("/b")),
            row(1, Source::Backend, "GET", None),
            row(2, Source::Backend, "GET", Some("/a")),
            row(1, Source::Frontend, "GET", Some("/a")),
        ];
        let totals = family_totals(&rows);
        assert_eq!(totals.len(), 3);
        let merged: Vec<&AggregateRow> = totals.iter().filter(|t| t.count > 2).collect();
        assert_eq!(merged.len(), 1, "{totals:?}");
        let merged = merged[0];
        assert_eq!(merged.series, family_key(&rows[0].series));
        assert_eq!(merged.series.metric_name, "");
        assert_eq!(merged.series.endpoint, None);
        assert_eq!((merged.count, merged.errors), (6, 3));
        assert_eq!(merged.sketch.count(), 6);
        assert_eq!(merged.sketch.sum(), 303.0);
        assert_eq!(totals.iter().map(|t| t.count).sum::<u64>(), 10);
    }

    #[test]
    fn buckets_and_periods_stay_apart() {
        let a = row(1, Source::Backend, "GET", Some("/a"));
        let mut later = a.clone();
        later.period_start_us = 3_600_000_000;
        let mut day = a.clone();
        day.period = Period::Day;
        let totals = family_totals([&a, &later, &day]);
        assert_eq!(totals.len(), 3);
        assert!(totals.iter().all(|t| t.count == 2));
    }
}
