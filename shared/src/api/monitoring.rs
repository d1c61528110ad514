//! Bodies of `/api/v1/monitoring/*`: metric series with percentiles, slow requests and queries,
//! error rates and web vitals here; alert rules, their state and history, and test
//! notifications in `monitoring/alerts.rs` (re-exported, so both are named `api::monitoring::…`).

mod alerts;
mod validate;
pub use validate::CHECKS_REGEX;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

pub use alerts::*;

/// Default duration over which a request counts as slow (seed property 5).
pub const DEFAULT_SLOW_REQUEST_MS: f64 = 1000.0;
/// Default duration over which a database statement counts as slow.
pub const DEFAULT_SLOW_QUERY_MS: f64 = 500.0;
/// `metric_type` of request timings derived from request logs.
pub const METRIC_TYPE_HTTP_REQUEST: &str = "http_request";
/// `metric_type` of database statement timings sent by the middleware.
pub const METRIC_TYPE_DB_QUERY: &str = "db_query";
/// `metric_type` of browser web vitals.
pub const METRIC_TYPE_WEB_VITAL: &str = "web_vital";
/// Web vitals the collector knows; any other name in a rule is an unknown metric.
pub const WEB_VITALS: &[&str] = &["LCP", "INP", "CLS", "FCP", "TTFB"];
/// Latency quantiles a rule may watch.
pub const LATENCY_QUANTILES: &[&str] = &["p50", "p75", "p90", "p95", "p99"];

/// Width of one aggregate row; coarser periods are merges of the 1-minute rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Period {
    /// One minute (the unit the aggregator writes).
    #[serde(rename = "1m")]
    Minute,
    /// Five minutes, starting at :00, :05, … (UTC).
    #[serde(rename = "5m")]
    FiveMinutes,
    /// One hour, starting on the hour (UTC).
    #[serde(rename = "1h")]
    Hour,
    /// One day (UTC).
    #[serde(rename = "1d")]
    Day,
}

impl Period {
    /// Every period, finest first.
    pub const ALL: [Period; 4] = [
        Period::Minute,
        Period::FiveMinutes,
        Period::Hour,
        Period::Day,
    ];

    /// Length in seconds; every bucket of the period starts at a multiple of it since the epoch.
    pub fn seconds(self) -> i64 {
        match self {
            Period::Minute => 60,
            Period::FiveMinutes => 300,
            Period::Hour => 3600,
            Period::Day => 86_400,
        }
    }

    /// The period spelled `s` (`1m`, `5m`, `1h`, `1d`), as [`Period::as_str`] writes it.
    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Wire and stored spelling (`aggregation_period`).
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Minute => "1m",
            Period::FiveMinutes => "5m",
            Period::Hour => "1h",
            Period::Day => "1d",
        }
    }
}

/// Query of `GET /api/v1/monitoring/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct MetricsQuery {
    /// `metric_type` (`http_request`, `db_query`, `web_vital`, or a custom family).
    #[cfg_attr(feature = "openapi", param(min_length = 1))]
    pub metric_type: String,
    /// Name inside the family (`LCP`; for requests the method, or absent for all).
    #[serde(default)]
    pub metric_name: Option<String>,
    /// Route template or page; absent gives one series per endpoint.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `frontend` or `backend`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(pattern = "^(frontend|backend)$"))]
    pub source: Option<String>,
    /// Bucket width of the answer; the server picks one from the window when absent.
    #[serde(default)]
    pub period: Option<Period>,
    /// Window start (RFC 3339).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(format = DateTime))]
    pub from: Option<String>,
    /// Window end (RFC 3339).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(format = DateTime))]
    pub to: Option<String>,
    /// `true` merges every matched endpoint and name into one series (empty `metric_name`,
    /// `endpoint` as filtered), its percentiles from the merged sketches: the "all requests"
    /// line of a dashboard.
    #[serde(default)]
    pub combine: Option<bool>,
}

/// Answer of `GET /api/v1/monitoring/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsResponse {
    /// Bucket width used: `period` as asked, else the one the collector picks for the window.
    pub period: Period,
    /// Window start: `from`, else one hour before `to`.
    pub from: String,
    /// Window end: `to`, else now.
    pub to: String,
    /// One series per (metric, endpoint).
    pub series: Vec<MetricSeries>,
    /// Observations the collector could not keep because a project hit its series cap, so a
    /// chart can say it is incomplete.
    pub dropped: i64,
}

/// One metric of one endpoint over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricSeries {
    /// `metric_type`.
    pub metric_type: String,
    /// `metric_name`.
    pub metric_name: String,
    /// Route template or page; `null` for measurements without one.
    pub endpoint: Option<String>,
    /// Unit of the values (`ms`, or empty for unitless scores like CLS).
    pub unit: String,
    /// Buckets that have data, oldest first.
    pub points: Vec<MetricPoint>,
}

