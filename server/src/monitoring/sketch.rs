//! [`Sketch`]: a DDSketch-style log-bucket histogram. Every value lands in the bucket
//! `ceil(log_γ(x))` with `γ = (1 + α) / (1 − α)`, so any quantile read back is within α = 1 %
//! of a value of the right rank, and two sketches merge by adding bucket counts — which is what
//! lets 5-minute, hourly and daily rows be exact merges of the minute rows instead of averages
//! of percentiles.
//!
//! The accuracy is fixed (not a parameter) so every stored sketch can be merged with every
//! other; the byte format starts with a version for the day it has to change.

use thiserror::Error;

/// Relative accuracy α: a quantile read back is within 1 % of a value of the right rank. Fixed,
/// so that every stored sketch merges with every other.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// Most buckets kept; past this the lowest buckets are folded together (their quantiles lose
/// accuracy, the tail that alerts watch keeps it). 2,048 buckets span 1e-9 to 1e9 at 1 %.
pub const MAX_BUCKETS: usize = 2048;
/// Values at or below this (and negative ones) count as zero: latencies and web vitals are
/// never negative, and a log of zero does not exist.
pub const MIN_INDEXABLE: f64 = 1e-9;
/// First byte of [`Sketch::to_bytes`].
const FORMAT_VERSION: u8 = 1;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
}

/// A mergeable quantile sketch of non-negative values.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    /// Observations at or below [`MIN_INDEXABLE`].
    zero_count: u64,
    /// Bucket index of `counts[0]`.
    offset: i32,
    /// Contiguous bucket counts from `offset` on; dense, because latencies cluster and a dense
    /// vector makes `add` one index computation and one increment.
    counts: Vec<u64>,
    /// Every value added, NaN excluded; the zero bucket included.
    count: u64,
    /// Smallest and largest value seen, exact, so quantile estimates are clamped to them.
    min: f64,
    max: f64,
    /// Sum of values, for averages.
    sum: f64,
}

impl Default for Sketch {
    fn default() -> Self {
        Self::new()
    }
}

/// A stored sketch that cannot be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SketchDecodeError {
    /// The bytes end before the sketch does.
    #[error("sketch bytes end early")]
    Truncated,
    /// Written by another format version.
    #[error("unknown sketch format {0}")]
    Version(u8),
    /// Counts or bucket range do not fit.
    #[error("sketch bytes are inconsistent")]
    Corrupt,
}

