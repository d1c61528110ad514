//! The lookups file beside a SQLite database (migration 0012): its schema, how connections
//! attach it, how deleted rows leave it, and what the follower and the writer share so the
//! follower's lag stays bounded. The store's connections and its `Dialect` are in `sqlite.rs`.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Arc;
use std::time::Duration;

/// The lookups file's tables (the layout migration 0010 gave them in this file before 0012).
/// Created when missing; rebuilt, empty, when they cannot match the database (see
/// [`super::SqliteStore::check_lookups`]); the follower then fills them from the start.
const LOOKUPS_SCHEMA: [&str; 6] = [
    "CREATE TABLE IF NOT EXISTS lookups.app_logs_by_trace (trace_id TEXT NOT NULL, \
     seq INTEGER NOT NULL, PRIMARY KEY (trace_id, seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS lookups.app_logs_by_user (user_id TEXT NOT NULL, \
     timestamp BIGINT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (user_id, timestamp, seq)) \
     WITHOUT ROWID",
    "CREATE VIRTUAL TABLE IF NOT EXISTS lookups.app_logs_fts USING fts5(message, content = '', \
     contentless_delete = 1, tokenize = 'trigram', detail = none)",
    // FTS5's own secure delete (a persistent setting of the index, so idempotent): without it a
    // deleted message's trigrams stay in the index's segments behind a tombstone.
    "INSERT INTO lookups.app_logs_fts (app_logs_fts, rank) VALUES ('secure-delete', 1)",
    // Every row with seq <= indexed_through has its entries in the three structures.
    "CREATE TABLE IF NOT EXISTS lookups.log_index_state (id INTEGER PRIMARY KEY \
     CHECK (id = 1), indexed_through INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO lookups.log_index_state (id, indexed_through) VALUES (1, 0)",
];

/// The entries of queued deleted rows (`log_index_deletes`, migration 0012) with id <= `$1`.
/// Seqs are never reused, so an entry found by seq is the deleted row's own.
pub(super) const UNINDEX: [&str; 3] = [
    "DELETE FROM app_logs_fts WHERE rowid IN (SELECT seq FROM log_index_deletes WHERE id <= $1)",
    "DELETE FROM app_logs_by_trace WHERE (trace_id, seq) IN (SELECT trace_id, seq \
     FROM log_index_deletes WHERE id <= $1 AND trace_id IS NOT NULL)",
    "DELETE FROM app_logs_by_user WHERE (user_id, timestamp, seq) IN (SELECT user_id, \
     timestamp, seq FROM log_index_deletes WHERE id <= $1 AND user_id IS NOT NULL)",
];

/// Queued deletes one follower transaction takes out of the lookups file.
pub(super) const UNINDEX_PER_STEP: i64 = 50_000;

/// The lookups file of the database file `database`: the same path with `.lookups` appended
/// (`tracewire.db` → `tracewire.db.lookups`), so a copy of `tracewire.db*` takes both. Losing it
/// loses nothing: the follower rebuilds it from the database.
pub fn lookups_path(database: &std::path::Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lookups");
    name.into()
}

/// Every file a SQLite store at `database` keeps: the database, its lookups file, and the WAL
/// and shared-memory file of each (what a temporary store's owner removes afterwards).
pub fn files(database: &std::path::Path) -> Vec<std::path::PathBuf> {
    let lookups = lookups_path(database);
    let mut out = Vec::with_capacity(6);
    for file in [database, lookups.as_path()] {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            out.push(name.into());
        }
    }
    out
}

/// One connection to a SQLite database with its lookups file attached as the collector's
/// connections have it, for tools and tests that read the index follower's tables.
pub async fn open_with_lookups(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    let lookups: Arc<str> = lookups_path(options.get_filename())
        .to_string_lossy()
        .into();
    SqlitePoolOptions::new()
        .max_connections(1)
        .after_connect(attach_hook(lookups, "NORMAL".into()))
        .connect_with(options)
        .await
}

