//! `POST /api/v1/logging/logs/export` `{filters, format}`: every matching log as JSON lines,
//! CSV or text, streamed page by page (keyset, 1,000 rows a page) so a million-row export runs
//! in bounded memory. The audit row, with the row count, is written when the stream ends.

pub mod format;

use super::auth::CurrentUser;
use super::extract::AppJson;
use super::views::log_view;
use crate::auth::AuthService;
use crate::error::{Error, Result};
use crate::query::MAX_LIMIT;
use crate::query::cursor::Cursor;
use crate::query::logs::{LOG_PARAMS, LogFilter, PAGE_PARAMS};
use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use format::ExportFormat;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracewire_shared::api::ExportRequest;
use tracewire_shared::validate::FieldError;

/// `POST /api/v1/logging/logs/export`, open to any session (viewers included).
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/logging/logs/export", post(export_logs))
}

/// Filter values as query-string pairs: strings as they are; lists comma-joined, except for
/// the repeatable `not.<field>` filters, where each item is one value left out.
fn filter_pairs(filters: &BTreeMap<String, Value>) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let mut out = Vec::new();
    for (k, v) in filters.iter().filter(|(_, v)| !v.is_null()) {
        match v {
            Value::Array(items) if k.starts_with("not.") => {
                out.extend(items.iter().map(|i| (k.clone(), text(i))));
            }
            Value::Array(items) => {
                let joined = items.iter().map(text).collect::<Vec<_>>().join(",");
                out.push((k.clone(), joined));
            }
            other => out.push((k.clone(), text(other))),
        }
    }
    out
}

/// State of one export stream between pages: the cursor in `filter`, the rows sent so far for
/// the audit row written at the end.
struct Walk {
    store: Arc<dyn Store>,
    auth: Arc<AuthService>,
    actor: String,
    filter: LogFilter,
    format: ExportFormat,
    started: bool,
    done: bool,
    rows: u64,
}

async fn next_chunk(mut w: Walk) -> Option<(std::io::Result<Bytes>, Walk)> {
    if w.done {
        return None;
    }
    let mut out = String::new();
    if !w.started {
        out.push_str(&w.format.header());
        w.started = true;
    }
    let mut rows = match w.store.page_logs(&w.filter).await {
        Ok(rows) => rows,
        Err(e) => {
            // The status line is long gone; cut the body short so the client sees a failure.
            tracing::error!(error = %e, "export failed mid-stream");
            w.done = true;
            return Some((Err(std::io::Error::other("export failed")), w));
        }
    };
    let limit = w.filter.limit as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        w.filter.cursor = rows.last().map(|r| Cursor {
            time_us: r.timestamp,
            id: r.id,
        });
    } else {
        w.done = true;
    }
    for r in &rows {
        out.push_str(&w.format.row(r, log_view));
    }
    w.rows += rows.len() as u64;
    if w.done {
        let details = json!({"filters": w.filter.audit_json(), "rows": w.rows,
                             "format": w.format.extension()});
        if let Err(e) = w.auth.audit(&w.actor, "logs.export", None, details).await {
            tracing::error!(error = %e, "export audit row not written");
        }
    }
    Some((Ok(Bytes::from(out)), w))
}

#[utoipa::path(
    post,
    path = "/api/v1/logging/logs/export",
    tag = "logs",
    request_body(content = ExportRequest, description = "The filters of the logs list and the format"),
    responses(
        (status = 200, description = "Every matching log, streamed: JSON lines, CSV or text", content(("application/x-ndjson"), ("text/csv"), ("text/plain"))),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn export_logs(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(request): AppJson<ExportRequest>,
) -> Result<Response> {
    let format = ExportFormat::parse(&request.format).ok_or_else(|| {
        Error::Validation(vec![FieldError::new("format", "expected json, csv or txt")])
    })?;
    let allowed: Vec<&str> = LOG_PARAMS
        .iter()
        .copied()
        .filter(|p| !PAGE_PARAMS.contains(p))
        .collect();
    let mut filter =
        LogFilter::parse_pairs(&filter_pairs(&request.filters), &allowed).map_err(|errors| {
            Error::Validation(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(format!("filters.{}", e.path), e.message))
                    .collect(),
            )
        })?;
    filter.limit = MAX_LIMIT;
    let walk = Walk {
        store: state.store.clone(),
        auth: state.auth.clone(),
        actor: current.user.username.clone(),
        filter,
        format,
        started: false,
        done: false,
        rows: 0,
    };
    let stream = futures_util::stream::unfold(walk, next_chunk);
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = format!(
        "attachment; filename=\"tracewire-logs.{}\"",
        format.extension()
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
