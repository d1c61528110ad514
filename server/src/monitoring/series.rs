//! What the monitoring endpoints answer, computed from aggregate rows: series of points per
//! (metric, endpoint), error rates per endpoint and web-vital p75 per page. Pure, so the
//! arithmetic is tested without a database; percentiles always come from merged sketches.

use super::aggregate::{Quantiles, SummaryRow};
use super::sketch::Sketch;
use std::collections::BTreeMap;
use tracewire_shared::api::monitoring::{
    EndpointErrorRate, MetricPoint, MetricSeries, Period, WebVitalP75,
};
use tracewire_shared::validate::format_timestamp_us;

/// The bucket width for a window: about 60–360 points for a chart, never finer than the rows
/// kept for that age would allow by default.
pub fn choose_period(from_us: i64, to_us: i64) -> Period {
    let hours = (to_us - from_us) / 3_600_000_000;
    match hours {
        h if h <= 6 => Period::Minute,
        h if h <= 48 => Period::FiveMinutes,
        h if h <= 24 * 30 => Period::Hour,
        _ => Period::Day,
    }
}

/// Counts, extremes and a merged sketch of several rows; a bucket of one row keeps that row's
/// stored percentiles instead.
#[derive(Debug)]
struct Merged {
    rows: usize,
    count: u64,
    errors: u64,
    sum: f64,
    min: f64,
    max: f64,
    /// The stored percentiles of the first row, used while it is the only one.
    stored: Option<Quantiles>,
    sketch: Sketch,
}

impl Default for Merged {
    fn default() -> Self {
        Self {
            rows: 0,
            count: 0,
            errors: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            stored: None,
            sketch: Sketch::new(),
        }
    }
}

impl Merged {
    fn absorb(&mut self, r: &SummaryRow) {
        self.rows += 1;
        if self.rows == 1 {
            self.stored = r.quantiles;
        }
        self.count += r.count;
        self.errors += r.errors;
        self.sum += r.sum;
        if r.count > 0 {
            self.min = self.min.min(r.min);
            self.max = self.max.max(r.max);
        }
        if let Some(sketch) = &r.sketch {
            self.sketch.merge(sketch);
        }
    }

    fn error_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }

    fn min(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.min }
    }

    fn max(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.max }
    }

    /// The stored percentiles of a lone row, else those of the merged sketches.
    fn quantiles(&self) -> Quantiles {
        match self.stored {
            Some(q) if self.rows == 1 => q,
            _ => Quantiles::of(&self.sketch),
        }
    }

    fn quantile(&self, q: f64) -> f64 {
        self.sketch.quantile(q).unwrap_or(0.0)
    }
}

/// One series per (metric type, metric name, endpoint), rows of every project and source in
/// one bucket merged, points oldest first.
pub fn series(rows: &[SummaryRow], period: Period) -> Vec<MetricSeries> {
    type Key<'a> = (&'a str, &'a str, Option<&'a str>);
    let mut by_series: BTreeMap<Key<'_>, (String, BTreeMap<i64, Merged>)> = BTreeMap::new();
    for r in rows {
        let key = (
            r.series.metric_type.as_str(),
            r.series.metric_name.as_str(),
            r.series.endpoint.as_deref(),
        );
        let (_, buckets) = by_series
            .entry(key)
            .or_insert_with(|| (r.unit.clone(), BTreeMap::new()));
        buckets.entry(r.period_start_us).or_default().absorb(r);
    }
    let seconds = period.seconds() as f64;
    by_series
        .into_iter()
        .map(
            |((metric_type, metric_name, endpoint), (unit, buckets))| MetricSeries {
                metric_type: metric_type.to_owned(),
                metric_name: metric_name.to_owned(),
                endpoint: endpoint.map(str::to_owned),
                unit,
                points: buckets
                    .into_iter()
                    .map(|(start, m)| {
                        let q = m.quantiles();
                        MetricPoint {
                            start: format_timestamp_us(start),
                            count: m.count as i64,
                            errors: m.errors as i64,
                            rate: m.count as f64 / seconds,
                            error_rate: m.error_rate(),
                            min: m.min(),
                            max: m.max(),
                            avg: if m.count == 0 {
                                0.0
                            } else {
                                m.sum / m.count as f64
                            },
                            p50: q.p50,
                            p95: q.p95,
                            p99: q.p99,
                        }
                    })
                    .collect(),
            },
        )
        .collect()
}

