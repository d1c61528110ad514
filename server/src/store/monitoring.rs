//! The store of performance monitoring: aggregate rows (one per series and period, in the
//! seed's `performance_metrics` shape plus count, errors and a mergeable sketch), slow requests
//! and slow statements. Ingest writes them inside its group transaction ([`super::WriteTx`]);
//! the monitoring API, the roll-up job and the alert evaluator read them through
//! [`MonitoringStore`].

use super::StoreResult;
use crate::monitoring::aggregate::{AggregateRow, Quantiles, SeriesKey, SummaryRow};
use crate::monitoring::sketch::Sketch;
use async_trait::async_trait;
use tracewire_shared::api::monitoring::Period;
use uuid::Uuid;

/// Which aggregate rows to read: one metric family over `[from_us, to_us)`, optionally one
/// name, endpoint and source. Rows of every project are returned (rules and dashboards look
/// at the whole collector).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesFilter {
    /// `metric_type` (`http_request`, `db_query`, `web_vital`, or a custom family).
    pub metric_type: String,
    /// `metric_name` within the family; `None` for all names.
    pub metric_name: Option<String>,
    /// Route template or page; `None` for every endpoint.
    pub endpoint: Option<String>,
    /// `frontend` or `backend`; `None` for both.
    pub source: Option<String>,
    /// Which rows: minute rows for short windows, coarser roll-ups for long ones.
    pub period: Period,
    /// Inclusive start of the first period wanted (µs).
    pub from_us: i64,
    /// Exclusive end (µs): rows whose period starts before it.
    pub to_us: i64,
}

/// One request over the slow threshold, recorded at ingest (seed property 5).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SlowRequestRow {
    /// UUIDv7 (keyset tie-breaker).
    pub id: Uuid,
    /// Project the request log arrived in.
    pub project_id: Uuid,
    /// When the request happened (µs), by the sender's clock.
    pub timestamp: i64,
    /// `frontend` (a fetch the browser timed) or `backend` (the middleware's request log).
    pub source: String,
    /// HTTP method.
    pub method: Option<String>,
    /// Route template (`/api/orders/{id}`), or the masked path when the sender had none.
    pub endpoint: String,
    /// The raw path as logged, for the one request.
    pub path: Option<String>,
    /// HTTP status answered; ingest always sets it (the column is nullable).
    pub status: Option<i32>,
    /// Duration in milliseconds, at least the slow-request threshold.
    pub duration_ms: f64,
    /// The request's trace: the way to its logs.
    pub trace_id: Option<String>,
    /// The request log row it was taken from.
    pub log_id: Uuid,
}

/// One database statement over `slow_query_ms`, as the middleware reported it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SlowQueryRow {
    /// UUIDv7.
    pub id: Uuid,
    /// Project the metric arrived in.
    pub project_id: Uuid,
    /// When the statement ran (µs).
    pub timestamp: i64,
    /// sqlx's statement summary (its first words).
    pub summary: String,
    /// The statement text, cut to 2,000 characters by the middleware.
    pub statement: Option<String>,
    /// Duration in milliseconds, as the middleware measured it.
    pub duration_ms: f64,
    /// Rows returned or affected, when reported.
    pub row_count: Option<i64>,
    /// Route template of the request that ran it.
    pub endpoint: Option<String>,
    /// The request's trace.
    pub trace_id: Option<String>,
}