impl Sketch {
    /// An empty sketch: no observations, so `min`, `max` and every quantile are `None`.
    pub fn new() -> Self {
        Self {
            zero_count: 0,
            offset: 0,
            counts: Vec::new(),
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    /// A sketch of `values`.
    pub fn from_values(values: impl IntoIterator<Item = f64>) -> Self {
        let mut sketch = Self::new();
        for v in values {
            sketch.add(v);
        }
        sketch
    }

    /// Values added (NaN is not added), zeros and clamped values included.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values added, negatives counted as 0; with [`Self::count`] it gives the mean.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Smallest observation, `None` when empty.
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest observation, `None` when empty.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// Records one value; NaN is ignored (it has no rank), infinities are clamped.
    pub fn add(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let value = value.clamp(0.0, f64::MAX);
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if value <= MIN_INDEXABLE {
            self.zero_count += 1;
        } else {
            self.add_to_bucket(index_of(value), 1);
        }
    }

    fn add_to_bucket(&mut self, index: i32, n: u64) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(n);
            return;
        }
        let end = self.offset + self.counts.len() as i32;
        if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        } else if index >= end {
            self.counts.resize((index - self.offset) as usize + 1, 0);
        }
        self.counts[(index - self.offset) as usize] += n;
        if self.counts.len() > MAX_BUCKETS {
            self.collapse_lowest();
        }
    }

    /// Folds the lowest buckets into one so at most [`MAX_BUCKETS`] remain.
    fn collapse_lowest(&mut self) {
        let excess = self.counts.len() - MAX_BUCKETS;
        let folded: u64 = self.counts.drain(..excess).sum();
        self.counts[0] += folded;
        self.offset += excess as i32;
    }

    /// Adds every observation of `other`, exactly as if they had been added here.
    pub fn merge(&mut self, other: &Sketch) {
        if other.count == 0 {
            return;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.zero_count += other.zero_count;
        for (i, &n) in other.counts.iter().enumerate() {
            if n > 0 {
                self.add_to_bucket(other.offset + i as i32, n);
            }
        }
    }

    /// The value of rank `floor(q · (count − 1))`, within [`RELATIVE_ACCURACY`]; `None` when
    /// empty. `q` is clamped to 0..=1.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        if rank < self.zero_count {
            return Some(self.min.max(0.0));
        }
        let mut seen = self.zero_count;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen > rank {
                let estimate = value_of(self.offset + i as i32);
                return Some(estimate.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// Compact bytes for a database column: version, then varints (zigzag for the offset) for
    /// the counts and the three exact floats. A minute of latencies is typically 100–300 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.counts.len());
        out.push(FORMAT_VERSION);
        put_varint(&mut out, self.count);
        put_varint(&mut out, self.zero_count);
        out.extend_from_slice(&self.min.to_le_bytes());
        out.extend_from_slice(&self.max.to_le_bytes());
        out.extend_from_slice(&self.sum.to_le_bytes());
        put_varint(&mut out, zigzag(self.offset));
        put_varint(&mut out, self.counts.len() as u64);
        for &n in &self.counts {
            put_varint(&mut out, n);
        }
        out
    }

    /// Reads [`Sketch::to_bytes`] back.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SketchDecodeError> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.byte()?;
        if version != FORMAT_VERSION {
            return Err(SketchDecodeError::Version(version));
        }
        let count = r.varint()?;
        let zero_count = r.varint()?;
        let min = r.f64()?;
        let max = r.f64()?;
        let sum = r.f64()?;
        let offset = unzigzag(r.varint()?)?;
        let len = usize::try_from(r.varint()?).map_err(|_| SketchDecodeError::Corrupt)?;
        if len > MAX_BUCKETS || offset.checked_add(len as i32).is_none() {
            return Err(SketchDecodeError::Corrupt);
        }
        let mut counts = Vec::with_capacity(len);
        let mut total = zero_count;
        for _ in 0..len {
            let n = r.varint()?;
            total = total.checked_add(n).ok_or(SketchDecodeError::Corrupt)?;
            counts.push(n);
        }
        if total != count || r.at != bytes.len() {
            return Err(SketchDecodeError::Corrupt);
        }
        Ok(Self {
            zero_count,
            offset,
            counts,
            count,
            min: if count == 0 { f64::INFINITY } else { min },
            max: if count == 0 { f64::NEG_INFINITY } else { max },
            sum,
        })
    }
}

/// Bucket of a value above [`MIN_INDEXABLE`]: `ceil(ln x / ln γ)`.
fn index_of(value: f64) -> i32 {
    (value.ln() / gamma().ln()).ceil() as i32
}

/// The value a bucket stands for: the point whose relative distance to both bucket bounds
/// (γ^(i−1), γ^i] is α.
fn value_of(index: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(index) / (g + 1.0)
}

fn zigzag(v: i32) -> u64 {
    ((v << 1) ^ (v >> 31)) as u32 as u64
}

