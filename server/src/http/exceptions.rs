//! `GET /api/v1/logging/exceptions`, `GET /api/v1/logging/exceptions/{id}` and
//! `PUT /api/v1/logging/exceptions/{id}/resolve` (admin only).

use super::auth::{CurrentUser, RequireAdmin, parse_json};
use super::logs::{page_json, path_uuid, query_map};
use super::views::{exception_json, occurrence_json};
use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::query::cursor::Cursor;
use crate::query::exceptions::ExceptionFilter;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Occurrences shown with one group.
const RECENT_OCCURRENCES: i64 = 20;

/// The exception routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/logging/exceptions", get(list_exceptions))
        .route("/api/v1/logging/exceptions/{id}", get(get_exception))
        .route(
            "/api/v1/logging/exceptions/{id}/resolve",
            put(resolve_exception),
        )
}

async fn list_exceptions(
    State(state): State<AppState>,
    current: CurrentUser,
    query: std::result::Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>> {
    let filter = ExceptionFilter::parse(&query_map(query)?).map_err(Error::Validation)?;
    let page = state.store.query_exceptions(&filter).await?;
    let returned = page.rows.len().min(filter.limit as usize);
    let body = page_json(
        page.rows,
        page.total,
        filter.limit,
        |r| Cursor {
            time_us: r.last_seen_at,
            id: r.id,
        },
        exception_json,
    );
    let details = json!({
        "filters": {"resolved": filter.resolved, "exception_type": filter.exception_type,
                    "from": filter.from_us, "to": filter.to_us, "limit": filter.limit},
        "rows": returned, "total": page.total,
    });
    state
        .auth
        .audit(&current.user.username, "exceptions.query", None, details)
        .await?;
    Ok(Json(body))
}

async fn get_exception(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let id = path_uuid(&id, "id")?;
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
    let mut body = exception_json(&group);
    body["recent_occurrences"] = recent.iter().map(occurrence_json).collect();
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
struct ResolveBody {
    #[serde(default)]
    notes: Option<String>,
}

async fn resolve_exception(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let id = path_uuid(&id, "id")?;
    let body: ResolveBody = if body.iter().all(u8::is_ascii_whitespace) {
        ResolveBody::default()
    } else {
        parse_json(&body)?
    };
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
    Ok(Json(exception_json(&state.store.get_exception(id).await?)))
}