/// Reads of the monitoring tables.
#[async_trait]
pub trait MonitoringStore: Send + Sync {
    /// Aggregate rows matching `filter`, oldest period first. Callers merge their sketches; the
    /// store never averages percentiles.
    async fn aggregate_rows(&self, filter: &SeriesFilter) -> StoreResult<Vec<AggregateRow>>;
    /// The same rows as [`MonitoringStore::aggregate_rows`] with their stored percentiles;
    /// with their sketches only when `with_sketches` (reading and decoding them is most of the
    /// cost of a long window).
    async fn aggregate_summaries(
        &self,
        filter: &SeriesFilter,
        with_sketches: bool,
    ) -> StoreResult<Vec<SummaryRow>>;
    /// The sketches of the rows `ids`, for the buckets a summary read has to merge.
    async fn aggregate_sketches(&self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, Sketch)>>;
    /// Slow requests in `[from_us, to_us]` of at least `min_duration_ms`, newest first, after
    /// the keyset position `before` (timestamp, id), at most `limit + 1` rows.
    async fn slow_requests(
        &self,
        min_duration_ms: f64,
        from_us: i64,
        to_us: i64,
        before: Option<(i64, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<SlowRequestRow>>;
    /// How many slow requests of at least `min_duration_ms` in `[from_us, to_us]`, optionally
    /// for one endpoint: the alert evaluator's slow-request count.
    async fn count_slow_requests(
        &self,
        min_duration_ms: f64,
        endpoint: Option<&str>,
        from_us: i64,
        to_us: i64,
    ) -> StoreResult<i64>;
    /// How many slow statements of at least `min_duration_ms` in `[from_us, to_us]`.
    async fn count_slow_queries(
        &self,
        min_duration_ms: f64,
        from_us: i64,
        to_us: i64,
    ) -> StoreResult<i64>;
    /// Slow statements like [`MonitoringStore::slow_requests`].
    async fn slow_queries(
        &self,
        min_duration_ms: f64,
        from_us: i64,
        to_us: i64,
        before: Option<(i64, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<SlowQueryRow>>;
    /// Deletes slow requests and statements older than `before_us`; returns how many.
    async fn prune_slow(&self, before_us: i64) -> StoreResult<u64>;
    /// Folds changed rows of `finer` into their `coarser` rows: for up to `max_rows` rows
    /// changed since the last call, each affected coarser row is rebuilt by merging every
    /// `finer` row of its period, and the finer rows are marked folded, in one transaction
    /// (rows written meanwhile stay marked as changed). Returns the coarser rows rebuilt; 0
    /// means nothing was left to fold.
    async fn roll_up_changed(
        &self,
        finer: Period,
        coarser: Period,
        max_rows: u32,
    ) -> StoreResult<usize>;
    /// Deletes aggregate rows and family totals of `period` whose period started before
    /// `before_us`.
    async fn prune_aggregates(&self, period: Period, before_us: i64) -> StoreResult<u64>;
    /// Family totals (`metric_family_totals`: every name and endpoint of a family merged per
    /// project, source and bucket) of `filter`'s family, source, period and window, oldest
    /// first; `filter`'s name and endpoint are ignored. Series carry an empty name and no
    /// endpoint. No minute totals are stored.
    async fn family_rows(&self, filter: &SeriesFilter) -> StoreResult<Vec<AggregateRow>>;
    /// [`MonitoringStore::family_rows`] as summaries, like
    /// [`MonitoringStore::aggregate_summaries`].
    async fn family_summaries(
        &self,
        filter: &SeriesFilter,
        with_sketches: bool,
    ) -> StoreResult<Vec<SummaryRow>>;
    /// The sketches of the family totals `ids`.
    async fn family_sketches(&self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, Sketch)>>;
    /// Builds the family totals of up to `max` buckets queued by migration 0009 (rolled up
    /// before totals existed) from their stored coarse rows; returns how many. 0: none left.
    async fn backfill_family_totals(&self, max: u32) -> StoreResult<usize>;
}

/// `metric_aggregates` columns as read; [`AggregateRecord::into_row`] checks what the types
/// cannot (known period and source, a sketch that decodes).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct AggregateRecord {
    pub id: Uuid,
    pub project_id: Uuid,
    pub source: String,
    pub metric_type: String,
    pub metric_name: String,
    pub endpoint: String,
    pub aggregation_period: String,
    pub period_start: i64,
    pub unit: String,
    pub count: i64,
    pub errors: i64,
    pub sketch: Vec<u8>,
}

/// Columns [`AggregateRecord`] reads.
pub(super) const AGGREGATE_COLUMNS: &str = "id, project_id, source, metric_type, metric_name, \
    endpoint, aggregation_period, period_start, unit, count, errors, sketch";

/// [`AGGREGATE_COLUMNS`] of `metric_family_totals`, which has no name or endpoint: read as
/// empty, so one record type serves both tables.
pub(super) const FAMILY_AGGREGATE_COLUMNS: &str = "id, project_id, source, metric_type, \
    '' AS metric_name, '' AS endpoint, aggregation_period, period_start, unit, count, errors, \
    sketch";

/// `metric_aggregates` columns as a summary read has them; `sketch` is NULL where the query
/// did not ask for it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct SummaryRecord {
    pub id: Uuid,
    pub project_id: Uuid,
    pub source: String,
    pub metric_type: String,
    pub metric_name: String,
    pub endpoint: String,
    pub period_start: i64,
    pub unit: String,
    pub count: i64,
    pub errors: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub sketch: Option<Vec<u8>>,
}

/// Columns of [`SummaryRecord`] but the sketch, which the query chooses per row.
pub(super) const SUMMARY_COLUMNS: &str = "id, project_id, source, metric_type, metric_name, \
    endpoint, period_start, unit, count, errors, sum, min, max, p50, p95, p99";

/// [`SUMMARY_COLUMNS`] of `metric_family_totals` (see [`FAMILY_AGGREGATE_COLUMNS`]).
pub(super) const FAMILY_SUMMARY_COLUMNS: &str = "id, project_id, source, metric_type, \
    '' AS metric_name, '' AS endpoint, period_start, unit, count, errors, sum, min, max, p50, \
    p95, p99";

impl SummaryRecord {
    /// The typed row, checked like [`AggregateRecord::into_row`].
    pub(super) fn into_row(self) -> StoreResult<SummaryRow> {
        let series = series_key(
            self.project_id,
            &self.source,
            self.metric_type,
            self.metric_name,
            self.endpoint,
        )?;
        let sketch = self.sketch.as_deref().map(decode_sketch).transpose()?;
        let quantiles = match (self.p50, self.p95, self.p99) {
            (Some(p50), Some(p95), Some(p99)) => Some(Quantiles { p50, p95, p99 }),
            _ => None,
        };
        Ok(SummaryRow {
            id: Some(self.id),
            series,
            unit: self.unit,
            period_start_us: self.period_start,
            count: u64::try_from(self.count).unwrap_or_default(),
            errors: u64::try_from(self.errors).unwrap_or_default(),
            sum: self.sum,
            min: self.min,
            max: self.max,
            quantiles,
            sketch,
        })
    }
}

/// The unique key of `metric_aggregates` (migration 0008's column order), for `ON CONFLICT`.
pub(super) const AGGREGATE_KEY: &str =
    "(aggregation_period, metric_type, metric_name, endpoint, period_start, source, project_id)";

impl AggregateRecord {
    /// The typed row; a row this collector could not have written is an error, not a guess.
    pub(super) fn into_row(self) -> StoreResult<AggregateRow> {
        let period = Period::parse(&self.aggregation_period).ok_or_else(|| corrupt("period"))?;
        let sketch = decode_sketch(&self.sketch)?;
        Ok(AggregateRow {
            series: series_key(
                self.project_id,
                &self.source,
                self.metric_type,
                self.metric_name,
                self.endpoint,
            )?,
            unit: self.unit,
            period,
            period_start_us: self.period_start,
            count: u64::try_from(self.count).unwrap_or_default(),
            errors: u64::try_from(self.errors).unwrap_or_default(),
            sketch,
        })
    }
}

/// A stored row this collector could not have written: an error, not a guess.
fn corrupt(what: &str) -> super::StoreError {
    super::StoreError::Corrupt(format!("metric_aggregates: {what}"))
}

/// A stored sketch, decoded.
pub(super) fn decode_sketch(bytes: &[u8]) -> StoreResult<Sketch> {
    Sketch::from_bytes(bytes).map_err(|e| corrupt(&e.to_string()))
}

/// The series of a stored row (`endpoint` is '' when it has none).
fn series_key(
    project_id: Uuid,
    source: &str,
    metric_type: String,
    metric_name: String,
    endpoint: String,
) -> StoreResult<SeriesKey> {
    Ok(SeriesKey {
        project_id,
        source: source.parse().map_err(|_| corrupt("source"))?,
        metric_type,
        metric_name,
        endpoint: (!endpoint.is_empty()).then_some(endpoint),
    })
}