/// One bucket of a series. Percentiles come from the merged sketch (about 1 % relative error),
/// never from averaging finer percentiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricPoint {
    /// Bucket start, a multiple of the period since the epoch (UTC).
    pub start: String,
    /// Observations in the bucket: requests, statements or measurements.
    pub count: i64,
    /// Observations that were errors (5xx, failed statements).
    pub errors: i64,
    /// Observations per second over the bucket.
    pub rate: f64,
    /// `errors / count`, 0 when empty.
    pub error_rate: f64,
    /// Smallest value in the bucket, exact.
    pub min: f64,
    /// Largest value in the bucket, exact.
    pub max: f64,
    /// Mean value (sum / count), exact.
    pub avg: f64,
    /// Median, from the merged sketch like `p95` and `p99`.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Query of `GET /api/v1/monitoring/slow-requests` and `/slow-queries`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlowQuery {
    /// Only entries at least this slow; defaults to the collector's threshold.
    #[serde(default)]
    pub threshold_ms: Option<f64>,
    /// Only this route template.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Window start; default 24 hours before `to`.
    #[serde(default)]
    pub from: Option<String>,
    /// Window end; default now.
    #[serde(default)]
    pub to: Option<String>,
    /// Page size, 1..=1000, default 100.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Cursor of the next page (keyset: newest first).
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One slow request, newest first in a `Page<SlowRequest>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlowRequest {
    /// The request log's id.
    pub log_id: Uuid,
    /// When the request ended.
    pub timestamp: String,
    /// Trace of the request, to open every log of it.
    pub trace_id: Option<String>,
    /// `frontend` or `backend`.
    pub source: String,
    /// HTTP method.
    pub method: Option<String>,
    /// Route template (`/api/orders/{id}`).
    pub endpoint: Option<String>,
    /// Raw path as logged, for this one request (`endpoint` is its template).
    pub path: Option<String>,
    /// HTTP status answered; 5xx and 499 count as errors in the metrics.
    pub status: Option<i32>,
    /// Duration in milliseconds; at least the query's `threshold_ms`.
    pub duration_ms: f64,
}

/// One slow database statement, newest first in a `Page<SlowStatement>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlowStatement {
    /// Stored row id (UUIDv7).
    pub id: Uuid,
    /// When the statement finished.
    pub timestamp: String,
    /// Trace of the request that ran it.
    pub trace_id: Option<String>,
    /// sqlx's summary (first words of the statement).
    pub summary: String,
    /// The statement text, when the middleware sent it.
    pub statement: Option<String>,
    /// Route template of the request that ran it.
    pub endpoint: Option<String>,
    /// Duration in milliseconds; at least the query's `threshold_ms`.
    pub duration_ms: f64,
    /// Rows returned or affected, when the middleware reported them.
    pub rows: Option<i64>,
}

/// Answer of `GET /api/v1/monitoring/error-rates`: endpoints by error rate over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorRates {
    /// Window start: `from`, else one hour before `to`.
    pub from: String,
    /// Window end: `to`, else now.
    pub to: String,
    /// Highest error rate first; ties by more errors.
    pub items: Vec<EndpointErrorRate>,
}

/// Errors of one endpoint in an [`ErrorRates`] window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointErrorRate {
    /// Route template; `null` for requests logged without a route or a path.
    pub endpoint: Option<String>,
    /// `frontend` or `backend`.
    pub source: String,
    /// Requests in the window (all `http_request` observations of the endpoint).
    pub requests: i64,
    /// Requests answered 5xx (or failed).
    pub errors: i64,
    /// `errors / requests`.
    pub error_rate: f64,
}

/// Answer of `GET /api/v1/monitoring/web-vitals`: p75 per page, the value Core Web Vitals are
/// judged on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebVitals {
    /// Window start: `from`, else 24 hours before `to`.
    pub from: String,
    /// Window end: `to`, else now.
    pub to: String,
    /// One entry per (page, metric) with data.
    pub items: Vec<WebVitalP75>,
}

/// The 75th percentile of one web vital on one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebVitalP75 {
    /// Page path; `null` for measurements sent without one.
    pub page: Option<String>,
    /// `LCP`, `INP`, `CLS`, `FCP` or `TTFB`.
    pub metric: String,
    /// Measurements behind `p75`.
    pub count: i64,
    /// 75th percentile.
    pub p75: f64,
    /// `good`, `needs-improvement` or `poor` by Google's published thresholds.
    pub rating: String,
}
