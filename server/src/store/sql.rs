//! SQL text of the write side (`statements/write.rs`), shared by both backends.

/// Rows per multi-value INSERT: 22 columns × 500 stays under SQLite's 32,766 variables.
pub(super) const INSERT_CHUNK: usize = 500;

pub(super) const INSERT_METRICS_HEAD: &str = "INSERT INTO performance_metrics (id, project_id, \
    source, metric_type, metric_name, value, unit, timestamp, endpoint, trace_id, tags) ";

pub(super) const INSERT_BATCHES_HEAD: &str = "INSERT INTO ingest_batches (batch_id, project_id, \
    accepted_logs, accepted_exceptions, accepted_metrics, received_at) ";

pub(super) const BUMP_LOG: &str = "UPDATE app_logs SET dedup_count = dedup_count + $2, \
    first_seen_at = CASE WHEN $3 < first_seen_at THEN $3 ELSE first_seen_at END, \
    last_seen_at = CASE WHEN $4 > last_seen_at THEN $4 ELSE last_seen_at END WHERE id = $1";

/// Upsert of an exception group. A resolved group that receives an occurrence after its
/// resolution reopens and records the regression time, as Sentry does. Both are judged on `$10`,
/// the collector's clock when the occurrence is written, not on the occurrence's own timestamp:
/// a browser's clock may run behind, and an event that happened before the resolution but
/// arrives after it (an offline buffer, a retry) is still a sign the fix did not hold.
pub(super) const UPSERT_EXCEPTION: &str = "INSERT INTO app_exceptions (id, project_id, \
    fingerprint, source, exception_type, exception_message, stack_trace, request_path, \
    first_seen_at, last_seen_at, occurrence_count, is_resolved, first_received_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, FALSE, $10) \
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
        AND excluded.first_received_at > COALESCE(app_exceptions.resolved_at, 0) \
        THEN excluded.first_received_at ELSE app_exceptions.regressed_at END, \
    is_resolved = CASE WHEN app_exceptions.is_resolved \
        AND excluded.first_received_at > COALESCE(app_exceptions.resolved_at, 0) \
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
/// a handful of distinct keys, so a linear scan beats hashing. Sorted by key: every collector's
/// writer then locks the tallies in the same order, so two groups committing at once on one
/// PostgreSQL wait for each other instead of deadlocking.
pub(super) fn tally(rows: &[super::LogRow]) -> Vec<(i64, &str, &str, i64)> {
    let mut out: Vec<(i64, &str, &str, i64)> = Vec::new();
    for r in rows {
        let bucket = crate::query::count::bucket_of(r.timestamp);
        match out
            .iter_mut()
            .find(|(b, l, s, _)| *b == bucket && *l == r.level && *s == r.source)
        {
            Some(t) => t.3 += 1,
            None => out.push((bucket, &r.level, &r.source, 1)),
        }
    }
    out.sort_unstable();
    out
}

pub(super) const RECENT_LOGS: &str = "SELECT id, project_id, source, level, message, module, \
    function, trace_id, user_id, first_seen_at FROM app_logs WHERE timestamp >= $1";
