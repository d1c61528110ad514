//! The metrics charts' arithmetic: which aggregation period fits a time range, "nice" axis ticks,
//! value → pixel and time → pixel mappings that never leave the plot area, the point under the
//! cursor, and the log explorer path filter for a route template. Pure, so the properties
//! (every value lands inside the plot, ticks increase and cover the data) are tested natively.

use tracewire_shared::api::monitoring::Period;

/// Most points one series may have: a 30-day range at one hour is 720, enough detail at 1920 px.
pub const MAX_POINTS: i64 = 720;

/// The finest period giving at most [`MAX_POINTS`] buckets over `span_us` (a 1-hour range at
/// one minute, 24 hours at five minutes, 30 days at one hour).
pub fn period_for(span_us: i64) -> Period {
    Period::ALL
        .into_iter()
        .find(|p| span_us / (p.seconds() * 1_000_000) <= MAX_POINTS)
        .unwrap_or(Period::Day)
}

/// Round axis ticks from 0 (or below, for negative data) up to at least `max`: about `target`
/// steps of 1, 2 or 5 × 10ⁿ. Always at least two ticks, strictly increasing, the first ≤ `min`
/// and the last ≥ `max`; non-finite input gives `[0, 1]`.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    let lo = min.min(0.0);
    let hi = max.max(lo);
    if !lo.is_finite() || !hi.is_finite() {
        return vec![0.0, 1.0];
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        return vec![lo, lo + 1.0];
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let mut ticks = vec![first];
    let mut i = 1.0;
    while ticks[ticks.len() - 1] < hi && ticks.len() < 100 {
        ticks.push(first + i * step);
        i += 1.0;
    }
    if ticks.len() < 2 {
        ticks.push(first + step);
    }
    ticks
}

/// A linear map from a value range onto a pixel range (for y, `px_from` is the bottom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Value at `px_from`.
    pub lo: f64,
    /// Value at `px_to`.
    pub hi: f64,
    /// Pixel of `lo`.
    pub px_from: f64,
    /// Pixel of `hi`.
    pub px_to: f64,
}

impl Scale {
    /// The scale covering `ticks` (as from [`nice_ticks`]) onto `px_from..px_to`.
    pub fn for_ticks(ticks: &[f64], px_from: f64, px_to: f64) -> Scale {
        let lo = ticks.first().copied().unwrap_or(0.0);
        let hi = ticks.last().copied().unwrap_or(1.0);
        Scale {
            lo,
            hi: if hi > lo { hi } else { lo + 1.0 },
            px_from,
            px_to,
        }
    }

    /// The pixel of `v`, clamped to the pixel range (a value outside the ticks, or NaN, still
    /// draws inside the plot rather than over the axis labels).
    pub fn px(&self, v: f64) -> f64 {
        let t = if v.is_finite() {
            ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.px_from + t * (self.px_to - self.px_from)
    }
}

/// The x pixel of time `us` in a plot from `from_us` (at `x0`) to `to_us` (at `x1`), clamped.
pub fn time_x(us: i64, from_us: i64, to_us: i64, x0: f64, x1: f64) -> f64 {
    if to_us <= from_us {
        return x0;
    }
    let t = ((us - from_us) as f64 / (to_us - from_us) as f64).clamp(0.0, 1.0);
    x0 + t * (x1 - x0)
}

/// The time at fraction `frac` (0..=1) of the plot's width.
pub fn time_at(frac: f64, from_us: i64, to_us: i64) -> i64 {
    let f = if frac.is_finite() {
        frac.clamp(0.0, 1.0)
    } else {
        0.0
    };
    from_us + ((to_us - from_us) as f64 * f) as i64
}

/// The index of the point in `starts_us` (sorted) nearest to `us`; `None` when empty.
pub fn nearest(starts_us: &[i64], us: i64) -> Option<usize> {
    if starts_us.is_empty() {
        return None;
    }
    let i = starts_us.partition_point(|s| *s < us);
    if i == 0 {
        return Some(0);
    }
    if i == starts_us.len() {
        return Some(i - 1);
    }
    if us - starts_us[i - 1] <= starts_us[i] - us {
        Some(i - 1)
    } else {
        Some(i)
    }
}

/// An SVG polyline `points` attribute (two decimals).
pub fn polyline(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|(x, y)| {
            format!(
                "{},{}",
                crate::timefmt::fixed2(*x),
                crate::timefmt::fixed2(*y)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The log explorer's `path` filter for a route template: the template itself when it has no
/// parameters, else its literal prefix with `*` (`/api/orders/{id}` → `/api/orders/*`), since
/// logs store raw paths.
pub fn log_path_filter(endpoint: &str) -> String {
    match endpoint.find(['{', ':', '*']) {
        None => endpoint.to_owned(),
        Some(i) => format!("{}*", &endpoint[..i]),
    }
}

/// A tick label: whole numbers plain, small ones with up to two decimals, large ones with
/// `k`/`M` (no float formatting, see [`crate::timefmt::fixed`]).
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(crate::timefmt::fixed(v / 1e6, 1)))
    } else if a >= 1e4 {
        format!("{}k", trim(crate::timefmt::fixed(v / 1e3, 1)))
    } else if (v - v.round()).abs() < 1e-9 {
        (v.round() as i64).to_string()
    } else {
        trim(crate::timefmt::fixed(v, 2))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Bucket starts from the one holding `from_us` to the one holding `to_us`, `step_us` apart
/// and aligned to it (as the collector aligns its periods), at most [`MAX_POINTS`] + 2.
pub fn bucket_starts(from_us: i64, to_us: i64, step_us: i64) -> Vec<i64> {
    if step_us <= 0 || to_us < from_us {
        return Vec::new();
    }
    let first = from_us.div_euclid(step_us) * step_us;
    let n = ((to_us - first) / step_us + 1).clamp(0, MAX_POINTS + 2);
    (0..n).map(|i| first + i * step_us).collect()
}

/// Runs of consecutive present values as pixel points, so a line breaks where a bucket has no
/// data instead of drawing a slope across the gap.
pub fn segments(xs: &[f64], ys: &[Option<f64>], scale: &Scale) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run = Vec::new();
    for (x, y) in xs.iter().zip(ys) {
        match y {
            Some(v) => run.push((*x, scale.px(*v))),
            None if !run.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn periods_fit_the_presets() {
        let h = 3_600_000_000i64;
        assert_eq!(period_for(h), Period::Minute);
        assert_eq!(period_for(4 * h), Period::Minute);
        assert_eq!(period_for(24 * h), Period::FiveMinutes);
        assert_eq!(period_for(7 * 24 * h), Period::Hour);
        assert_eq!(period_for(30 * 24 * h), Period::Hour);
        assert_eq!(period_for(365 * 24 * h), Period::Day);
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 95.0, 4), vec![0.0, 50.0, 100.0]);
        assert_eq!(
            nice_ticks(0.0, 0.3, 3),
            vec![0.0, 0.1, 0.2, 0.30000000000000004]
        );
        assert_eq!(nice_ticks(0.0, 0.0, 4), vec![0.0, 1.0]);
        // NaN is ignored as a bound (f64::min), infinity gives the fallback axis.
        assert_eq!(nice_ticks(f64::NAN, 3.0, 4), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(0.0, f64::INFINITY, 4), vec![0.0, 1.0]);
    }

    #[test]
    fn path_filters() {
        assert_eq!(log_path_filter("/api/orders/{id}"), "/api/orders/*");
        assert_eq!(log_path_filter("/api/products"), "/api/products");
        assert_eq!(log_path_filter("/users/:id/cart"), "/users/*");
    }

    #[test]
    fn labels() {
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(250.0), "250");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(20_000.0), "20k");
        assert_eq!(tick_label(2_500_000.0), "2.5M");
    }

