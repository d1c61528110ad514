//! What a condition's value is over its window, read from the store with bounded cost: every
//! read is an indexed range over the window or a per-hour tally, never a scan of every log.
//!
//! - `log_count`: occurrences (the sum of `dedup_count`: a burst of identical errors collapsed
//!   by dedup is still a burst) of the logs the rule's filters match, by the logs query's own
//!   WHERE over the window, through the `(level, timestamp)` or `(timestamp, id)` index. Not
//!   the `log_counts` tally: it counts rows, not occurrences, and windows are short.
//! - `message_regex`: the window's logs, newest first, at most [`ReadLimits::regex_max_rows`]
//!   of them; past that cap the value is the count among the rows read (a lower bound), so a
//!   noisy window costs the same as a quiet one.
//! - `new_exception` / `regressed_exception`: groups first received / reopened in the window
//!   (by the collector's clock); `exception_count`: occurrences in the window.
//! - `error_rate`, `latency` and `web_vital`: the minute aggregates the window touches, their
//!   counts summed and their sketches merged (a quantile of the merge, never an average of
//!   quantiles); no requests is no data. `slow_request_count`: the slow requests recorded at
//!   ingest in the window.

use tracewire_shared::api::monitoring::{
    Condition, DEFAULT_SLOW_REQUEST_MS, LogFilters, METRIC_TYPE_HTTP_REQUEST,
    METRIC_TYPE_WEB_VITAL, Period,
};

use super::message::MAX_SAMPLES;
use crate::monitoring::aggregate::{AggregateRow, period_start};
use crate::monitoring::sketch::Sketch;
use crate::query::cursor::Cursor;
use crate::query::logs::{LOG_PARAMS, LogFilter};
use crate::store::{ExceptionSignal, SeriesFilter, Store, StoreError};

/// Bounds of one condition read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadLimits {
    /// Most log rows a message regex is tried on per evaluation.
    pub regex_max_rows: u32,
    /// Slowness threshold of slow-request rules that do not name one (`--slow-request-ms`).
    pub slow_request_ms: f64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            regex_max_rows: 10_000,
            slow_request_ms: DEFAULT_SLOW_REQUEST_MS,
        }
    }
}

/// Rows per page while a message regex walks its window.
const REGEX_PAGE: u32 = 1000;

/// What reading a condition over its window found: the value to judge and samples to quote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// The value; `None` when there was nothing to judge.
    pub value: Option<f64>,
    /// A few matching lines for the notification.
    pub samples: Vec<String>,
}

/// Why a condition could not be read this time.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database failed; the rule is tried again next round.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored rule cannot be evaluated (a filter or regex this version refuses).
    #[error("rule cannot be evaluated: {0}")]
    BadRule(String),
}

/// Reads `condition` over the `window_minutes` ending at `now_us`.
pub async fn observe(
    store: &dyn Store,
    condition: &Condition,
    window_minutes: u32,
    now_us: i64,
    limits: &ReadLimits,
) -> Result<Observation, ReadError> {
    let from_us = now_us - i64::from(window_minutes) * 60_000_000;
    match condition {
        Condition::LogCount { filters } => {
            let mut filter = log_filter(filters, from_us, now_us)?;
            filter.limit = MAX_SAMPLES as u32;
            let count = store.count_log_occurrences(&filter).await?;
            let samples = if count > 0 {
                let rows = store.page_logs(&filter).await?;
                rows.iter().take(MAX_SAMPLES).map(log_line).collect()
            } else {
                Vec::new()
            };
            Ok(Observation {
                value: Some(count as f64),
                samples,
            })
        }
        Condition::MessageRegex { pattern, filters } => {
            let regex =
                regex::Regex::new(pattern).map_err(|e| ReadError::BadRule(e.to_string()))?;
            let mut filter = log_filter(filters, from_us, now_us)?;
            filter.limit = REGEX_PAGE.min(limits.regex_max_rows.max(1));
            let (mut read, mut matched) = (0u32, 0u64);
            let mut samples = Vec::new();
            loop {
                let mut rows = store.page_logs(&filter).await?;
                let more = rows.len() > filter.limit as usize;
                rows.truncate(filter.limit as usize);
                for row in &rows {
                    read += 1;
                    if regex.is_match(&row.message) {
                        matched += 1;
                        if samples.len() < MAX_SAMPLES {
                            samples.push(log_line(row));
                        }
                    }
                    if read >= limits.regex_max_rows {
                        break;
                    }
                }
                match rows.last() {
                    Some(last) if more && read < limits.regex_max_rows => {
                        filter.cursor = Some(Cursor {
                            time_us: last.timestamp,
                            id: last.id,
                        });
                    }
                    _ => break,
                }
            }
            Ok(Observation {
                value: Some(matched as f64),
                samples,
            })
        }
        Condition::NewException { source } => {
            exceptions(
                store,
                ExceptionSignal::New,
                source.as_deref(),
                None,
                from_us,
                now_us,
            )
            .await
        }
        Condition::RegressedException { source } => {
            exceptions(
                store,
                ExceptionSignal::Regressed,
                source.as_deref(),
                None,
                from_us,
                now_us,
            )
            .await
        }
        Condition::ExceptionCount {
            source,
            exception_type,
        } => {
            exceptions(
                store,
                ExceptionSignal::Occurrences,
                source.as_deref(),
                exception_type.as_deref(),
                from_us,
                now_us,
            )
            .await
        }
        Condition::ErrorRate { endpoint, source } => {
            let rows = series(
                store,
                METRIC_TYPE_HTTP_REQUEST,
                None,
                endpoint,
                source,
                from_us,
                now_us,
            )
            .await?;
            let (count, errors) = rows
                .iter()
                .fold((0u64, 0u64), |(c, e), r| (c + r.count, e + r.errors));
            Ok(Observation {
                value: (count > 0).then(|| errors as f64 / count as f64),
                samples: vec![format!("{errors} of {count} requests failed")],
            })
        }
        Condition::Latency { quantile, endpoint } => {
            let q = quantile_of(quantile)?;
            let rows = series(
                store,
                METRIC_TYPE_HTTP_REQUEST,
                None,
                endpoint,
                &None,
                from_us,
                now_us,
            )
            .await?;
            Ok(merged_quantile(&rows, q, quantile))
        }
        Condition::SlowRequestCount { slow_ms, endpoint } => {
            let threshold = slow_ms.unwrap_or(limits.slow_request_ms);
            let count = store
                .count_slow_requests(threshold, endpoint.as_deref(), from_us, now_us)
                .await?;
            Ok(Observation {
                value: Some(count as f64),
                samples: Vec::new(),
            })
        }
        Condition::WebVital { metric, page } => {
            let rows = series(
                store,
                METRIC_TYPE_WEB_VITAL,
                Some(metric.clone()),
                page,
                &None,
                from_us,
                now_us,
            )
            .await?;
            Ok(merged_quantile(&rows, 0.75, "p75"))
        }
    }
}

