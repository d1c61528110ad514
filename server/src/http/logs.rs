//! `GET /api/v1/logging/logs`, `GET /api/v1/logging/logs/{id}`,
//! `GET /api/v1/logging/logs/statistics` and `GET /api/v1/logging/traces/{trace_id}`. Every read needs a session and leaves an audit row.

use super::auth::CurrentUser;
use super::views::{log_json, occurrence_json};
use crate::error::{Error, Result};
use crate::query::cursor::Cursor;
use crate::query::logs::LogFilter;
use crate::query::stats::StatsQuery;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use tracewire_shared::traceparent::is_valid_trace_id;
use tracewire_shared::validate::{FieldError, format_timestamp_us};
use uuid::Uuid;

/// The log and trace read routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/logging/logs", get(list_logs))
        .route("/api/v1/logging/logs/statistics", get(get_statistics))
        .route("/api/v1/logging/logs/{id}", get(get_log))
        .route("/api/v1/logging/traces/{trace_id}", get(get_trace))
}

/// The query string as a map, with an unreadable one answered in our envelope.
pub(super) fn query_map(
    query: std::result::Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>> {
    query
        .map(|Query(map)| map)
        .map_err(|e| Error::Validation(vec![FieldError::new("query", e.body_text())]))
}

/// A UUID path segment, or 422 naming `name`.
pub(super) fn path_uuid(raw: &str, name: &str) -> Result<Uuid> {
    raw.parse()
        .map_err(|_| Error::Validation(vec![FieldError::new(name, "expected a UUID")]))
}

/// `{"items", "total", "next_cursor"}` from a page fetched with `limit + 1` rows.
pub(super) fn page_json<T>(
    mut rows: Vec<T>,
    total: i64,
    limit: u32,
    key: impl Fn(&T) -> Cursor,
    view: impl Fn(&T) -> Value,
) -> Value {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| key(r).encode())
    } else {
        None
    };
    json!({
        "items": rows.iter().map(view).collect::<Vec<_>>(),
        "total": total,
        "next_cursor": next,
    })
}

async fn list_logs(
    State(state): State<AppState>,
    current: CurrentUser,
    query: std::result::Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>> {
    let filter = LogFilter::parse(&query_map(query)?).map_err(Error::Validation)?;
    let page = state.store.query_logs(&filter).await?;
    let returned = page.rows.len().min(filter.limit as usize);
    let body = page_json(
        page.rows,
        page.total,
        filter.limit,
        |r| Cursor {
            time_us: r.timestamp,
            id: r.id,
        },
        log_json,
    );
    let details = json!({"filters": filter.audit_json(), "rows": returned, "total": page.total});
    state
        .auth
        .audit(&current.user.username, "logs.query", None, details)
        .await?;
    Ok(Json(body))
}

async fn get_statistics(
    State(state): State<AppState>,
    current: CurrentUser,
    query: std::result::Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>> {
    let stats =
        StatsQuery::parse(&query_map(query)?, crate::clock::now_us()).map_err(Error::Validation)?;
    let rows = state.store.log_statistics(&stats).await?;
    let mut by_level: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_source: BTreeMap<&str, i64> = BTreeMap::new();
    for r in &rows {
        *by_level.entry(&r.level).or_default() += r.log_rows;
        *by_source.entry(&r.source).or_default() += r.log_rows;
    }
    let buckets: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"start": format_timestamp_us(r.bucket), "level": r.level, "source": r.source,
                   "count": r.log_rows, "events": r.events})
        })
        .collect();
    let total: i64 = by_level.values().sum();
    let details = json!({"filters": stats.filter.audit_json(), "bucket_us": stats.bucket_us,
                         "rows": buckets.len()});
    state
        .auth
        .audit(&current.user.username, "logs.statistics", None, details)
        .await?;
    Ok(Json(json!({
        "bucket_seconds": stats.bucket_us / 1_000_000,
        "from": stats.filter.from_us.map(format_timestamp_us),
        "to": stats.filter.to_us.map(format_timestamp_us),
        "total": total,
        "by_level": by_level,
        "by_source": by_source,
        "buckets": buckets,
    })))
}

async fn get_log(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let id = path_uuid(&id, "id")?;
    let log = state.store.get_log(id).await?;
    state
        .auth
        .audit(
            &current.user.username,
            "logs.get",
            Some(id.to_string()),
            json!({"rows": 1}),
        )
        .await?;
    Ok(Json(log_json(&log)))
}

async fn get_trace(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(trace_id): Path<String>,
) -> Result<Json<Value>> {
    let trace_id = trace_id.to_ascii_lowercase();
    if !is_valid_trace_id(&trace_id) {
        return Err(Error::Validation(vec![FieldError::new(
            "trace_id",
            "expected 32 hex digits, not all zero",
        )]));
    }
    let logs = state.store.trace_logs(&trace_id).await?;
    let occurrences = state.store.trace_occurrences(&trace_id).await?;
    // Merge the two time-ordered lists into one timeline.
    let mut items: Vec<(i64, Value)> = logs
        .iter()
        .map(|l| (l.timestamp, json!({"kind": "log", "log": log_json(l)})))
        .chain(occurrences.iter().map(|o| {
            (
                o.timestamp,
                json!({"kind": "exception", "exception": occurrence_json(o)}),
            )
        }))
        .collect();
    items.sort_by_key(|(t, _)| *t);
    let rows = items.len();
    state
        .auth
        .audit(
            &current.user.username,
            "traces.get",
            Some(trace_id.clone()),
            json!({"rows": rows}),
        )
        .await?;
    Ok(Json(json!({
        "trace_id": trace_id,
        "log_count": logs.len(),
        "exception_count": occurrences.len(),
        "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}