/// Requests and errors per (endpoint, source), highest error rate first, ties by more
/// errors, then by endpoint for a stable order.
pub fn error_rates(rows: &[SummaryRow]) -> Vec<EndpointErrorRate> {
    let mut by_endpoint: BTreeMap<(Option<&str>, &str), Merged> = BTreeMap::new();
    for r in rows {
        by_endpoint
            .entry((r.series.endpoint.as_deref(), r.series.source.as_str()))
            .or_default()
            .absorb(r);
    }
    let mut out: Vec<EndpointErrorRate> = by_endpoint
        .into_iter()
        .map(|((endpoint, source), m)| EndpointErrorRate {
            endpoint: endpoint.map(str::to_owned),
            source: source.to_owned(),
            requests: m.count as i64,
            errors: m.errors as i64,
            error_rate: m.error_rate(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.error_rate
            .total_cmp(&a.error_rate)
            .then(b.errors.cmp(&a.errors))
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });
    out
}

/// Google's published thresholds (good up to the first, poor above the second).
fn rating(metric: &str, p75: f64) -> &'static str {
    let (good, poor) = match metric {
        "LCP" => (2500.0, 4000.0),
        "INP" => (200.0, 500.0),
        "CLS" => (0.1, 0.25),
        "FCP" => (1800.0, 3000.0),
        "TTFB" => (800.0, 1800.0),
        _ => return "unknown",
    };
    if p75 <= good {
        "good"
    } else if p75 <= poor {
        "needs-improvement"
    } else {
        "poor"
    }
}

