//! SQLite backend: one file in WAL mode, one writer connection (SQLite serializes writers anyway,
//! so a pool of writers would only add lock waits) and a pool of readers.

use super::dialect::Dialect;
use super::read_sql::{INDEXED_THROUGH, LOOKUPS};
use super::{StoreOptions, StoreResult};
use crate::query::logs::LogFilter;
use crate::query::text::{self, Lookups, TextSearch};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// The store of a `sqlite://` URL, the default: one file and no server to run.
pub(super) struct SqliteStore {
    /// Readers (and everything that is not the writer).
    pool: SqlitePool,
    /// The one connection that writes (SQLite serializes writers), with automatic WAL
    /// checkpoints off: the checkpointer runs them beside it.
    writer: SqlitePool,
    /// The background checkpointer, stopped with the store.
    checkpointer: tokio::task::AbortHandle,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// The rows of a JSON array of rowids, and every row the full-text index did not cover when
/// they were read: how a full-text candidate list narrows a log query.
const FTS_CANDIDATES: &str = "rowid IN (SELECT value FROM json_each(?) \
    UNION ALL SELECT seq FROM app_logs WHERE seq > ?)";

/// The follower's three writes (see [`Dialect::INDEX_STEP`]); the FTS5 segment, too, is written
/// in order.
const INDEX_STEP: [&str; 3] = [
    "INSERT INTO app_logs_by_trace (trace_id, seq) SELECT trace_id, seq FROM app_logs \
     WHERE seq > $1 AND seq <= $2 AND trace_id IS NOT NULL ORDER BY trace_id, seq",
    "INSERT INTO app_logs_by_user (user_id, timestamp, seq) SELECT user_id, timestamp, seq \
     FROM app_logs WHERE seq > $1 AND seq <= $2 AND user_id IS NOT NULL \
     ORDER BY user_id, timestamp, seq",
    "INSERT INTO app_logs_fts (rowid, message) SELECT seq, message FROM app_logs \
     WHERE seq > $1 AND seq <= $2 ORDER BY seq",
];

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// WAL size (in pages) past which a checkpoint may briefly block the writer to reset and truncate the WAL,
/// so the file cannot grow without bound under continuous writes.
const WAL_RESTART_PAGES: i64 = 8_192;

/// Checkpoints from a reader connection. SQLite's automatic checkpoint would run inside the
/// writer's commit (measured: 28% of the writer's time, fsync included), stalling every batch
/// that waits for that commit; here it runs beside the writer instead.
async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let passive: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
        match passive {
            Ok((_, wal_pages, _)) if wal_pages > WAL_RESTART_PAGES => {
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "WAL truncate checkpoint failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

/// Creates the database file readable by its owner only, unless it exists. SQLite would create it
/// with the process umask (usually world-readable) and gives `-wal` and `-shm` the database
/// file's mode, so creating it first keeps all three private.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    pub(super) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let synchronous = SqliteSynchronous::from_str(&options.sqlite_synchronous)
            .map_err(|_| super::StoreError::UnsupportedUrl(options.sqlite_synchronous.clone()))?;
        let connect = SqliteConnectOptions::from_str(url)?;
        let file = connect.get_filename();
        if file != std::path::Path::new(":memory:") && !url.contains("mode=memory") {
            create_private(file)?;
        }
        let connect = connect
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // 16 MiB of page cache per connection: 64 MiB measured the same ingest and query
            // times (the OS page cache holds the file either way) with 19–43 MiB more peak RSS
            // (docs/BENCHMARKS.md, "SQLite page cache").
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            // Deleted rows (retention) are overwritten with zeros instead of left readable in
            // free space; see `scrub_freed` for the WAL.
            .pragma("secure_delete", "on");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_release(|conn, _meta| Box::pin(super::discard_if_in_transaction(conn, true)))
            .connect_with(connect.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_read_connections.max(1))
            .connect_with(connect)
            .await?;
        let checkpointer = tokio::spawn(checkpoint_loop(pool.clone())).abort_handle();
        Ok(Self {
            pool,
            writer,
            checkpointer,
        })
    }

    /// Replaces ingest keys stored in plaintext (before migration 0005) by their hashes, with
    /// `secure_delete` on for the rewrite and the WAL truncated after it, so the plaintext does
    /// not stay readable in freed space of the file or in old WAL frames.
    async fn hash_legacy_keys(&self) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        let legacy: Vec<(uuid::Uuid, String)> = sqlx::query_as(super::sql::LEGACY_KEYS)
            .fetch_all(&mut *conn)
            .await?;
        if legacy.is_empty() {
            return Ok(());
        }
        let previous: i64 = sqlx::query_scalar("PRAGMA secure_delete")
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query("PRAGMA secure_delete = ON")
            .execute(&mut *conn)
            .await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for (id, key) in &legacy {
            sqlx::query(super::sql::HASH_LEGACY_KEY)
                .bind(crate::ingest::keys::key_hash(key))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        sqlx::query(if previous == 0 {
            "PRAGMA secure_delete = OFF"
        } else {
            "PRAGMA secure_delete = ON"
        })
        .execute(&mut *conn)
        .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
        tracing::info!(
            keys = legacy.len(),
            "hashed ingest keys stored in plaintext"
        );
        Ok(())
    }
}

impl Dialect for SqliteStore {
    type Db = Sqlite;
    const BACKEND: super::Backend = super::Backend::Sqlite;
    /// Deferred: the snapshot starts at the transaction's first read.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
    /// One writer connection: nothing else can write between the read and the write.
    const LOCK_FOR_UPDATE: &'static str = "";
    async fn lookups(&self) -> StoreResult<Lookups> {
        Ok(LOOKUPS)
    }

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A checkpoint, then a one-page commit through the writer connection. The commit alone
    /// could pass on a full disk (it may land in WAL space a failed transaction left allocated);
    /// the checkpoint cannot, while the database file has to grow to take the WAL's pages.
    /// PASSIVE never waits for readers.
    async fn probe_write(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.writer)
            .await?;
        let mut tx = self.begin_tx().await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(&format!("PRAGMA user_version = {version}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so a concurrent checkpoint makes the
    /// writer wait (busy timeout) instead of failing when a read snapshot cannot be upgraded.
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// How `q` uses the FTS5 trigram index (migration 0003): probes, then [`text::plan`]
    /// decides (see [`crate::query::text`]).
    async fn text_search(&self, f: &LogFilter) -> StoreResult<TextSearch> {
        let Some(q) = &f.q else {
            return Ok(TextSearch::Scan);
        };
        let trigrams = text::trigrams(&q.to_lowercase());
        if trigrams.is_empty() {
            return Ok(TextSearch::Scan);
        }
        // Two subqueries: SQLite answers a lone MIN or MAX from the key, both at once by scan.
        let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MIN(seq) FROM app_logs), (SELECT MAX(seq) FROM app_logs)",
        )
        .fetch_one(&self.pool)
        .await?;
        let (first, last) = (first.unwrap_or(0), last.unwrap_or(0));
        let mut probes = Vec::with_capacity(trigrams.len());
        for trigram in trigrams {
            let (postings, newest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MAX(rowid) FROM (SELECT rowid FROM app_logs_fts \
                 WHERE app_logs_fts MATCH $1 LIMIT $2)",
            )
            .bind(text::quoted(&trigram))
            .bind(text::PROBE_LIMIT)
            .fetch_one(&self.pool)
            .await?;
            probes.push(text::Probe {
                trigram,
                postings,
                newest,
            });
        }
        let Some(query) = text::index_query(&probes, first, last) else {
            return Ok(TextSearch::Scan);
        };
        // The candidates and the watermark they are complete up to, from one snapshot.
        let mut tx = self.pool.begin_with(Self::BEGIN_SNAPSHOT).await?;
        let indexed_through: i64 = sqlx::query_scalar(INDEXED_THROUGH)
            .fetch_one(&mut *tx)
            .await?;
        let candidates: Vec<i64> = sqlx::query_scalar(
            "SELECT rowid FROM app_logs_fts WHERE app_logs_fts MATCH $1 LIMIT $2",
        )
        .bind(&query)
        .bind(text::CANDIDATE_LIMIT)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(text::plan(&candidates, FTS_CANDIDATES, indexed_through))
    }

