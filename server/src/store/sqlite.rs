//! SQLite backend: one file in WAL mode, one writer connection (SQLite serializes writers anyway,
//! so a pool of writers would only add lock waits) and a pool of readers.

use super::read_sql::{bind_all, impl_read_store};
use super::sql::impl_common_store;
use super::{StoreOptions, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// The embedded default store.
pub(super) struct SqliteStore {
    /// Readers (and everything that is not the writer).
    pool: SqlitePool,
    /// The single writer connection.
    writer: SqlitePool,
}

impl SqliteStore {
    pub(super) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let synchronous = SqliteSynchronous::from_str(&options.sqlite_synchronous)
            .map_err(|_| super::StoreError::UnsupportedUrl(options.sqlite_synchronous.clone()))?;
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(connect.clone())
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_read_connections.max(1))
            .connect_with(connect)
            .await?;
        Ok(Self { pool, writer })
    }

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }
}

impl_common_store!(SqliteStore, SqliteWriteTx, Sqlite, super::Backend::Sqlite);
impl_read_store!(SqliteStore, Sqlite);
