//! Checks of single log, exception and metric entries. Each check records its problem under the
//! entry's path and keeps going, so one response lists everything wrong with a batch.

use super::{FieldError, Limits, ValidException, ValidLog, ValidMetric, timestamp};
use crate::level::Level;
use crate::traceparent::{is_valid_span_id, is_valid_trace_id};
use crate::wire::{ExceptionEntry, LogEntry, MetricEntry};
use serde_json::Value;

/// Longest accepted HTTP method (the longest registered ones are far shorter).
const MAX_METHOD_LEN: usize = 16;
/// Largest accepted `dedup_count`; more is a client bug, not a real burst.
const MAX_DEDUP_COUNT: i64 = 1_000_000_000;
/// How much of a bad value an error message quotes back.
const MAX_QUOTED_CHARS: usize = 40;
/// How far past the collector's clock an entry's time may be (clients' clocks drift, and a
/// browser's can be wrong by hours). Anything later is a broken clock or a forged time that
/// would pin the entry to the top of every newest-first list and keep retention from ever
/// reaching it, so it is replaced by the time the collector received the entry.
pub const MAX_FUTURE_SKEW_US: i64 = 24 * 3600 * 1_000_000;

/// Records problems of one entry under its path prefix (`logs[3]`).
pub(super) struct Fields<'a> {
    /// Size bounds.
    limits: &'a Limits,
    /// Every problem of the batch so far.
    errors: &'a mut Vec<FieldError>,
    /// Path of the entry, e.g. `logs[3]`.
    prefix: String,
    /// Errors already present when this entry started, to tell whether it added any.
    errors_before: usize,
}

impl<'a> Fields<'a> {
    pub(super) fn new(limits: &'a Limits, errors: &'a mut Vec<FieldError>, prefix: String) -> Self {
        let errors_before = errors.len();
        Self {
            limits,
            errors,
            prefix,
            errors_before,
        }
    }

    /// True when no check of this entry failed.
    fn ok(&self) -> bool {
        self.errors.len() == self.errors_before
    }

    fn fail(&mut self, field: &str, message: impl Into<String>) {
        let path = format!("{}.{field}", self.prefix);
        self.errors.push(FieldError::new(path, message));
    }

    /// Required text such as a message or a type: not blank, at most `max` bytes.
    fn required(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(field, "is missing or empty");
        } else {
            self.length(field, value, max);
        }
    }

    fn length(&mut self, field: &str, value: &str, max: usize) {
        if value.len() > max {
            self.fail(
                field,
                format!("is {} bytes long; at most {max} are allowed", value.len()),
            );
        }
    }

    /// An optional short field (names, paths, ids).
    pub(super) fn short(&mut self, field: &str, value: Option<&String>) {
        if let Some(value) = value {
            self.length(field, value, self.limits.max_short_bytes);
        }
    }

    /// An optional RFC 3339 time; `None` when absent or invalid (the error is recorded). A time
    /// more than [`MAX_FUTURE_SKEW_US`] after `now_us` becomes `now_us`.
    fn timestamp(&mut self, field: &str, value: Option<&String>, now_us: i64) -> Option<i64> {
        let value = value?;
        let parsed = timestamp::parse(value).map(|us| {
            if us > now_us.saturating_add(MAX_FUTURE_SKEW_US) {
                now_us
            } else {
                us
            }
        });
        if parsed.is_none() {
            self.fail(
                field,
                format!(
                    "{} is not an RFC 3339 timestamp such as 2026-11-25T10:00:00.123Z",
                    quote(value)
                ),
            );
        }
        parsed
    }

    /// A free-form JSON field, truncated when over the limit (see `structured`).
    fn structured(&self, value: Option<Value>) -> Option<Value> {
        value.map(|mut v| {
            super::structured::bound(&mut v, self.limits.max_structured_bytes);
            v
        })
    }

    fn trace_id(&mut self, field: &str, value: Option<&String>) {
        if value.is_some_and(|id| !is_valid_trace_id(id)) {
            self.fail(field, "must be 32 lowercase hex digits, not all zero");
        }
    }

    fn span_id(&mut self, field: &str, value: Option<&String>) {
        if value.is_some_and(|id| !is_valid_span_id(id)) {
            self.fail(field, "must be 16 lowercase hex digits, not all zero");
        }
    }
}

