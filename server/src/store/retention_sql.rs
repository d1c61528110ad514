//! SQL of [`super::RetentionStore`], written once and instantiated per driver like
//! [`super::sql`]. Batches walk `(timestamp, id)` upwards on the time indexes; deletes name ids,
//! never a time range, so only rows that were archived can go.

/// Ids per DELETE statement (well under both drivers' bind limits).
pub(super) const DELETE_CHUNK: usize = 500;

/// Keyset condition after `($2, $3)`, oldest first, shared by the three batch reads.
pub(super) const AFTER: &str = "(timestamp > $2 OR (timestamp = $2 AND id > $3)) \
    ORDER BY timestamp, id LIMIT $4";

pub(super) const EVENT_COLUMNS: &str = "id, exception_id, project_id, timestamp, trace_id, \
    span_id, user_id, request_path, exception_message, stack_trace, exception_details, \
    context_data";

pub(super) const METRIC_COLUMNS: &str = "id, project_id, source, metric_type, metric_name, \
    value, unit, timestamp, endpoint, trace_id, tags";

/// `DELETE FROM table WHERE id IN ($1, …, $n)`.
pub(super) fn delete_sql(table: &str, n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("DELETE FROM {table} WHERE id IN ({})", marks.join(", "))
}

/// Subtracts the `app_logs` rows with ids `$1…$n` from the per-hour `log_counts` tally; run
/// before they are deleted, in the same transaction.
pub(super) fn uncount_sql(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    // `WHERE` before `ON CONFLICT` is also what SQLite needs to parse an upsert from a SELECT.
    format!(
        "INSERT INTO log_counts (bucket, level, source, log_rows) \
         SELECT {bucket}, level, source, -COUNT(*) FROM app_logs WHERE id IN ({ids}) \
         GROUP BY {bucket}, level, source \
         ON CONFLICT (bucket, level, source) \
         DO UPDATE SET log_rows = log_counts.log_rows + excluded.log_rows",
        bucket = crate::query::count::BUCKET_SQL,
        ids = marks.join(", ")
    )
}

/// Implements [`super::RetentionStore`] for one driver; `$store` has a read `pool`,
/// `begin_tx()` and an inherent `lease(name)`.
macro_rules! impl_retention_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::RetentionStore for $store {
            async fn try_lease(
                &self,
                name: $crate::store::LeaseName,
            ) -> $crate::store::StoreResult<Option<$crate::store::Lease>> {
                self.lease(name).await
            }

            async fn expired_logs(
                &self,
                level: &str,
                cutoff_us: i64,
                after: $crate::store::Keyset,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LogRecord>> {
                let sql = format!(
                    "SELECT {} FROM app_logs WHERE timestamp < $1 AND level = $5 AND {}",
                    super::read_sql::LOG_COLUMNS,
                    super::retention_sql::AFTER
                );
                Ok(sqlx::query_as::<$db, $crate::store::LogRecord>(&sql)
                    .bind(cutoff_us)
                    .bind(after.time_us)
                    .bind(after.id)
                    .bind(i64::from(limit))
                    .bind(level)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn expired_exception_events(
                &self,
                cutoff_us: i64,
                after: $crate::store::Keyset,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::store::ExceptionEventRecord>> {
                let sql = format!(
                    "SELECT {} FROM exception_events WHERE timestamp < $1 AND {}",
                    super::retention_sql::EVENT_COLUMNS,
                    super::retention_sql::AFTER
                );
                Ok(
                    sqlx::query_as::<$db, $crate::store::ExceptionEventRecord>(&sql)
                        .bind(cutoff_us)
                        .bind(after.time_us)
                        .bind(after.id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?,
                )
            }

            async fn expired_metrics(
                &self,
                cutoff_us: i64,
                after: $crate::store::Keyset,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::store::MetricRecord>> {
                let sql = format!(
                    "SELECT {} FROM performance_metrics WHERE timestamp < $1 AND {}",
                    super::retention_sql::METRIC_COLUMNS,
                    super::retention_sql::AFTER
                );
                Ok(sqlx::query_as::<$db, $crate::store::MetricRecord>(&sql)
                    .bind(cutoff_us)
                    .bind(after.time_us)
                    .bind(after.id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn delete_ids(
                &self,
                table: $crate::store::RetentionTable,
                ids: &[uuid::Uuid],
            ) -> $crate::store::StoreResult<u64> {
                let mut tx = self.begin_tx().await?;
                let mut deleted = 0;
                for chunk in ids.chunks(super::retention_sql::DELETE_CHUNK) {
                    if table == $crate::store::RetentionTable::AppLogs {
                        // The per-hour tally loses these rows in the same transaction.
                        let sql = super::retention_sql::uncount_sql(chunk.len());
                        let mut q = sqlx::query::<$db>(&sql);
                        for id in chunk {
                            q = q.bind(*id);
                        }
                        q.execute(&mut *tx).await?;
                    }
                    let sql = super::retention_sql::delete_sql(table.name(), chunk.len());
                    let mut q = sqlx::query::<$db>(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    deleted += q.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn scrub_deleted(&self, vacuum: bool) -> $crate::store::StoreResult<()> {
                self.scrub_freed(vacuum).await
            }
        }
    };
}

pub(super) use impl_retention_store;

#[cfg(test)]
mod tests {
    #[test]
    fn delete_names_every_id() {
        assert_eq!(
            super::delete_sql("app_logs", 3),
            "DELETE FROM app_logs WHERE id IN ($1, $2, $3)"
        );
    }
}
