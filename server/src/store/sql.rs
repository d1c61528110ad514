//! The SQL both backends share, and the macro that instantiates it for each sqlx driver.
//!
//! Writing the statements once and expanding them per driver keeps the two backends from
//! drifting apart (they cannot be generic over `sqlx::Database` without a wall of bounds).

/// Rows per multi-value INSERT: 21 columns × 500 stays under SQLite's 32,766 variables.
pub(super) const INSERT_CHUNK: usize = 500;

pub(super) const INSERT_LOGS_HEAD: &str = "INSERT INTO app_logs (id, project_id, timestamp, level, \
    source, message, module, function, trace_id, span_id, user_id, request_method, request_path, \
    request_data, response_status, duration_ms, extra_data, dedup_count, first_seen_at, \
    last_seen_at, created_at) ";

pub(super) const INSERT_METRICS_HEAD: &str = "INSERT INTO performance_metrics (id, project_id, \
    source, metric_type, metric_name, value, unit, timestamp, endpoint, trace_id, tags) ";

pub(super) const INSERT_BATCHES_HEAD: &str = "INSERT INTO ingest_batches (batch_id, project_id, \
    accepted_logs, accepted_exceptions, accepted_metrics, received_at) ";

pub(super) const BUMP_LOG: &str = "UPDATE app_logs SET dedup_count = dedup_count + $2, \
    first_seen_at = CASE WHEN $3 < first_seen_at THEN $3 ELSE first_seen_at END, \
    last_seen_at = CASE WHEN $4 > last_seen_at THEN $4 ELSE last_seen_at END WHERE id = $1";

/// Upsert of an exception group. A resolved group that sees an occurrence newer than its
/// resolution reopens and records the regression time, as Sentry does.
pub(super) const UPSERT_EXCEPTION: &str = "INSERT INTO app_exceptions (id, project_id, \
    fingerprint, source, exception_type, exception_message, stack_trace, request_path, \
    first_seen_at, last_seen_at, occurrence_count, is_resolved) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, FALSE) \
    ON CONFLICT (project_id, fingerprint) DO UPDATE SET \
    occurrence_count = app_exceptions.occurrence_count + 1, \
    exception_message = excluded.exception_message, \
    stack_trace = COALESCE(excluded.stack_trace, app_exceptions.stack_trace), \
    request_path = COALESCE(excluded.request_path, app_exceptions.request_path), \
    first_seen_at = CASE WHEN excluded.first_seen_at < app_exceptions.first_seen_at \
        THEN excluded.first_seen_at ELSE app_exceptions.first_seen_at END, \
    last_seen_at = CASE WHEN excluded.last_seen_at > app_exceptions.last_seen_at \
        THEN excluded.last_seen_at ELSE app_exceptions.last_seen_at END, \
    regressed_at = CASE WHEN app_exceptions.is_resolved \
        AND excluded.last_seen_at > COALESCE(app_exceptions.resolved_at, 0) \
        THEN excluded.last_seen_at ELSE app_exceptions.regressed_at END, \
    is_resolved = CASE WHEN app_exceptions.is_resolved \
        AND excluded.last_seen_at > COALESCE(app_exceptions.resolved_at, 0) \
        THEN FALSE ELSE app_exceptions.is_resolved END \
    RETURNING id";

pub(super) const INSERT_EXCEPTION_EVENT: &str = "INSERT INTO exception_events (id, exception_id, \
    project_id, timestamp, trace_id, span_id, user_id, request_path, exception_message, \
    stack_trace, exception_details, context_data) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The key whose SHA-256 hex is `$1`; rows not yet hashed (migration 0005) never match.
pub(super) const FIND_KEY: &str = "SELECT k.id, k.project_id, k.key_hash, k.allowed_origins, \
    k.revoked, k.created_at, p.allow_frontend, p.allow_backend \
    FROM ingest_keys k JOIN projects p ON p.id = k.project_id \
    WHERE k.key_hash = $1 AND k.hashed";

/// Keys stored in plaintext before migration 0005.
pub(super) const LEGACY_KEYS: &str =
    "SELECT id, key_hash FROM ingest_keys WHERE NOT hashed ORDER BY id";

/// Replaces one plaintext key by its hash; `AND NOT hashed` makes a second collector starting
/// at the same time a no-op instead of hashing the hash.
pub(super) const HASH_LEGACY_KEY: &str =
    "UPDATE ingest_keys SET key_hash = $1, hashed = TRUE WHERE id = $2 AND NOT hashed";

/// Adds `$4` rows to one `log_counts` tally (negative when retention deletes).
pub(super) const ADD_LOG_COUNT: &str = "INSERT INTO log_counts (bucket, level, source, log_rows) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (bucket, level, source) \
    DO UPDATE SET log_rows = log_counts.log_rows + excluded.log_rows";

/// New rows per (hour, level, source): what [`ADD_LOG_COUNT`] adds for one insert. A group holds
/// a handful of distinct keys, so a linear scan beats hashing.
pub(super) fn tally(rows: &[super::LogRow]) -> Vec<(i64, &'static str, &'static str, i64)> {
    let mut out: Vec<(i64, &'static str, &'static str, i64)> = Vec::new();
    for r in rows {
        let bucket = crate::query::count::bucket_of(r.timestamp);
        match out
            .iter_mut()
            .find(|(b, l, s, _)| *b == bucket && *l == r.level && *s == r.source)
        {
            Some(t) => t.3 += 1,
            None => out.push((bucket, r.level, r.source, 1)),
        }
    }
    out
}

