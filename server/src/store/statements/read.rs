//! [`QueryStore`] for one backend: logs, traces and exception groups. WHERE clauses come from
//! the pure [`crate::query`] builders; only their bind values are typed here. Compiled once per
//! backend (see [`crate::store::dialect`]).

use super::{Db, This};
use crate::store::dialect::Dialect;
use crate::store::read_sql::bind_all;
use crate::store::{self, QueryStore};

impl This {
    /// One page of logs in the filter's order, narrowed as `search` says.
    async fn page_with(
        &self,
        f: &crate::query::logs::LogFilter,
        search: &crate::query::text::IndexPlan,
    ) -> store::StoreResult<Vec<store::LogRow>> {
        let w = f.where_clause(true, search);
        let sql = format!(
            "SELECT {} FROM app_logs{}{} LIMIT {}",
            store::read_sql::LOG_COLUMNS,
            w.sql(),
            f.order_by(),
            u64::from(f.limit) + 1
        );
        let q = sqlx::query_as::<Db, store::LogRow>(&sql);
        Ok(bind_all!(q, &w.binds).fetch_all(self.pool()).await?)
    }
}

#[async_trait::async_trait]
impl QueryStore for This {
    async fn page_logs(
        &self,
        f: &crate::query::logs::LogFilter,
    ) -> store::StoreResult<Vec<store::LogRow>> {
        let search = self.index_plan(f).await?;
        self.page_with(f, &search).await
    }

    async fn tail_logs(
        &self,
        w: &crate::query::sql::WhereClause,
        limit: u32,
    ) -> store::StoreResult<Vec<store::LogRow>> {
        let sql = format!(
            "SELECT {} FROM app_logs{} ORDER BY id LIMIT {limit}",
            store::read_sql::LOG_COLUMNS,
            w.sql()
        );
        let q = sqlx::query_as::<Db, store::LogRow>(&sql);
        Ok(bind_all!(q, &w.binds).fetch_all(self.pool()).await?)
    }

