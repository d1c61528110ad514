//! `GET /api/v1/logging/logs`, `GET /api/v1/logging/logs/{id}`,
//! `GET /api/v1/logging/logs/statistics` and `GET /api/v1/logging/traces/{trace_id}`. Every read needs a session and leaves an audit row.

use super::auth::CurrentUser;
use super::extract::{AppQuery, PathUuid};
use super::views::page;
use crate::error::{Error, Result};
use crate::query::cursor::Cursor;
use crate::query::logs::{LOG_PARAMS, LogFilter};
use crate::query::stats::StatsQuery;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::collections::BTreeMap;
use tracewire_shared::api::{
    LogView, Occurrence, Page, Statistics, StatisticsBucket, Trace, TraceItem,
};
use tracewire_shared::traceparent::is_valid_trace_id;
use tracewire_shared::validate::{FieldError, format_timestamp_us};

/// The logs list, one log, statistics and a trace's timeline; any session, each read audited.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/logging/logs", get(list_logs))
        .route("/api/v1/logging/logs/statistics", get(get_statistics))
        .route("/api/v1/logging/logs/{id}", get(get_log))
        .route("/api/v1/logging/traces/{trace_id}", get(get_trace))
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/logs",
    tag = "logs",
    params(super::openapi::LogFilterParams, super::openapi::LogPageParams),
    responses(
        (status = 200, description = "One page, newest first unless `order=asc`; `total` counts every match", body = Page<LogView>),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn list_logs(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery<Vec<(String, String)>>,
) -> Result<Json<Page<LogView>>> {
    let filter = LogFilter::parse_pairs(&query, LOG_PARAMS).map_err(Error::Validation)?;
    let rows = state.store.query_logs(&filter).await?;
    let returned = rows.rows.len().min(filter.limit as usize);
    let body: Page<LogView> = page(rows.rows, rows.total, filter.limit, |r| Cursor {
        time_us: r.timestamp,
        id: r.id,
    });
    let details = json!({"filters": filter.audit_json(), "rows": returned, "total": body.total});
    state
        .auth
        .audit(&current.user.username, "logs.query", None, details)
        .await?;
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/logs/statistics",
    tag = "logs",
    params(super::openapi::LogFilterParams, super::openapi::BucketParam),
    responses(
        (status = 200, description = "Counts by level and source, per time bucket", body = Statistics),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_statistics(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery<Vec<(String, String)>>,
) -> Result<Json<Statistics>> {
    let stats = StatsQuery::parse(&query, crate::clock::now_us()).map_err(Error::Validation)?;
    let rows = state.store.log_statistics(&stats).await?;
    let mut by_level: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_source: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        *by_level.entry(r.level.clone()).or_default() += r.log_rows;
        *by_source.entry(r.source.clone()).or_default() += r.log_rows;
    }
    let buckets: Vec<StatisticsBucket> = rows.iter().map(StatisticsBucket::from).collect();
    let total: i64 = by_level.values().sum();
    let details = json!({"filters": stats.filter.audit_json(), "bucket_us": stats.bucket_us,
                         "rows": buckets.len()});
    state
        .auth
        .audit(&current.user.username, "logs.statistics", None, details)
        .await?;
    Ok(Json(Statistics {
        bucket_seconds: stats.bucket_us / 1_000_000,
        from: stats.filter.from_us.map(format_timestamp_us),
        to: stats.filter.to_us.map(format_timestamp_us),
        total,
        by_level,
        by_source,
        buckets,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/logs/{id}",
    tag = "logs",
    params(("id" = uuid::Uuid, Path, description = "The log's id")),
    responses(
        (status = 200, description = "One log with every field", body = LogView),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_log(
    State(state): State<AppState>,
    current: CurrentUser,
    PathUuid(id): PathUuid,
) -> Result<Json<LogView>> {
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
    Ok(Json(LogView::from(&log)))
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/traces/{trace_id}",
    tag = "logs",
    params(("trace_id" = String, Path, pattern = "^(?!0{32})[0-9a-fA-F]{32}$", description = "W3C trace id: 32 hex digits, not all zero")),
    responses(
        (status = 200, description = "Every log and exception of the trace, in time order", body = Trace),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_trace(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(trace_id): Path<String>,
) -> Result<Json<Trace>> {
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
    let mut items: Vec<(i64, TraceItem)> = logs
        .iter()
        .map(|l| {
            (
                l.timestamp,
                TraceItem::Log {
                    log: Box::new(l.into()),
                },
            )
        })
        .chain(occurrences.iter().map(|o| {
            (
                o.timestamp,
                TraceItem::Exception {
                    exception: Box::new(Occurrence::from(o)),
                },
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
    Ok(Json(Trace {
        trace_id,
        log_count: logs.len(),
        exception_count: occurrences.len(),
        items: items.into_iter().map(|(_, item)| item).collect(),
    }))
}
