//! [`RetentionStore`] for one backend. Batches walk `(timestamp, id)` upwards on the time
//! indexes; deletes name ids, never a time range, so only rows that were archived can go.
//! Compiled once per backend (see [`crate::store::dialect`]).

use super::{Db, This};
use crate::store::dialect::Dialect;
use crate::store::{self, RetentionStore};

#[async_trait::async_trait]
impl RetentionStore for This {
    async fn try_lease(&self, name: store::LeaseName) -> store::StoreResult<Option<store::Lease>> {
        self.lease(name).await
    }

    async fn expired_logs(
        &self,
        level: &str,
        cutoff_us: i64,
        after: store::Keyset,
        limit: u32,
    ) -> store::StoreResult<Vec<store::LogRow>> {
        let sql = format!(
            "SELECT {} FROM app_logs WHERE timestamp < $1 AND level = $5 AND {}",
            store::read_sql::LOG_COLUMNS,
            store::retention_sql::AFTER
        );
        Ok(sqlx::query_as::<Db, store::LogRow>(&sql)
            .bind(cutoff_us)
            .bind(after.time_us)
            .bind(after.id)
            .bind(i64::from(limit))
            .bind(level)
            .fetch_all(self.pool())
            .await?)
    }

    async fn expired_exception_events(
        &self,
        cutoff_us: i64,
        after: store::Keyset,
        limit: u32,
    ) -> store::StoreResult<Vec<store::ExceptionEventRecord>> {
        let sql = format!(
            "SELECT {} FROM exception_events WHERE timestamp < $1 AND {}",
            store::retention_sql::EVENT_COLUMNS,
            store::retention_sql::AFTER
        );
        Ok(sqlx::query_as::<Db, store::ExceptionEventRecord>(&sql)
            .bind(cutoff_us)
            .bind(after.time_us)
            .bind(after.id)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?)
    }

    async fn expired_metrics(
        &self,
        cutoff_us: i64,
        after: store::Keyset,
        limit: u32,
    ) -> store::StoreResult<Vec<store::MetricRow>> {
        let sql = format!(
            "SELECT {} FROM performance_metrics WHERE timestamp < $1 AND {}",
            store::retention_sql::METRIC_COLUMNS,
            store::retention_sql::AFTER
        );
        Ok(sqlx::query_as::<Db, store::MetricRow>(&sql)
            .bind(cutoff_us)
            .bind(after.time_us)
            .bind(after.id)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?)
    }

    async fn delete_ids(
        &self,
        table: store::RetentionTable,
        ids: &[uuid::Uuid],
    ) -> store::StoreResult<u64> {
        let mut tx = self.begin_tx().await?;
        let mut deleted = 0;
        for chunk in ids.chunks(store::retention_sql::DELETE_CHUNK) {
            if table == store::RetentionTable::AppLogs {
                // The per-hour tally loses these rows in the same transaction.
                let sql = store::retention_sql::uncount_sql(chunk.len());
                let mut q = sqlx::query::<Db>(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
            let sql = store::retention_sql::delete_sql(table.name(), chunk.len());
            let mut q = sqlx::query::<Db>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            deleted += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn scrub_deleted(&self, vacuum: bool) -> store::StoreResult<()> {
        self.scrub_freed(vacuum).await
    }
}
