//! Row types shared by both backends. Times are microseconds since the Unix epoch.

use serde_json::Value;
use sqlx::types::Json;
use std::borrow::Cow;
use uuid::Uuid;

/// A project owns ingest keys and everything ingested with them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProjectRecord {
    /// Row id (UUIDv7); keys, logs and rules point at it.
    pub id: Uuid,
    /// Display name, unique among projects; the one the first start creates is `default`.
    pub name: String,
    /// Whether browser loggers may send to it.
    pub allow_frontend: bool,
    /// Whether backend middleware may send to it.
    pub allow_backend: bool,
    /// Creation time (µs); the oldest project is the default one.
    pub created_at: i64,
}

/// An ingest key and what it is allowed to do.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IngestKeyRecord {
    /// Row id (UUIDv7); the key itself is never stored, only `key_hash`.
    pub id: Uuid,
    /// Project the key writes into.
    pub project_id: Uuid,
    /// SHA-256 of the key, lower-case hex. The key ships in browser code, but a copy of the
    /// database should still not hand out working keys, so only the hash is stored.
    pub key_hash: String,
    /// Origins allowed to use it; empty means any.
    pub allowed_origins: Json<Vec<String>>,
    /// Revoked keys answer 401.
    pub revoked: bool,
    /// Creation time (µs).
    pub created_at: i64,
}

/// Key record joined with the project flags the ingest path needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KeyGrant {
    /// The key's row, revoked or not: the ingest path checks `revoked` and the origins.
    #[sqlx(flatten)]
    pub key: IngestKeyRecord,
    /// The project's flag: whether its keys accept `frontend` batches (403 otherwise).
    pub allow_frontend: bool,
    /// The project's flag: whether its keys accept `backend` batches (403 otherwise).
    pub allow_backend: bool,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Row id, chosen by the caller (UUIDv7 in bootstrap and the user commands).
    pub id: Uuid,
    /// Login name; a taken one makes the insert a `Conflict`.
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `admin` or `viewer`.
    pub role: String,
    /// Creation time (µs).
    pub created_at: i64,
}

/// Idempotency record of a stored batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// The client's batch id; a batch sent again with it within a day is answered from this
    /// record and not stored twice.
    pub batch_id: Uuid,
    /// Project it was stored into.
    pub project_id: Uuid,
    /// Logs accepted from the batch (before dedup), replayed in the answer to a retry.
    pub logs: i64,
    /// Exceptions accepted from the batch, replayed in the answer to a retry.
    pub exceptions: i64,
    /// Metrics accepted from the batch, replayed in the answer to a retry.
    pub metrics: i64,
    /// Collector time the batch was stored (µs); records older than a day are pruned hourly.
    pub received_at: i64,
}

/// One `app_logs` row: what ingest writes, what queries read back, and what retention archives
/// (serialized as is). `level` and `source` borrow their canonical names when written and own
/// what the database returned when read, so one type serves both without an allocation on
/// the write path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct LogRow {
    /// UUIDv7, so inserts append to the primary key's B-tree; also the keyset tie-breaker
    /// between logs of the same microsecond.
    pub id: Uuid,
    /// Project of the ingest key the log arrived with.
    pub project_id: Uuid,
    /// When the event happened, by the sender's clock (µs); a time more than a day ahead of
    /// the collector's is clamped at ingest. Queries, paging and retention order by it.
    pub timestamp: i64,
    /// Canonical upper-case name (`DEBUG` … `CRITICAL`), whatever case the sender used.
    #[sqlx(try_from = "String")]
    pub level: Cow<'static, str>,
    /// `frontend`, `backend` or `collector` (the collector's own logs, hidden unless asked for).
    #[sqlx(try_from = "String")]
    pub source: Cow<'static, str>,
    /// Redacted text, at most the configured field size.
    pub message: String,
    /// Logger name or code module; part of the dedup key.
    pub module: Option<String>,
    /// Function or handler that logged; part of the dedup key.
    pub function: Option<String>,
    /// W3C trace id (32 lower-case hex) joining frontend and backend logs of one request.
    pub trace_id: Option<String>,
    /// W3C span id of the operation that logged.
    pub span_id: Option<String>,
    /// Application user as the app names them (after redaction, e.g. masked e-mail).
    pub user_id: Option<String>,
    /// Method of the HTTP request the log describes (request logs of the middleware).
    pub request_method: Option<String>,
    /// Path (browser page or route) the log belongs to; `path=` filters match it.
    pub request_path: Option<String>,
    /// Request payload after redaction; oversized values are stored truncated, as a string.
    pub request_data: Option<Json<Value>>,
    /// Status answered, for request logs.
    pub response_status: Option<i32>,
    /// How long the described request took, in milliseconds.
    pub duration_ms: Option<f64>,
    /// The sender's structured fields after redaction; truncated like `request_data`.
    pub extra_data: Option<Json<Value>>,
    /// How many identical logs (client and server dedup together) this row stands for.
    pub dedup_count: i64,
    /// Time of the first of those identical logs (µs).
    pub first_seen_at: i64,
    /// Time of the last of them (µs); grows as duplicates arrive in the window.
    pub last_seen_at: i64,
    /// When the collector wrote the row (µs): unlike `timestamp`, never the sender's clock.
    pub created_at: i64,
}

