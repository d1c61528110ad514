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
use crate::query::exceptions::ExceptionFilter;
use crate::query::stats::DEFAULT_WINDOW_US;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use tracewire_shared::api::{
    ExceptionDetail, ExceptionGroup, Page, Pattern, Patterns, ResolveRequest,
};
use tracewire_shared::validate::format_timestamp_us;

/// Occurrences shown with one group.
const RECENT_OCCURRENCES: i64 = 20;

/// The exception routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/logging/exceptions", get(list_exceptions))
        .route("/api/v1/logging/exceptions/patterns", get(get_patterns))
        .route("/api/v1/logging/exceptions/{id}", get(get_exception))
        .route(
            "/api/v1/logging/exceptions/{id}/resolve",
            put(resolve_exception),
        )
}

async fn list_exceptions(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<Page<ExceptionGroup>>> {
    let filter = ExceptionFilter::parse(&query).map_err(Error::Validation)?;
    let rows = state.store.query_exceptions(&filter).await?;
    let returned = rows.rows.len().min(filter.limit as usize);
    let body: Page<ExceptionGroup> = page(rows.rows, rows.total, filter.limit, |r| Cursor {
        time_us: r.last_seen_at,
        id: r.id,
    });
    let details = json!({
        "filters": {"resolved": filter.resolved, "exception_type": filter.exception_type,
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
