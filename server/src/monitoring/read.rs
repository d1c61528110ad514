//! How the monitoring endpoints (and the benchmark) read a window of aggregates at a bucket
//! width: settled buckets from the stored rows of that width (the roll-up wrote them), the
//! recent tail the roll-up may not have reached yet from the next finer width, recursively
//! down to minute rows, which are current to the last committed batch. So a month of hourly
//! buckets reads about 720 rows per series instead of 43,200 minute rows, and the newest
//! bucket is still exact. Settled buckets are read as summaries ([`bucket_summaries`]): their
//! stored percentiles, and sketches only where a bucket merges several rows.

use super::aggregate::{AggregateRow, SketchesWanted, SummaryRow, period_start, roll_up};
use super::sketch::Sketch;
use crate::store::{MonitoringStore, SeriesFilter, StoreResult};
use std::collections::HashMap;
use tracewire_shared::api::monitoring::Period;
use uuid::Uuid;

/// The next finer stored width.
pub(super) fn finer(period: Period) -> Option<Period> {
    match period {
        Period::Minute => None,
        Period::FiveMinutes => Some(Period::Minute),
        Period::Hour => Some(Period::FiveMinutes),
        Period::Day => Some(Period::Hour),
    }
}

/// Rows of `filter.period` buckets over `[filter.from_us, filter.to_us)`, whole buckets from
/// the one `from_us` falls in. Buckets that ended before `settled_before_us` (now minus a
/// couple of roll-up intervals) are read as stored; later ones are merged from finer rows.
pub async fn bucket_rows(
    store: &dyn MonitoringStore,
    filter: SeriesFilter,
    settled_before_us: i64,
) -> StoreResult<Vec<AggregateRow>> {
    let wanted = filter.period;
    let from = period_start(wanted, filter.from_us);
    let Some(finer) = finer(wanted) else {
        let filter = SeriesFilter {
            from_us: from,
            ..filter
        };
        return store.aggregate_rows(&filter).await;
    };
    // The bucket that holds `settled_before_us` may still be missing rows: it and everything
    // after come from finer rows.
    let split = period_start(wanted, settled_before_us).clamp(from, filter.to_us.max(from));
    let mut rows = store
        .aggregate_rows(&SeriesFilter {
            from_us: from,
            to_us: split,
            ..filter.clone()
        })
        .await?;
    if split < filter.to_us {
        let tail = Box::pin(bucket_rows(
            store,
            SeriesFilter {
                period: finer,
                from_us: split,
                ..filter
            },
            settled_before_us,
        ))
        .await?;
        rows.extend(roll_up(&tail, wanted));
    }
    Ok(rows)
}

/// [`bucket_rows`] as the monitoring endpoints read it: settled buckets as stored summaries
/// (sketches as `sketches` asks), the unsettled tail merged from finer rows with its sketches.
pub async fn bucket_summaries(
    store: &dyn MonitoringStore,
    filter: SeriesFilter,
    settled_before_us: i64,
    sketches: SketchesWanted,
) -> StoreResult<Vec<SummaryRow>> {
    let (settled, tail) = split_window(&filter, settled_before_us);
    let mut rows = match sketches {
        SketchesWanted::All => store.aggregate_summaries(&settled, true).await?,
        SketchesWanted::None => store.aggregate_summaries(&settled, false).await?,
        SketchesWanted::WhereMerged => {
            summaries_where_merged(store, &settled, Rows::Series).await?
        }
    };
    if let Some(tail) = tail {
        let tail = bucket_rows(store, tail, settled_before_us).await?;
        rows.extend(tail.into_iter().map(SummaryRow::from));
    }
    Ok(rows)
}

/// The settled part of `filter`'s window (whole buckets from the one `from_us` falls in, up to
/// the bucket that holds `settled_before_us`) and, when the window reaches past it, the rest,
/// to be merged from finer rows. Minute rows are current to the last batch: all settled.
pub(super) fn split_window(
    filter: &SeriesFilter,
    settled_before_us: i64,
) -> (SeriesFilter, Option<SeriesFilter>) {
    let wanted = filter.period;
    let from = period_start(wanted, filter.from_us);
    let split = match finer(wanted) {
        None => filter.to_us.max(from),
        Some(_) => period_start(wanted, settled_before_us).clamp(from, filter.to_us.max(from)),
    };
    let settled = SeriesFilter {
        from_us: from,
        to_us: split,
        ..filter.clone()
    };
    let tail = (split < filter.to_us).then(|| SeriesFilter {
        from_us: split,
        ..filter.clone()
    });
    (settled, tail)
}

