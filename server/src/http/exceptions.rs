//! `GET /api/v1/logging/exceptions`, `GET /api/v1/logging/exceptions/patterns`,
//! `GET /api/v1/logging/exceptions/{id}` and `PUT /api/v1/logging/exceptions/{id}/resolve`
//! (admin only).

use super::auth::{CurrentUser, RequireAdmin};
use super::extract::{AppJson, AppQuery, PathUuid};
use super::views::{exception_detail, page, pattern};
use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::query::Params;
use crate::query::cursor::Cursor;
use crate::query::exceptions::{ExceptionFilter, Sort};
use crate::query::stats::DEFAULT_WINDOW_US;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use tracewire_shared::api::{
    ExceptionDetail, ExceptionGroup, ExceptionHistogram, ExceptionSeries, Page, Pattern, Patterns,
    ResolveRequest,
};
use tracewire_shared::validate::format_timestamp_us;
use uuid::Uuid;

/// Newest occurrences shown with one group in its detail view.
const RECENT_OCCURRENCES: i64 = 20;

/// `/api/v1/logging/exceptions…`: list, patterns, histogram and detail for any session; resolve
/// for admins.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/logging/exceptions", get(list_exceptions))
        .route("/api/v1/logging/exceptions/patterns", get(get_patterns))
        .route("/api/v1/logging/exceptions/histogram", get(get_histogram))
        .route("/api/v1/logging/exceptions/{id}", get(get_exception))
        .route(
            "/api/v1/logging/exceptions/{id}/resolve",
            put(resolve_exception),
        )
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/exceptions",
    tag = "exceptions",
    params(super::openapi::ExceptionParams),
    responses(
        (status = 200, description = "Exception groups with their counts", body = Page<ExceptionGroup>),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn list_exceptions(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<Page<ExceptionGroup>>> {
    let filter = ExceptionFilter::parse(&query).map_err(Error::Validation)?;
    let rows = state.store.query_exceptions(&filter).await?;
    let returned = rows.rows.len().min(filter.limit as usize);
    let body: Page<ExceptionGroup> = page(rows.rows, rows.total, filter.limit, |r| Cursor {
        time_us: match filter.sort {
            Sort::LastSeen => r.last_seen_at,
            Sort::FirstSeen => r.first_seen_at,
            Sort::Count => r.occurrence_count,
        },
        id: r.id,
    });
    let details = json!({
        "filters": {"resolved": filter.resolved, "exception_type": filter.exception_type,
                    "status": filter.status.map(|s| format!("{s:?}").to_lowercase()),
                    "sort": format!("{:?}", filter.sort).to_lowercase(),
                    "from": filter.from_us, "to": filter.to_us, "limit": filter.limit},
        "rows": returned, "total": body.total,
    });
    state
        .auth
        .audit(&current.user.username, "exceptions.query", None, details)
        .await?;
    Ok(Json(body))
}

/// `?from=&to=&limit=`: the top groups in the window (default the last 24 hours, 10 groups)
/// with their count in the window of the same length just before, and the change.
#[utoipa::path(
    get,
    path = "/api/v1/logging/exceptions/patterns",
    tag = "exceptions",
    params(super::openapi::WindowParams, ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Most patterns returned, default 20")),
    responses(
        (status = 200, description = "The most frequent exception types and messages with their trend", body = Patterns),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_patterns(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(map): AppQuery,
) -> Result<Json<Patterns>> {
    let mut p = Params::new(&map, &["from", "to", "limit"]);
    let (from, to) = p.range();
    let limit = if p.get("limit").is_some() {
        p.limit()
    } else {
        10
    };
    let (from, to, limit) = p.finish((from, to, limit)).map_err(Error::Validation)?;
    let to = to.unwrap_or_else(now_us);
    let from = from.unwrap_or(to - DEFAULT_WINDOW_US);
    let top = state.store.top_exceptions(from, to, limit).await?;
    let ids: Vec<_> = top.iter().map(|r| r.exception_id).collect();
    let before: HashMap<_, _> = state
        .store
        .exception_counts(&ids, from - (to - from) - 1, from - 1)
        .await?
        .into_iter()
        .collect();
    let items: Vec<Pattern> = top
        .iter()
        .map(|r| pattern(r, before.get(&r.exception_id).copied().unwrap_or(0)))
        .collect();
    state
        .auth
        .audit(
            &current.user.username,
            "exceptions.patterns",
            None,
            json!({"from": from, "to": to, "rows": items.len()}),
        )
        .await?;
    Ok(Json(Patterns {
        from: format_timestamp_us(from),
        to: format_timestamp_us(to),
        items,
    }))
}

/// Most groups one histogram request may name (two pages of the tracker).
const MAX_HISTOGRAM_GROUPS: usize = 100;
/// Most buckets per group (default 24); with [`MAX_HISTOGRAM_GROUPS`] it bounds one answer to
/// 20,000 counts.
const MAX_HISTOGRAM_BUCKETS: i64 = 200;

/// `?ids=a,b,…&from=&to=&buckets=`: occurrences per bucket of each group (default the last 24
/// hours in 24 buckets), the sparklines of a page of the tracker in one grouped query.
#[utoipa::path(
    get,
    path = "/api/v1/logging/exceptions/histogram",
    tag = "exceptions",
    params(("ids" = String, Query, min_length = 36, description = "Group ids, comma separated"), super::openapi::WindowParams, ("buckets" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Number of buckets")),
    responses(
        (status = 200, description = "Occurrences per bucket for each group (the sparklines)", body = ExceptionHistogram),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_histogram(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(map): AppQuery,
) -> Result<Json<ExceptionHistogram>> {
    let mut p = Params::new(&map, &["ids", "from", "to", "buckets"]);
    let (from, to) = p.range();
    let mut ids: Vec<Uuid> = Vec::new();
    match p.get("ids") {
        None => p.fail("ids", "required: comma-separated group ids"),
        Some(raw) => {
            for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match part.parse::<Uuid>() {
                    Ok(id) if !ids.contains(&id) => ids.push(id),
                    Ok(_) => {}
                    Err(_) => {
                        p.fail("ids", format!("not a UUID: {part}"));
                        break;
                    }
                }
            }
            if ids.len() > MAX_HISTOGRAM_GROUPS {
                p.fail("ids", format!("at most {MAX_HISTOGRAM_GROUPS} groups"));
            }
        }
    }
    let buckets = match p.get("buckets").map(str::parse::<i64>) {
        None => 24,
        Some(Ok(n)) if (1..=MAX_HISTOGRAM_BUCKETS).contains(&n) => n,
        Some(_) => {
            p.fail(
                "buckets",
                format!("expected an integer from 1 to {MAX_HISTOGRAM_BUCKETS}"),
            );
            24
        }
    };
    let (from, to) = p.finish((from, to)).map_err(Error::Validation)?;
    let to = to.unwrap_or_else(now_us);
    let from = from.unwrap_or(to - DEFAULT_WINDOW_US);
    // Whole milliseconds, rounded up so `buckets` of them cover the window.
    let span_ms = (to - from) / 1000 + 1;
    let width_ms = ((span_ms + buckets - 1) / buckets).max(1);
    let rows = state
        .store
        .exception_histogram(&ids, from, to, width_ms * 1000)
        .await?;
    let mut items: Vec<ExceptionSeries> = ids
        .iter()
        .map(|id| ExceptionSeries {
            exception_id: *id,
            counts: vec![0; usize::try_from(buckets).unwrap_or(0)],
        })
        .collect();
    for (id, bucket, count) in rows {
        if let Some(series) = items.iter_mut().find(|s| s.exception_id == id)
            && let Some(slot) = usize::try_from(bucket)
                .ok()
                .and_then(|b| series.counts.get_mut(b))
        {
            *slot += count;
        }
    }
    state
        .auth
        .audit(
            &current.user.username,
            "exceptions.histogram",
            None,
            json!({"from": from, "to": to, "groups": ids.len(), "buckets": buckets}),
        )
        .await?;
    Ok(Json(ExceptionHistogram {
        from: format_timestamp_us(from),
        to: format_timestamp_us(to),
        bucket_ms: width_ms,
        items,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/exceptions/{id}",
    tag = "exceptions",
    params(("id" = uuid::Uuid, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group with its recent occurrences", body = ExceptionDetail),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_exception(
    State(state): State<AppState>,
    current: CurrentUser,
    PathUuid(id): PathUuid,
) -> Result<Json<ExceptionDetail>> {
    let group = state.store.get_exception(id).await?;
    let recent = state
        .store
        .recent_occurrences(id, RECENT_OCCURRENCES)
        .await?;
    state
        .auth
        .audit(
            &current.user.username,
            "exceptions.get",
            Some(id.to_string()),
            json!({"rows": recent.len()}),
        )
        .await?;
    Ok(Json(exception_detail(&group, &recent)))
}

#[utoipa::path(
    put,
    path = "/api/v1/logging/exceptions/{id}/resolve",
    tag = "exceptions",
    params(("id" = uuid::Uuid, Path, description = "The group's id")),
    request_body(content = Option<ResolveRequest>, description = "Resolution notes; the body may be empty"),
    responses(
        (status = 200, description = "The resolved group", body = ExceptionGroup),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn resolve_exception(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    PathUuid(id): PathUuid,
    AppJson(body): AppJson<Option<ResolveRequest>>,
) -> Result<Json<ExceptionGroup>> {
    let body = body.unwrap_or_default();
    let notes = body
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    state
        .store
        .resolve_exception(id, now_us(), &current.user.username, notes)
        .await?;
    state
        .auth
        .audit(
            &current.user.username,
            "exceptions.resolve",
            Some(id.to_string()),
            json!({"notes": notes}),
        )
        .await?;
    Ok(Json(ExceptionGroup::from(
        &state.store.get_exception(id).await?,
    )))
}
