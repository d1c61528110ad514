//! Row types shared by both backends. Times are microseconds since the Unix epoch.

use serde_json::Value;
use sqlx::types::Json;
use std::borrow::Cow;
use uuid::Uuid;

/// A project owns ingest keys and everything ingested with them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProjectRecord {
    /// Project id.
    pub id: Uuid,
    /// Unique display name.
    pub name: String,
    /// Whether browser loggers may send to it.
    pub allow_frontend: bool,
    /// Whether backend middleware may send to it.
    pub allow_backend: bool,
    /// Creation time.
    pub created_at: i64,
}

/// An ingest key and what it is allowed to do.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IngestKeyRecord {
    /// Key id.
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
    /// Creation time.
    pub created_at: i64,
}

/// Key record joined with the project flags the ingest path needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KeyGrant {
    /// The key.
    #[sqlx(flatten)]
    pub key: IngestKeyRecord,
    /// Whether frontend batches are allowed.
    pub allow_frontend: bool,
    /// Whether backend batches are allowed.
    pub allow_backend: bool,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// User id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `admin` or `viewer`.
    pub role: String,
    /// Creation time.
    pub created_at: i64,
}

/// Idempotency record of a stored batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// The client's batch id.
    pub batch_id: Uuid,
    /// Project it was stored into.
    pub project_id: Uuid,
    /// Logs stored.
    pub logs: i64,
    /// Exceptions stored.
    pub exceptions: i64,
    /// Metrics stored.
    pub metrics: i64,
    /// Server receive time.
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
    /// Row to update.
    pub id: Uuid,
    /// Count to add.
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
    /// Owning project.
    pub project_id: Uuid,
    /// Grouping fingerprint.
    pub fingerprint: String,
    /// `frontend` or `backend`.
    pub source: &'static str,
    /// Class or kind.
    pub exception_type: String,
    /// Message.
    pub exception_message: String,
    /// Stack trace.
    pub stack_trace: Option<String>,
    /// Occurrence time.
    pub timestamp: i64,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Span id.
    pub span_id: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Page or endpoint.
    pub request_path: Option<String>,
    /// Redacted details.
    pub exception_details: Option<Json<Value>>,
    /// Redacted context.
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
    /// Row id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Source.
    pub source: String,
    /// Level.
    pub level: String,
    /// Message.
    pub message: String,
    /// Module.
    pub module: Option<String>,
    /// Function.
    pub function: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// First seen.
    pub first_seen_at: i64,
}
