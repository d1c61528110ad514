//! [`Aggregator`]: per (project, source, metric, endpoint, minute) count, errors, sum, min, max
//! and a [`Sketch`], fed one observation at a time by the ingest writer and drained once per
//! flush into rows of the `performance_metrics` shape; and [`roll_up`], which turns minute rows
//! into 5-minute, hourly and daily rows by merging.
//!
//! Cardinality is bounded per project: a project may have at most `max_series` distinct
//! (source, metric, endpoint) series; observations of a new series past the cap are counted in
//! [`Drained::dropped`] instead of kept. The endpoint is meant to be a route template, so the
//! cap only bites on a misbehaving client.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use tracewire_shared::api::monitoring::Period;
use tracewire_shared::validate::Source;
use uuid::Uuid;

use super::sketch::Sketch;

/// Default cap of distinct series per project.
pub const DEFAULT_MAX_SERIES: usize = 2000;

const MINUTE_US: i64 = 60_000_000;

/// One measurement as the writer has it; borrowed so a hit on a known series allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Project the series belongs to; the series cap is counted per project.
    pub project_id: Uuid,
    /// Who sent it (browser, backend, or the collector itself); part of the series identity.
    pub source: Source,
    /// `http_request`, `db_query`, `web_vital`, …
    pub metric_type: &'a str,
    /// Name inside the family (method, statement summary, `LCP`).
    pub metric_name: &'a str,
    /// Route template or page; `None` for a metric sent without one (one series per name).
    pub endpoint: Option<&'a str>,
    /// Unit of `value`, kept from the series' first observation.
    pub unit: &'a str,
    /// The measured value in `unit`; NaN is counted but kept out of the sketch.
    pub value: f64,
    /// Whether it counts as an error (5xx, failed statement).
    pub is_error: bool,
    /// Event time in microseconds since the epoch.
    pub timestamp_us: i64,
}

/// The identity of a series, owned, as it goes into a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// Project the row belongs to; series of different projects never merge.
    pub project_id: Uuid,
    /// Who sent it (`frontend`, `backend`, `collector`).
    pub source: Source,
    /// `metric_type` column.
    pub metric_type: String,
    /// `metric_name` column.
    pub metric_name: String,
    /// `endpoint` column; `None` for a metric sent without one.
    pub endpoint: Option<String>,
}

/// One aggregate row: a series over one period.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateRow {
    /// The series the row aggregates; rows merge only with rows of the same key.
    pub series: SeriesKey,
    /// `unit` column, taken from the series' first observation.
    pub unit: String,
    /// `aggregation_period` column.
    pub period: Period,
    /// `period_start`, microseconds since the epoch, aligned to the period (UTC).
    pub period_start_us: i64,
    /// Observations in the period, NaN values included (the sketch's count leaves them out).
    pub count: u64,
    /// Observations flagged as errors (5xx or 499 requests, failed statements); at most `count`.
    pub errors: u64,
    /// Distribution; also holds sum, min and max.
    pub sketch: Sketch,
}

impl AggregateRow {
    /// `period_end` column: the start plus the period's length, in microseconds.
    pub fn period_end_us(&self) -> i64 {
        self.period_start_us + self.period.seconds() * 1_000_000
    }

    /// The row's `value` column: the mean, as the seed's single-value shape expects.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sketch.sum() / self.count as f64
        }
    }

    /// Adds another row of the same series into this one.
    pub(super) fn absorb(&mut self, other: &AggregateRow) {
        self.count += other.count;
        self.errors += other.errors;
        self.sketch.merge(&other.sketch);
    }
}

/// The percentiles the monitoring endpoints show, computed from a row's sketch when the row is
/// written (`p50`, `p95`, `p99` columns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    /// 50th percentile, within 1 % (the sketch's accuracy).
    pub p50: f64,
    /// 95th percentile, within 1 %.
    pub p95: f64,
    /// 99th percentile, within 1 %.
    pub p99: f64,
}

