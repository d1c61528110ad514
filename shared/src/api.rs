//! Request and response bodies of the collector's query, exception, auth, statistics and probe
//! endpoints, exactly as they travel over HTTP. The collector serializes these and the admin UI
//! (or any Rust client) deserializes them, so a renamed field breaks the build or the fixture
//! tests in `shared/tests/api_roundtrip.rs` instead of a dashboard.
//!
//! Times are RFC 3339 strings with microseconds (as
//! [`crate::validate::format_timestamp_us`] writes them) and ids are UUIDs. Fields the server
//! answers as `null` are `Option`s that are always serialized, so the shape never depends on the
//! data. Errors answer with [`ErrorEnvelope`].

pub mod monitoring;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

pub use crate::wire::{ErrorBody, ErrorEnvelope};

/// One page of a list: `{"items", "total", "next_cursor"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The rows of this page, in the list's order.
    pub items: Vec<T>,
    /// Rows matching the filters across all pages.
    pub total: i64,
    /// Opaque cursor of the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One stored log (every `app_logs` column): the logs list, one log, the live tail's events and
/// JSON-lines exports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogView {
    /// Row id (UUIDv7).
    pub id: Uuid,
    /// Project of the ingest key the log arrived with.
    pub project_id: Uuid,
    /// When the event happened, by the sender's clock (a time over a day ahead is clamped).
    pub timestamp: String,
    /// Canonical level name, upper case (`DEBUG` … `CRITICAL`) whatever case was sent.
    pub level: String,
    /// `frontend`, `backend`, or `collector` for the collector's own request logs.
    pub source: String,
    /// Message text, after redaction.
    pub message: String,
    /// Logger name or code module; part of the dedup key.
    pub module: Option<String>,
    /// Function or handler that logged; part of the dedup key.
    pub function: Option<String>,
    /// W3C trace id.
    pub trace_id: Option<String>,
    /// W3C span id.
    pub span_id: Option<String>,
    /// Application user as the app names them, after redaction.
    pub user_id: Option<String>,
    /// HTTP method of the described request.
    pub request_method: Option<String>,
    /// Path of the described request.
    pub request_path: Option<String>,
    /// Request payload after redaction; an oversized value arrives truncated, as a string.
    pub request_data: Option<Value>,
    /// HTTP status answered.
    pub response_status: Option<i32>,
    /// How long the described request took, in milliseconds.
    pub duration_ms: Option<f64>,
    /// The sender's structured fields after redaction; truncated like `request_data`.
    pub extra_data: Option<Value>,
    /// Identical entries this row stands for.
    pub dedup_count: i64,
    /// Time of the first of the identical entries, by the sender's clock.
    pub first_seen_at: String,
    /// Time of the last of them; grows while duplicates arrive within the dedup window.
    pub last_seen_at: String,
    /// When the collector wrote the row, by its own clock (unlike `timestamp`).
    pub created_at: String,
}

/// One exception group (every `app_exceptions` column): the exceptions list and a resolve's
/// answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionGroup {
    /// Group id: the `{id}` of the detail and resolve routes and of the histogram's `ids`.
    pub id: Uuid,
    /// Project the group belongs to; groups never span projects.
    pub project_id: Uuid,
    /// 32-hex grouping key: the type and top in-app frames, or the type and masked message.
    pub fingerprint: String,
    /// `frontend` or `backend`.
    pub source: String,
    /// Exception class or kind as sent (`TypeError`).
    pub exception_type: String,
    /// Message of the occurrence received last.
    pub exception_message: String,
    /// Stack trace of the occurrence received last that had one.
    pub stack_trace: Option<String>,
    /// Page or endpoint of the occurrence received last that had one.
    pub request_path: Option<String>,
    /// Earliest occurrence time, by the senders' clocks.
    pub first_seen_at: String,
    /// Latest occurrence time, by the senders' clocks.
    pub last_seen_at: String,
    /// Occurrences received since the group was created; retention does not lower it.
    pub occurrence_count: i64,
    /// Whether an admin resolved it (and it has not come back since).
    pub is_resolved: bool,
    /// When it was last resolved; kept when the group regresses (see `regressed_at`).
    pub resolved_at: Option<String>,
    /// Username of the admin who last resolved it.
    pub resolved_by: Option<String>,
    /// The resolver's notes.
    pub resolution_notes: Option<String>,
    /// When it last came back after a resolution.
    pub regressed_at: Option<String>,
}

