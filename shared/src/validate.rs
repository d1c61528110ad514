//! Validation of an ingest batch: every problem is reported with its path (`logs[3].level`)
//! so a client can fix them all at once, and a batch with any problem is rejected whole.
//!
//! The per-entry checks live in `entries`, timestamp parsing and formatting in `timestamp`, and
//! the lone-surrogate repair of raw request bodies in `surrogates`.

mod entries;
mod fit;
mod structured;
mod surrogates;
#[cfg(test)]
mod tests;
mod timestamp;

use crate::level::Level;
use crate::wire::{IngestBatch, Sdk};

pub use fit::{CUT_MARKER, fit_exception, fit_log, fit_metric};
use serde::{Deserialize, Serialize};
use serde_json::Value;
pub use structured::TRUNCATED_MARKER;
use uuid::Uuid;

/// Where a batch came from; the ingest key's project decides which are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The browser logger.
    Frontend,
    /// The backend middleware.
    Backend,
    /// The collector's own request logs. Never accepted on the wire: the collector sets it on
    /// what it logs about itself, so queries leave those out unless asked for them.
    Collector,
}

impl Source {
    /// Stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Frontend => "frontend",
            Source::Backend => "backend",
            Source::Collector => "collector",
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
    /// Largest free-form JSON field (`request_data`, `extra_data`, …) in serialized bytes;
    /// larger ones are truncated (see [`TRUNCATED_MARKER`]), not refused.
    pub max_structured_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: crate::wire::DEFAULT_MAX_ENTRIES,
            max_text_bytes: 64 * 1024,
            max_short_bytes: 1024,
            max_structured_bytes: 64 * 1024,
        }
    }
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
///
/// When the batch carries more entries than `limits.max_entries`, only the batch-level fields
/// are checked besides the count: validating thousands of entries the batch is rejected for
/// anyway would only let one request buy a lot of work.
pub fn validate_batch(
    batch: IngestBatch,
    now_us: i64,
    limits: &Limits,
) -> Result<ValidBatch, Vec<FieldError>> {
    let mut errors = Vec::new();
    let batch_id = match Uuid::parse_str(batch.batch_id.trim()) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(FieldError::new("batch_id", "must be a UUID"));
            None
        }
    };
    let source = parse_source(&batch.source);
    if source.is_none() {
        errors.push(FieldError::new(
            "source",
            "must be \"frontend\" or \"backend\"",
        ));
    }
    let sdk = batch.sdk;
    if let Some(sdk) = &sdk {
        let mut fields = entries::Fields::new(limits, &mut errors, String::from("sdk"));
        fields.short("name", Some(&sdk.name));
        fields.short("version", Some(&sdk.version));
    }
    if let Some(error) = entry_count_error(&batch.logs, &batch.exceptions, &batch.metrics, limits) {
        errors.push(error);
        return Err(errors);
    }

    let mut logs = Vec::with_capacity(batch.logs.len());
    for (index, entry) in batch.logs.into_iter().enumerate() {
        let mut fields = entries::Fields::new(limits, &mut errors, format!("logs[{index}]"));
        if let Some(log) = entries::log(entry, now_us, &mut fields) {
            logs.push(log);
        }
    }
    let mut exceptions = Vec::with_capacity(batch.exceptions.len());
    for (index, entry) in batch.exceptions.into_iter().enumerate() {
        let mut fields = entries::Fields::new(limits, &mut errors, format!("exceptions[{index}]"));
        if let Some(exception) = entries::exception(entry, now_us, &mut fields) {
            exceptions.push(exception);
        }
    }
    let mut metrics = Vec::with_capacity(batch.metrics.len());
    for (index, entry) in batch.metrics.into_iter().enumerate() {
        let mut fields = entries::Fields::new(limits, &mut errors, format!("metrics[{index}]"));
        if let Some(metric) = entries::metric(entry, now_us, &mut fields) {
            metrics.push(metric);
        }
    }

    match (batch_id, source) {
        (Some(batch_id), Some(source)) if errors.is_empty() => Ok(ValidBatch {
            batch_id,
            sdk,
            source,
            logs,
            exceptions,
            metrics,
        }),
        _ => Err(errors),
    }
}

impl FieldError {
    /// Builds an error for `path`; used by validation and by callers that add their own checks
    /// (e.g. the collector refusing a source the ingest key's project may not send).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The text was not a source name; kept separate from [`FieldError`] so query parameters and
/// configuration can report it in their own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown source; expected \"frontend\", \"backend\" or \"collector\"")]
pub struct UnknownSource;

impl std::str::FromStr for Source {
    type Err = UnknownSource;

    /// Case-insensitive, surrounding whitespace ignored. Unlike a batch's `source`, which is
    /// only ever `frontend` or `backend`, this also reads `collector` (query filters, stored rows).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse_source(s) {
            Some(source) => Ok(source),
            None if s.trim().eq_ignore_ascii_case("collector") => Ok(Source::Collector),
            None => Err(UnknownSource),
        }
    }
}

fn parse_source(s: &str) -> Option<Source> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("frontend") {
        Some(Source::Frontend)
    } else if s.eq_ignore_ascii_case("backend") {
        Some(Source::Backend)
    } else {
        None
    }
}

/// The entry limit is on the sum of the three lists; the error names the list in which the
/// running total crosses the limit, so the path points at entries that did not fit.
fn entry_count_error<L, E, M>(
    logs: &[L],
    exceptions: &[E],
    metrics: &[M],
    limits: &Limits,
) -> Option<FieldError> {
    let total = logs.len() + exceptions.len() + metrics.len();
    if total <= limits.max_entries {
        return None;
    }
    let path = if logs.len() > limits.max_entries {
        "logs"
    } else if logs.len() + exceptions.len() > limits.max_entries {
        "exceptions"
    } else {
        "metrics"
    };
    Some(FieldError::new(
        path,
        format!(
            "the batch has {total} entries (logs + exceptions + metrics); at most {} are allowed",
            limits.max_entries
        ),
    ))
}

/// Parses an RFC 3339 timestamp into microseconds since the Unix epoch.
///
/// Any offset is accepted and converted to UTC; digits below the microsecond are dropped
/// (rounded towards the past). `None` for anything that is not RFC 3339.
pub fn parse_timestamp_us(s: &str) -> Option<i64> {
    timestamp::parse(s)
}

/// Formats microseconds since the Unix epoch as RFC 3339 UTC with millisecond precision or finer.
///
/// Three fractional digits when the value is a whole millisecond, six otherwise, so
/// [`parse_timestamp_us`] gives back exactly `us`. Values outside the years 0000–9999, which
/// RFC 3339 cannot express, are clamped to that range.
pub fn format_timestamp_us(us: i64) -> String {
    timestamp::format(us)
}

/// Replaces JSON `\uXXXX` escapes of lone UTF-16 surrogates and of NUL with `\ufffd`, so the
/// body parses and PostgreSQL can store every string; borrowed when there is nothing to replace
/// (the common case costs one scan).
///
/// Browsers can put lone surrogates in strings and `JSON.stringify` escapes them, but serde_json
/// rejects them; ARCHITECTURE.md §4 says the collector accepts such bodies and stores U+FFFD.
/// PostgreSQL refuses NUL in `text` and `jsonb`, so it is replaced the same way on both backends.
pub fn replace_lone_surrogate_escapes(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    surrogates::replace(json)
}