impl Quantiles {
    /// Of a sketch; zeros when it is empty (as the API shows an empty bucket).
    pub fn of(sketch: &Sketch) -> Self {
        let q = |q| sketch.quantile(q).unwrap_or(0.0);
        Self {
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
        }
    }
}

/// An aggregate row as the monitoring endpoints read it: the stored figures and percentiles,
/// and the sketch only where the reader has to merge the row with others. Decoding and merging
/// sketches was most of the time of a month-long chart; a bucket that is one stored row needs
/// neither.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The stored row's id; `None` for a row merged by the reader.
    pub id: Option<Uuid>,
    /// The series the row aggregates.
    pub series: SeriesKey,
    /// `unit` column.
    pub unit: String,
    /// `period_start`, microseconds since the epoch.
    pub period_start_us: i64,
    /// Observations in the period; the denominator of the mean and of the error rate.
    pub count: u64,
    /// Observations flagged as errors (5xx or 499 requests, failed statements); at most `count`.
    pub errors: u64,
    /// Sum, min and max of the observations (min and max 0 when there were none).
    pub sum: f64,
    /// Smallest value in the period, exact; 0 when there were none.
    pub min: f64,
    /// Largest value in the period, exact; 0 when there were none.
    pub max: f64,
    /// As written; `None` for rows written before the columns existed.
    pub quantiles: Option<Quantiles>,
    /// The distribution, where the read needs it (see [`SketchesWanted`]).
    pub sketch: Option<Sketch>,
}

impl From<AggregateRow> for SummaryRow {
    fn from(r: AggregateRow) -> Self {
        Self {
            id: None,
            series: r.series,
            unit: r.unit,
            period_start_us: r.period_start_us,
            count: r.count,
            errors: r.errors,
            sum: r.sketch.sum(),
            min: r.sketch.min().unwrap_or(0.0),
            max: r.sketch.max().unwrap_or(0.0),
            quantiles: None,
            sketch: Some(r.sketch),
        }
    }
}

/// Which rows of a summary read carry their sketch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SketchesWanted {
    /// None: the caller only adds counts.
    None,
    /// Rows that share their bucket (metric name, endpoint, period start) with another row, or
    /// that have no stored percentiles: what a per-series chart merges.
    WhereMerged,
    /// Every row: the caller merges across series.
    All,
}

/// What one [`Aggregator::drain`] hands to the writer.
#[derive(Debug, Default)]
pub struct Drained {
    /// Minute rows, to be merged into stored rows of the same key (upsert by sketch merge).
    pub rows: Vec<AggregateRow>,
    /// Observations dropped by the series cap since the last drain, per project.
    pub dropped: HashMap<Uuid, u64>,
}

struct Cell {
    count: u64,
    errors: u64,
    sketch: Sketch,
}

struct SeriesMeta {
    key: SeriesKey,
    unit: String,
}

#[derive(Default)]
struct ProjectSeries {
    /// Joined key (see [`Aggregator::key_into`]) → series number.
    ids: HashMap<String, u32>,
}

/// Minute aggregates of everything observed since the last drain. Not thread-safe on purpose:
/// the one writer task owns it.
pub struct Aggregator {
    max_series: usize,
    projects: HashMap<Uuid, ProjectSeries>,
    series: Vec<SeriesMeta>,
    cells: HashMap<(u32, i64), Cell>,
    dropped: HashMap<Uuid, u64>,
    /// Reused buffer for the joined key, so lookups of known series do not allocate.
    scratch: String,
}

impl Aggregator {
    /// An empty aggregator allowing `max_series` series per project.
    pub fn new(max_series: usize) -> Self {
        Self {
            max_series,
            projects: HashMap::new(),
            series: Vec::new(),
            cells: HashMap::new(),
            dropped: HashMap::new(),
            scratch: String::new(),
        }
    }

    /// Series known so far (across drains): the cap counts them.
    pub fn series_count(&self, project_id: Uuid) -> usize {
        self.projects.get(&project_id).map_or(0, |p| p.ids.len())
    }