    #[test]
    fn nearest_point() {
        let s = [10, 20, 30];
        assert_eq!(nearest(&s, 0), Some(0));
        assert_eq!(nearest(&s, 14), Some(0));
        assert_eq!(nearest(&s, 16), Some(1));
        assert_eq!(nearest(&s, 99), Some(2));
        assert_eq!(nearest(&[], 5), None);
    }

    #[test]
    fn buckets_and_gaps() {
        assert_eq!(bucket_starts(65, 190, 60), vec![60, 120, 180]);
        assert_eq!(bucket_starts(10, 5, 60), Vec::<i64>::new());
        let s = Scale::for_ticks(&[0.0, 10.0], 100.0, 0.0);
        let segs = segments(
            &[0.0, 1.0, 2.0, 3.0],
            &[Some(0.0), None, Some(5.0), Some(10.0)],
            &s,
        );
        assert_eq!(
            segs,
            vec![vec![(0.0, 100.0)], vec![(2.0, 50.0), (3.0, 0.0)]]
        );
    }

    proptest! {
        #[test]
        fn ticks_increase_and_cover(a in -1e9f64..1e9, b in -1e9f64..1e9, target in 1usize..12) {
            let (min, max) = if a <= b { (a, b) } else { (b, a) };
            let t = nice_ticks(min, max, target);
            prop_assert!(t.len() >= 2);
            prop_assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
            prop_assert!(t[0] <= min.min(0.0));
            prop_assert!(*t.last().unwrap() >= max);
            prop_assert!(t.len() <= 4 * target + 3, "{} ticks for {target}", t.len());
        }

        #[test]
        fn values_map_inside_the_plot(vals in proptest::collection::vec(-1e6f64..1e6, 1..50),
                                      probe in proptest::num::f64::ANY) {
            let max = vals.iter().copied().fold(f64::MIN, f64::max);
            let min = vals.iter().copied().fold(f64::MAX, f64::min);
            let s = Scale::for_ticks(&nice_ticks(min, max, 4), 180.0, 10.0);
            for v in vals.iter().copied().chain([probe]) {
                let y = s.px(v);
                prop_assert!((10.0..=180.0).contains(&y), "{v} -> {y}");
            }
            // Larger values are higher up (smaller y), never lower.
            prop_assert!(s.px(max) <= s.px(min));
        }

        #[test]
        fn times_map_inside_the_plot(from in 0i64..1 << 50, span in 0i64..1 << 40, us in proptest::num::i64::ANY) {
            let x = time_x(us, from, from + span, 40.0, 990.0);
            prop_assert!((40.0..=990.0).contains(&x));
        }

        #[test]
        fn nearest_is_nearest(mut s in proptest::collection::vec(0i64..1000, 1..30), us in -100i64..1100) {
            s.sort_unstable();
            let i = nearest(&s, us).unwrap();
            let best = s.iter().map(|x| (x - us).abs()).min().unwrap();
            prop_assert_eq!((s[i] - us).abs(), best);
        }
    }
}
