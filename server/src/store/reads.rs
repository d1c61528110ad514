//! The query side of the store: users and sessions for auth, the audit trail, and reads of logs
//! and exception groups. Separate traits (supertraits of [`super::Store`]) keep the ingest
//! trait readable; both backends implement them once, in [`super::read_sql`].

use super::StoreResult;
use crate::query::exceptions::ExceptionFilter;
use crate::query::logs::LogFilter;
use crate::query::stats::StatsQuery;
use async_trait::async_trait;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// A user as login and session checks need it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRecord {
    /// User id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `admin` or `viewer`.
    pub role: String,
    /// Disabled users cannot log in and their sessions stop working.
    pub disabled: bool,
}

/// A session to store; only the token's hash is kept, so a database leak yields no sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Session id.
    pub id: Uuid,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Owner.
    pub user_id: Uuid,
    /// Creation time.
    pub created_at: i64,
    /// After this the token is refused.
    pub expires_at: i64,
}

/// One `audit_logs` row: who did what to which target.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Username, or the attempted username for failed logins.
    pub actor: String,
    /// e.g. `auth.login`, `logs.query`.
    pub action: String,
    /// The object acted on, when there is one.
    pub target: Option<String>,
    /// Filters, row counts, client address.
    pub details: Value,
}

/// One `app_logs` row as stored (serialized as is into retention archives).
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct LogRecord {
    /// Row id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Event time (µs).
    pub timestamp: i64,
    /// Level.
    pub level: String,
    /// Source.
    pub source: String,
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
    /// Request payload.
    pub request_data: Option<Json<Value>>,
    /// HTTP status.
    pub response_status: Option<i32>,
    /// Duration.
    pub duration_ms: Option<f64>,
    /// Structured fields.
    pub extra_data: Option<Json<Value>>,
    /// Identical entries this row stands for.
    pub dedup_count: i64,
    /// First of them (µs).
    pub first_seen_at: i64,
    /// Last of them (µs).
    pub last_seen_at: i64,
    /// Server write time (µs).
    pub created_at: i64,
}

/// One `app_exceptions` group.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExceptionRecord {
    /// Group id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Grouping fingerprint.
    pub fingerprint: String,
    /// Source.
    pub source: String,
    /// Type.
    pub exception_type: String,
    /// Latest message.
    pub exception_message: String,
    /// Stack trace.
    pub stack_trace: Option<String>,
    /// Page or endpoint.
    pub request_path: Option<String>,
    /// First occurrence (µs).
    pub first_seen_at: i64,
    /// Latest occurrence (µs).
    pub last_seen_at: i64,
    /// Occurrences.
    pub occurrence_count: i64,
    /// Resolved flag.
    pub is_resolved: bool,
    /// Resolution time (µs).
    pub resolved_at: Option<i64>,
    /// Resolver's username.
    pub resolved_by: Option<String>,
    /// Resolver's notes.
    pub resolution_notes: Option<String>,
    /// When it last came back after a resolution (µs).
    pub regressed_at: Option<i64>,
}

/// One occurrence of an exception group, with the group's type for trace timelines.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OccurrenceRecord {
    /// Occurrence id.
    pub id: Uuid,
    /// Group id.
    pub exception_id: Uuid,
    /// Group's type.
    pub exception_type: String,
    /// Occurrence time (µs).
    pub timestamp: i64,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Span id.
    pub span_id: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Page or endpoint.
    pub request_path: Option<String>,
    /// Message.
    pub exception_message: String,
    /// Stack trace.
    pub stack_trace: Option<String>,
}

/// Logs of one (bucket, level, source).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatsRow {
    /// Bucket start (µs).
    pub bucket: i64,
    /// Level.
    pub level: String,
    /// Source.
    pub source: String,
    /// Stored rows.
    pub log_rows: i64,
    /// Events including collapsed duplicates (sum of `dedup_count`).
    pub events: i64,
}

