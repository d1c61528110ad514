//! The volume histogram's arithmetic: which bucket width to ask `/logs/statistics` for, how the
//! per-(bucket, level, source) counts become one stacked bar per bucket (empty buckets
//! included, so time stays linear), the y-axis maximum, and the time range a drag selects.

use tracewire_shared::Level;
use tracewire_shared::api::Statistics;

/// Bucket widths the UI asks for, as (parameter, µs), finest first.
const WIDTHS: &[(&str, i64)] = &[
    ("10s", 10_000_000),
    ("30s", 30_000_000),
    ("1m", 60_000_000),
    ("2m", 120_000_000),
    ("5m", 300_000_000),
    ("10m", 600_000_000),
    ("15m", 900_000_000),
    ("30m", 1_800_000_000),
    ("1h", 3_600_000_000),
    ("3h", 10_800_000_000),
    ("6h", 21_600_000_000),
    ("12h", 43_200_000_000),
    ("1d", 86_400_000_000),
];

/// Most bars drawn: enough detail at 1366 px, few enough to read.
pub const MAX_BARS: i64 = 90;

/// The finest bucket width giving at most [`MAX_BARS`] bars over `span_us`.
pub fn bucket_for(span_us: i64) -> (&'static str, i64) {
    WIDTHS
        .iter()
        .copied()
        .find(|(_, w)| span_us / w <= MAX_BARS)
        .unwrap_or(WIDTHS[WIDTHS.len() - 1])
}

/// One bar: a bucket's start and its rows per level (index = position in [`Level::ALL`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Bucket start in µs.
    pub start_us: i64,
    /// Rows per level, least severe first.
    pub counts: [i64; 5],
}

impl Bar {
    /// All rows of the bucket.
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// One bar per bucket from the bucket holding `from_us` to the one holding `to_us`, summing
/// sources; buckets outside the window or with unknown levels are left out.
pub fn bars(stats: &Statistics, from_us: i64, to_us: i64, bucket_us: i64) -> Vec<Bar> {
    if bucket_us <= 0 || to_us < from_us {
        return Vec::new();
    }
    let first = from_us.div_euclid(bucket_us) * bucket_us;
    let n = ((to_us - first) / bucket_us + 1).clamp(0, 10 * MAX_BARS);
    let mut out: Vec<Bar> = (0..n)
        .map(|i| Bar {
            start_us: first + i * bucket_us,
            counts: [0; 5],
        })
        .collect();
    for b in &stats.buckets {
        let (Some(start), Ok(level)) = (
            tracewire_shared::validate::parse_timestamp_us(&b.start),
            b.level.parse::<Level>(),
        ) else {
            continue;
        };
        let idx = (start - first).div_euclid(bucket_us);
        let Some(bar) = usize::try_from(idx).ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        let li = Level::ALL.iter().position(|l| *l == level).unwrap_or(0);
        bar.counts[li] += b.count;
    }
    out
}

/// The y-axis top: the smallest 1, 2 or 5 × 10ⁿ at or above `max` (1 for an empty chart).
pub fn nice_max(max: i64) -> i64 {
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            let v = step.saturating_mul(m);
            if v >= max {
                return v;
            }
        }
        if step > i64::MAX / 10 {
            return i64::MAX;
        }
        step *= 10;
    }
}

/// The time range between two x positions (fractions of the chart width, any order).
pub fn zoom(from_us: i64, to_us: i64, a: f64, b: f64) -> (i64, i64) {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let span = (to_us - from_us) as f64;
    let at = |f: f64| from_us + (span * f.clamp(0.0, 1.0)) as i64;
    (at(lo), at(hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracewire_shared::api::StatisticsBucket;

    fn stats(buckets: &[(&str, &str, i64)]) -> Statistics {
        Statistics {
            bucket_seconds: 60,
            from: None,
            to: None,
            total: buckets.iter().map(|b| b.2).sum(),
            by_level: Default::default(),
            by_source: Default::default(),
            buckets: buckets
                .iter()
                .map(|(start, level, count)| StatisticsBucket {
                    start: (*start).to_owned(),
                    level: (*level).to_owned(),
                    source: "frontend".to_owned(),
                    count: *count,
                    events: *count,
                })
                .collect(),
        }
    }

    #[test]
    fn widths_keep_the_bar_count_readable() {
        assert_eq!(bucket_for(15 * 60 * 1_000_000).0, "10s");
        assert_eq!(bucket_for(3_600_000_000).0, "1m");
        assert_eq!(bucket_for(86_400_000_000).0, "30m");
        assert_eq!(bucket_for(30 * 86_400_000_000).0, "12h");
        for span in [1, 1_000_000_000, 86_400_000_000, 400 * 86_400_000_000i64] {
            let (_, w) = bucket_for(span);
            assert!(span / w <= MAX_BARS || w == 86_400_000_000);
        }
    }

    #[test]
    fn counts_stack_by_level_with_empty_buckets_kept() {
        let s = stats(&[
            ("1970-01-01T00:01:00Z", "ERROR", 2),
            ("1970-01-01T00:01:00Z", "ERROR", 3),
            ("1970-01-01T00:01:00Z", "INFO", 1),
            ("1970-01-01T00:03:00Z", "DEBUG", 7),
            ("1970-01-01T09:00:00Z", "DEBUG", 7),
            ("garbage", "DEBUG", 7),
        ]);
        let b = bars(&s, 30_000_000, 200_000_000, 60_000_000);
        assert_eq!(b.len(), 4);
        assert_eq!(b[0].start_us, 0);
        assert_eq!(b[1].counts, [0, 1, 0, 5, 0]);
        assert_eq!(b[2].total(), 0);
        assert_eq!(b[3].counts[0], 7);
    }

    #[test]
    fn the_axis_top_is_a_round_number_at_or_above_the_max() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(500), 500);
        assert_eq!(nice_max(501), 1000);
        assert_eq!(nice_max(i64::MAX), i64::MAX);
    }

    #[test]
    fn a_drag_selects_its_span_in_either_direction() {
        assert_eq!(zoom(0, 1000, 0.75, 0.25), (250, 750));
        assert_eq!(zoom(0, 1000, -1.0, 2.0), (0, 1000));
    }
}