    /// One transaction on the writer connection: the trace, user and full-text entries of the
    /// next `max_rows` seqs, and the watermark past them. The ingest writer waits for it (one
    /// write lock per file), which `--index-batch-rows` bounds.
    async fn insert_log_rows(
        tx: &mut sqlx::Transaction<'static, Sqlite>,
        rows: &[super::LogRow],
    ) -> StoreResult<()> {
        for chunk in rows.chunks(super::sql::INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Sqlite>::new(super::sql::INSERT_LOGS_HEAD);
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(r.project_id)
                    .push_bind(r.timestamp)
                    .push_bind(r.level.as_ref())
                    .push_bind(r.source.as_ref())
                    .push_bind(&r.message)
                    .push_bind(&r.module)
                    .push_bind(&r.function)
                    .push_bind(&r.trace_id)
                    .push_bind(&r.span_id)
                    .push_bind(&r.user_id)
                    .push_bind(&r.request_method)
                    .push_bind(&r.request_path)
                    .push_bind(&r.request_data)
                    .push_bind(r.response_status)
                    .push_bind(r.duration_ms)
                    .push_bind(&r.extra_data)
                    .push_bind(r.dedup_count)
                    .push_bind(r.first_seen_at)
                    .push_bind(r.last_seen_at)
                    .push_bind(r.created_at);
            });
            qb.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    const INDEX_STEP: &'static [&'static str] = &INDEX_STEP;

