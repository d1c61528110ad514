//! The query side of the store: reads of logs, traces and exception groups, a supertrait of
//! [`super::Store`] so the ingest trait stays readable. Both backends implement it once, in
//! `statements/read.rs`.

use super::StoreResult;
use crate::query::exceptions::ExceptionFilter;
use crate::query::logs::LogFilter;
use crate::query::stats::StatsQuery;
use async_trait::async_trait;

use super::rows::LogRow;
use uuid::Uuid;

/// One `app_exceptions` group: every occurrence with the same fingerprint, summarized. The
/// occurrences themselves are `exception_events` rows ([`OccurrenceRecord`]).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExceptionRecord {
    /// Group id (UUIDv7 of the first occurrence's write).
    pub id: Uuid,
    /// Project the occurrences arrived in; fingerprints are unique per project.
    pub project_id: Uuid,
    /// Hash of the type and normalized in-app frames (of the masked message without a stack).
    pub fingerprint: String,
    /// `frontend` or `backend` of the first occurrence.
    pub source: String,
    /// Error class (`TypeError`, `sqlx::Error`, …).
    pub exception_type: String,
    /// Message of the latest occurrence (the group keeps no history of messages).
    pub exception_message: String,
    /// Latest stack trace that had one.
    pub stack_trace: Option<String>,
    /// Latest page or endpoint that had one.
    pub request_path: Option<String>,
    /// First occurrence (µs).
    pub first_seen_at: i64,
    /// Latest occurrence (µs).
    pub last_seen_at: i64,
    /// Occurrences ever recorded; retention deletes old occurrences but not this count.
    pub occurrence_count: i64,
    /// Resolved by a user and not seen since.
    pub is_resolved: bool,
    /// When it was last resolved (µs); a later occurrence reopens it.
    pub resolved_at: Option<i64>,
    /// Username of who resolved it.
    pub resolved_by: Option<String>,
    /// What the resolver wrote (fix, release, ticket).
    pub resolution_notes: Option<String>,
    /// When it last came back after a resolution (µs).
    pub regressed_at: Option<i64>,
}

/// One occurrence of an exception group, with the group's type so a trace timeline needs no
/// second query.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OccurrenceRecord {
    /// Occurrence id (`exception_events.id`).
    pub id: Uuid,
    /// The group it belongs to (`app_exceptions.id`).
    pub exception_id: Uuid,
    /// The group's error class.
    pub exception_type: String,
    /// The group's source (`frontend`, `backend`, `collector`).
    pub source: String,
    /// When it happened, by the sender's clock (µs).
    pub timestamp: i64,
    /// Trace of the request it happened in: the link to that request's logs.
    pub trace_id: Option<String>,
    /// Span that raised it (16 hex); `None` when the sender had no span.
    pub span_id: Option<String>,
    /// Application user it happened to.
    pub user_id: Option<String>,
    /// Page or endpoint it happened on.
    pub request_path: Option<String>,
    /// This occurrence's own message (the group shows only the latest).
    pub exception_message: String,
    /// This occurrence's stack trace.
    pub stack_trace: Option<String>,
}

/// Logs of one (bucket, level, source).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatsRow {
    /// Bucket start (µs).
    pub bucket: i64,
    /// Canonical level name (`DEBUG` … `CRITICAL`, upper case).
    pub level: String,
    /// `frontend` or `backend`.
    pub source: String,
    /// Rows stored (each may stand for several duplicates).
    pub log_rows: i64,
    /// Events including collapsed duplicates (sum of `dedup_count`).
    pub events: i64,
}

/// Occurrences of one exception group inside a time window.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PatternRow {
    /// The group (`app_exceptions.id`).
    pub exception_id: Uuid,
    /// Group's type.
    pub exception_type: String,
    /// Group's latest message.
    pub exception_message: String,
    /// Whether the group is resolved now.
    pub is_resolved: bool,
    /// Occurrences in the window; the patterns list sorts by it.
    pub occurrences: i64,
}

/// A page of rows plus the count of every row matching the filters (cursor aside).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Up to `limit + 1` rows; one more than the limit means there is a next page.
    pub rows: Vec<T>,
    /// Rows matching the filters with no cursor: the total of all pages, not only this one.
    pub total: i64,
}

/// Reads of logs and exception groups, and resolving groups.
#[async_trait]
pub trait QueryStore: Send + Sync {
    /// One page of logs, newest first (`limit + 1` rows at most), without counting the total;
    /// exports walk pages with this.
    async fn page_logs(&self, filter: &LogFilter) -> StoreResult<Vec<LogRow>>;
    /// Logs matching a tail window ([`crate::query::tail::tail_clause`]) in id order.
    async fn tail_logs(
        &self,
        window: &crate::query::sql::WhereClause,
        limit: u32,
    ) -> StoreResult<Vec<LogRow>>;
    /// One page of logs, newest first, and the total matching.
    async fn query_logs(&self, filter: &LogFilter) -> StoreResult<Page<LogRow>>;
    /// Log counts per time bucket, level and source.
    async fn log_statistics(&self, query: &StatsQuery) -> StoreResult<Vec<StatsRow>>;
    /// One log by id (`NotFound` otherwise).
    async fn get_log(&self, id: Uuid) -> StoreResult<LogRow>;
    /// Logs of one trace in time order (bounded).
    async fn trace_logs(&self, trace_id: &str) -> StoreResult<Vec<LogRow>>;
    /// Exception occurrences of one trace in time order (bounded).
    async fn trace_occurrences(&self, trace_id: &str) -> StoreResult<Vec<OccurrenceRecord>>;
    /// One page of exception groups, last seen first, and the total matching.
    async fn query_exceptions(
        &self,
        filter: &ExceptionFilter,
    ) -> StoreResult<Page<ExceptionRecord>>;
    /// The groups with most occurrences in `[from_us, to_us]`, most first.
    async fn top_exceptions(
        &self,
        from_us: i64,
        to_us: i64,
        limit: u32,
    ) -> StoreResult<Vec<PatternRow>>;
    /// Occurrences of each of `ids` in `[from_us, to_us]` (groups without any are absent).
    async fn exception_counts(
        &self,
        ids: &[Uuid],
        from_us: i64,
        to_us: i64,
    ) -> StoreResult<Vec<(Uuid, i64)>>;
    /// Occurrences of each of `ids` per bucket of `width_us` from `from_us` up to `to_us`
    /// (inclusive), as (group, bucket index, count); empty buckets are absent. One grouped
    /// query for all groups, along the (exception_id, timestamp) index.
    async fn exception_histogram(
        &self,
        ids: &[Uuid],
        from_us: i64,
        to_us: i64,
        width_us: i64,
    ) -> StoreResult<Vec<(Uuid, i64, i64)>>;
    /// One group by id (`NotFound` otherwise).
    async fn get_exception(&self, id: Uuid) -> StoreResult<ExceptionRecord>;
    /// The group's most recent occurrences, newest first.
    async fn recent_occurrences(&self, id: Uuid, limit: i64) -> StoreResult<Vec<OccurrenceRecord>>;
    /// Marks a group resolved (`NotFound` when it does not exist).
    async fn resolve_exception(
        &self,
        id: Uuid,
        at_us: i64,
        by: &str,
        notes: Option<&str>,
    ) -> StoreResult<()>;
}
