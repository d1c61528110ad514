//! SQLite backend: one file in WAL mode, one writer connection (SQLite serializes writers anyway,
//! so a pool of writers would only add lock waits) and a pool of readers; beside it a second
//! file, `<database>.lookups`, that only the index follower writes (migration 0012).

use super::dialect::Dialect;
use super::read_sql::{INDEXED_THROUGH, LOOKUPS};
use super::{StoreOptions, StoreResult};
use crate::query::logs::LogFilter;
use crate::query::text::{self, Lookups, TextSearch};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

mod lookups;
use lookups::{
    FollowerState, MAX_LAG_ROWS, MAX_LAG_WAIT, UNINDEX, UNINDEX_PER_STEP, attach_hook,
    create_lookups,
};
pub use lookups::{files, lookups_path, open_with_lookups};

/// The store of a `sqlite://` URL, the default: one file and no server to run.
pub(super) struct SqliteStore {
    /// Readers (and everything that is not the writer).
    pool: SqlitePool,
    /// The one connection that writes (SQLite serializes writers), with automatic WAL
    /// checkpoints off: the checkpointer runs them beside it. It never attaches the lookups
    /// file: `BEGIN IMMEDIATE` would lock every attached file, the follower's too.
    writer: SqlitePool,
    /// The index follower's one connection: reads `app_logs` here, writes the lookups file in
    /// deferred transactions, so it never takes this file's write lock.
    follower: SqlitePool,
    /// The background checkpointer, stopped with the store.
    checkpointer: tokio::task::AbortHandle,
    /// What the follower, the checkpointer and the writer tell each other.
    follower_state: Arc<FollowerState>,
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

/// The follower's three writes (see [`Dialect::INDEX_STEP`]), into the lookups file (the names
/// resolve there: this file has no such tables); the FTS5 segment, too, is written in order.
const INDEX_STEP: [&str; 3] = [
    "INSERT INTO app_logs_by_trace (trace_id, seq) SELECT trace_id, seq FROM app_logs \
     WHERE seq > $1 AND seq <= $2 AND trace_id IS NOT NULL ORDER BY trace_id, seq",
    "INSERT INTO app_logs_by_user (user_id, timestamp, seq) SELECT user_id, timestamp, seq \
     FROM app_logs WHERE seq > $1 AND seq <= $2 AND user_id IS NOT NULL \
     ORDER BY user_id, timestamp, seq",
    "INSERT INTO app_logs_fts (rowid, message) SELECT seq, message FROM app_logs \
     WHERE seq > $1 AND seq <= $2 ORDER BY seq",
];

/// The seq after which the writer numbers new rows: above every row there is and every row
/// ever deleted (`log_seq_floor`), so no seq is handed out twice.
const SEQ_BASE: &str = "SELECT MAX(COALESCE((SELECT MAX(seq) FROM app_logs), 0), \
    (SELECT seq FROM log_seq_floor WHERE id = 1))";

/// `INSERT … VALUES` of log rows with their seq (see [`SEQ_BASE`]).
const INSERT_LOGS_HEAD: &str = "INSERT INTO app_logs (seq, id, project_id, timestamp, level, \
    source, message, module, function, trace_id, span_id, user_id, request_method, \
    request_path, request_data, response_status, duration_ms, extra_data, dedup_count, \
    first_seen_at, last_seen_at, created_at) ";

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// WAL size (in pages) past which a checkpoint may briefly block the writer to reset and truncate the WAL,
/// so the file cannot grow without bound under continuous writes.
const WAL_RESTART_PAGES: i64 = 8_192;

/// Checkpoints the database file from a reader connection. SQLite's automatic checkpoint would
/// run inside the writer's commit (measured: 28% of the writer's time, fsync included), stalling
/// every batch that waits for that commit; here it runs beside the writer instead. (The lookups
/// file is the follower's own to checkpoint, see `index_step_done`.)
async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = checkpoint(&pool, "main").await {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// A PASSIVE checkpoint of `schema`, then a TRUNCATE one (which waits for readers and the
/// writer) once its WAL is past [`WAL_RESTART_PAGES`], so the file cannot grow without bound
/// under continuous writes.
async fn checkpoint(pool: &SqlitePool, schema: &str) -> Result<(), sqlx::Error> {
    let (_, wal_pages, _): (i64, i64, i64) =
        sqlx::query_as(&format!("PRAGMA {schema}.wal_checkpoint(PASSIVE)"))
            .fetch_one(pool)
            .await?;
    if wal_pages > WAL_RESTART_PAGES {
        sqlx::query(&format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// A TRUNCATE checkpoint of `schema` on `pool`, retried while the background checkpointer
/// holds the file (TRUNCATE then answers busy at once instead of waiting; readers are waited
/// for by the busy timeout). A checkpoint that still could not finish is logged, not an error:
/// the next one does it.
async fn truncate_wal(pool: &SqlitePool, schema: &str) -> StoreResult<()> {
    let sql = format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)");
    for attempt in 0..20 {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as(&sql).fetch_one(pool).await?;
        if busy == 0 {
            return Ok(());
        }
        if attempt < 19 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tracing::warn!(
        schema,
        "WAL truncate after retention could not finish; readers were busy"
    );
    Ok(())
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
        let lookups: Arc<str> =
            if file != std::path::Path::new(":memory:") && !url.contains("mode=memory") {
                create_private(file)?;
                let lookups = lookups_path(file);
                create_private(&lookups)?;
                lookups.to_string_lossy().into()
            } else {
                ":memory:".into()
            };
        // Validated above, so only SQLite's own level names reach the PRAGMA.
        let level: Arc<str> = options.sqlite_synchronous.to_ascii_uppercase().into();
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
        // Before any reader attaches the lookups file: it must be in WAL mode first.
        let follower = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_connect(attach_hook(lookups.clone(), level.clone()))
            .after_release(|conn, _meta| Box::pin(super::discard_if_in_transaction(conn, true)))
            .connect_with(connect.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        {
            let mut conn = follower.acquire().await?;
            sqlx::query("PRAGMA lookups.journal_mode = WAL")
                .execute(&mut *conn)
                .await?;
            create_lookups(&mut conn).await?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_read_connections.max(1))
            .after_connect(attach_hook(lookups, level))
            .connect_with(connect)
            .await?;
        let checkpointer = tokio::spawn(checkpoint_loop(pool.clone())).abort_handle();
        Ok(Self {
            pool,
            writer,
            follower,
            checkpointer,
            follower_state: Arc::default(),
        })
    }

    /// Empties the lookups file when its watermark is above every seq the database has handed
    /// out: the database was restored from an older copy, or lost commits the lookups file kept
    /// (a power loss with `synchronous=NORMAL`). Its entries would name rows that are not there
    /// and new rows would be numbered below the watermark, unindexed and missed by lookups; the
    /// follower rebuilds it instead, and queries stay exact meanwhile through the tail.
    async fn check_lookups(&self) -> StoreResult<()> {
        let mut conn = self.follower.acquire().await?;
        let (through, base): (i64, i64) =
            sqlx::query_as(&format!("SELECT ({INDEXED_THROUGH}), ({SEQ_BASE})"))
                .fetch_one(&mut *conn)
                .await?;
        if through <= base {
            return Ok(());
        }
        tracing::warn!(
            indexed_through = through,
            highest_seq = base,
            "the lookups file is ahead of the database; rebuilding it"
        );
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for table in [
            "app_logs_by_trace",
            "app_logs_by_user",
            "app_logs_fts",
            "log_index_state",
        ] {
            sqlx::query(&format!("DROP TABLE lookups.{table}"))
                .execute(&mut *tx)
                .await?;
        }
        create_lookups(&mut tx).await?;
        tx.commit().await?;
        Ok(())
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

    /// Numbers the rows itself, above [`SEQ_BASE`]: SQLite's own choice, `MAX(seq) + 1`,
    /// would hand a deleted newest row's seq out again, and the lookups file may still hold
    /// that row's entries.
    async fn insert_log_rows(
        tx: &mut sqlx::Transaction<'static, Sqlite>,
        rows: &[super::LogRow],
    ) -> StoreResult<()> {
        let mut seq: i64 = sqlx::query_scalar(SEQ_BASE).fetch_one(&mut **tx).await?;
        for chunk in rows.chunks(super::sql::INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Sqlite>::new(INSERT_LOGS_HEAD);
            qb.push_values(chunk, |mut b, r| {
                seq += 1;
                b.push_bind(seq)
                    .push_bind(r.id)
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

    /// On the follower's connection, deferred: it reads this file in a snapshot and writes only
    /// the lookups file, so the ingest writer never waits for a step. One writer numbering rows
    /// in order, so every row up to `MAX(seq)` in the snapshot is committed.
    async fn begin_index_step(
        &self,
    ) -> StoreResult<Option<(sqlx::Transaction<'static, Sqlite>, i64, i64)>> {
        let mut tx = self.follower.begin().await?;
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

    /// Takes the entries of up to [`UNINDEX_PER_STEP`] queued deleted rows out of the lookups
    /// file in one follower transaction, then forgets them in the database (a crash between the
    /// two only repeats deletes that find nothing). Holds the follower's connection throughout,
    /// so two callers cannot interleave.
    async fn unindex_deleted(&self) -> StoreResult<bool> {
        let mut conn = self.follower.acquire().await?;
        let (through, queued): (Option<i64>, i64) = sqlx::query_as(
            "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM log_index_deletes ORDER BY id LIMIT $1)",
        )
        .bind(UNINDEX_PER_STEP)
        .fetch_one(&mut *conn)
        .await?;
        let Some(through) = through else {
            return Ok(false);
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for sql in UNINDEX {
            sqlx::query(sql).bind(through).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        sqlx::query("DELETE FROM log_index_deletes WHERE id <= $1")
            .bind(through)
            .execute(&self.writer)
            .await?;
        Ok(queued == UNINDEX_PER_STEP)
    }

    /// The follower is the lookups file's only writer and runs its steps back to back under
    /// load, so a checkpoint from another connection would rarely find the WAL free to start
    /// over: measured, it grew past 1 GB in a minute. Between two steps it is.
    /// Then wakes a writer waiting for the follower to catch up.
    async fn index_step_done(&self, pending: i64) -> StoreResult<()> {
        checkpoint(&self.follower, "lookups").await?;
        self.follower_state.stepped(pending);
        Ok(())
    }

    /// Waits (up to [`MAX_LAG_WAIT`]) while a busy follower is more than [`MAX_LAG_ROWS`]
    /// behind, then `BEGIN IMMEDIATE`.
    async fn begin_write_group(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        self.follower_state
            .wait_below(MAX_LAG_ROWS, MAX_LAG_WAIT)
            .await;
        Ok(self.begin_tx().await?)
    }

    /// After retention deleted rows: their entries leave the lookups file; with `vacuum`, a
    /// rebuild of both files (no page keeps a fragment of a deleted row in its unused space;
    /// see `--retention-vacuum`); then TRUNCATE checkpoints copy the zeroed pages into the files
    /// and empty the WALs, whose older frames still hold the deleted text. The database's on
    /// the writer connection, so no write can start meanwhile; the lookups file's on the
    /// follower's, so no step can.
    async fn scrub_freed(&self, vacuum: bool) -> StoreResult<()> {
        while self.unindex_deleted().await? {}
        if vacuum {
            sqlx::query("VACUUM").execute(&self.writer).await?;
            sqlx::query("VACUUM lookups")
                .execute(&self.follower)
                .await?;
        }
        truncate_wal(&self.writer, "main").await?;
        truncate_wal(&self.follower, "lookups").await
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await?;
        self.check_lookups().await?;
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
