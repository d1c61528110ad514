//! The open queue: entries recorded but not yet cut into a batch, with client-side dedup.
//!
//! Identical log entries (equal bodies, see [`super::entry`]) whose first occurrence is less
//! than the dedup window old collapse into one entry with an exact `dedup_count` and
//! `first_seen_at` / `last_seen_at`. Once a batch is cut the entry is sealed; later duplicates
//! start a new entry, and the collector sums counts across batches.

use super::config::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES};
use super::entry::{Stamps, close_log};
use super::json::write_str;
use super::storage::Random;
use super::trace::uuid_v4;

/// A fast hash to tell bodies apart before comparing them: eight bytes per step (FxHash's
/// mixing), since every log call hashes its whole body.
fn body_hash(s: &str) -> u64 {
    let mut h = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let w = <[u8; 8]>::try_from(c).unwrap_or_default();
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    for b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    h
}

/// Appends `parts` separated by commas (`[T]::join` links a generic routine into the module).
fn push_joined(out: &mut String, parts: &[String]) {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(p);
    }
}

enum Open {
    /// A log entry still collecting duplicates.
    Log {
        body: String,
        count: u64,
        first: f64,
        last: f64,
    },
    /// The drop report (a finished log entry, not an application entry).
    Report(String),
    /// A finished exception entry.
    Exception(String),
    /// A finished `metrics` entry (a web vital).
    Metric(String),
}

/// Lists of the dedup index (a power of two).
const INDEX_BUCKETS: usize = 64;

/// Entries waiting for the next cut, in arrival order.
pub(crate) struct OpenQueue {
    items: Vec<Open>,
    /// (hash of body, index of the open entry that duplicates merge into), in
    /// [`INDEX_BUCKETS`] scanned lists chosen by the hash: a call looks at ~1/64 of the up to
    /// [`super::config::MAX_OPEN_ENTRIES`] open entries instead of all of them (one list
    /// made distinct entries 13–15 % dearer per call), and hashbrown with SipHash would cost
    /// kilobytes of wasm.
    index: [Vec<(u64, usize)>; INDEX_BUCKETS],
    window_ms: f64,
}

impl OpenQueue {
    /// An empty queue deduplicating within `window_ms`.
    pub fn new(window_ms: f64) -> Self {
        Self {
            items: Vec::new(),
            index: std::array::from_fn(|_| Vec::new()),
            window_ms,
        }
    }

    /// Distinct entries waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Application calls waiting (a log entry counts its duplicates; the drop report none).
    pub fn calls(&self) -> u64 {
        let mut n = 0;
        for item in &self.items {
            n += match item {
                Open::Log { count, .. } => *count,
                Open::Report(_) => 0,
                Open::Exception(_) | Open::Metric(_) => 1,
            };
        }
        n
    }

    /// Adds one occurrence of the log entry `body` that happened at `at`.
    pub fn push_log(&mut self, body: String, at: f64) {
        let hash = body_hash(&body);
        let items = &mut self.items;
        let next = items.len();
        // The modulo keeps the index in bounds where the compiler sees it: no panic path.
        let bucket = &mut self.index[(hash % INDEX_BUCKETS as u64) as usize];
        let slot = bucket.iter_mut().find(|(h, i)| {
            *h == hash && matches!(items.get(*i), Some(Open::Log { body: b, .. }) if *b == body)
        });
        match slot {
            Some((_, i)) => {
                if let Some(Open::Log {
                    count, first, last, ..
                }) = items.get_mut(*i)
                    && at - *first < self.window_ms
                    && at >= *first
                {
                    *count += 1;
                    *last = last.max(at);
                    return;
                }
                // Out of the window: later duplicates merge into the new entry.
                *i = next;
            }
            None => bucket.push((hash, next)),
        }
        items.push(Open::Log {
            body,
            count: 1,
            first: at,
            last: at,
        });
    }

