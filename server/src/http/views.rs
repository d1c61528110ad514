//! JSON shapes of stored rows in API responses: times as RFC 3339, JSON columns as JSON.

use crate::store::{ExceptionRecord, LogRecord, OccurrenceRecord};
use serde_json::{Value, json};
use tracewire_shared::validate::format_timestamp_us;

fn time(us: Option<i64>) -> Value {
    us.map_or(Value::Null, |t| Value::String(format_timestamp_us(t)))
}

/// Every `app_logs` column.
pub fn log_json(r: &LogRecord) -> Value {
    json!({
        "id": r.id, "project_id": r.project_id, "timestamp": time(Some(r.timestamp)),
        "level": r.level, "source": r.source, "message": r.message, "module": r.module,
        "function": r.function, "trace_id": r.trace_id, "span_id": r.span_id,
        "user_id": r.user_id, "request_method": r.request_method,
        "request_path": r.request_path,
        "request_data": r.request_data.as_ref().map(|j| &j.0),
        "response_status": r.response_status, "duration_ms": r.duration_ms,
        "extra_data": r.extra_data.as_ref().map(|j| &j.0),
        "dedup_count": r.dedup_count, "first_seen_at": time(Some(r.first_seen_at)),
        "last_seen_at": time(Some(r.last_seen_at)), "created_at": time(Some(r.created_at)),
    })
}

/// Every `app_exceptions` column.
pub(super) fn exception_json(r: &ExceptionRecord) -> Value {
    json!({
        "id": r.id, "project_id": r.project_id, "fingerprint": r.fingerprint,
        "source": r.source, "exception_type": r.exception_type,
        "exception_message": r.exception_message, "stack_trace": r.stack_trace,
        "request_path": r.request_path, "first_seen_at": time(Some(r.first_seen_at)),
        "last_seen_at": time(Some(r.last_seen_at)), "occurrence_count": r.occurrence_count,
        "is_resolved": r.is_resolved, "resolved_at": time(r.resolved_at),
        "resolved_by": r.resolved_by, "resolution_notes": r.resolution_notes,
        "regressed_at": time(r.regressed_at),
    })
}

/// One occurrence of an exception group.
pub(super) fn occurrence_json(r: &OccurrenceRecord) -> Value {
    json!({
        "id": r.id, "exception_id": r.exception_id, "exception_type": r.exception_type,
        "timestamp": time(Some(r.timestamp)), "trace_id": r.trace_id, "span_id": r.span_id,
        "user_id": r.user_id, "request_path": r.request_path,
        "exception_message": r.exception_message, "stack_trace": r.stack_trace,
    })
}
