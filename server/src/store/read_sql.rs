//! SQL of the query side ([`super::AuthStore`], [`super::QueryStore`]), written once and
//! instantiated per driver like [`super::sql`]. WHERE clauses come from the pure
//! [`crate::query`] builders; only their bind values are typed here.

pub(super) const LOG_COLUMNS: &str = "id, project_id, timestamp, level, source, message, module, \
    function, trace_id, span_id, user_id, request_method, request_path, request_data, \
    response_status, duration_ms, extra_data, dedup_count, first_seen_at, last_seen_at, \
    created_at";

pub(super) const EXCEPTION_COLUMNS: &str = "id, project_id, fingerprint, source, exception_type, \
    exception_message, stack_trace, request_path, first_seen_at, last_seen_at, \
    occurrence_count, is_resolved, resolved_at, resolved_by, resolution_notes, regressed_at";

pub(super) const OCCURRENCE_COLUMNS: &str = "e.id, e.exception_id, g.exception_type, \
    e.timestamp, e.trace_id, e.span_id, e.user_id, e.request_path, e.exception_message, \
    e.stack_trace";

/// Most rows one trace view returns; a trace with more is a runaway loop, not a request.
pub(super) const TRACE_ROWS: usize = 5000;

/// Binds every value of a [`crate::query::sql::WhereClause`] to a query.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                $crate::query::sql::BindValue::Text(s) => q.bind(s.clone()),
                $crate::query::sql::BindValue::Int(i) => q.bind(*i),
                $crate::query::sql::BindValue::Uuid(u) => q.bind(*u),
                $crate::query::sql::BindValue::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// Implements [`super::AuthStore`] and [`super::QueryStore`] for one driver; `$store` has a