    /// Adds the drop report entry.
    pub fn push_report(&mut self, json: String) {
        self.items.push(Open::Report(json));
    }

    /// Adds a finished exception entry (grouping is the collector's job).
    pub fn push_exception(&mut self, json: String) {
        self.items.push(Open::Exception(json));
    }

    /// Adds a finished `metrics` entry.
    pub fn push_metric(&mut self, json: String) {
        self.items.push(Open::Metric(json));
    }

    /// Empties the queue into batch bodies of at most [`MAX_BATCH_ENTRIES`] entries and
    /// [`MAX_BATCH_BYTES`] bytes, each with a fresh batch_id.
    pub fn drain_batches(&mut self, sdk_version: &str, rng: &mut dyn Random) -> Vec<CutBatch> {
        for bucket in &mut self.index {
            bucket.clear();
        }
        let mut builder = BatchBuilder::new(sdk_version);
        let mut out = Vec::new();
        let mut stamps = Stamps::new();
        // `take` rather than `drain(..)`: draining links a range check and its panic path.
        for item in std::mem::take(&mut self.items) {
            let (json, section, calls) = match item {
                Open::Log {
                    body,
                    count,
                    first,
                    last,
                } => (
                    close_log(body, count, first, last, &mut stamps),
                    Section::Logs,
                    count,
                ),
                Open::Report(json) => (json, Section::Logs, 0),
                Open::Exception(json) => (json, Section::Exceptions, 1),
                Open::Metric(json) => (json, Section::Metrics, 1),
            };
            if !builder.fits(&json) {
                out.extend(builder.finish(rng));
            }
            builder.add(json, section, calls);
        }
        out.extend(builder.finish(rng));
        out
    }
}

/// One batch fresh from [`OpenQueue::drain_batches`].
pub(crate) struct CutBatch {
    /// Request body.
    pub body: String,
    /// Application calls inside (a deduplicated entry counts its `dedup_count`).
    pub entries: u32,
    /// True when the drop report is inside.
    pub has_report: bool,
}

/// The array of the batch an entry goes into.
#[derive(Clone, Copy)]
enum Section {
    Logs,
    Exceptions,
    Metrics,
}

/// Accumulates entries of one batch while tracking the final body size.
struct BatchBuilder<'a> {
    sdk_version: &'a str,
    logs: Vec<String>,
    exceptions: Vec<String>,
    metrics: Vec<String>,
    bytes: usize,
    has_report: bool,
    calls: u64,
}

/// Bytes of the envelope around the entries, with a margin for the version string.
const ENVELOPE_BYTES: usize = 200;

impl<'a> BatchBuilder<'a> {
    fn new(sdk_version: &'a str) -> Self {
        Self {
            sdk_version,
            logs: Vec::new(),
            exceptions: Vec::new(),
            metrics: Vec::new(),
            bytes: ENVELOPE_BYTES + sdk_version.len(),
            has_report: false,
            calls: 0,
        }
    }

    fn entries(&self) -> usize {
        self.logs.len() + self.exceptions.len() + self.metrics.len()
    }

    fn fits(&self, json: &str) -> bool {
        let n = self.entries();
        n == 0 || (n < MAX_BATCH_ENTRIES && self.bytes + json.len() < MAX_BATCH_BYTES)
    }

    /// `calls` is 0 for the drop report, which is no application entry.
    fn add(&mut self, json: String, section: Section, calls: u64) {
        self.bytes += json.len() + 1;
        self.has_report |= calls == 0;
        self.calls += calls;
        match section {
            Section::Logs => self.logs.push(json),
            Section::Exceptions => self.exceptions.push(json),
            Section::Metrics => self.metrics.push(json),
        }
    }

