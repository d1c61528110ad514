//! SQL text of retention (`statements/retention.rs`), shared by both backends.

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