/// Checks one log entry; `None` when it has any problem.
pub(super) fn log(entry: LogEntry, now_us: i64, fields: &mut Fields<'_>) -> Option<ValidLog> {
    let max_text = fields.limits.max_text_bytes;
    let level = match entry.level.parse::<Level>() {
        Ok(level) => Some(level),
        Err(_) => {
            let message = if entry.level.trim().is_empty() {
                "is missing; expected DEBUG, INFO, WARNING, ERROR or CRITICAL".to_owned()
            } else {
                format!(
                    "{} is not a level; expected DEBUG, INFO, WARNING, ERROR or CRITICAL",
                    quote(&entry.level)
                )
            };
            fields.fail("level", message);
            None
        }
    };
    fields.required("message", &entry.message, max_text);
    for (name, value) in [
        ("module", &entry.module),
        ("function", &entry.function),
        ("user_id", &entry.user_id),
        ("request_path", &entry.request_path),
    ] {
        fields.short(name, value.as_ref());
    }
    fields.trace_id("trace_id", entry.trace_id.as_ref());
    fields.span_id("span_id", entry.span_id.as_ref());
    let request_method = entry
        .request_method
        .map(|method| method.to_ascii_uppercase());
    if let Some(method) = &request_method
        && (method.is_empty()
            || method.len() > MAX_METHOD_LEN
            || !method.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        fields.fail(
            "request_method",
            format!("must be 1 to {MAX_METHOD_LEN} ASCII letters"),
        );
    }
    let response_status = match entry.response_status {
        Some(status @ 100..=599) => i32::try_from(status).ok(),
        Some(_) => {
            fields.fail(
                "response_status",
                "must be an HTTP status between 100 and 599",
            );
            None
        }
        None => None,
    };
    if entry
        .duration_ms
        .is_some_and(|ms| !ms.is_finite() || ms < 0.0)
    {
        fields.fail(
            "duration_ms",
            "must be a finite number of milliseconds, at least 0",
        );
    }
    let dedup_count = entry.dedup_count.unwrap_or(1);
    if !(1..=MAX_DEDUP_COUNT).contains(&dedup_count) {
        fields.fail(
            "dedup_count",
            format!("must be between 1 and {MAX_DEDUP_COUNT}"),
        );
    }

    let timestamp = fields.timestamp("timestamp", entry.timestamp.as_ref(), now_us);
    let first_seen = fields.timestamp("first_seen_at", entry.first_seen_at.as_ref(), now_us);
    let last_seen = fields.timestamp("last_seen_at", entry.last_seen_at.as_ref(), now_us);
    let timestamp_us = timestamp.unwrap_or(now_us);
    // An entry that only says when its last occurrence was cannot have started after it.
    let first_seen_us = first_seen.unwrap_or(match last_seen {
        Some(last) => timestamp_us.min(last),
        None => timestamp_us,
    });
    let last_seen_us = last_seen.unwrap_or(timestamp_us.max(first_seen_us));
    if first_seen_us > last_seen_us {
        fields.fail("last_seen_at", "must not be before first_seen_at");
    }

    if !fields.ok() {
        return None;
    }
    Some(ValidLog {
        level: level?,
        message: entry.message,
        timestamp_us,
        module: entry.module,
        function: entry.function,
        trace_id: entry.trace_id,
        span_id: entry.span_id,
        user_id: entry.user_id,
        request_method,
        request_path: entry.request_path,
        request_data: fields.structured(entry.request_data),
        response_status,
        duration_ms: entry.duration_ms,
        extra_data: fields.structured(entry.extra_data),
        dedup_count,
        first_seen_us,
        last_seen_us,
    })
}

/// Checks one exception; `None` when it has any problem.
pub(super) fn exception(
    entry: ExceptionEntry,
    now_us: i64,
    fields: &mut Fields<'_>,
) -> Option<ValidException> {
    let (max_short, max_text) = (fields.limits.max_short_bytes, fields.limits.max_text_bytes);
    fields.required("exception_type", &entry.exception_type, max_short);
    fields.length("exception_message", &entry.exception_message, max_text);
    if let Some(stack) = &entry.stack_trace {
        fields.length("stack_trace", stack, max_text);
    }
    fields.short("user_id", entry.user_id.as_ref());
    fields.short("request_path", entry.request_path.as_ref());
    fields.trace_id("trace_id", entry.trace_id.as_ref());
    fields.span_id("span_id", entry.span_id.as_ref());
    let timestamp = fields.timestamp("timestamp", entry.timestamp.as_ref(), now_us);

    if !fields.ok() {
        return None;
    }
    Some(ValidException {
        exception_type: entry.exception_type,
        exception_message: entry.exception_message,
        stack_trace: entry.stack_trace,
        timestamp_us: timestamp.unwrap_or(now_us),
        trace_id: entry.trace_id,
        span_id: entry.span_id,
        user_id: entry.user_id,
        request_path: entry.request_path,
        exception_details: fields.structured(entry.exception_details),
        context_data: fields.structured(entry.context_data),
    })
}

/// Checks one metric; `None` when it has any problem.
pub(super) fn metric(
    entry: MetricEntry,
    now_us: i64,
    fields: &mut Fields<'_>,
) -> Option<ValidMetric> {
    let max_short = fields.limits.max_short_bytes;
    fields.required("metric_type", &entry.metric_type, max_short);
    fields.required("metric_name", &entry.metric_name, max_short);
    if entry.value.is_nan() {
        fields.fail("value", "is missing; expected a finite number");
    } else if !entry.value.is_finite() {
        fields.fail("value", "must be a finite number");
    }
    fields.short("unit", entry.unit.as_ref());
    fields.short("endpoint", entry.endpoint.as_ref());
    fields.trace_id("trace_id", entry.trace_id.as_ref());
    let timestamp = fields.timestamp("timestamp", entry.timestamp.as_ref(), now_us);

    if !fields.ok() {
        return None;
    }
    Some(ValidMetric {
        metric_type: entry.metric_type,
        metric_name: entry.metric_name,
        value: entry.value,
        unit: entry.unit,
        timestamp_us: timestamp.unwrap_or(now_us),
        endpoint: entry.endpoint,
        trace_id: entry.trace_id,
        tags: fields.structured(entry.tags),
    })
}

/// A bad value quoted for an error message, shortened so a huge field is not echoed back.
fn quote(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}
