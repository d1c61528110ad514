//! How the monitoring endpoints (and the alert evaluator, and the benchmark) read a window of
//! aggregates: from the finest rows still kept for the window's start, merged in memory into
//! the buckets asked for. Minute rows are current to the last committed batch; coarser stored
//! rows lag by up to one roll-up interval, so they are used only where minute rows are gone.

use super::aggregate::{AggregateRow, period_start, roll_up};
use super::rollup::MonitoringRetention;
use super::series::stored_period;
use crate::store::{MonitoringStore, SeriesFilter, StoreResult};

/// Rows of `filter.period` buckets over `[filter.from_us, filter.to_us)`, whole buckets from
/// the one `from_us` falls in.
pub async fn bucket_rows(
    store: &dyn MonitoringStore,
    mut filter: SeriesFilter,
    retention: &MonitoringRetention,
    now_us: i64,
) -> StoreResult<Vec<AggregateRow>> {
    let wanted = filter.period;
    let stored = stored_period(filter.from_us, now_us, wanted, retention);
    filter.period = stored;
    filter.from_us = period_start(wanted, filter.from_us);
    let rows = store.aggregate_rows(&filter).await?;
    Ok(if stored == wanted {
        rows
    } else {
        roll_up(&rows, wanted)
    })
}
