//! The one place stored rows become API bodies ([`tracewire_shared::api`]): times as RFC 3339,
//! JSON columns as JSON.

use crate::auth::Principal;
use crate::query::cursor::Cursor;
use crate::store::{ExceptionRecord, LogRow, OccurrenceRecord, PatternRow, StatsRow};
use tracewire_shared::api::{
    ExceptionDetail, ExceptionGroup, LogView, Occurrence, Page, Pattern, StatisticsBucket, Trend,
    User,
};
use tracewire_shared::validate::format_timestamp_us;

fn time(us: i64) -> String {
    format_timestamp_us(us)
}

impl From<&LogRow> for LogView {
    fn from(r: &LogRow) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            timestamp: time(r.timestamp),
            level: r.level.to_string(),
            source: r.source.to_string(),
            message: r.message.clone(),
            module: r.module.clone(),
            function: r.function.clone(),
            trace_id: r.trace_id.clone(),
            span_id: r.span_id.clone(),
            user_id: r.user_id.clone(),
            request_method: r.request_method.clone(),
            request_path: r.request_path.clone(),
            request_data: r.request_data.as_ref().map(|j| j.0.clone()),
            response_status: r.response_status,
            duration_ms: r.duration_ms,
            extra_data: r.extra_data.as_ref().map(|j| j.0.clone()),
            dedup_count: r.dedup_count,
            first_seen_at: time(r.first_seen_at),
            last_seen_at: time(r.last_seen_at),
            created_at: time(r.created_at),
        }
    }
}

/// A log as the API shows it (exports and benchmarks render rows with this too).
pub fn log_view(r: &LogRow) -> LogView {
    LogView::from(r)
}

impl From<&ExceptionRecord> for ExceptionGroup {
    fn from(r: &ExceptionRecord) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            fingerprint: r.fingerprint.clone(),
            source: r.source.clone(),
            exception_type: r.exception_type.clone(),
            exception_message: r.exception_message.clone(),
            stack_trace: r.stack_trace.clone(),
            request_path: r.request_path.clone(),
            first_seen_at: time(r.first_seen_at),
            last_seen_at: time(r.last_seen_at),
            occurrence_count: r.occurrence_count,
            is_resolved: r.is_resolved,
            resolved_at: r.resolved_at.map(time),
            resolved_by: r.resolved_by.clone(),
            resolution_notes: r.resolution_notes.clone(),
            regressed_at: r.regressed_at.map(time),
        }
    }
}

impl From<&OccurrenceRecord> for Occurrence {
    fn from(r: &OccurrenceRecord) -> Self {
        Self {
            id: r.id,
            exception_id: r.exception_id,
            exception_type: r.exception_type.clone(),
            source: r.source.clone(),
            timestamp: time(r.timestamp),
            trace_id: r.trace_id.clone(),
            span_id: r.span_id.clone(),
            user_id: r.user_id.clone(),
            request_path: r.request_path.clone(),
            exception_message: r.exception_message.clone(),
            stack_trace: r.stack_trace.clone(),
        }
    }
}

/// A group with its recent occurrences.
pub(super) fn exception_detail(
    group: &ExceptionRecord,
    recent: &[OccurrenceRecord],
) -> ExceptionDetail {
    ExceptionDetail {
        group: group.into(),
        recent_occurrences: recent.iter().map(Occurrence::from).collect(),
    }
}

impl From<&StatsRow> for StatisticsBucket {
    fn from(r: &StatsRow) -> Self {
        Self {
            start: time(r.bucket),
            level: r.level.clone(),
            source: r.source.clone(),
            count: r.log_rows,
            events: r.events,
        }
    }
}

/// A top group with its count in the window before.
pub(super) fn pattern(r: &PatternRow, previous: i64) -> Pattern {
    Pattern {
        exception_id: r.exception_id,
        exception_type: r.exception_type.clone(),
        exception_message: r.exception_message.clone(),
        is_resolved: r.is_resolved,
        occurrences: r.occurrences,
        previous_occurrences: previous,
        trend: Trend::between(previous, r.occurrences),
    }
}

impl From<&Principal> for User {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.id,
            username: p.username.clone(),
            role: p.role,
        }
    }
}

/// A page from rows fetched with `limit + 1`: the extra row only says there is a next page,
/// whose cursor is the key of the last row shown.
pub(super) fn page<R, T: for<'r> From<&'r R>>(
    mut rows: Vec<R>,
    total: i64,
    limit: u32,
    key: impl Fn(&R) -> Cursor,
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| key(r).encode())
    } else {
        None
    };
    Page {
        items: rows.iter().map(T::from).collect(),
        total,
        next_cursor,
    }
}

impl From<&crate::store::SlowRequestRow> for tracewire_shared::api::monitoring::SlowRequest {
    fn from(r: &crate::store::SlowRequestRow) -> Self {
        Self {
            log_id: r.log_id,
            timestamp: format_timestamp_us(r.timestamp),
            trace_id: r.trace_id.clone(),
            source: r.source.clone(),
            method: r.method.clone(),
            endpoint: (!r.endpoint.is_empty()).then(|| r.endpoint.clone()),
            path: r.path.clone(),
            status: r.status,
            duration_ms: r.duration_ms,
        }
    }
}

impl From<&crate::store::SlowQueryRow> for tracewire_shared::api::monitoring::SlowStatement {
    fn from(r: &crate::store::SlowQueryRow) -> Self {
        Self {
            id: r.id,
            timestamp: format_timestamp_us(r.timestamp),
            trace_id: r.trace_id.clone(),
            summary: r.summary.clone(),
            statement: r.statement.clone(),
            endpoint: r.endpoint.clone(),
            duration_ms: r.duration_ms,
            rows: r.row_count,
        }
    }
}