/// Which stored rows a summary read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rows {
    /// `metric_aggregates`: one row per series.
    Series,
    /// `metric_family_totals`: one row per family, project and source.
    Family,
}

/// Stored summaries of `filter`'s window with sketches only for the rows [`needing_sketches`]
/// lists: two short reads instead of every sketch.
pub(super) async fn summaries_where_merged(
    store: &dyn MonitoringStore,
    filter: &SeriesFilter,
    from: Rows,
) -> StoreResult<Vec<SummaryRow>> {
    let summaries = |with_sketches| async move {
        match from {
            Rows::Series => store.aggregate_summaries(filter, with_sketches).await,
            Rows::Family => store.family_summaries(filter, with_sketches).await,
        }
    };
    let mut rows = summaries(false).await?;
    let ids = needing_sketches(&rows);
    if ids.is_empty() {
        return Ok(rows);
    }
    let found = match from {
        Rows::Series => store.aggregate_sketches(&ids).await?,
        Rows::Family => store.family_sketches(&ids).await?,
    };
    let mut found: HashMap<Uuid, Sketch> = found.into_iter().collect();
    if found.len() != ids.len() {
        // The roll-up rebuilt a row between the two reads (new id): read the window again in
        // one statement, sketches included.
        return summaries(true).await;
    }
    for r in &mut rows {
        if let Some(sketch) = r.id.and_then(|id| found.remove(&id)) {
            r.sketch = Some(sketch);
        }
    }
    Ok(rows)
}

/// Ids of the rows whose sketch a per-series chart needs: those that share their bucket
/// (metric name, endpoint, period start) with another row, and those without stored
/// percentiles. Every row of such a bucket is listed; a row without an id is skipped.
pub fn needing_sketches(rows: &[SummaryRow]) -> Vec<Uuid> {
    let mut buckets: HashMap<(&str, Option<&str>, i64), usize> = HashMap::new();
    for r in rows {
        let key = (
            r.series.metric_name.as_str(),
            r.series.endpoint.as_deref(),
            r.period_start_us,
        );
        *buckets.entry(key).or_default() += 1;
    }
    rows.iter()
        .filter(|r| {
            let key = (
                r.series.metric_name.as_str(),
                r.series.endpoint.as_deref(),
                r.period_start_us,
            );
            r.sketch.is_none() && (r.quantiles.is_none() || buckets[&key] > 1)
        })
        .filter_map(|r| r.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::aggregate::{Quantiles, SeriesKey};
    use tracewire_shared::validate::Source;

    fn summary(n: u128, endpoint: &str, start: i64, stored: bool) -> SummaryRow {
        SummaryRow {
            id: Some(Uuid::from_u128(n)),
            series: SeriesKey {
                project_id: Uuid::from_u128(n),
                source: Source::Backend,
                metric_type: "http_request".into(),
                metric_name: "GET".into(),
                endpoint: Some(endpoint.into()),
            },
            unit: "ms".into(),
            period_start_us: start,
            count: 1,
            errors: 0,
            sum: 1.0,
            min: 1.0,
            max: 1.0,
            quantiles: stored.then_some(Quantiles {
                p50: 1.0,
                p95: 1.0,
                p99: 1.0,
            }),
            sketch: None,
        }
    }

    #[test]
    fn only_shared_buckets_and_rows_without_percentiles_need_sketches() {
        let rows = [
            summary(1, "/a", 0, true),  // alone: stored figures do
            summary(2, "/b", 0, true),  // shares /b at 0 with 3
            summary(3, "/b", 0, true),  // (another project)
            summary(4, "/b", 60, true), // alone at 60
            summary(5, "/c", 0, false), // alone, written before the columns
        ];
        let mut ids = needing_sketches(&rows);
        ids.sort();
        assert_eq!(ids, [2, 3, 5].map(Uuid::from_u128));
    }
}