    async fn query_logs(
        &self,
        f: &crate::query::logs::LogFilter,
    ) -> store::StoreResult<store::Page<store::LogRow>> {
        let search = self.index_plan(f).await?;
        let rows = self.page_with(f, &search).await?;
        // One snapshot, so the tally and the partial hours agree with each other.
        let mut tx = self
            .pool()
            .begin_with(<This as Dialect>::BEGIN_SNAPSHOT)
            .await?;
        let count_rows = |f: &crate::query::logs::LogFilter| {
            let c = f.where_clause(false, &search);
            (format!("SELECT COUNT(*) FROM app_logs{}", c.sql()), c.binds)
        };
        let mut total = 0;
        let mut counts = Vec::new();
        match crate::query::count::count_plan(f) {
            Some(split) => {
                let sum = format!(
                    "SELECT CAST(COALESCE(SUM(log_rows), 0) AS BIGINT) FROM log_counts{}",
                    split.buckets.sql()
                );
                let q = sqlx::query_scalar::<Db, i64>(&sum);
                total += bind_all!(q, &split.buckets.binds)
                    .fetch_one(&mut *tx)
                    .await?;
                counts.extend(split.edges.iter().map(count_rows));
            }
            None => counts.push(count_rows(f)),
        }
        for (sql, binds) in &counts {
            let q = sqlx::query_scalar::<Db, i64>(sql);
            total += bind_all!(q, binds).fetch_one(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(store::Page { rows, total })
    }

    async fn log_statistics(
        &self,
        query: &crate::query::stats::StatsQuery,
    ) -> store::StoreResult<Vec<store::StatsRow>> {
        let search = self.index_plan(&query.filter).await?;
        let (sql, w) = query.sql(&search);
        let q = sqlx::query_as::<Db, store::StatsRow>(&sql);
        Ok(bind_all!(q, &w.binds).fetch_all(self.pool()).await?)
    }

    async fn get_log(&self, id: uuid::Uuid) -> store::StoreResult<store::LogRow> {
        let sql = format!(
            "SELECT {} FROM app_logs WHERE id = $1",
            store::read_sql::LOG_COLUMNS
        );
        Ok(sqlx::query_as::<Db, store::LogRow>(&sql)
            .bind(id)
            .fetch_one(self.pool())
            .await?)
    }

    async fn trace_logs(&self, trace_id: &str) -> store::StoreResult<Vec<store::LogRow>> {
        // Not a `LogFilter`: the trace view also shows the collector's own request logs.
        let mut w = crate::query::sql::WhereClause::default();
        let lookups = self.lookups().await?;
        if let Some(narrow) = lookups.trace {
            w.and(narrow, lookups.binds(trace_id));
        }
        w.and(
            "trace_id = ?",
            vec![crate::query::sql::BindValue::Text(trace_id.to_owned())],
        );
        let sql = format!(
            "SELECT {} FROM app_logs{} ORDER BY timestamp, id LIMIT {}",
            store::read_sql::LOG_COLUMNS,
            w.sql(),
            store::read_sql::TRACE_ROWS
        );
        let q = sqlx::query_as::<Db, store::LogRow>(&sql);
        Ok(bind_all!(q, &w.binds).fetch_all(self.pool()).await?)
    }

    async fn trace_occurrences(
        &self,
        trace_id: &str,
    ) -> store::StoreResult<Vec<store::OccurrenceRecord>> {
        let sql = format!(
            "SELECT {} FROM exception_events e \
             JOIN app_exceptions g ON g.id = e.exception_id \
             WHERE e.trace_id = $1 ORDER BY e.timestamp, e.id LIMIT {}",
            store::read_sql::OCCURRENCE_COLUMNS,
            store::read_sql::TRACE_ROWS
        );
        Ok(sqlx::query_as::<Db, store::OccurrenceRecord>(&sql)
            .bind(trace_id)
            .fetch_all(self.pool())
            .await?)
    }

    async fn query_exceptions(
        &self,
        f: &crate::query::exceptions::ExceptionFilter,
    ) -> store::StoreResult<store::Page<store::ExceptionRecord>> {
        let w = f.where_clause(true);
        let sql = format!(
            "SELECT {} FROM app_exceptions{}{} LIMIT {}",
            store::read_sql::EXCEPTION_COLUMNS,
            w.sql(),
            f.order_by(),
            u64::from(f.limit) + 1
        );
        let q = sqlx::query_as::<Db, store::ExceptionRecord>(&sql);
        let rows = bind_all!(q, &w.binds).fetch_all(self.pool()).await?;
        let c = f.where_clause(false);
        let count = format!("SELECT COUNT(*) FROM app_exceptions{}", c.sql());
        let q = sqlx::query_scalar::<Db, i64>(&count);
        let total = bind_all!(q, &c.binds).fetch_one(self.pool()).await?;
        Ok(store::Page { rows, total })
    }

    async fn top_exceptions(
        &self,
        from_us: i64,
        to_us: i64,
        limit: u32,
    ) -> store::StoreResult<Vec<store::PatternRow>> {
        let sql = format!(
            "SELECT e.exception_id, g.exception_type, g.exception_message, \
             g.is_resolved, COUNT(*) AS occurrences FROM exception_events e \
             JOIN app_exceptions g ON g.id = e.exception_id \
             WHERE e.timestamp >= $1 AND e.timestamp <= $2 \
             GROUP BY e.exception_id, g.exception_type, g.exception_message, \
             g.is_resolved ORDER BY occurrences DESC, e.exception_id LIMIT {limit}"
        );
        Ok(sqlx::query_as::<Db, store::PatternRow>(&sql)
            .bind(from_us)
            .bind(to_us)
            .fetch_all(self.pool())
            .await?)
    }

    async fn exception_counts(
        &self,
        ids: &[uuid::Uuid],
        from_us: i64,
        to_us: i64,
    ) -> store::StoreResult<Vec<(uuid::Uuid, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "SELECT exception_id, COUNT(*) FROM exception_events WHERE timestamp >= ",
        );
        qb.push_bind(from_us);
        qb.push(" AND timestamp <= ");
        qb.push_bind(to_us);
        qb.push(" AND exception_id IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(") GROUP BY exception_id");
        Ok(qb.build_query_as().fetch_all(self.pool()).await?)
    }

    async fn exception_histogram(
        &self,
        ids: &[uuid::Uuid],
        from_us: i64,
        to_us: i64,
        width_us: i64,
    ) -> store::StoreResult<Vec<(uuid::Uuid, i64, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The width is ours (a number), not user text; `timestamp >= from` keeps the division
        // non-negative, where both engines truncate alike.
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT exception_id, (timestamp - ({from_us})) / {width_us} AS bucket, COUNT(*) \
             FROM exception_events WHERE timestamp >= "
        ));
        qb.push_bind(from_us);
        qb.push(" AND timestamp <= ");
        qb.push_bind(to_us);
        qb.push(" AND exception_id IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(") GROUP BY exception_id, bucket");
        Ok(qb.build_query_as().fetch_all(self.pool()).await?)
    }

    async fn get_exception(&self, id: uuid::Uuid) -> store::StoreResult<store::ExceptionRecord> {
        let sql = format!(
            "SELECT {} FROM app_exceptions WHERE id = $1",
            store::read_sql::EXCEPTION_COLUMNS
        );
        Ok(sqlx::query_as::<Db, store::ExceptionRecord>(&sql)
            .bind(id)
            .fetch_one(self.pool())
            .await?)
    }

    async fn recent_occurrences(
        &self,
        id: uuid::Uuid,
        limit: i64,
    ) -> store::StoreResult<Vec<store::OccurrenceRecord>> {
        let sql = format!(
            "SELECT {} FROM exception_events e \
             JOIN app_exceptions g ON g.id = e.exception_id \
             WHERE e.exception_id = $1 ORDER BY e.timestamp DESC, e.id DESC LIMIT $2",
            store::read_sql::OCCURRENCE_COLUMNS
        );
        Ok(sqlx::query_as::<Db, store::OccurrenceRecord>(&sql)
            .bind(id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    async fn resolve_exception(
        &self,
        id: uuid::Uuid,
        at_us: i64,
        by: &str,
        notes: Option<&str>,
    ) -> store::StoreResult<()> {
        let done = sqlx::query::<Db>(
            "UPDATE app_exceptions SET is_resolved = TRUE, resolved_at = $2, \
             resolved_by = $3, resolution_notes = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(at_us)
        .bind(by)
        .bind(notes)
        .execute(self.write_pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(store::StoreError::NotFound);
        }
        Ok(())
    }
}