pub(super) const RECENT_LOGS: &str = "SELECT id, project_id, source, level, message, module, \
    function, trace_id, user_id, first_seen_at FROM app_logs WHERE timestamp >= $1";

/// Implements [`super::Store`] (all but connection setup and `run_migrations`) and
/// [`super::WriteTx`] for one sqlx driver. `$store` must have a `pool` field of `Pool<$db>`;
/// `$tx` is a tuple struct around `Transaction<'static, $db>`.
macro_rules! impl_common_store {
    ($store:ty, $tx:ident, $db:ty, $backend:expr) => {
        /// Write transaction of this backend.
        pub(super) struct $tx(sqlx::Transaction<'static, $db>);

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            async fn migrate(&self) -> $crate::store::StoreResult<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn write_probe(&self) -> $crate::store::StoreResult<()> {
                self.probe_write().await
            }

            async fn begin_write(
                &self,
            ) -> $crate::store::StoreResult<Box<dyn $crate::store::WriteTx>> {
                Ok(Box::new($tx(self.begin_tx().await?)))
            }

            async fn find_ingest_key(
                &self,
                key_hash: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::KeyGrant>> {
                Ok(
                    sqlx::query_as::<$db, $crate::store::KeyGrant>(super::sql::FIND_KEY)
                        .bind(key_hash)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn count_users(&self) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn insert_user(
                &self,
                u: &$crate::store::NewUser,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
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

            async fn default_project(
                &self,
            ) -> $crate::store::StoreResult<Option<$crate::store::ProjectRecord>> {
                Ok(sqlx::query_as::<$db, $crate::store::ProjectRecord>(
                    "SELECT id, name, allow_frontend, allow_backend, created_at FROM projects \
                     ORDER BY created_at, id LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn insert_project(
                &self,
                p: &$crate::store::ProjectRecord,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
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

            async fn insert_ingest_key(
                &self,
                k: &$crate::store::IngestKeyRecord,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
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
            ) -> $crate::store::StoreResult<Vec<$crate::store::DedupSeed>> {
                Ok(
                    sqlx::query_as::<$db, $crate::store::DedupSeed>(super::sql::RECENT_LOGS)
                        .bind(since_us)
                        .fetch_all(&self.pool)
                        .await?,
                )
            }

            async fn prune_ingest_batches(
                &self,
                before_us: i64,
            ) -> $crate::store::StoreResult<u64> {
                Ok(
                    sqlx::query::<$db>("DELETE FROM ingest_batches WHERE received_at < $1")
                        .bind(before_us)
                        .execute(self.write_pool())
                        .await?
                        .rows_affected(),
                )
            }

            async fn count_rows(
                &self,
                table: $crate::store::CountedTable,
            ) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>(table.sql())
                    .fetch_one(&self.pool)
                    .await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::WriteTx for $tx {
            async fn existing_batches(
                &mut self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::StoreResult<
                std::collections::HashMap<uuid::Uuid, tracewire_shared::wire::Accepted>,
            > {
                let mut found = std::collections::HashMap::new();
                if ids.is_empty() {
                    return Ok(found);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(
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

            async fn insert_batches(
                &mut self,
                rows: &[$crate::store::BatchRecord],
            ) -> $crate::store::StoreResult<()> {
                for chunk in rows.chunks(super::sql::INSERT_CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(super::sql::INSERT_BATCHES_HEAD);
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

            async fn insert_logs(
                &mut self,
                rows: &[$crate::store::LogRow],
            ) -> $crate::store::StoreResult<()> {
                for chunk in rows.chunks(super::sql::INSERT_CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(super::sql::INSERT_LOGS_HEAD);
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id)
                            .push_bind(r.project_id)
                            .push_bind(r.timestamp)
                            .push_bind(r.level)
                            .push_bind(r.source)
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
                    qb.build().execute(&mut *self.0).await?;
                }
                for (bucket, level, source, n) in super::sql::tally(rows) {
                    sqlx::query::<$db>(super::sql::ADD_LOG_COUNT)
                        .bind(bucket)
                        .bind(level)
                        .bind(source)
                        .bind(n)
                        .execute(&mut *self.0)
                        .await?;
                }
                Ok(())
            }

            async fn bump_logs(
                &mut self,
                bumps: &[$crate::store::LogBump],
            ) -> $crate::store::StoreResult<()> {
                for b in bumps {
                    sqlx::query::<$db>(super::sql::BUMP_LOG)
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
                r: &$crate::store::ExceptionRow,
            ) -> $crate::store::StoreResult<uuid::Uuid> {
                let group_id: uuid::Uuid =
                    sqlx::query_scalar::<$db, uuid::Uuid>(super::sql::UPSERT_EXCEPTION)
                        .bind(r.group_id)
                        .bind(r.project_id)
                        .bind(&r.fingerprint)
                        .bind(r.source)
                        .bind(&r.exception_type)
                        .bind(&r.exception_message)
                        .bind(&r.stack_trace)
                        .bind(&r.request_path)
                        .bind(r.timestamp)
                        .fetch_one(&mut *self.0)
                        .await?;
                sqlx::query::<$db>(super::sql::INSERT_EXCEPTION_EVENT)
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

            async fn insert_metrics(
                &mut self,
                rows: &[$crate::store::MetricRow],
            ) -> $crate::store::StoreResult<()> {
                for chunk in rows.chunks(super::sql::INSERT_CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(super::sql::INSERT_METRICS_HEAD);
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id)
                            .push_bind(r.project_id)
                            .push_bind(r.source)
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

            async fn commit(self: Box<Self>) -> $crate::store::StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_common_store;