/// p75 of each web vital per page, pages in order, metrics in order within a page.
pub fn web_vitals(rows: &[SummaryRow]) -> Vec<WebVitalP75> {
    let mut by_page: BTreeMap<(Option<&str>, &str), Merged> = BTreeMap::new();
    for r in rows {
        by_page
            .entry((r.series.endpoint.as_deref(), r.series.metric_name.as_str()))
            .or_default()
            .absorb(r);
    }
    by_page
        .into_iter()
        .map(|((page, metric), m)| {
            let p75 = m.quantile(0.75);
            WebVitalP75 {
                page: page.map(str::to_owned),
                metric: metric.to_owned(),
                count: m.count as i64,
                p75,
                rating: rating(metric, p75).to_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::aggregate::{AggregateRow, SeriesKey};
    use proptest::prelude::*;
    use tracewire_shared::validate::Source;
    use uuid::Uuid;

    /// A row as the tail of a read has it: sketch, no stored percentiles.
    fn row(endpoint: &str, start: i64, values: &[f64], errors: u64) -> SummaryRow {
        SummaryRow::from(AggregateRow {
            series: SeriesKey {
                project_id: Uuid::nil(),
                source: Source::Backend,
                metric_type: "http_request".into(),
                metric_name: "GET".into(),
                endpoint: Some(endpoint.into()),
            },
            unit: "ms".into(),
            period: Period::Minute,
            period_start_us: start,
            count: values.len() as u64,
            errors,
            sketch: Sketch::from_values(values.iter().copied()),
        })
    }

    /// The same row as a settled lone bucket reads it: stored percentiles, no sketch.
    fn stored(mut r: SummaryRow) -> SummaryRow {
        let sketch = r.sketch.take().expect("built with a sketch");
        r.quantiles = Some(Quantiles::of(&sketch));
        r
    }

    proptest! {
        /// A lone row answered from its stored percentiles gives exactly the point its sketch
        /// would, so skipping the sketch changes nothing but the cost.
        #[test]
        fn stored_percentiles_answer_as_the_sketch_would(
            values in prop::collection::vec(0.0f64..5_000.0, 0..200),
            errors in 0u64..5,
        ) {
            let with_sketch = row("/a", 0, &values, errors);
            let from_columns = stored(with_sketch.clone());
            prop_assert_eq!(
                series(&[with_sketch], Period::Minute),
                series(&[from_columns], Period::Minute)
            );
        }
    }

    #[test]
    fn a_lone_row_uses_its_stored_percentiles_and_a_merged_bucket_its_sketches() {
        // Stored values that no sketch of these observations would give: proof of the path.
        let mut lone = stored(row("/a", 0, &[10.0; 10], 0));
        lone.quantiles = Some(Quantiles {
            p50: 1.0,
            p95: 2.0,
            p99: 3.0,
        });
        let p = &series(&[lone.clone()], Period::Minute)[0].points[0];
        assert_eq!((p.p50, p.p95, p.p99), (1.0, 2.0, 3.0));
        // Two rows in one bucket: the stored figures of one row are not the bucket's.
        let mut other = row("/a", 0, &[1000.0; 10], 0);
        other.series.project_id = Uuid::from_u128(7);
        lone.sketch = Some(Sketch::from_values([10.0; 10]));
        let p = &series(&[lone, other], Period::Minute)[0].points[0];
        assert!((p.p95 - 1000.0).abs() < 20.0, "{}", p.p95);
        assert!((p.p50 - 10.0).abs() < 1.0, "{}", p.p50);
    }

    #[test]
    fn buckets_merge_rows_of_one_minute_and_percentiles_come_from_the_merge() {
        let a = row("/a", 0, &[10.0; 50], 1);
        let mut b = row("/a", 0, &[1000.0; 50], 0);
        b.series.project_id = Uuid::from_u128(7);
        let later = row("/a", 60_000_000, &[5.0], 0);
        let s = series(&[a, b, later], Period::Minute);
        assert_eq!(s.len(), 1);
        let p = &s[0].points;
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].count, 100);
        assert_eq!(p[0].errors, 1);
        assert!((p[0].error_rate - 0.01).abs() < 1e-9);
        // Half the values are 10, half 1000: p95 is near 1000, an average of the two
        // minutes' p95s would not be.
        assert!((p[0].p95 - 1000.0).abs() < 20.0, "{}", p[0].p95);
        assert!((p[0].p50 - 10.0).abs() < 1.0 || (p[0].p50 - 1000.0).abs() < 20.0);
        assert!((p[0].rate - 100.0 / 60.0).abs() < 1e-9);
        assert_eq!(p[1].count, 1);
    }

    #[test]
    fn error_rates_sort_by_rate_then_errors() {
        let rows = [
            row("/low", 0, &[1.0; 100], 1),
            row("/high", 0, &[1.0; 10], 5),
            row("/tie", 0, &[1.0; 20], 10),
        ];
        let rates = error_rates(&rows);
        let order: Vec<_> = rates
            .iter()
            .map(|r| r.endpoint.clone().unwrap_or_default())
            .collect();
        assert_eq!(order, ["/tie", "/high", "/low"]);
        assert_eq!(rates[2].requests, 100);
    }

    #[test]
    fn web_vitals_rate_by_p75() {
        let mut lcp = row("/shop", 0, &[1000.0, 2000.0, 3000.0, 5000.0], 0);
        lcp.series.metric_type = "web_vital".into();
        lcp.series.metric_name = "LCP".into();
        let vitals = web_vitals(&[lcp]);
        assert_eq!(vitals.len(), 1);
        assert!(
            vitals[0].p75 > 2900.0 && vitals[0].p75 < 3100.0,
            "{}",
            vitals[0].p75
        );
        assert_eq!(vitals[0].rating, "needs-improvement");
    }

    #[test]
    fn windows_pick_coarser_buckets() {
        let h = 3_600_000_000;
        assert_eq!(choose_period(0, h), Period::Minute);
        assert_eq!(choose_period(0, 24 * h), Period::FiveMinutes);
        assert_eq!(choose_period(0, 7 * 24 * h), Period::Hour);
        assert_eq!(choose_period(0, 90 * 24 * h), Period::Day);
    }
}