impl LogRow {
    /// A row with only what every log has (one occurrence at `timestamp`, no optional field):
    /// tests, tools and benchmarks set the rest with `..LogRow::new(…)` instead of spelling out
    /// 21 fields.
    pub fn new(
        project_id: Uuid,
        timestamp: i64,
        level: tracewire_shared::level::Level,
        source: tracewire_shared::validate::Source,
        message: impl Into<String>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            project_id,
            timestamp,
            level: level.as_str().into(),
            source: source.as_str().into(),
            message: message.into(),
            module: None,
            function: None,
            trace_id: None,
            span_id: None,
            user_id: None,
            request_method: None,
            request_path: None,
            request_data: None,
            response_status: None,
            duration_ms: None,
            extra_data: None,
            dedup_count: 1,
            first_seen_at: timestamp,
            last_seen_at: timestamp,
            created_at: timestamp,
        }
    }
}

/// More duplicates for a row an earlier group stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBump {
    /// The stored row that absorbs the duplicates.
    pub id: Uuid,
    /// Duplicates to add to its `dedup_count`.
    pub add: i64,
    /// Earliest first-seen among the new duplicates.
    pub first_seen_at: i64,
    /// Latest last-seen among the new duplicates.
    pub last_seen_at: i64,
}

/// One exception occurrence with its group fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionRow {
    /// Id for the group if this occurrence creates it.
    pub group_id: Uuid,
    /// Id of the occurrence row.
    pub event_id: Uuid,
    /// Project of the ingest key; groups are per (project, fingerprint).
    pub project_id: Uuid,
    /// 32-hex fingerprint (type and top in-app frames, or type and masked message);
    /// occurrences with the same one share a group.
    pub fingerprint: String,
    /// `frontend` or `backend`.
    pub source: &'static str,
    /// Exception class or kind as sent (`TypeError`); part of the fingerprint.
    pub exception_type: String,
    /// This occurrence's message, redacted; it also becomes the group's shown message.
    pub exception_message: String,
    /// Stack trace as sent, redacted; the group keeps the last one that was not `None`.
    pub stack_trace: Option<String>,
    /// When it happened, by the sender's clock (µs).
    pub timestamp: i64,
    /// Trace of the request it happened in (32 hex): the link to that request's logs.
    pub trace_id: Option<String>,
    /// Span that raised it (16 hex).
    pub span_id: Option<String>,
    /// Application user it happened to, after redaction.
    pub user_id: Option<String>,
    /// Page or endpoint it happened on.
    pub request_path: Option<String>,
    /// The sender's structured details (cause chain, frames), redacted.
    pub exception_details: Option<Json<Value>>,
    /// The sender's context (URL, browser, request), redacted.
    pub context_data: Option<Json<Value>>,
}

/// One `performance_metrics` row: a single measurement as the batch's `metrics` entry sent it
/// (web vital, custom metric), written by ingest and read back by retention for the archive.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct MetricRow {
    /// UUIDv7 (appends to the key, orders measurements of one microsecond).
    pub id: Uuid,
    /// Project of the ingest key the batch arrived with.
    pub project_id: Uuid,
    /// `frontend` or `backend`: who measured it.
    #[sqlx(try_from = "String")]
    pub source: Cow<'static, str>,
    /// Family the name belongs to, e.g. `web_vital`, `http`, `custom`.
    pub metric_type: String,
    /// What was measured within the family, e.g. `LCP`.
    pub metric_name: String,
    /// The measurement, in `unit`.
    pub value: f64,
    /// Unit as the sender named it (`ms`, `bytes`, …); not converted.
    pub unit: Option<String>,
    /// When it was measured, by the sender's clock (µs).
    pub timestamp: i64,
    /// Page or route the measurement belongs to.
    pub endpoint: Option<String>,
    /// Trace of the request measured, when there is one.
    pub trace_id: Option<String>,
    /// The sender's labels after redaction.
    pub tags: Option<Json<Value>>,
}

/// A recently stored log as the dedup index needs it after a restart.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DedupSeed {
    /// The stored row that absorbs later duplicates of the same key.
    pub id: Uuid,
    /// Project; the key hash includes it, so duplicates never cross projects.
    pub project_id: Uuid,
    /// `frontend`, `backend` or `collector`; with the fields below, the dedup key.
    pub source: String,
    /// Canonical level name; part of the dedup key.
    pub level: String,
    /// Message as stored (redacted); part of the dedup key.
    pub message: String,
    /// Part of the dedup key; `None` matches only `None`.
    pub module: Option<String>,
    /// Part of the dedup key; `None` matches only `None`.
    pub function: Option<String>,
    /// Part of the dedup key; `None` matches only `None`.
    pub trace_id: Option<String>,
    /// Part of the dedup key; `None` matches only `None`.
    pub user_id: Option<String>,
    /// Start of the row's dedup window (µs): later duplicates merge into it only within the window.
    pub first_seen_at: i64,
}