/// Occurrences per time bucket of several exception groups, for the tracker's sparklines:
/// `GET /api/v1/logging/exceptions/histogram?ids=…&from=&to=&buckets=`, counted in one grouped
/// query for a whole page of groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionHistogram {
    /// Start of the first bucket.
    pub from: String,
    /// End of the window (inclusive).
    pub to: String,
    /// Width of a bucket in milliseconds (the window split evenly, rounded up).
    pub bucket_ms: i64,
    /// One series per requested group, in the order asked for.
    pub items: Vec<ExceptionSeries>,
}

/// The occurrences of one group per bucket of an [`ExceptionHistogram`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionSeries {
    /// Group id, as asked for in `ids`.
    pub exception_id: Uuid,
    /// Occurrences in each bucket, oldest first (zeros included; one per bucket).
    pub counts: Vec<i64>,
}

/// One group with its most recent occurrences: `GET /api/v1/logging/exceptions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionDetail {
    /// The group's columns, at the top level of the object.
    #[serde(flatten)]
    pub group: ExceptionGroup,
    /// The newest occurrences still stored (at most 20), newest first.
    pub recent_occurrences: Vec<Occurrence>,
}

/// One occurrence of an exception group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Occurrence {
    /// Occurrence id (UUIDv7).
    pub id: Uuid,
    /// Id of the occurrence's group.
    pub exception_id: Uuid,
    /// The group's type.
    pub exception_type: String,
    /// Where it came from: the group's `frontend` or `backend`.
    pub source: String,
    /// When it happened, by the sender's clock.
    pub timestamp: String,
    /// W3C trace id.
    pub trace_id: Option<String>,
    /// W3C span id.
    pub span_id: Option<String>,
    /// Application user it happened to, after redaction.
    pub user_id: Option<String>,
    /// Page or endpoint it happened on.
    pub request_path: Option<String>,
    /// Message of this occurrence (the group shows the one received last).
    pub exception_message: String,
    /// Stack trace of this occurrence.
    pub stack_trace: Option<String>,
}

/// Everything of one trace, time-ordered: `GET /api/v1/logging/traces/{trace_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trace {
    /// The trace id, lower case.
    pub trace_id: String,
    /// Logs in `items`.
    pub log_count: usize,
    /// Exception occurrences in `items`.
    pub exception_count: usize,
    /// Logs and occurrences merged by time.
    pub items: Vec<TraceItem>,
}

/// One entry of a trace timeline, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TraceItem {
    /// `{"kind": "log", "log": {…}}`.
    Log {
        /// The log (boxed, like the occurrence, so the enum stays small).
        log: Box<LogView>,
    },
    /// `{"kind": "exception", "exception": {…}}`.
    Exception {
        /// The occurrence, boxed like the log.
        exception: Box<Occurrence>,
    },
}

/// Log counts by level, source and time bucket: `GET /api/v1/logging/logs/statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Statistics {
    /// Width of a bucket in seconds (the `bucket` parameter, default one hour).
    pub bucket_seconds: i64,
    /// Start of the window: `from`, else 24 hours before `to` (this collector always sets it).
    pub from: Option<String>,
    /// End of the window: `to`, else now (this collector always sets it).
    pub to: Option<String>,
    /// Stored log rows in the window.
    pub total: i64,
    /// Stored rows per canonical level name (a row may stand for several duplicates).
    pub by_level: BTreeMap<String, i64>,
    /// Stored rows per source.
    pub by_source: BTreeMap<String, i64>,
    /// One entry per (bucket, level, source) that has logs.
    pub buckets: Vec<StatisticsBucket>,
}

/// Logs of one level and source inside one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatisticsBucket {
    /// Bucket start: a multiple of the width since the Unix epoch.
    pub start: String,
    /// Canonical level name.
    pub level: String,
    /// `frontend`, `backend` or `collector`.
    pub source: String,
    /// Stored rows (a row may stand for several duplicates).
    pub count: i64,
    /// Events including collapsed duplicates (the sum of `dedup_count`); at least `count`.
    pub events: i64,
}

