//! The store side of retention: the oldest rows past a cutoff, in keyset batches, deletion of
//! exactly the ids that were archived, and the lease that keeps N collectors from running
//! retention at once. The SQL is shared by both backends in `retention_sql`.

use super::StoreResult;
use super::rows::{LogRow, MetricRow};
use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// Position after the last row of a batch: rows are walked in `(timestamp, id)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    /// Timestamp of the last row seen (µs).
    pub time_us: i64,
    /// Id of the last row seen.
    pub id: Uuid,
}

impl Keyset {
    /// Before every row: the position a walk starts from.
    pub const START: Keyset = Keyset {
        time_us: i64::MIN,
        id: Uuid::nil(),
    };
}

/// Tables retention prunes; each names the SQL table its batches delete from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionTable {
    /// `app_logs`, per level.
    AppLogs,
    /// `exception_events` (occurrences; the groups in `app_exceptions` stay as summaries).
    ExceptionEvents,
    /// `performance_metrics`.
    PerformanceMetrics,
}

impl RetentionTable {
    /// The SQL table name.
    pub fn name(self) -> &'static str {
        match self {
            RetentionTable::AppLogs => "app_logs",
            RetentionTable::ExceptionEvents => "exception_events",
            RetentionTable::PerformanceMetrics => "performance_metrics",
        }
    }
}

/// One `exception_events` row as stored, for the archive.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ExceptionEventRecord {
    /// Row id (UUIDv7); with `timestamp`, the walk's position.
    pub id: Uuid,
    /// The group (`app_exceptions.id`), which stays as a summary after its events go.
    pub exception_id: Uuid,
    /// Project the occurrence arrived in.
    pub project_id: Uuid,
    /// When it happened, by the sender's clock (µs); the retention cutoff compares this.
    pub timestamp: i64,
    /// Trace of the request it happened in.
    pub trace_id: Option<String>,
    /// Span that raised it (16 hex); `None` when the sender had no span.
    pub span_id: Option<String>,
    /// Application user it happened to.
    pub user_id: Option<String>,
    /// Page or endpoint it happened on.
    pub request_path: Option<String>,
    /// This occurrence's message.
    pub exception_message: String,
    /// This occurrence's stack trace.
    pub stack_trace: Option<String>,
    /// The sender's structured details (cause chain, frames), redacted.
    pub exception_details: Option<Json<Value>>,
    /// The sender's context (URL, browser, request), redacted.
    pub context_data: Option<Json<Value>>,
}

/// Jobs that must run on one collector at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseName {
    /// The retention run (archive and delete of expired rows).
    Retention,
    /// The metric roll-up and its retention ([`crate::monitoring::rollup`]).
    Rollup,
    /// An alert evaluation round (evaluate every rule, then deliver the outbox).
    AlertEvaluator,
}

impl LeaseName {
    /// The PostgreSQL advisory lock key ("tracewir" in ASCII, plus the job number).
    pub(crate) fn key(self) -> i64 {
        match self {
            LeaseName::Retention => 0x7472_6163_6577_6900 + 1,
            LeaseName::Rollup => 0x7472_6163_6577_6900 + 2,
            LeaseName::AlertEvaluator => 0x7472_6163_6577_6900 + 3,
        }
    }
}

/// Held while a once-only job runs; dropping it (or [`Lease::release`]) lets others take it.
pub struct Lease {
    /// On PostgreSQL the open transaction that holds a transaction-scoped advisory lock, so a
    /// crash or a lost connection releases it too; nothing on SQLite.
    guard: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl Lease {
    /// A lease that guards nothing (SQLite: one collector per file).
    pub(crate) fn local() -> Self {
        Self { guard: None }
    }

    /// A lease held by `tx`'s advisory lock.
    pub(crate) fn postgres(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> Self {
        Self { guard: Some(tx) }
    }

    /// Releases the lease now rather than when dropped (PostgreSQL: rolls the holding transaction
    /// back; SQLite: nothing to do).
    pub async fn release(self) {
        if let Some(tx) = self.guard
            && let Err(e) = tx.rollback().await
        {
            tracing::warn!(error = %e, "releasing a lease failed; the connection drop frees it");
        }
    }
}

/// Reads and deletes of retention, and job leases.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Takes the lease `name` unless another collector holds it (always granted on SQLite).
    async fn try_lease(&self, name: LeaseName) -> StoreResult<Option<Lease>>;
    /// Up to `limit` logs of `level` older than `cutoff_us`, after `after` in (timestamp, id)
    /// order.
    async fn expired_logs(
        &self,
        level: &str,
        cutoff_us: i64,
        after: Keyset,
        limit: u32,
    ) -> StoreResult<Vec<LogRow>>;
    /// Up to `limit` exception occurrences older than `cutoff_us`, after `after`.
    async fn expired_exception_events(
        &self,
        cutoff_us: i64,
        after: Keyset,
        limit: u32,
    ) -> StoreResult<Vec<ExceptionEventRecord>>;
    /// Up to `limit` metrics older than `cutoff_us`, after `after`.
    async fn expired_metrics(
        &self,
        cutoff_us: i64,
        after: Keyset,
        limit: u32,
    ) -> StoreResult<Vec<MetricRow>>;
    /// Deletes exactly the rows of `table` with these ids, in one transaction; returns how many
    /// existed.
    async fn delete_ids(&self, table: RetentionTable, ids: &[Uuid]) -> StoreResult<u64>;
    /// After a run that deleted rows: makes the deleted text unreadable where the backend can
    /// (SQLite: `secure_delete` zeroed the rows; with `vacuum` the file is rebuilt; then the
    /// WAL is checkpointed and truncated. PostgreSQL cannot, see its implementation).
    async fn scrub_deleted(&self, vacuum: bool) -> StoreResult<()>;
}
