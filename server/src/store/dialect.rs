//! The contract between the SQL both backends share and the one backend-specific part of each.
//!
//! The statements in `store/statements/` are ordinary Rust written once; each backend module
//! compiles them against its own driver by naming two aliases and including the files:
//!
//! ```ignore
//! type Db = sqlx::Sqlite;     // the sqlx driver
//! type This = SqliteStore;    // the store, which implements `Dialect<Db = Db>`
//! #[path = "statements/write.rs"]
//! mod write;                  // … and `read.rs`, `auth.rs`, `retention.rs`
//! ```
//!
//! Why not one generic `impl<D: Dialect> Store for D`: sqlx expresses "this driver can bind an
//! `i64` and decode a `Uuid`" as higher-ranked bounds that Rust does not carry from a trait's
//! `where` clause to its users, so every generic function would repeat a dozen of them. Compiling
//! the same plain file per driver keeps the statements navigable and formatted like any other
//! code, and the compiler checks each backend twice over: its [`Dialect`] impl must be complete,
//! and the shared statements must type-check against its driver.
//!
//! Adding a backend: implement [`Dialect`] for its store, declare the aliases and the four
//! modules, and add it to [`super::connect`]; nothing else in the collector changes.

use super::{Backend, Lease, LeaseName, StoreResult};
use crate::query::logs::LogFilter;
use crate::query::text::{IndexPlan, Lookups, TextSearch};

/// What differs between databases: connections, transactions, migrations, full-text search,
/// leases and scrubbing deleted rows. Everything else is the shared SQL.
#[allow(async_fn_in_trait)] // private to the store; the futures' Send-ness is seen per backend
pub(super) trait Dialect: Send + Sync + 'static {
    /// The sqlx driver the shared statements are compiled against.
    type Db: sqlx::Database;
    /// Which engine this is, for [`super::Store::backend`].
    const BACKEND: Backend;
    /// Starts a read-only transaction whose statements share one snapshot (a page and its total
    /// must agree).
    const BEGIN_SNAPSHOT: &'static str;
    /// Appended to a SELECT inside a write transaction to lock the rows read until commit, so a
    /// read-merge-write cannot lose a concurrent writer's update (empty where writers are
    /// serialized anyway).
    const LOCK_FOR_UPDATE: &'static str;

    /// Connections for reads (and everything that is not the ingest writer).
    fn pool(&self) -> &sqlx::Pool<Self::Db>;
    /// Connections for writes outside the ingest writer (users, sessions, resolve, audit).
    fn write_pool(&self) -> &sqlx::Pool<Self::Db>;
    /// Opens a write transaction that will not fail later for lock upgrades.
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
    /// Opens an ingest write group's transaction (see [`super::Store::begin_write`]).
    async fn begin_write_group(&self) -> StoreResult<sqlx::Transaction<'static, Self::Db>> {
        Ok(self.begin_tx().await?)
    }
    /// Applies migrations and the one-time fix-ups that go with them.
    async fn run_migrations(&self) -> StoreResult<()>;
    /// Commits the smallest write that still fails while the database cannot take writes.
    async fn probe_write(&self) -> StoreResult<()>;
    /// How this backend narrows `trace_id` and `user_id` before the shared equality rechecks.
    async fn lookups(&self) -> StoreResult<Lookups>;

    /// How this backend narrows `q` (full text) before the shared LIKE recheck.
    async fn text_search(&self, f: &LogFilter) -> StoreResult<TextSearch>;
    /// Everything the backend's structures add to a log filter's shared SQL.
    async fn index_plan(&self, f: &LogFilter) -> StoreResult<IndexPlan> {
        Ok(IndexPlan {
            text: self.text_search(f).await?,
            // Only a trace or user filter reads them (on PostgreSQL, one round trip).
            lookups: if f.trace_id.is_some() || f.user_id.is_some() {
                self.lookups().await?
            } else {
                Lookups::NONE
            },
        })
    }
    /// Inserts new log rows inside the writer's transaction in as few statements as the
    /// driver makes cheap: multi-row VALUES on SQLite, one array-valued UNNEST on PostgreSQL
    /// (a VALUES list of hundreds of rows costs PostgreSQL a parse and plan per row).
    async fn insert_log_rows(
        tx: &mut sqlx::Transaction<'static, Self::Db>,
        rows: &[super::LogRow],
    ) -> StoreResult<()>;
    /// The follower's writes for the rows `$1 < seq <= $2`, each sorted by its key so every
    /// index page is written in order, once per step (see [`super::Store::index_logs`]).
    const INDEX_STEP: &'static [&'static str];
    /// Opens a follower step: its transaction, the watermark, and the highest seq it may cover
    /// (every row at or below it committed); `None` when there is nothing to do or another
    /// collector is stepping.
    async fn begin_index_step(
        &self,
    ) -> StoreResult<Option<(sqlx::Transaction<'static, Self::Db>, i64, i64)>>;
    /// Takes the entries of rows deleted since the last call out of the lookups, where a
    /// delete cannot do it itself (SQLite's lookups file); true while more are queued.
    async fn unindex_deleted(&self) -> StoreResult<bool> {
        Ok(false)
    }
    /// Housekeeping after a follower step committed with `pending` rows still above its
    /// watermark (SQLite: checkpoints, and the writer's wait for the follower).
    async fn index_step_done(&self, _pending: i64) -> StoreResult<()> {
        Ok(())
    }
    /// A named lease that at most one collector on this database holds at a time.
    async fn lease(&self, name: LeaseName) -> StoreResult<Option<Lease>>;
    /// Makes rows deleted by retention unreadable where the engine allows it.
    async fn scrub_freed(&self, vacuum: bool) -> StoreResult<()>;
    /// Arbitrates a write group's dedup keys with the other collectors on this database (see
    /// [`super::WriteTx::claim_dedup_slots`]); `None` where one process owns the database.
    async fn claim_dedup_slots(
        _tx: &mut sqlx::Transaction<'static, Self::Db>,
        _rounds: &[Vec<crate::ingest::dedup::SlotClaim>],
        _window_us: i64,
        _now_us: i64,
    ) -> StoreResult<Option<Vec<crate::ingest::dedup::SlotOwner>>> {
        Ok(None)
    }
    /// Forgets shared dedup slots untouched since `horizon_us`.
    async fn prune_dedup_slots(&self, _horizon_us: i64) -> StoreResult<()> {
        Ok(())
    }
    /// Charges `request` to the key's bucket shared with the other collectors on this database
    /// (see [`super::Store::take_rate_tokens`]); `None` where one process owns the database
    /// and its own buckets are the whole truth.
    async fn take_rate_tokens(
        &self,
        _request: &crate::ingest::ratelimit::RateRequest,
    ) -> StoreResult<Option<Result<(), f64>>> {
        Ok(None)
    }
}