/// The top exception groups of a window and their trend against the window before:
/// `GET /api/v1/logging/exceptions/patterns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patterns {
    /// Window start; default 24 hours before `to`.
    pub from: String,
    /// Window end; default now.
    pub to: String,
    /// Most occurrences first; 10 groups unless `limit` says otherwise.
    pub items: Vec<Pattern>,
}

/// One group in [`Patterns`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pattern {
    /// Group id, for the detail route.
    pub exception_id: Uuid,
    /// The group's type.
    pub exception_type: String,
    /// The group's latest message.
    pub exception_message: String,
    /// Whether the group is resolved now.
    pub is_resolved: bool,
    /// Occurrences stored with a timestamp in the window.
    pub occurrences: i64,
    /// Occurrences in the window of the same length just before.
    pub previous_occurrences: i64,
    /// How `occurrences` compares with `previous_occurrences`.
    pub trend: Trend,
}

/// How a group's occurrences changed between two windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// None in the window before.
    New,
    /// More than before.
    Rising,
    /// Fewer than before.
    Falling,
    /// As many as before.
    Steady,
}

impl Trend {
    /// The trend from the count before to the count now.
    pub fn between(previous: i64, now: i64) -> Self {
        match (previous, now) {
            (0, _) => Self::New,
            (p, n) if n > p => Self::Rising,
            (p, n) if n < p => Self::Falling,
            _ => Self::Steady,
        }
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Login name; over 256 bytes is a 422 before any password check.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 256, pattern = r"\S")
    )]
    pub username: String,
    /// Password, sent once; never logged.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    /// Leaves the password out, so a debug log of a request cannot leak it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A successful login: the session token (also set as the session cookie) and the user.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token of the new session.
    pub token: String,
    /// The signed-in user, as `GET /api/v1/auth/me` answers it.
    pub user: User,
}

impl std::fmt::Debug for LoginResponse {
    /// Leaves the token out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("user", &self.user)
            .finish()
    }
}

/// `GET /api/v1/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The user of the session cookie or bearer token.
    pub user: User,
}

/// A collector user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// User id (UUIDv7).
    pub id: Uuid,
    /// Login name, unique; what audit rows and acknowledgements name.
    pub username: String,
    /// What the user may do.
    pub role: Role,
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything a viewer may, plus writes: resolving exceptions, alert rules, acknowledgements.
    Admin,
    /// Reads only: lists, details, statistics, exports, the live tail, alert previews.
    Viewer,
}

/// `PUT /api/v1/logging/exceptions/{id}/resolve`; the body may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveRequest {
    /// Why it is resolved; blank notes are stored as none.
    #[serde(default)]
    pub notes: Option<String>,
}

/// `POST /api/v1/logging/logs/export`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportRequest {
    /// The logs list's filters (without `limit` and `cursor`): strings, or lists of strings
    /// where the list filter takes a comma-separated value.
    #[serde(default)]
    pub filters: BTreeMap<String, Value>,
    /// `json` (JSON lines), `csv` or `txt`; checked by the server so the error names the field.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(json|csv|txt)$"))]
    pub format: String,
}

/// `GET /healthz`: the process is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

impl Health {
    /// The only answer: `{"status": "ok"}`.
    pub fn ok() -> Self {
        Self {
            status: "ok".to_owned(),
        }
    }
}

/// `GET /readyz` when the database answers and accepts writes (otherwise a 503 envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ready {
    /// Always `ready`.
    pub status: String,
}

impl Ready {
    /// The only successful answer: `{"status": "ready"}`.
    pub fn ok() -> Self {
        Self {
            status: "ready".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_compare_two_windows() {
        assert_eq!(Trend::between(0, 5), Trend::New);
        assert_eq!(Trend::between(2, 5), Trend::Rising);
        assert_eq!(Trend::between(5, 2), Trend::Falling);
        assert_eq!(Trend::between(3, 3), Trend::Steady);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let login = LoginRequest {
            username: "admin".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{login:?}").contains("hunter2"));
        let answer = LoginResponse {
            token: "tok-secret".into(),
            user: User {
                id: Uuid::nil(),
                username: "admin".into(),
                role: Role::Admin,
            },
        };
        assert!(!format!("{answer:?}").contains("tok-secret"));
    }

    #[test]
    fn an_empty_resolve_body_object_has_no_notes() {
        let r: ResolveRequest = serde_json::from_str("{}").expect("parse");
        assert_eq!(r, ResolveRequest::default());
    }
}