/// The minute aggregates of one metric over the window: every minute the window touches
/// (minute rows are kept two days, longer than the longest window).
async fn series(
    store: &dyn Store,
    metric_type: &str,
    metric_name: Option<String>,
    endpoint: &Option<String>,
    source: &Option<String>,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<AggregateRow>, ReadError> {
    Ok(store
        .aggregate_rows(&SeriesFilter {
            metric_type: metric_type.to_owned(),
            metric_name,
            endpoint: endpoint.clone(),
            source: source.clone(),
            period: Period::Minute,
            from_us: period_start(Period::Minute, from_us),
            to_us: to_us.saturating_add(1),
        })
        .await?)
}

/// A quantile of the merged sketches (never an average of per-minute quantiles); no data
/// without observations.
fn merged_quantile(rows: &[AggregateRow], q: f64, label: &str) -> Observation {
    let mut merged = Sketch::new();
    for row in rows {
        merged.merge(&row.sketch);
    }
    let value = merged.quantile(q);
    Observation {
        value,
        samples: value
            .map(|v| {
                vec![format!(
                    "{label} {v:.1} over {} observations",
                    merged.count()
                )]
            })
            .unwrap_or_default(),
    }
}

/// `p95` → 0.95.
fn quantile_of(name: &str) -> Result<f64, ReadError> {
    name.strip_prefix('p')
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=99).contains(n))
        .map(|n| f64::from(n) / 100.0)
        .ok_or_else(|| ReadError::BadRule(format!("unknown quantile {name:?}")))
}

async fn exceptions(
    store: &dyn Store,
    signal: ExceptionSignal,
    source: Option<&str>,
    exception_type: Option<&str>,
    from_us: i64,
    to_us: i64,
) -> Result<Observation, ReadError> {
    let found = store
        .exception_signal(signal, source, exception_type, from_us, to_us)
        .await?;
    Ok(Observation {
        value: Some(found.count as f64),
        samples: found.samples,
    })
}

/// The logs query's filter for a rule's log filters over `[from_us, to_us]`, parsed by the
/// same code as the logs API's query string, so a rule counts exactly what its link shows.
fn log_filter(filters: &LogFilters, from_us: i64, to_us: i64) -> Result<LogFilter, ReadError> {
    let mut pairs = Vec::new();
    for (name, value) in [
        ("source", &filters.source),
        ("level", &filters.level),
        ("min_level", &filters.min_level),
        ("module", &filters.module),
        ("path", &filters.path),
        ("q", &filters.q),
    ] {
        if let Some(v) = value {
            pairs.push((name.to_owned(), v.clone()));
        }
    }
    for (field, values) in &filters.not {
        pairs.extend(values.iter().map(|v| (format!("not.{field}"), v.clone())));
    }
    let mut filter = LogFilter::parse_pairs(&pairs, LOG_PARAMS).map_err(|errors| {
        ReadError::BadRule(
            errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    filter.from_us = Some(from_us);
    filter.to_us = Some(to_us);
    filter.cursor = None;
    Ok(filter)
}

fn log_line(row: &crate::store::LogRow) -> String {
    format!("{} {}", row.level, row.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::logs::Exclude;

    #[test]
    fn a_rule_leaves_out_what_its_not_filters_name() {
        let filters = LogFilters {
            module: Some("cart".into()),
            not: [(
                "user_id".to_owned(),
                vec!["bot".to_owned(), "probe".to_owned()],
            )]
            .into(),
            ..LogFilters::default()
        };
        let f = log_filter(&filters, 1, 2).expect("valid");
        assert_eq!(
            f.excludes,
            [
                Exclude::Column {
                    column: "user_id",
                    value: "bot".into()
                },
                Exclude::Column {
                    column: "user_id",
                    value: "probe".into()
                }
            ]
        );
        let bad = LogFilters {
            not: [("colour".to_owned(), vec!["red".to_owned()])].into(),
            ..LogFilters::default()
        };
        assert!(matches!(log_filter(&bad, 1, 2), Err(ReadError::BadRule(_))));
    }
}
