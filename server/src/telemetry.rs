//! The collector's own metrics, served at `GET /metrics` in the Prometheus text format: what an
//! operator alerts on before users notice (ingest falling behind, batches refused, the writer's
//! commits slowing, alert deliveries failing). Recorded with the `metrics` facade where they
//! happen; the first collector in a process installs the recorder, so tests that start many
//! collectors in one process share one set of counters (they compare before and after).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Batches accepted (`outcome` = `stored` or `duplicate`).
pub const INGEST_BATCHES: &str = "tracewire_ingest_batches_total";
/// Entries stored (`kind` = `logs`, `exceptions`, `metrics`).
pub const INGEST_ENTRIES: &str = "tracewire_ingest_entries_total";
/// Ingest requests refused (`reason` = the error envelope's code).
pub const INGEST_REJECTED: &str = "tracewire_ingest_rejected_total";
/// Sentry envelope items of types Tracewire does not store (sessions, client reports…).
pub const SENTRY_ITEMS_IGNORED: &str = "tracewire_sentry_items_ignored_total";
/// Logs that collapsed into an earlier identical row instead of a new one.
pub const DEDUP_COLLAPSED: &str = "tracewire_dedup_collapsed_total";
/// Batches waiting for the writer when it took its last group.
pub const WRITER_QUEUE_DEPTH: &str = "tracewire_writer_queue_depth";
/// Seconds from the start of a group's transaction to its commit.
pub const WRITER_COMMIT_SECONDS: &str = "tracewire_writer_commit_seconds";
/// Group transactions that failed (`outcome` = `conflict` when another writer's lock ended it and
/// the group is tried again whole, `retried` when split into batches, `failed` otherwise).
pub const WRITER_FAILURES: &str = "tracewire_writer_failures_total";
/// Metric observations dropped by the per-project series cap.
pub const METRIC_SERIES_DROPPED: &str = "tracewire_metric_series_dropped_total";
/// Alert rule evaluations (`outcome` = `ok`, `breached`, `no_data`, `error`).
pub const ALERT_EVALUATIONS: &str = "tracewire_alert_evaluations_total";
/// Alert notifications (`channel` kind, `outcome` = `delivered`, `failed`, `suppressed`).
pub const ALERT_NOTIFICATIONS: &str = "tracewire_alert_notifications_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use; `None` when another recorder
/// was installed first (an embedding application's), in which case `/metrics` says so.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(WRITER_COMMIT_SECONDS.to_owned()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(INGEST_BATCHES, "Ingest batches accepted, by outcome.");
    describe_counter!(INGEST_ENTRIES, "Entries stored, by kind.");
    describe_counter!(INGEST_REJECTED, "Ingest requests refused, by error code.");
    describe_counter!(
        SENTRY_ITEMS_IGNORED,
        "Sentry envelope items accepted but not stored (types Tracewire has no place for)."
    );
    describe_counter!(DEDUP_COLLAPSED, "Logs folded into an identical row.");
    describe_gauge!(WRITER_QUEUE_DEPTH, "Batches waiting for the writer.");
    describe_histogram!(WRITER_COMMIT_SECONDS, "Seconds per writer transaction.");
    describe_counter!(WRITER_FAILURES, "Writer transactions that failed.");
    describe_counter!(
        METRIC_SERIES_DROPPED,
        "Observations dropped by the series cap."
    );
    describe_counter!(ALERT_EVALUATIONS, "Alert rule evaluations, by outcome.");
    describe_counter!(
        ALERT_NOTIFICATIONS,
        "Alert notifications, by channel and outcome."
    );
}

/// The text `/metrics` answers.
pub fn render() -> String {
    match handle() {
        Some(h) => {
            h.run_upkeep();
            h.render()
        }
        None => "# another metrics recorder was installed in this process\n".to_owned(),
    }
}
