//! How the monitoring endpoints (and the benchmark) read a window of aggregates at a bucket
//! width: settled buckets from the stored rows of that width (the roll-up wrote them), the
//! recent tail the roll-up may not have reached yet from the next finer width, recursively
//! down to minute rows, which are current to the last committed batch. So a month of hourly
//! buckets reads about 720 rows per series instead of 43,200 minute rows, and the newest
//! bucket is still exact.

use super::aggregate::{AggregateRow, period_start, roll_up};
use crate::store::{MonitoringStore, SeriesFilter, StoreResult};
use tracewire_shared::api::monitoring::Period;

/// The next finer stored width.
fn finer(period: Period) -> Option<Period> {
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