/// Attaches the lookups file as `lookups` with the database's durability and page cache, on
/// every connection but the writer's.
async fn attach_lookups(
    conn: &mut SqliteConnection,
    path: &str,
    synchronous: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("ATTACH DATABASE $1 AS lookups")
        .bind(path)
        .execute(&mut *conn)
        .await?;
    for pragma in [
        format!("PRAGMA lookups.synchronous = {synchronous}"),
        "PRAGMA lookups.cache_size = -16384".to_owned(),
        "PRAGMA lookups.secure_delete = ON".to_owned(),
    ] {
        sqlx::query(&pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Creates what of [`LOOKUPS_SCHEMA`] is missing.
pub(super) async fn create_lookups(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    for sql in LOOKUPS_SCHEMA {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A pool's `after_connect` hook running [`attach_lookups`].
pub(super) fn attach_hook(
    path: Arc<str>,
    synchronous: Arc<str>,
) -> impl for<'c> Fn(
    &'c mut SqliteConnection,
    sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'c, Result<(), sqlx::Error>>
+ Send
+ Sync
+ 'static {
    move |conn, _meta| {
        let (path, synchronous) = (path.clone(), synchronous.clone());
        Box::pin(async move { attach_lookups(conn, &path, &synchronous).await })
    }
}

/// How long after its last step the follower counts as idle (its interval is 200 ms by default;
/// under load it steps back to back).
pub(super) const FOLLOWER_IDLE: Duration = Duration::from_secs(2);

/// Rows the follower may fall behind before the writer waits for it (five default steps). The
/// follower runs beside the writer, and under sustained load it can be the slower of the two
/// (measured: 740,000 rows behind after a minute when the writer never waited for a
/// checkpoint), while every trace, user and text query scans the rows above the watermark.
/// Bounding the lag keeps those queries fast; ingest then runs at the follower's pace, and
/// bursts shorter than the bound at the writer's.
pub(super) const MAX_LAG_ROWS: i64 = 100_000;

/// Longest one write group waits for the follower, so a follower that fails or stalls slows
/// ingest down but never stops it.
pub(super) const MAX_LAG_WAIT: Duration = Duration::from_secs(2);

/// What the follower, the checkpointer and the writer share.
#[derive(Default)]
pub(super) struct FollowerState {
    /// When the follower last finished a step.
    last_step: std::sync::Mutex<Option<std::time::Instant>>,
    /// Rows left above the watermark after that step.
    pending: std::sync::atomic::AtomicI64,
    /// Woken after every step.
    stepped: tokio::sync::Notify,
}

impl FollowerState {
    /// Whether the follower finished a step within [`FOLLOWER_IDLE`].
    pub(super) fn busy(&self) -> bool {
        self.last_step
            .lock()
            .map(|at| at.is_some_and(|at| at.elapsed() < FOLLOWER_IDLE))
            .unwrap_or(false)
    }

    /// Records a finished step and wakes the writers waiting for one.
    pub(super) fn stepped(&self, pending: i64) {
        if let Ok(mut at) = self.last_step.lock() {
            *at = Some(std::time::Instant::now());
        }
        self.pending
            .store(pending, std::sync::atomic::Ordering::Relaxed);
        self.stepped.notify_waiters();
    }

    /// Waits, at most `max_wait`, while a busy follower has more than `max_rows` left.
    pub(super) async fn wait_below(&self, max_rows: i64, max_wait: Duration) {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            let stepped = self.stepped.notified();
            if self.pending.load(std::sync::atomic::Ordering::Relaxed) <= max_rows || !self.busy() {
                return;
            }
            if tokio::time::timeout_at(deadline, stepped).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FollowerState;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_writer_waits_only_for_a_busy_follower_far_behind() {
        let state = Arc::new(FollowerState::default());
        // The follower has not stepped (stopped, or idle since start): no wait, however far.
        state
            .pending
            .store(1_000_000, std::sync::atomic::Ordering::Relaxed);
        let start = tokio::time::Instant::now();
        state.wait_below(100, Duration::from_secs(5)).await;
        assert!(start.elapsed() < Duration::from_secs(1));
        // Busy and within the bound: no wait.
        state.stepped(50);
        let start = tokio::time::Instant::now();
        state.wait_below(100, Duration::from_secs(5)).await;
        assert!(start.elapsed() < Duration::from_secs(1));
        // Busy and behind: waits until a step brings it under the bound, not to the deadline.
        state.stepped(500);
        let waiter = {
            let state = state.clone();
            tokio::spawn(async move {
                let start = tokio::time::Instant::now();
                state.wait_below(100, Duration::from_secs(30)).await;
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiter.is_finished(), "the writer waits for the follower");
        state.stepped(300);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "one step is not enough");
        state.stepped(80);
        let waited = waiter.await.expect("join");
        assert!(
            waited < Duration::from_secs(10),
            "woken by the step: {waited:?}"
        );
        // Behind for good: the deadline ends the wait.
        state.stepped(500);
        let start = tokio::time::Instant::now();
        state.wait_below(100, Duration::from_millis(200)).await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(5));
    }
}