    fn key_into(buf: &mut String, o: &Observation<'_>) {
        buf.clear();
        buf.push_str(o.source.as_str());
        buf.push('\u{1f}');
        buf.push_str(o.metric_type);
        buf.push('\u{1f}');
        buf.push_str(o.metric_name);
        buf.push('\u{1f}');
        match o.endpoint {
            Some(e) => {
                buf.push('+');
                buf.push_str(e);
            }
            None => buf.push('-'),
        }
    }

    /// Adds one measurement; returns false when the series cap dropped it. NaN values are
    /// counted but not put in the distribution.
    pub fn observe(&mut self, o: Observation<'_>) -> bool {
        Self::key_into(&mut self.scratch, &o);
        let project = self.projects.entry(o.project_id).or_default();
        let id = match project.ids.get(self.scratch.as_str()) {
            Some(&id) => id,
            None if project.ids.len() >= self.max_series => {
                *self.dropped.entry(o.project_id).or_default() += 1;
                return false;
            }
            None => {
                let id = self.series.len() as u32;
                project.ids.insert(self.scratch.clone(), id);
                self.series.push(SeriesMeta {
                    key: SeriesKey {
                        project_id: o.project_id,
                        source: o.source,
                        metric_type: o.metric_type.to_owned(),
                        metric_name: o.metric_name.to_owned(),
                        endpoint: o.endpoint.map(str::to_owned),
                    },
                    unit: o.unit.to_owned(),
                });
                id
            }
        };
        let minute = o.timestamp_us.div_euclid(MINUTE_US) * MINUTE_US;
        let cell = match self.cells.entry((id, minute)) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Cell {
                count: 0,
                errors: 0,
                sketch: Sketch::new(),
            }),
        };
        cell.count += 1;
        cell.errors += u64::from(o.is_error);
        cell.sketch.add(o.value);
        true
    }

    /// Everything observed since the last drain, as minute rows ordered by series and time.
    pub fn drain(&mut self) -> Drained {
        let mut rows: Vec<AggregateRow> = self
            .cells
            .drain()
            .map(|((id, start), cell)| {
                let meta = &self.series[id as usize];
                AggregateRow {
                    series: meta.key.clone(),
                    unit: meta.unit.clone(),
                    period: Period::Minute,
                    period_start_us: start,
                    count: cell.count,
                    errors: cell.errors,
                    sketch: cell.sketch,
                }
            })
            .collect();
        rows.sort_by(|a, b| (&a.series, a.period_start_us).cmp(&(&b.series, b.period_start_us)));
        Drained {
            rows,
            dropped: std::mem::take(&mut self.dropped),
        }
    }
}

/// Start of the `period` containing `us` (UTC; days start at midnight UTC).
pub fn period_start(period: Period, us: i64) -> i64 {
    let len = period.seconds() * 1_000_000;
    us.div_euclid(len) * len
}

/// Merges finer rows into rows of `period`, one per series and period start. Rows coarser
/// than `period` are refused by being left out, since they cannot be split.
pub fn roll_up<'a>(
    rows: impl IntoIterator<Item = &'a AggregateRow>,
    period: Period,
) -> Vec<AggregateRow> {
    let mut merged: HashMap<(SeriesKey, i64), AggregateRow> = HashMap::new();
    for row in rows {
        if row.period.seconds() > period.seconds() {
            continue;
        }
        let start = period_start(period, row.period_start_us);
        match merged.entry((row.series.clone(), start)) {
            Entry::Occupied(mut e) => e.get_mut().absorb(row),
            Entry::Vacant(e) => {
                e.insert(AggregateRow {
                    period,
                    period_start_us: start,
                    ..row.clone()
                });
            }
        }
    }
    let mut out: Vec<AggregateRow> = merged.into_values().collect();
    out.sort_by(|a, b| (&a.series, a.period_start_us).cmp(&(&b.series, b.period_start_us)));
    out
}

#[cfg(test)]
mod tests;