fn unzigzag(v: u64) -> Result<i32, SketchDecodeError> {
    let v = u32::try_from(v).map_err(|_| SketchDecodeError::Corrupt)?;
    Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, SketchDecodeError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or(SketchDecodeError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, SketchDecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(SketchDecodeError::Corrupt)
    }

    fn f64(&mut self) -> Result<f64, SketchDecodeError> {
        let end = self.at + 8;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(SketchDecodeError::Truncated)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(slice);
        self.at = end;
        Ok(f64::from_le_bytes(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The exact value of rank `floor(q · (n − 1))`, the rank the sketch answers for.
    fn exact(sorted: &[f64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    fn within(estimate: f64, exact: f64) -> bool {
        (estimate - exact).abs() <= RELATIVE_ACCURACY * exact.abs() + 1e-12
    }

    /// Latency-like values: many decades, clustered and spread.
    fn values() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(
            prop_oneof![
                (0.001f64..10.0),
                (10.0f64..2_000.0),
                (2_000.0f64..600_000.0),
                Just(0.0),
            ],
            1..400,
        )
    }

    proptest! {
        #[test]
        fn quantiles_are_within_one_percent_of_exact(values in values()) {
            let sketch = Sketch::from_values(values.iter().copied());
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0] {
                let got = sketch.quantile(q).expect("non-empty");
                let want = exact(&sorted, q);
                prop_assert!(within(got, want), "q={q}: got {got}, exact {want}");
            }
            prop_assert_eq!(sketch.count(), values.len() as u64);
        }

        #[test]
        fn merge_equals_the_sketch_of_the_concatenation(a in values(), b in values()) {
            let mut merged = Sketch::from_values(a.iter().copied());
            merged.merge(&Sketch::from_values(b.iter().copied()));
            let whole = Sketch::from_values(a.iter().chain(&b).copied());
            prop_assert_eq!(&merged.counts, &whole.counts);
            prop_assert_eq!(merged.offset, whole.offset);
            prop_assert_eq!(merged.zero_count, whole.zero_count);
            prop_assert_eq!(merged.min(), whole.min());
            prop_assert_eq!(merged.max(), whole.max());
            prop_assert!((merged.sum() - whole.sum()).abs() <= 1e-9 * whole.sum().abs());
            for q in [0.5, 0.95, 0.99] {
                prop_assert_eq!(merged.quantile(q), whole.quantile(q));
            }
        }

        #[test]
        fn bytes_round_trip(values in values()) {
            let sketch = Sketch::from_values(values);
            let back = Sketch::from_bytes(&sketch.to_bytes()).expect("decode");
            prop_assert_eq!(back, sketch);
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = Sketch::from_bytes(&bytes);
        }
    }

    #[test]
    fn empty_sketches_answer_nothing_and_round_trip() {
        let empty = Sketch::new();
        assert_eq!(empty.quantile(0.5), None);
        assert_eq!(Sketch::from_bytes(&empty.to_bytes()), Ok(empty));
    }

    #[test]
    fn nan_is_ignored_and_negatives_count_as_zero() {
        let s = Sketch::from_values([f64::NAN, -5.0, 10.0]);
        assert_eq!(s.count(), 2);
        assert_eq!(s.quantile(0.0), Some(0.0));
        assert!(within(s.quantile(1.0).expect("value"), 10.0));
    }

    #[test]
    fn an_extreme_range_stays_bounded() {
        let s = Sketch::from_values((0..5000).map(|i| 1e-8 * 1.05f64.powi(i)));
        assert!(s.counts.len() <= MAX_BUCKETS);
        let top = 1e-8 * 1.05f64.powi(4999);
        assert!(within(s.quantile(1.0).expect("value"), top));
    }

    #[test]
    fn bad_bytes_are_errors() {
        let bytes = Sketch::from_values([1.0, 2.0]).to_bytes();
        assert_eq!(
            Sketch::from_bytes(&bytes[..bytes.len() - 1]),
            Err(SketchDecodeError::Truncated)
        );
        let mut other_version = bytes.clone();
        other_version[0] = 9;
        assert_eq!(
            Sketch::from_bytes(&other_version),
            Err(SketchDecodeError::Version(9))
        );
        let mut wrong_count = bytes;
        wrong_count[1] = 7;
        assert_eq!(
            Sketch::from_bytes(&wrong_count),
            Err(SketchDecodeError::Corrupt)
        );
    }
}
