//! Storage: one object-safe [`Store`] trait with a SQLite and a PostgreSQL implementation. It
//! persists and reads rows and decides nothing about them: what to dedup, fingerprint or group
//! into a transaction is the ingest pipeline's ([`crate::ingest`]).
//!
//! The SQL is the same in both dialects (`$n` placeholders, BIGINT microsecond times, UUID ids,
//! JSON columns), so it is written once in `statements/` and compiled per backend against that
//! backend's driver; what differs (connections, migrations, full-text search, leases) is the
//! private `Dialect` trait each backend implements (see `dialect.rs`). The rest of the
//! collector sees `Arc<dyn Store>`.
//!
//! - `rows`: what ingest writes; `reads`: logs, traces and exceptions as read back;
//! - `auth`: users, sessions and the audit trail;
//! - `retention`: expired-row batches, id deletes and job leases for [`crate::retention`];
//! - `alerts`: alert rules, their evaluation state and the history outbox for
//!   [`crate::alerting`].

mod alerts;
mod auth;
mod dialect;
mod monitoring;
mod postgres;
mod read_sql;
mod reads;
mod retention;
mod retention_sql;
mod rows;
mod sql;
mod sqlite;

pub use alerts::*;
pub use auth::*;
pub use monitoring::{MonitoringStore, SeriesFilter, SlowQueryRow, SlowRequestRow};
pub use reads::*;
pub use retention::*;
pub use rows::*;
pub use sqlite::{
    files as sqlite_files, lookups_path as sqlite_lookups_path,
    open_with_lookups as sqlite_open_with_lookups,
};

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;
use tracewire_shared::wire::Accepted;
use uuid::Uuid;

/// Everything that can go wrong in the store, normalized across both backends.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL is not one we support.
    #[error("unsupported database url {0:?}: use sqlite://path or postgres://…")]
    UnsupportedUrl(String),
    /// Applying migrations failed (a failed statement, or a database changed by another build);
    /// the collector does not start.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database file could not be created.
    #[error("cannot create the database file: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value this collector could not have written (damaged or edited by hand).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database error (connection lost, disk full, …).
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// A transaction the database ended because another one held what it needed (deadlock,
    /// serialization failure): nothing of it was written, and trying again can succeed.
    pub fn is_write_conflict(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }
}

/// Result alias of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which engine a store runs on (for logs, health output and backend-specific tuning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Connection options that matter to durability and speed.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// SQLite `synchronous` pragma: `FULL` survives power loss, `NORMAL` survives process crashes.
    pub sqlite_synchronous: String,
    /// Read connections (SQLite: besides its one writer; PostgreSQL: its one pool has two more).
    pub max_read_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            sqlite_synchronous: "NORMAL".into(),
            max_read_connections: 8,
        }
    }
}

/// Pool `after_release` hook: a connection that still counts an open transaction is closed
/// instead of reused. When SQLite rolls a transaction back by itself (SQLITE_FULL, SQLITE_IOERR,
/// SQLITE_NOMEM), the ROLLBACK sqlx queues for the dropped transaction fails ("no transaction is
/// active") and sqlx's depth stays at 1; reused, that connection refuses every later
/// `begin_with` ("attempted to call begin_with at non-zero transaction depth"). With `flush`
/// (SQLite, whose connection runs queued commands on its own thread) a ping first lets that
/// queued ROLLBACK finish, so the depth read after it is final; PostgreSQL counts it at once.
async fn discard_if_in_transaction<C: sqlx::Connection>(
    conn: &mut C,
    flush: bool,
) -> Result<bool, sqlx::Error> {
    if flush {
        conn.ping().await?;
    }
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection left inside a failed transaction");
    }
    Ok(clean)
}

/// Opens the store named by `url` (`sqlite://…` or `postgres://…`) and applies migrations.
pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteStore::connect(url, options).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(postgres::PgStore::connect(url, options).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    };
    store.migrate().await?;
    Ok(store)
}