/// Occurrences of one exception group inside a time window.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PatternRow {
    /// Group id.
    pub exception_id: Uuid,
    /// Group's type.
    pub exception_type: String,
    /// Group's latest message.
    pub exception_message: String,
    /// Whether the group is resolved now.
    pub is_resolved: bool,
    /// Occurrences in the window.
    pub occurrences: i64,
}

/// A page of rows plus the count of every row matching the filters (cursor aside).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Up to `limit + 1` rows; one more than the limit means there is a next page.
    pub rows: Vec<T>,
    /// Rows matching the filters.
    pub total: i64,
}

/// Users, sessions and the audit trail.
#[async_trait]
pub trait AuthStore: Send + Sync {
    /// The user named `username`, if any.
    async fn find_user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Stores a new session.
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The user of an unexpired session with this token hash.
    async fn find_session_user(
        &self,
        token_hash: &str,
        now_us: i64,
    ) -> StoreResult<Option<UserRecord>>;
    /// Deletes sessions that expired before `now_us`; returns how many.
    async fn prune_sessions(&self, now_us: i64) -> StoreResult<u64>;
    /// Ends a session; unknown hashes are not an error.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Replaces a user's password hash and ends every session of that user, in one
    /// transaction (whoever knew the old password is logged out); false when no such user.
    async fn set_password(&self, user_id: uuid::Uuid, password_hash: &str) -> StoreResult<bool>;
    /// Appends an audit row.
    async fn insert_audit(&self, record: &AuditRecord) -> StoreResult<()>;
}

/// Reads of logs and exception groups, and resolving groups.
#[async_trait]
pub trait QueryStore: Send + Sync {
    /// One page of logs, newest first (`limit + 1` rows at most), without counting the total;
    /// exports walk pages with this.
    async fn page_logs(&self, filter: &LogFilter) -> StoreResult<Vec<LogRecord>>;
    /// Logs matching a tail window ([`crate::query::tail::tail_clause`]) in id order.
    async fn tail_logs(
        &self,
        window: &crate::query::sql::WhereClause,
        limit: u32,
    ) -> StoreResult<Vec<LogRecord>>;
    /// One page of logs, newest first, and the total matching.
    async fn query_logs(&self, filter: &LogFilter) -> StoreResult<Page<LogRecord>>;
    /// Log counts per time bucket, level and source.
    async fn log_statistics(&self, query: &StatsQuery) -> StoreResult<Vec<StatsRow>>;
    /// One log by id (`NotFound` otherwise).
    async fn get_log(&self, id: Uuid) -> StoreResult<LogRecord>;
    /// Logs of one trace in time order (bounded).
    async fn trace_logs(&self, trace_id: &str) -> StoreResult<Vec<LogRecord>>;
    /// Exception occurrences of one trace in time order (bounded).
    async fn trace_occurrences(&self, trace_id: &str) -> StoreResult<Vec<OccurrenceRecord>>;
    /// One page of exception groups, last seen first, and the total matching.
    async fn query_exceptions(
        &self,
        filter: &ExceptionFilter,
    ) -> StoreResult<Page<ExceptionRecord>>;
    /// The groups with most occurrences in `[from_us, to_us]`, most first.
    async fn top_exceptions(
        &self,
        from_us: i64,
        to_us: i64,
        limit: u32,
    ) -> StoreResult<Vec<PatternRow>>;
    /// Occurrences of each of `ids` in `[from_us, to_us]` (groups without any are absent).
    async fn exception_counts(
        &self,
        ids: &[Uuid],
        from_us: i64,
        to_us: i64,
    ) -> StoreResult<Vec<(Uuid, i64)>>;
    /// One group by id (`NotFound` otherwise).
    async fn get_exception(&self, id: Uuid) -> StoreResult<ExceptionRecord>;
    /// The group's most recent occurrences, newest first.
    async fn recent_occurrences(&self, id: Uuid, limit: i64) -> StoreResult<Vec<OccurrenceRecord>>;
    /// Marks a group resolved (`NotFound` when it does not exist).
    async fn resolve_exception(
        &self,
        id: Uuid,
        at_us: i64,
        by: &str,
        notes: Option<&str>,
    ) -> StoreResult<()>;
}
