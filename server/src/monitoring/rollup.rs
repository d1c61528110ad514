//! The roll-up job: 5-minute rows from minute rows, hourly from 5-minute, daily from hourly,
//! always by merging sketches, each coarse bucket with its family total (every name and
//! endpoint of the family merged, [`super::combined`]) in the same transaction; then each
//! period's rows and totals past its retention, and slow requests and statements past theirs,
//! are deleted. One collector per database runs it (a lease).
//!
//! Incremental: ingest marks every aggregate row it creates or merges into as changed, and a
//! run rebuilds only the coarser rows whose period holds a changed row (from all of that
//! period's finer rows), level by level. So a late measurement (a browser's offline buffer, a
//! client clock behind) reaches the hourly and daily rows like any other, and an idle
//! collector's run reads nothing.

use crate::store::{LeaseName, Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;
use tracewire_shared::api::monitoring::Period;

/// How long each kind of row is kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitoringRetention {
    /// 1-minute rows (default 2 days).
    pub minute_days: u32,
    /// 5-minute rows (default 14 days).
    pub five_minute_days: u32,
    /// Hourly rows (default 90 days).
    pub hour_days: u32,
    /// Daily rows (default 2 years).
    pub day_days: u32,
    /// Slow requests and statements (default 14 days, like the 5-minute rows they explain).
    pub slow_days: u32,
}

impl Default for MonitoringRetention {
    fn default() -> Self {
        Self {
            minute_days: 2,
            five_minute_days: 14,
            hour_days: 90,
            day_days: 730,
            slow_days: 14,
        }
    }
}

impl MonitoringRetention {
    /// Days `period`'s rows are kept.
    pub fn days(&self, period: Period) -> u32 {
        match period {
            Period::Minute => self.minute_days,
            Period::FiveMinutes => self.five_minute_days,
            Period::Hour => self.hour_days,
            Period::Day => self.day_days,
        }
    }
}

/// Each coarse period and the finer one it is merged from.
const LEVELS: [(Period, Period); 3] = [
    (Period::Minute, Period::FiveMinutes),
    (Period::FiveMinutes, Period::Hour),
    (Period::Hour, Period::Day),
];

const DAY_US: i64 = 86_400_000_000;

/// Changed rows folded per transaction, so one step holds the writer only briefly.
const ROWS_PER_STEP: u32 = 2_000;

/// What one [`run_once`] did; the periodic job logs it when something was pruned.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RollupReport {
    /// Coarse buckets rebuilt (per series), and family totals built from a backlog.
    pub rolled_up: usize,
    /// Rows deleted by retention (aggregates and slow entries).
    pub pruned: u64,
}

/// One run at `now_us`; `None` when another collector holds the lease.
pub async fn run_once(
    store: &dyn Store,
    retention: &MonitoringRetention,
    now_us: i64,
) -> StoreResult<Option<RollupReport>> {
    let Some(lease) = store.try_lease(LeaseName::Rollup).await? else {
        return Ok(None);
    };
    let mut report = RollupReport::default();
    for (finer, coarser) in LEVELS {
        loop {
            let rebuilt = store.roll_up_changed(finer, coarser, ROWS_PER_STEP).await?;
            if rebuilt == 0 {
                break;
            }
            report.rolled_up += rebuilt;
        }
    }
    // Buckets rolled up before family totals existed (queued by migration 0009).
    loop {
        let built = store.backfill_family_totals(ROWS_PER_STEP).await?;
        if built == 0 {
            break;
        }
        report.rolled_up += built;
    }
    for period in Period::ALL {
        let before = now_us - i64::from(retention.days(period)) * DAY_US;
        report.pruned += store.prune_aggregates(period, before).await?;
    }
    report.pruned += store
        .prune_slow(now_us - i64::from(retention.slow_days) * DAY_US)
        .await?;
    lease.release().await;
    Ok(Some(report))
}

/// Runs [`run_once`] every `every` until the collector stops.
pub async fn periodic(
    store: Arc<dyn Store>,
    retention: MonitoringRetention,
    every: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        match run_once(store.as_ref(), &retention, crate::clock::now_us()).await {
            Ok(Some(r)) if r.pruned > 0 => {
                tracing::info!(rolled_up = r.rolled_up, pruned = r.pruned, "metric roll-up")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "metric roll-up failed"),
        }
    }
}
