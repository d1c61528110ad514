//! The ingest wire format of `POST /api/v1/logging/logs` (ARCHITECTURE.md §4).
//!
//! These structs are deliberately loose (strings and options, required fields defaulting to
//! empty) so that a batch with a bad level, a bad timestamp or a missing field still
//! deserializes and [`crate::validate`] can report *every* problem by path, instead of serde
//! stopping at the first one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest request body the collector accepts by default (before decompression).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most entries (logs + exceptions + metrics) one batch may carry by default.
pub const DEFAULT_MAX_ENTRIES: usize = 1000;
/// Server-side and client-side dedup window.
pub const DEDUP_WINDOW_MS: i64 = 10_000;
/// The ingest path, shared so no client can misspell it.
pub const INGEST_PATH: &str = "/api/v1/logging/logs";
/// Header carrying the ingest key (the `?key=` query parameter is the alternative).
pub const KEY_HEADER: &str = "x-tracewire-key";

/// One batch as posted by the browser logger or the middleware.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestBatch {
    /// Client-chosen UUID; retries reuse it so the collector stores a batch at most once.
    #[serde(default)]
    pub batch_id: String,
    /// Which SDK sent it, for support and statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<Sdk>,
    /// `frontend` or `backend`; the ingest key's project decides which are allowed.
    #[serde(default)]
    pub source: String,
    /// Log entries.
    #[serde(default)]
    pub logs: Vec<LogEntry>,
    /// Exceptions (grouped by fingerprint on the server).
    #[serde(default)]
    pub exceptions: Vec<ExceptionEntry>,
    /// Performance measurements.
    #[serde(default)]
    pub metrics: Vec<MetricEntry>,
}

impl IngestBatch {
    /// Total entries, compared against the per-batch entry limit.
    pub fn entry_count(&self) -> usize {
        self.logs.len() + self.exceptions.len() + self.metrics.len()
    }
}

/// Name and version of the sending SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sdk {
    /// e.g. `tracewire-logger` or `tracewire-middleware`.
    pub name: String,
    /// SemVer of the SDK.
    pub version: String,
}

/// One log entry. Optional fields are omitted from JSON when absent to keep beacons small.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntry {
    /// Level name or alias, checked by validation.
    #[serde(default)]
    pub level: String,
    /// The message text.
    #[serde(default)]
    pub message: String,
    /// RFC 3339 time the entry was produced; the collector's receive time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Logical component (JS module, Rust module path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Function or handler name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// 32 lowercase hex digits of the W3C trace-id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// 16 lowercase hex digits of the W3C span-id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Application user the entry concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// HTTP method of the request the entry describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_method: Option<String>,
    /// Path (no origin) of that request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_path: Option<String>,
    /// Request payload; redacted on both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_data: Option<Value>,
    /// HTTP status answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<i64>,
    /// Duration of the described operation in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Free-form structured fields; redacted on both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_data: Option<Value>,
    /// How many identical entries the client collapsed into this one (1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_count: Option<i64>,
    /// When the first of the collapsed entries happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen_at: Option<String>,
    /// When the last of the collapsed entries happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
}

/// One captured exception.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionEntry {
    /// Class or kind, e.g. `TypeError` or `panic`.
    #[serde(default)]
    pub exception_type: String,
    /// The exception's message.
    #[serde(default)]
    pub exception_message: String,
    /// Stack trace text as the runtime printed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<String>,
    /// RFC 3339 time of the occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Trace the exception happened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Span the exception happened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Application user affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Page or endpoint path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_path: Option<String>,
    /// Structured details of the exception; redacted on both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_details: Option<Value>,
    /// Application context at the time; redacted on both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_data: Option<Value>,
}

/// One performance measurement (web vital, request timing, query timing…).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricEntry {
    /// Family: `web_vital`, `http_request`, `db_query`, …
    #[serde(default)]
    pub metric_type: String,
    /// Name inside the family, e.g. `LCP`.
    #[serde(default)]
    pub metric_name: String,
    /// Measured value (finite).
    #[serde(default = "missing_number")]
    pub value: f64,
    /// Unit of `value`, e.g. `ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// RFC 3339 time of the measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Endpoint or page the measurement belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Trace the measurement belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Extra dimensions; redacted like other free-form data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

/// Counts of what a batch stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    /// Log entries accepted.
    pub logs: usize,
    /// Exceptions accepted.
    pub exceptions: usize,
    /// Metrics accepted.
    pub metrics: usize,
}

/// Successful ingest answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestResponse {
    /// Echo of the batch id.
    pub batch_id: String,
    /// What the batch contained (for a duplicate: what the first delivery stored).
    pub accepted: Accepted,
    /// True when this batch_id was already stored and nothing was stored again.
    pub duplicate: bool,
}

/// The one error envelope every endpoint answers with: `{"error":{…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    /// The error itself.
    pub error: ErrorBody,
}

/// Machine-readable code, human message and optional structured details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable snake_case code such as `validation_failed`.
    pub code: String,
    /// Sentence for humans.
    pub message: String,
    /// e.g. the list of [`crate::validate::FieldError`]s; always present (`null` when there are
    /// none) so clients can read `error.details` without checking for the key.
    #[serde(default)]
    pub details: Option<Value>,
}

/// What a missing metric value reads as: JSON has no NaN, so validation can tell it apart from
/// every value a client can send and report it as missing.
fn missing_number() -> f64 {
    f64::NAN
}
