//! Validation of an ingest batch: every problem is reported with its path (`logs[3].level`)
//! so a client can fix them all at once, and a batch with any problem is rejected whole.

use crate::level::Level;
use crate::wire::{IngestBatch, Sdk};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Where a batch came from; the ingest key's project decides which are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The browser logger.
    Frontend,
    /// The backend middleware.
    Backend,
}

impl Source {
    /// Stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Frontend => "frontend",
            Source::Backend => "backend",
        }
    }
}

/// Bounds applied to individual fields, so one huge field cannot bloat the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries in one batch.
    pub max_entries: usize,
    /// Longest message / exception message / stack trace in bytes.
    pub max_text_bytes: usize,
    /// Longest short field (module, function, user_id, path, names) in bytes.
    pub max_short_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: crate::wire::DEFAULT_MAX_ENTRIES,
            max_text_bytes: 64 * 1024,
            max_short_bytes: 1024,
        }
    }
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `logs[3].level`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// A log entry that passed validation: typed, with every timestamp resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLog {
    /// Parsed level.
    pub level: Level,
    /// Message text.
    pub message: String,
    /// Microseconds since the Unix epoch (the collector's receive time when absent).
    pub timestamp_us: i64,
    /// Logical component.
    pub module: Option<String>,
    /// Function or handler.
    pub function: Option<String>,
    /// Valid 32-hex trace id.
    pub trace_id: Option<String>,
    /// Valid 16-hex span id.
    pub span_id: Option<String>,
    /// Application user.
    pub user_id: Option<String>,
    /// Uppercased HTTP method.
    pub request_method: Option<String>,
    /// Request path.
    pub request_path: Option<String>,
    /// Request payload (redaction is applied separately).
    pub request_data: Option<Value>,
    /// HTTP status, 100..=599.
    pub response_status: Option<i32>,
    /// Non-negative finite duration.
    pub duration_ms: Option<f64>,
    /// Structured fields (redaction is applied separately).
    pub extra_data: Option<Value>,
    /// At least 1.
    pub dedup_count: i64,
    /// Defaults to `timestamp_us`.
    pub first_seen_us: i64,
    /// Defaults to `timestamp_us`; never before `first_seen_us`.
    pub last_seen_us: i64,
}

/// An exception that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidException {
    /// Class or kind.
    pub exception_type: String,
    /// Message.
    pub exception_message: String,
    /// Stack trace text.
    pub stack_trace: Option<String>,
    /// Microseconds since the Unix epoch.
    pub timestamp_us: i64,
    /// Valid 32-hex trace id.
    pub trace_id: Option<String>,
    /// Valid 16-hex span id.
    pub span_id: Option<String>,
    /// Application user.
    pub user_id: Option<String>,
    /// Page or endpoint path.
    pub request_path: Option<String>,
    /// Structured details.
    pub exception_details: Option<Value>,
    /// Application context.
    pub context_data: Option<Value>,
}

/// A metric that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidMetric {
    /// Family.
    pub metric_type: String,
    /// Name.
    pub metric_name: String,
    /// Finite value.
    pub value: f64,
    /// Unit.
    pub unit: Option<String>,
    /// Microseconds since the Unix epoch.
    pub timestamp_us: i64,
    /// Endpoint or page.
    pub endpoint: Option<String>,
    /// Valid 32-hex trace id.
    pub trace_id: Option<String>,
    /// Extra dimensions.
    pub tags: Option<Value>,
}

/// A whole batch that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidBatch {
    /// Idempotency key.
    pub batch_id: Uuid,
    /// Sending SDK.
    pub sdk: Option<Sdk>,
    /// Frontend or backend.
    pub source: Source,
    /// Validated logs in input order.
    pub logs: Vec<ValidLog>,
    /// Validated exceptions in input order.
    pub exceptions: Vec<ValidException>,
    /// Validated metrics in input order.
    pub metrics: Vec<ValidMetric>,
}

/// Validates a whole batch. `now_us` (µs since epoch) fills absent timestamps.
/// Returns every problem found, never just the first.
pub fn validate_batch(
    batch: IngestBatch,
    now_us: i64,
    limits: &Limits,
) -> Result<ValidBatch, Vec<FieldError>> {
    let _ = (batch, now_us, limits);
    todo!("implemented in the shared-crate work")
}

/// Parses an RFC 3339 timestamp into microseconds since the Unix epoch.
pub fn parse_timestamp_us(s: &str) -> Option<i64> {
    let _ = s;
    todo!("implemented in the shared-crate work")
}

/// Formats microseconds since the Unix epoch as RFC 3339 UTC with millisecond precision or finer.
pub fn format_timestamp_us(us: i64) -> String {
    let _ = us;
    todo!("implemented in the shared-crate work")
}

/// Replaces JSON `\uXXXX` escapes of lone UTF-16 surrogates with `\ufffd` so the body parses;
/// borrowed when there is nothing to replace (the common case costs one scan).
pub fn replace_lone_surrogate_escapes(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Borrowed(json)
}