    fn finish(&mut self, rng: &mut dyn Random) -> Option<CutBatch> {
        if self.entries() == 0 {
            return None;
        }
        let mut body = String::with_capacity(self.bytes);
        body.push_str("{\"batch_id\":\"");
        body.push_str(&uuid_v4(rng));
        body.push_str("\",\"sdk\":{\"name\":\"tracewire-logger\",\"version\":");
        write_str(&mut body, self.sdk_version);
        body.push_str("},\"source\":\"frontend\",\"logs\":[");
        push_joined(&mut body, &self.logs);
        body.push_str("],\"exceptions\":[");
        push_joined(&mut body, &self.exceptions);
        body.push_str("],\"metrics\":[");
        push_joined(&mut body, &self.metrics);
        body.push_str("]}");
        self.logs.clear();
        self.exceptions.clear();
        self.metrics.clear();
        self.bytes = ENVELOPE_BYTES + self.sdk_version.len();
        let has_report = std::mem::take(&mut self.has_report);
        let calls = std::mem::take(&mut self.calls);
        Some(CutBatch {
            body,
            entries: u32::try_from(calls).unwrap_or(u32::MAX),
            has_report,
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::config::MAX_OPEN_ENTRIES;
    use crate::core::time::rfc3339;
    use proptest::prelude::*;

    /// The open log entries as (body, count, first, last), in order.
    fn open(q: &OpenQueue) -> Vec<(String, u64, f64, f64)> {
        let mut out = Vec::new();
        for item in &q.items {
            if let Open::Log {
                body,
                count,
                first,
                last,
                ..
            } = item
            {
                out.push((body.clone(), *count, *first, *last));
            }
        }
        out
    }

    proptest! {
        /// Against a plain model (the newest entry of each body merges what falls in its
        /// window), with up to MAX_OPEN_ENTRIES distinct bodies; the cut then gives every
        /// entry its own times (the cut's timestamp cache never leaks one into the next).
        #[test]
        fn dedup_matches_a_scanned_model(
            calls in prop::collection::vec((0usize..MAX_OPEN_ENTRIES, 0u32..30), 1..MAX_OPEN_ENTRIES),
        ) {
            let mut q = OpenQueue::new(50.0);
            let mut model: Vec<(String, u64, f64, f64)> = Vec::new();
            let mut now = 0.0;
            for (body, step) in calls {
                now += f64::from(step);
                // A body as `log_body` leaves it: not closed.
                let body = format!("{{\"message\":\"{body}\"");
                q.push_log(body.clone(), now);
                match model.iter_mut().rev().find(|e| e.0 == body) {
                    Some(e) if now - e.2 < 50.0 => {
                        e.1 += 1;
                        e.3 = now;
                    }
                    _ => model.push((body, 1, now, now)),
                }
                prop_assert!(q.len() <= MAX_OPEN_ENTRIES);
            }
            prop_assert_eq!(open(&q), model.clone());
            let mut rng = crate::core::XorShift::new(1);
            let mut logs = Vec::new();
            for batch in q.drain_batches("0", &mut rng) {
                let body: serde_json::Value = serde_json::from_str(&batch.body).expect("JSON");
                logs.extend(body["logs"].as_array().expect("logs").iter().cloned());
            }
            prop_assert_eq!(logs.len(), model.len());
            for (log, (_, count, first, last)) in logs.iter().zip(&model) {
                let (first, last) = (rfc3339(*first), rfc3339(*last));
                prop_assert_eq!(&log["timestamp"], first.as_str());
                prop_assert_eq!(&log["first_seen_at"], first.as_str());
                prop_assert_eq!(&log["last_seen_at"], last.as_str());
                prop_assert_eq!(&log["dedup_count"], *count);
            }
        }
    }

    #[test]
    fn a_cut_empties_the_index() {
        let mut q = OpenQueue::new(10_000.0);
        q.push_log("a".into(), 0.0);
        let mut rng = crate::core::XorShift::new(1);
        assert_eq!(q.drain_batches("0", &mut rng).len(), 1);
        q.push_log("a".into(), 1.0);
        assert_eq!(open(&q), [("a".to_owned(), 1, 1.0, 1.0)]);
    }
}