/// Hides a password in a database URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The collector's persistence. Object-safe so state holds `Arc<dyn Store>`, not a generic.
#[async_trait]
pub trait Store:
    AuthStore + MonitoringStore + QueryStore + RetentionStore + AlertStore + Send + Sync + 'static
{
    /// Which engine this is, for logs, health output and backend-specific tuning.
    fn backend(&self) -> Backend;
    /// Applies pending migrations, then upkeep they cannot do in SQL (hashing plaintext ingest
    /// keys left by versions before migration 0005).
    async fn migrate(&self) -> StoreResult<()>;
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    /// Commits the smallest real write, so the writer can tell when a database that refused
    /// writes (disk full) accepts them again.
    async fn write_probe(&self) -> StoreResult<()>;
    /// Forgets shared dedup slots untouched since `horizon_us` (no-op where there are none).
    async fn prune_dedup_slots(&self, horizon_us: i64) -> StoreResult<()>;
    /// Charges a batch to its key's token bucket in the database, shared by every collector on
    /// it: `Some(Ok(()))` when it passes, `Some(Err(seconds))` until it would, `None` on a
    /// backend one process owns (SQLite), where the collector's own buckets decide.
    async fn take_rate_tokens(
        &self,
        request: &crate::ingest::ratelimit::RateRequest,
    ) -> StoreResult<Option<Result<(), f64>>>;
    /// Opens the one write transaction the writer uses for a group of batches.
    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>>;
    /// Looks up an ingest key by the SHA-256 hex of the key ([`crate::ingest::keys::key_hash`]),
    /// with its project's flags (revoked keys included; the caller decides).
    async fn find_ingest_key(&self, key_hash: &str) -> StoreResult<Option<KeyGrant>>;
    /// Counts users, to know whether bootstrap must create the first admin.
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates a user; a taken username is a `Conflict`.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()>;
    /// The project created on first start, if any.
    async fn default_project(&self) -> StoreResult<Option<ProjectRecord>>;
    /// Creates a project; bootstrap uses it for the default project.
    async fn insert_project(&self, project: &ProjectRecord) -> StoreResult<()>;
    /// Creates an ingest key (its hash; the key itself is never stored).
    async fn insert_ingest_key(&self, key: &IngestKeyRecord) -> StoreResult<()>;
    /// Logs stored recently enough to still absorb duplicates (dedup index warm-up after restart).
    async fn recent_logs_for_dedup(&self, since_us: i64) -> StoreResult<Vec<DedupSeed>>;
    /// Deletes idempotency records older than `before_us`; returns how many.
    async fn prune_ingest_batches(&self, before_us: i64) -> StoreResult<u64>;
    /// Counts rows of a table; used by tests, the crash check and the benchmark.
    async fn count_rows(&self, table: CountedTable) -> StoreResult<i64>;
    /// Writes the trace, user and full-text entries of at most `max_rows` committed logs that
    /// have none yet, oldest first, in one transaction (the index follower's step). A backend
    /// that keeps these structures in the writer's transaction does nothing.
    async fn index_logs(&self, max_rows: i64) -> StoreResult<IndexStep>;
}

/// What one index follower step did, in `seq` numbers (row ids, which may have gaps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStep {
    /// Seqs covered by this step.
    pub covered: i64,
    /// Seqs still waiting after it: the not-yet-indexed tail that queries scan.
    pub pending: i64,
}

/// The write transaction of one group; dropped without `commit` it rolls back.
#[async_trait]
pub trait WriteTx: Send {
    /// Which of `ids` are already stored, with what they stored.
    async fn existing_batches(&mut self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, Accepted>>;
    /// Records batch ids for idempotency.
    async fn insert_batches(&mut self, rows: &[BatchRecord]) -> StoreResult<()>;
    /// Inserts new log rows, several hundred per statement rather than one statement per row.
    async fn insert_logs(&mut self, rows: &[LogRow]) -> StoreResult<()>;
    /// Adds duplicate counts to log rows stored by earlier groups.
    async fn bump_logs(&mut self, bumps: &[LogBump]) -> StoreResult<()>;
    /// Upserts the exception's group (reopening a resolved one) and records the occurrence.
    async fn record_exception(&mut self, row: &ExceptionRow) -> StoreResult<Uuid>;
    /// Inserts metric rows as received, beside the aggregates built from them.
    async fn insert_metrics(&mut self, rows: &[MetricRow]) -> StoreResult<()>;
    /// Adds minute aggregates into the stored rows of the same series and minute (counts
    /// summed, sketches merged), creating rows that do not exist yet.
    async fn merge_aggregates(
        &mut self,
        rows: &[crate::monitoring::aggregate::AggregateRow],
    ) -> StoreResult<()>;
    /// Records requests over the slow threshold, with their trace ids, for the slow list.
    async fn insert_slow_requests(&mut self, rows: &[SlowRequestRow]) -> StoreResult<()>;
    /// Records statements over the slow threshold (or flagged by the sender), for the slow list.
    async fn insert_slow_queries(&mut self, rows: &[SlowQueryRow]) -> StoreResult<()>;
    /// Offers the group's dedup rows to the other collectors on this database and answers, per
    /// claim in order, the row each key's duplicates go to (see
    /// [`crate::ingest::dedup::GroupPlan::reconcile`]); `None` where one process owns the
    /// database (SQLite), whose in-memory index is then the whole truth. The claimed keys stay
    /// locked until commit.
    async fn claim_dedup_slots(
        &mut self,
        rounds: &[Vec<crate::ingest::dedup::SlotClaim>],
        window_us: i64,
        now_us: i64,
    ) -> StoreResult<Option<Vec<crate::ingest::dedup::SlotOwner>>>;
    /// Commits; only after this returns Ok may the batches be acknowledged.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Tables whose size tests and tools ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountedTable {
    /// `app_logs`
    Logs,
    /// `app_exceptions`
    ExceptionGroups,
    /// `exception_events`
    ExceptionEvents,
    /// `performance_metrics`
    Metrics,
    /// `ingest_batches`
    Batches,
}

impl CountedTable {
    fn sql(self) -> &'static str {
        match self {
            CountedTable::Logs => "SELECT COUNT(*) FROM app_logs",
            CountedTable::ExceptionGroups => "SELECT COUNT(*) FROM app_exceptions",
            CountedTable::ExceptionEvents => "SELECT COUNT(*) FROM exception_events",
            CountedTable::Metrics => "SELECT COUNT(*) FROM performance_metrics",
            CountedTable::Batches => "SELECT COUNT(*) FROM ingest_batches",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/logs"),
            "postgres://app:***@db:5432/logs"
        );
        assert_eq!(redact_url("sqlite://tracewire.db"), "sqlite://tracewire.db");
        assert_eq!(
            redact_url("postgres://app@db/logs"),
            "postgres://app@db/logs"
        );
    }
}
