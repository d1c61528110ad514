//! SQL text of the query side (`statements/read.rs`), shared by both backends, and the
//! `bind_all!` that binds a [`crate::query::sql::WhereClause`]'s values to any sqlx query.

use crate::query::text::Lookups;

/// The highest `seq` whose lookup entries the index follower has written (migration 0010 on
/// SQLite, 0013 on PostgreSQL), as a macro so the lookups below can embed it in constant SQL.
macro_rules! indexed_through {
    () => {
        "SELECT indexed_through FROM log_index_state WHERE id = 1"
    };
}
pub(super) const INDEXED_THROUGH: &str = indexed_through!();

/// `column` through the follower's `table`, plus the rows above the watermark `after` (the
/// tail): exact at any lag, as long as `after` is not above the watermark the statement sees.
macro_rules! lookup {
    ($table:literal, $column:literal, $after:expr) => {
        concat!(
            "seq IN (SELECT seq FROM ",
            $table,
            " WHERE ",
            $column,
            " = ? UNION ALL SELECT seq FROM app_logs WHERE seq > ",
            $after,
            " AND ",
            $column,
            " = ?)"
        )
    };
}

/// `trace_id` and `user_id` through the index follower's tables, the watermark read by the
/// same statement (one snapshot).
pub(super) const LOOKUPS: Lookups = Lookups {
    trace: Some(lookup!(
        "app_logs_by_trace",
        "trace_id",
        concat!("(", indexed_through!(), ")")
    )),
    user: Some(lookup!(
        "app_logs_by_user",
        "user_id",
        concat!("(", indexed_through!(), ")")
    )),
    tail_after: None,
};

/// [`LOOKUPS`] with the watermark bound as the middle `?`, read before the statement (only
/// where the watermark never comes down); `tail_after` is set per query.
pub(super) const LOOKUPS_AFTER: Lookups = Lookups {
    trace: Some(lookup!("app_logs_by_trace", "trace_id", "?")),
    user: Some(lookup!("app_logs_by_user", "user_id", "?")),
    tail_after: None,
};

pub(super) const LOG_COLUMNS: &str = "id, project_id, timestamp, level, source, message, module, \
    function, trace_id, span_id, user_id, request_method, request_path, request_data, \
    response_status, duration_ms, extra_data, dedup_count, first_seen_at, last_seen_at, \
    created_at";

pub(super) const EXCEPTION_COLUMNS: &str = "id, project_id, fingerprint, source, exception_type, \
    exception_message, stack_trace, request_path, first_seen_at, last_seen_at, \
    occurrence_count, is_resolved, resolved_at, resolved_by, resolution_notes, regressed_at";

pub(super) const OCCURRENCE_COLUMNS: &str = "e.id, e.exception_id, g.exception_type, \
    g.source, e.timestamp, e.trace_id, e.span_id, e.user_id, e.request_path, e.exception_message, \
    e.stack_trace";

/// Most rows one trace view returns; a trace with more is a runaway loop, not a request.
pub(super) const TRACE_ROWS: usize = 5000;

/// Binds every value of a [`crate::query::sql::WhereClause`] to a query.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                $crate::query::sql::BindValue::Text(s) => q.bind(s.clone()),
                $crate::query::sql::BindValue::Int(i) => q.bind(*i),
                $crate::query::sql::BindValue::Uuid(u) => q.bind(*u),
                $crate::query::sql::BindValue::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}

pub(super) use bind_all;