/// read `pool` and a `write_pool()`.
macro_rules! impl_read_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AuthStore for $store {
            async fn find_user_by_name(
                &self,
                username: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::UserRecord>> {
                Ok(sqlx::query_as::<$db, $crate::store::UserRecord>(
                    "SELECT id, username, password_hash, role, disabled FROM users \
                     WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn insert_session(
                &self,
                s: &$crate::store::SessionRecord,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(s.id)
                .bind(&s.token_hash)
                .bind(s.user_id)
                .bind(s.created_at)
                .bind(s.expires_at)
                .execute(self.write_pool())
                .await?;
                Ok(())
            }

            async fn find_session_user(
                &self,
                token_hash: &str,
                now_us: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::UserRecord>> {
                Ok(sqlx::query_as::<$db, $crate::store::UserRecord>(
                    "SELECT u.id, u.username, u.password_hash, u.role, u.disabled \
                     FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2",
                )
                .bind(token_hash)
                .bind(now_us)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn prune_sessions(&self, now_us: i64) -> $crate::store::StoreResult<u64> {
                Ok(
                    sqlx::query::<$db>("DELETE FROM sessions WHERE expires_at <= $1")
                        .bind(now_us)
                        .execute(self.write_pool())
                        .await?
                        .rows_affected(),
                )
            }

            async fn delete_session(&self, token_hash: &str) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(self.write_pool())
                    .await?;
                Ok(())
            }

            async fn set_password(
                &self,
                user_id: uuid::Uuid,
                password_hash: &str,
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.write_pool().begin().await?;
                let updated = sqlx::query::<$db>("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query::<$db>("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(updated == 1)
            }

            async fn insert_audit(
                &self,
                a: &$crate::store::AuditRecord,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO audit_logs (id, timestamp, actor, action, target, details) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(uuid::Uuid::now_v7())
                .bind($crate::clock::now_us())
                .bind(&a.actor)
                .bind(&a.action)
                .bind(&a.target)
                .bind(sqlx::types::Json(&a.details))
                .execute(self.write_pool())
                .await?;
                Ok(())
            }
        }

        impl $store {
            /// One page of logs, newest first, with `q` written as `search` says.
            async fn page_with(
                &self,
                f: &$crate::query::logs::LogFilter,
                search: &$crate::query::text::TextSearch,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LogRecord>> {
                let w = f.where_clause(true, search);
                let sql = format!(
                    "SELECT {} FROM app_logs{} ORDER BY timestamp DESC, id DESC LIMIT {}",
                    super::read_sql::LOG_COLUMNS,
                    w.sql(),
                    u64::from(f.limit) + 1
                );
                let q = sqlx::query_as::<$db, $crate::store::LogRecord>(&sql);
                Ok(bind_all!(q, &w.binds).fetch_all(&self.pool).await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::QueryStore for $store {
            async fn page_logs(
                &self,
                f: &$crate::query::logs::LogFilter,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LogRecord>> {
                let search = self.text_search(f).await?;
                self.page_with(f, &search).await
            }

            async fn tail_logs(
                &self,
                w: &$crate::query::sql::WhereClause,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LogRecord>> {
                let sql = format!(
                    "SELECT {} FROM app_logs{} ORDER BY id LIMIT {limit}",
                    super::read_sql::LOG_COLUMNS,
                    w.sql()
                );
                let q = sqlx::query_as::<$db, $crate::store::LogRecord>(&sql);
                Ok(bind_all!(q, &w.binds).fetch_all(&self.pool).await?)
            }

            async fn query_logs(
                &self,
                f: &$crate::query::logs::LogFilter,
            ) -> $crate::store::StoreResult<$crate::store::Page<$crate::store::LogRecord>> {
                let search = self.text_search(f).await?;
                let rows = self.page_with(f, &search).await?;
                // One snapshot, so the tally and the partial hours agree with each other.
                let mut tx = self.pool.begin_with(<$store>::BEGIN_SNAPSHOT).await?;
                let count_rows = |f: &$crate::query::logs::LogFilter| {
                    let c = f.where_clause(false, &search);
                    (format!("SELECT COUNT(*) FROM app_logs{}", c.sql()), c.binds)
                };
                let mut total = 0;
                let mut counts = Vec::new();
                match $crate::query::count::count_plan(f) {
                    Some(split) => {
                        let sum = format!(
                            "SELECT CAST(COALESCE(SUM(log_rows), 0) AS BIGINT) FROM log_counts{}",
                            split.buckets.sql()
                        );
                        let q = sqlx::query_scalar::<$db, i64>(&sum);
                        total += bind_all!(q, &split.buckets.binds)
                            .fetch_one(&mut *tx)
                            .await?;
                        counts.extend(split.edges.iter().map(count_rows));
                    }
                    None => counts.push(count_rows(f)),
                }
                for (sql, binds) in &counts {
                    let q = sqlx::query_scalar::<$db, i64>(sql);
                    total += bind_all!(q, binds).fetch_one(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok($crate::store::Page { rows, total })
            }

            async fn log_statistics(
                &self,
                query: &$crate::query::stats::StatsQuery,
            ) -> $crate::store::StoreResult<Vec<$crate::store::StatsRow>> {
                let search = self.text_search(&query.filter).await?;
                let (sql, w) = query.sql(&search);
                let q = sqlx::query_as::<$db, $crate::store::StatsRow>(&sql);
                Ok(bind_all!(q, &w.binds).fetch_all(&self.pool).await?)
            }

            async fn get_log(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<$crate::store::LogRecord> {
                let sql = format!(
                    "SELECT {} FROM app_logs WHERE id = $1",
                    super::read_sql::LOG_COLUMNS
                );
                Ok(sqlx::query_as::<$db, $crate::store::LogRecord>(&sql)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn trace_logs(
                &self,
                trace_id: &str,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LogRecord>> {
                let sql = format!(
                    "SELECT {} FROM app_logs WHERE trace_id = $1 \
                     ORDER BY timestamp, id LIMIT {}",
                    super::read_sql::LOG_COLUMNS,
                    super::read_sql::TRACE_ROWS
                );
                Ok(sqlx::query_as::<$db, $crate::store::LogRecord>(&sql)
                    .bind(trace_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn trace_occurrences(
                &self,
                trace_id: &str,
            ) -> $crate::store::StoreResult<Vec<$crate::store::OccurrenceRecord>> {
                let sql = format!(
                    "SELECT {} FROM exception_events e \
                     JOIN app_exceptions g ON g.id = e.exception_id \
                     WHERE e.trace_id = $1 ORDER BY e.timestamp, e.id LIMIT {}",
                    super::read_sql::OCCURRENCE_COLUMNS,
                    super::read_sql::TRACE_ROWS
                );
                Ok(sqlx::query_as::<$db, $crate::store::OccurrenceRecord>(&sql)
                    .bind(trace_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn query_exceptions(
                &self,
                f: &$crate::query::exceptions::ExceptionFilter,
            ) -> $crate::store::StoreResult<$crate::store::Page<$crate::store::ExceptionRecord>>
            {
                let w = f.where_clause(true);
                let sql = format!(
                    "SELECT {} FROM app_exceptions{} \
                     ORDER BY last_seen_at DESC, id DESC LIMIT {}",
                    super::read_sql::EXCEPTION_COLUMNS,
                    w.sql(),
                    u64::from(f.limit) + 1
                );
                let q = sqlx::query_as::<$db, $crate::store::ExceptionRecord>(&sql);
                let rows = bind_all!(q, &w.binds).fetch_all(&self.pool).await?;
                let c = f.where_clause(false);
                let count = format!("SELECT COUNT(*) FROM app_exceptions{}", c.sql());
                let q = sqlx::query_scalar::<$db, i64>(&count);
                let total = bind_all!(q, &c.binds).fetch_one(&self.pool).await?;
                Ok($crate::store::Page { rows, total })
            }

            async fn top_exceptions(
                &self,
                from_us: i64,
                to_us: i64,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::store::PatternRow>> {
                let sql = format!(
                    "SELECT e.exception_id, g.exception_type, g.exception_message, \
                     g.is_resolved, COUNT(*) AS occurrences FROM exception_events e \
                     JOIN app_exceptions g ON g.id = e.exception_id \
                     WHERE e.timestamp >= $1 AND e.timestamp <= $2 \
                     GROUP BY e.exception_id, g.exception_type, g.exception_message, \
                     g.is_resolved ORDER BY occurrences DESC, e.exception_id LIMIT {limit}"
                );
                Ok(sqlx::query_as::<$db, $crate::store::PatternRow>(&sql)
                    .bind(from_us)
                    .bind(to_us)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn exception_counts(
                &self,
                ids: &[uuid::Uuid],
                from_us: i64,
                to_us: i64,
            ) -> $crate::store::StoreResult<Vec<(uuid::Uuid, i64)>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(
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
                Ok(qb.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn get_exception(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<$crate::store::ExceptionRecord> {
                let sql = format!(
                    "SELECT {} FROM app_exceptions WHERE id = $1",
                    super::read_sql::EXCEPTION_COLUMNS
                );
                Ok(sqlx::query_as::<$db, $crate::store::ExceptionRecord>(&sql)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn recent_occurrences(
                &self,
                id: uuid::Uuid,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::OccurrenceRecord>> {
                let sql = format!(
                    "SELECT {} FROM exception_events e \
                     JOIN app_exceptions g ON g.id = e.exception_id \
                     WHERE e.exception_id = $1 ORDER BY e.timestamp DESC, e.id DESC LIMIT $2",
                    super::read_sql::OCCURRENCE_COLUMNS
                );
                Ok(sqlx::query_as::<$db, $crate::store::OccurrenceRecord>(&sql)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn resolve_exception(
                &self,
                id: uuid::Uuid,
                at_us: i64,
                by: &str,
                notes: Option<&str>,
            ) -> $crate::store::StoreResult<()> {
                let done = sqlx::query::<$db>(
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
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(())
            }
        }
    };
}

pub(super) use {bind_all, impl_read_store};
