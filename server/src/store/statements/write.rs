//! [`Store`] (all but connection setup) and its [`WriteTx`] for one backend. Compiled once per
//! backend (see [`crate::store::dialect`]), with `Db` and `This` naming its driver and store.

use super::{Db, This};
use crate::monitoring::aggregate::AggregateRow;
use crate::store::dialect::Dialect;
use crate::store::monitoring::{AGGREGATE_COLUMNS, AGGREGATE_KEY, AggregateRecord};
use crate::store::{self, SlowQueryRow, SlowRequestRow, Store, WriteTx};

/// Write transaction of this backend.
pub(in crate::store) struct WriteTransaction(sqlx::Transaction<'static, Db>);

#[async_trait::async_trait]
impl Store for This {
    fn backend(&self) -> store::Backend {
        <This as Dialect>::BACKEND
    }

    async fn migrate(&self) -> store::StoreResult<()> {
        self.run_migrations().await
    }

    async fn ping(&self) -> store::StoreResult<()> {
        sqlx::query::<Db>("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    async fn write_probe(&self) -> store::StoreResult<()> {
        self.probe_write().await
    }

    async fn prune_dedup_slots(&self, horizon_us: i64) -> store::StoreResult<()> {
        <This as Dialect>::prune_dedup_slots(self, horizon_us).await
    }

    async fn take_rate_tokens(
        &self,
        request: &crate::ingest::ratelimit::RateRequest,
    ) -> store::StoreResult<Option<Result<(), f64>>> {
        <This as Dialect>::take_rate_tokens(self, request).await
    }

    async fn begin_write(&self) -> store::StoreResult<Box<dyn store::WriteTx>> {
        Ok(Box::new(WriteTransaction(self.begin_write_group().await?)))
    }

    async fn find_ingest_key(&self, key_hash: &str) -> store::StoreResult<Option<store::KeyGrant>> {
        Ok(sqlx::query_as::<Db, store::KeyGrant>(store::sql::FIND_KEY)
            .bind(key_hash)
            .fetch_optional(self.pool())
            .await?)
    }

    async fn count_users(&self) -> store::StoreResult<i64> {
        Ok(sqlx::query_scalar::<Db, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }

    async fn insert_user(&self, u: &store::NewUser) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "INSERT INTO users (id, username, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(u.id)
        .bind(&u.username)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(u.created_at)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn default_project(&self) -> store::StoreResult<Option<store::ProjectRecord>> {
        Ok(sqlx::query_as::<Db, store::ProjectRecord>(
            "SELECT id, name, allow_frontend, allow_backend, created_at FROM projects \
             ORDER BY created_at, id LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?)
    }

    async fn insert_project(&self, p: &store::ProjectRecord) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "INSERT INTO projects (id, name, allow_frontend, allow_backend, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.id)
        .bind(&p.name)
        .bind(p.allow_frontend)
        .bind(p.allow_backend)
        .bind(p.created_at)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn insert_ingest_key(&self, k: &store::IngestKeyRecord) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "INSERT INTO ingest_keys (id, project_id, key_hash, hashed, allowed_origins, \
             revoked, created_at) VALUES ($1, $2, $3, TRUE, $4, $5, $6)",
        )
        .bind(k.id)
        .bind(k.project_id)
        .bind(&k.key_hash)
        .bind(&k.allowed_origins)
        .bind(k.revoked)
        .bind(k.created_at)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn recent_logs_for_dedup(
        &self,
        since_us: i64,
    ) -> store::StoreResult<Vec<store::DedupSeed>> {
        Ok(
            sqlx::query_as::<Db, store::DedupSeed>(store::sql::RECENT_LOGS)
                .bind(since_us)
                .fetch_all(self.pool())
                .await?,
        )
    }

    async fn prune_ingest_batches(&self, before_us: i64) -> store::StoreResult<u64> {
        Ok(
            sqlx::query::<Db>("DELETE FROM ingest_batches WHERE received_at < $1")
                .bind(before_us)
                .execute(self.write_pool())
                .await?
                .rows_affected(),
        )
    }

    async fn count_rows(&self, table: store::CountedTable) -> store::StoreResult<i64> {
        Ok(sqlx::query_scalar::<Db, i64>(table.sql())
            .fetch_one(self.pool())
            .await?)
    }

    /// One transaction: the entries of up to `max_rows` seqs above the watermark, and the
    /// watermark moved past them; first, where deletes queue them, deleted rows' entries go.
    async fn index_logs(&self, max_rows: i64) -> store::StoreResult<store::IndexStep> {
        self.unindex_deleted().await?;
        let Some((mut tx, from, newest)) = self.begin_index_step().await? else {
            return Ok(store::IndexStep::default());
        };
        let through = newest.min(from.saturating_add(max_rows.max(1)));
        for sql in <This as Dialect>::INDEX_STEP {
            sqlx::query::<Db>(sql)
                .bind(from)
                .bind(through)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query::<Db>("UPDATE log_index_state SET indexed_through = $1 WHERE id = 1")
            .bind(through)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.index_step_done(newest - through).await?;
        Ok(store::IndexStep {
            covered: through - from,
            pending: newest - through,
        })
    }
}

#[async_trait::async_trait]
impl WriteTx for WriteTransaction {
    async fn claim_dedup_slots(
        &mut self,
        rounds: &[Vec<crate::ingest::dedup::SlotClaim>],
        window_us: i64,
        now_us: i64,
    ) -> store::StoreResult<Option<Vec<crate::ingest::dedup::SlotOwner>>> {
        <This as Dialect>::claim_dedup_slots(&mut self.0, rounds, window_us, now_us).await
    }

    async fn existing_batches(
        &mut self,
        ids: &[uuid::Uuid],
    ) -> store::StoreResult<std::collections::HashMap<uuid::Uuid, tracewire_shared::wire::Accepted>>
    {
        let mut found = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(found);
        }
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "SELECT batch_id, accepted_logs, accepted_exceptions, accepted_metrics \
             FROM ingest_batches WHERE batch_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        let rows: Vec<(uuid::Uuid, i64, i64, i64)> =
            qb.build_query_as().fetch_all(&mut *self.0).await?;
        for (id, logs, exceptions, metrics) in rows {
            let accepted = tracewire_shared::wire::Accepted {
                logs: usize::try_from(logs).unwrap_or_default(),
                exceptions: usize::try_from(exceptions).unwrap_or_default(),
                metrics: usize::try_from(metrics).unwrap_or_default(),
            };
            found.insert(id, accepted);
        }
        Ok(found)
    }

    async fn insert_batches(&mut self, rows: &[store::BatchRecord]) -> store::StoreResult<()> {
        for chunk in rows.chunks(store::sql::INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(store::sql::INSERT_BATCHES_HEAD);
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.batch_id)
                    .push_bind(r.project_id)
                    .push_bind(r.logs)
                    .push_bind(r.exceptions)
                    .push_bind(r.metrics)
                    .push_bind(r.received_at);
            });
            qb.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    async fn insert_logs(&mut self, rows: &[store::LogRow]) -> store::StoreResult<()> {
        <This as Dialect>::insert_log_rows(&mut self.0, rows).await?;
        for (bucket, level, source, n) in store::sql::tally(rows) {
            sqlx::query::<Db>(store::sql::ADD_LOG_COUNT)
                .bind(bucket)
                .bind(level)
                .bind(source)
                .bind(n)
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    async fn bump_logs(&mut self, bumps: &[store::LogBump]) -> store::StoreResult<()> {
        // In id order, so collectors bumping the same rows lock them in the same order.
        let mut bumps: Vec<&store::LogBump> = bumps.iter().collect();
        bumps.sort_unstable_by_key(|b| b.id);
        for b in bumps {
            sqlx::query::<Db>(store::sql::BUMP_LOG)
                .bind(b.id)
                .bind(b.add)
                .bind(b.first_seen_at)
                .bind(b.last_seen_at)
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    async fn record_exception(
        &mut self,
        r: &store::ExceptionRow,
    ) -> store::StoreResult<uuid::Uuid> {
        let group_id: uuid::Uuid =
            sqlx::query_scalar::<Db, uuid::Uuid>(store::sql::UPSERT_EXCEPTION)
                .bind(r.group_id)
                .bind(r.project_id)
                .bind(&r.fingerprint)
                .bind(r.source)
                .bind(&r.exception_type)
                .bind(&r.exception_message)
                .bind(&r.stack_trace)
                .bind(&r.request_path)
                .bind(r.timestamp)
                // Receive time: what regressions (and "new exception" alerts) are judged on.
                .bind(crate::clock::now_us())
                .fetch_one(&mut *self.0)
                .await?;
        sqlx::query::<Db>(store::sql::INSERT_EXCEPTION_EVENT)
            .bind(r.event_id)
            .bind(group_id)
            .bind(r.project_id)
            .bind(r.timestamp)
            .bind(&r.trace_id)
            .bind(&r.span_id)
            .bind(&r.user_id)
            .bind(&r.request_path)
            .bind(&r.exception_message)
            .bind(&r.stack_trace)
            .bind(&r.exception_details)
            .bind(&r.context_data)
            .execute(&mut *self.0)
            .await?;
        Ok(group_id)
    }

    async fn insert_metrics(&mut self, rows: &[store::MetricRow]) -> store::StoreResult<()> {
        for chunk in rows.chunks(store::sql::INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(store::sql::INSERT_METRICS_HEAD);
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(r.project_id)
                    .push_bind(r.source.as_ref())
                    .push_bind(&r.metric_type)
                    .push_bind(&r.metric_name)
                    .push_bind(r.value)
                    .push_bind(&r.unit)
                    .push_bind(r.timestamp)
                    .push_bind(&r.endpoint)
                    .push_bind(&r.trace_id)
                    .push_bind(&r.tags);
            });
            qb.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    async fn merge_aggregates(&mut self, rows: &[AggregateRow]) -> store::StoreResult<()> {
        // Three statements per chunk, whatever its size: a writer group touches a few dozen
        // series-minutes, and a statement per row measurably slowed ingest. In key order, and
        // locked in key order by `stored_aggregates`, so that collectors merging into the same
        // rows at once wait for each other instead of deadlocking.
        let mut rows: Vec<&AggregateRow> = rows.iter().collect();
        rows.sort_unstable_by_key(|r| {
            let s = &r.series;
            let endpoint = s.endpoint.as_deref().unwrap_or("");
            let key = (s.metric_type.as_str(), s.metric_name.as_str(), endpoint);
            (
                r.period.as_str(),
                key,
                r.period_start_us,
                s.source.as_str(),
                s.project_id,
            )
        });
        for chunk in rows.chunks(AGGREGATES_PER_STATEMENT) {
            let stored = self.stored_aggregates(chunk).await?;
            let mut updates = Vec::new();
            let mut inserts = Vec::new();
            for &row in chunk {
                match stored.get(&(&row.series, row.period_start_us)) {
                    Some(old) => {
                        let mut merged = row.clone();
                        merged.count += old.count;
                        merged.errors += old.errors;
                        merged.sketch.merge(&old.sketch);
                        updates.push(merged);
                    }
                    None => inserts.push(row),
                }
            }
            if !updates.is_empty() {
                let mut qb =
                    super::monitoring::aggregate_values(&updates.iter().collect::<Vec<_>>());
                qb.push(format!(
                    " ON CONFLICT {AGGREGATE_KEY} DO UPDATE SET value = excluded.value, \
                     count = excluded.count, errors = excluded.errors, sum = excluded.sum, \
                     min = excluded.min, max = excluded.max, p50 = excluded.p50, \
                     p95 = excluded.p95, p99 = excluded.p99, sketch = excluded.sketch, \
                     dirty = TRUE"
                ));
                qb.build().execute(&mut *self.0).await?;
            }
            if !inserts.is_empty() {
                let mut qb = super::monitoring::aggregate_values(&inserts);
                qb.push(format!(
                    " ON CONFLICT {AGGREGATE_KEY} DO NOTHING \
                     RETURNING metric_type, metric_name, endpoint, source, project_id, period_start"
                ));
                type Key = (String, String, String, String, uuid::Uuid, i64);
                let inserted: Vec<Key> = qb.build_query_as().fetch_all(&mut *self.0).await?;
                // Rows another collector created since the read: merged one by one, locked.
                for row in inserts {
                    let key = (
                        row.series.metric_type.clone(),
                        row.series.metric_name.clone(),
                        row.series.endpoint.clone().unwrap_or_default(),
                        row.series.source.as_str().to_owned(),
                        row.series.project_id,
                        row.period_start_us,
                    );
                    if !inserted.contains(&key) {
                        self.merge_one(row).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn insert_slow_requests(&mut self, rows: &[SlowRequestRow]) -> store::StoreResult<()> {
        for chunk in rows.chunks(store::sql::INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO slow_requests (id, project_id, timestamp, source, method, endpoint, \
                 path, status, duration_ms, trace_id, log_id) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(r.project_id)
                    .push_bind(r.timestamp)
                    .push_bind(&r.source)
                    .push_bind(&r.method)
                    .push_bind(&r.endpoint)
                    .push_bind(&r.path)
                    .push_bind(r.status)
                    .push_bind(r.duration_ms)
                    .push_bind(&r.trace_id)
                    .push_bind(r.log_id);
            });
            qb.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    async fn insert_slow_queries(&mut self, rows: &[SlowQueryRow]) -> store::StoreResult<()> {
        for chunk in rows.chunks(store::sql::INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO slow_queries (id, project_id, timestamp, summary, statement, \
                 duration_ms, row_count, endpoint, trace_id) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(r.project_id)
                    .push_bind(r.timestamp)
                    .push_bind(&r.summary)
                    .push_bind(&r.statement)
                    .push_bind(r.duration_ms)
                    .push_bind(r.row_count)
                    .push_bind(&r.endpoint)
                    .push_bind(&r.trace_id);
            });
            qb.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> store::StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }
}

/// Aggregate rows merged per statement (18 values each: under both drivers' bind limits).
const AGGREGATES_PER_STATEMENT: usize = 200;

impl WriteTransaction {
    /// The stored rows of `rows`' keys, locked until commit where writers are concurrent.
    async fn stored_aggregates<'r>(
        &mut self,
        rows: &[&'r AggregateRow],
    ) -> store::StoreResult<
        std::collections::HashMap<(&'r crate::monitoring::aggregate::SeriesKey, i64), AggregateRow>,
    > {
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {AGGREGATE_COLUMNS} FROM metric_aggregates WHERE "
        ));
        for (i, r) in rows.iter().enumerate() {
            qb.push(if i == 0 { "(" } else { " OR (" });
            qb.push("aggregation_period = ");
            qb.push_bind(r.period.as_str());
            qb.push(" AND metric_type = ");
            qb.push_bind(&r.series.metric_type);
            qb.push(" AND metric_name = ");
            qb.push_bind(&r.series.metric_name);
            qb.push(" AND endpoint = ");
            qb.push_bind(r.series.endpoint.as_deref().unwrap_or(""));
            qb.push(" AND source = ");
            qb.push_bind(r.series.source.as_str());
            qb.push(" AND project_id = ");
            qb.push_bind(r.series.project_id);
            qb.push(" AND period_start = ");
            qb.push_bind(r.period_start_us);
            qb.push(")");
        }
        // Rows are locked as they leave the sort, so in this order on every collector.
        qb.push(
            " ORDER BY aggregation_period, metric_type, metric_name, endpoint, period_start, \
             source, project_id",
        );
        qb.push(<This as Dialect>::LOCK_FOR_UPDATE);
        let records: Vec<AggregateRecord> = qb.build_query_as().fetch_all(&mut *self.0).await?;
        let mut found = std::collections::HashMap::new();
        for record in records {
            let stored = record.into_row()?;
            if let Some(r) = rows
                .iter()
                .copied()
                .find(|r| r.series == stored.series && r.period_start_us == stored.period_start_us)
            {
                found.insert((&r.series, r.period_start_us), stored);
            }
        }
        Ok(found)
    }

    /// Read (locked), merge, write one row; an insert that lost a race to another collector
    /// finds the row on the next pass.
    async fn merge_one(&mut self, row: &AggregateRow) -> store::StoreResult<()> {
        let select = format!(
            "SELECT count, errors, sketch FROM metric_aggregates WHERE aggregation_period = $1 \
             AND metric_type = $2 AND metric_name = $3 AND endpoint = $4 AND source = $5 \
             AND project_id = $6 AND period_start = $7{}",
            <This as Dialect>::LOCK_FOR_UPDATE
        );
        loop {
            let stored: Option<(i64, i64, Vec<u8>)> = sqlx::query_as::<Db, _>(&select)
                .bind(row.period.as_str())
                .bind(&row.series.metric_type)
                .bind(&row.series.metric_name)
                .bind(row.series.endpoint.as_deref().unwrap_or(""))
                .bind(row.series.source.as_str())
                .bind(row.series.project_id)
                .bind(row.period_start_us)
                .fetch_optional(&mut *self.0)
                .await?;
            let Some((count, errors, sketch)) = stored else {
                if super::monitoring::insert_aggregate(&mut self.0, row).await? == 1 {
                    break;
                }
                continue;
            };
            let stored = crate::store::monitoring::decode_sketch(&sketch)?;
            let mut merged = row.clone();
            merged.count += u64::try_from(count).unwrap_or_default();
            merged.errors += u64::try_from(errors).unwrap_or_default();
            merged.sketch.merge(&stored);
            let quantiles = crate::monitoring::aggregate::Quantiles::of(&merged.sketch);
            sqlx::query::<Db>(
                "UPDATE metric_aggregates SET value = $8, count = $9, errors = $10, \
                 sum = $11, min = $12, max = $13, sketch = $14, p50 = $15, p95 = $16, \
                 p99 = $17, dirty = TRUE \
                 WHERE aggregation_period = $1 AND metric_type = $2 AND metric_name = $3 \
                 AND endpoint = $4 AND source = $5 AND project_id = $6 AND period_start = $7",
            )
            .bind(row.period.as_str())
            .bind(&row.series.metric_type)
            .bind(&row.series.metric_name)
            .bind(row.series.endpoint.as_deref().unwrap_or(""))
            .bind(row.series.source.as_str())
            .bind(row.series.project_id)
            .bind(row.period_start_us)
            .bind(merged.mean())
            .bind(i64::try_from(merged.count).unwrap_or(i64::MAX))
            .bind(i64::try_from(merged.errors).unwrap_or(i64::MAX))
            .bind(merged.sketch.sum())
            .bind(merged.sketch.min().unwrap_or(0.0))
            .bind(merged.sketch.max().unwrap_or(0.0))
            .bind(merged.sketch.to_bytes())
            .bind(quantiles.p50)
            .bind(quantiles.p95)
            .bind(quantiles.p99)
            .execute(&mut *self.0)
            .await?;
            break;
        }
        Ok(())
    }
}