    /// On the writer connection, so the step and the writer's groups take turns; one writer,
    /// so every row up to `MAX(seq)` is committed.
    async fn begin_index_step(
        &self,
    ) -> StoreResult<Option<(sqlx::Transaction<'static, Sqlite>, i64, i64)>> {
        let mut tx = self.begin_tx().await?;
        let (from, newest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT indexed_through, (SELECT MAX(seq) FROM app_logs) FROM log_index_state \
             WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let newest = newest.unwrap_or(0);
        if newest <= from {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some((tx, from, newest)))
    }

    /// SQLite runs one collector per file, so the lease is always granted.
    async fn lease(&self, _name: super::LeaseName) -> StoreResult<Option<super::Lease>> {
        Ok(Some(super::Lease::local()))
    }

    /// After retention deleted rows: with `vacuum`, a rebuild of the file (no page keeps a
    /// fragment of a deleted row in its unused space; see `--retention-vacuum`); then a
    /// TRUNCATE checkpoint copies the zeroed pages into the database file and empties the WAL,
    /// whose older frames still hold the deleted text. On the writer connection, so no write
    /// can start meanwhile; readers are waited for (busy timeout), and a checkpoint that still
    /// could not finish is logged, not an error (the next one does it).
    async fn scrub_freed(&self, vacuum: bool) -> StoreResult<()> {
        if vacuum {
            sqlx::query("VACUUM").execute(&self.writer).await?;
        }
        // While the background checkpointer runs its own checkpoint, TRUNCATE answers busy at
        // once instead of waiting (readers are waited for by the busy timeout); a few short
        // retries outlast it, so the deleted text does not stay in the WAL until the next run.
        for attempt in 0..20 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.writer)
                .await?;
            if busy == 0 {
                return Ok(());
            }
            if attempt < 19 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        tracing::warn!("WAL truncate after retention could not finish; readers were busy");
        Ok(())
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await?;
        // FTS5's own secure delete (a persistent setting of the index, so idempotent): without
        // it a deleted message's trigrams stay in the index's segments behind a tombstone.
        sqlx::query("INSERT INTO app_logs_fts (app_logs_fts, rank) VALUES ('secure-delete', 1)")
            .execute(&self.writer)
            .await?;
        self.hash_legacy_keys().await
    }
}

/// The driver the shared statements are compiled against here.
type Db = Sqlite;
/// The store they are implemented for.
type This = SqliteStore;
#[path = "statements/alerts.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod alerts;
#[path = "statements/auth.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod auth;
#[path = "statements/monitoring.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod monitoring;
#[path = "statements/read.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod read;
#[path = "statements/retention.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod retention;
#[path = "statements/write.rs"]
#[allow(clippy::duplicate_mod)] // once per backend, on purpose (see `dialect.rs`)
mod write;
