//! Row types shared by both backends. Times are microseconds since the Unix epoch.

use serde_json::Value;
use sqlx::types::Json;
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

/// One new `app_logs` row.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    /// UUIDv7.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Event time.
    pub timestamp: i64,
    /// Canonical level name.
    pub level: &'static str,
    /// `frontend` or `backend`.
    pub source: &'static str,
    /// Message.
    pub message: String,
    /// Module.
    pub module: Option<String>,
    /// Function.
    pub function: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Span id.
    pub span_id: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// HTTP method.
    pub request_method: Option<String>,
    /// Request path.
    pub request_path: Option<String>,
    /// Redacted request payload.
    pub request_data: Option<Json<Value>>,
    /// HTTP status.
    pub response_status: Option<i32>,
    /// Duration.
    pub duration_ms: Option<f64>,
    /// Redacted structured fields.
    pub extra_data: Option<Json<Value>>,
    /// Total identical entries this row stands for.
    pub dedup_count: i64,
    /// First of them.
    pub first_seen_at: i64,
    /// Last of them.
    pub last_seen_at: i64,
    /// Server write time.
    pub created_at: i64,
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

/// One new `performance_metrics` row.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// UUIDv7.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// `frontend` or `backend`.
    pub source: &'static str,
    /// Family.
    pub metric_type: String,
    /// Name.
    pub metric_name: String,
    /// Value.
    pub value: f64,
    /// Unit.
    pub unit: Option<String>,
    /// Measurement time.
    pub timestamp: i64,
    /// Endpoint or page.
    pub endpoint: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Redacted tags.
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
