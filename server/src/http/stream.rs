//! `GET /api/v1/logging/logs/stream`: a Server-Sent Events live tail with the filters of the
//! logs list. Each new matching log is one `log` event whose data is the row as the list shows
//! it; the tail polls by id once a second (see `query::tail`) and stops when the client leaves,
//! the collector shuts down, or the session that opened it ends.
//!
//! The session is re-checked against the store every [`SESSION_RECHECK`] rather than told of
//! logouts by an in-process broadcast: the check also catches expiry, disabled users and a
//! logout served by another collector on the same PostgreSQL database, for one indexed lookup
//! per stream every few seconds.

use super::auth::CurrentUser;
use super::extract::AppQuery;
use crate::auth::AuthService;
use crate::error::{Error, Result};
use crate::query::logs::{LOG_PARAMS, LogFilter, PAGE_PARAMS};
use crate::query::tail::{TAIL_BATCH, TAIL_LAG_MS, tail_clause, v7_floor};
use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::{Stream, StreamExt, stream};
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracewire_shared::api::LogView;
use uuid::Uuid;

/// How often a stream re-checks its session; a logged-out stream ends within this (plus one
/// poll).
pub const SESSION_RECHECK: Duration = Duration::from_secs(3);

/// `GET /api/v1/logging/logs/stream`, open to any session.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/logging/logs/stream", get(stream_logs))
}

fn lagged_now_ms() -> u64 {
    let now_ms = u64::try_from(crate::clock::now_us() / 1000).unwrap_or_default();
    now_ms.saturating_sub(TAIL_LAG_MS)
}

/// State of one live tail between polls: the last id sent and when the session was last checked.
struct Tail {
    store: Arc<dyn Store>,
    filter: LogFilter,
    after: Uuid,
    first: bool,
    stopping: tokio::sync::watch::Receiver<bool>,
    auth: Arc<AuthService>,
    token: String,
    checked_at: Instant,
}

impl Tail {
    /// Whether the session that opened the stream still stands, asked every
    /// [`SESSION_RECHECK`].
    async fn session_alive(&mut self) -> bool {
        if self.checked_at.elapsed() < SESSION_RECHECK {
            return true;
        }
        self.checked_at = Instant::now();
        match self.auth.authenticate(&self.token).await {
            Ok(_) => true,
            Err(Error::Unauthorized(_)) => false,
            Err(e) => {
                // Storage trouble: end the stream like a failed poll does; the client reconnects.
                tracing::warn!(error = %e, "live tail session check failed");
                false
            }
        }
    }
}

async fn poll(mut t: Tail) -> Option<(Vec<Event>, Tail)> {
    if *t.stopping.borrow() {
        return None;
    }
    if !t.first {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = t.stopping.changed() => return None,
        }
    }
    t.first = false;
    if !t.session_alive().await {
        return None;
    }
    let upto = v7_floor(lagged_now_ms());
    let rows = match t
        .store
        .tail_logs(&tail_clause(&t.filter, t.after, upto), TAIL_BATCH)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            // End the stream; EventSource clients reconnect on their own.
            tracing::warn!(error = %e, "live tail stopped");
            return None;
        }
    };
    if rows.len() < TAIL_BATCH as usize {
        t.after = t.after.max(rows.last().map_or(upto, |r| r.id.max(upto)));
    } else if let Some(last) = rows.last() {
        t.after = last.id;
    }
    let events = rows
        .iter()
        .map(|r| {
            Event::default()
                .event("log")
                .id(r.id.to_string())
                .json_data(LogView::from(r))
                .unwrap_or_else(|_| Event::default().comment("unserializable row"))
        })
        .collect();
    Some((events, t))
}

#[utoipa::path(
    get,
    path = "/api/v1/logging/logs/stream",
    tag = "logs",
    params(super::openapi::LogFilterParams),
    responses(
        (status = 200, description = "Server-sent events: one `log` event per new matching log (its data a LogView as JSON); ends when the session does", content_type = "text/event-stream", body = String),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn stream_logs(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery<Vec<(String, String)>>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let allowed: Vec<&str> = LOG_PARAMS
        .iter()
        .copied()
        .filter(|p| !PAGE_PARAMS.contains(p))
        .collect();
    let filter = LogFilter::parse_pairs(&query, &allowed).map_err(Error::Validation)?;
    state
        .auth
        .audit(
            &current.user.username,
            "logs.stream",
            None,
            json!({"filters": filter.audit_json()}),
        )
        .await?;
    let tail = Tail {
        store: state.store.clone(),
        filter,
        after: v7_floor(lagged_now_ms()),
        first: true,
        stopping: state.stopping.clone(),
        auth: state.auth.clone(),
        token: current.token().to_owned(),
        checked_at: Instant::now(),
    };
    let events = stream::unfold(tail, poll)
        .flat_map(stream::iter)
        .map(Ok::<Event, Infallible>);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
