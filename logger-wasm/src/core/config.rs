//! Settings of one logger, with the seed design's defaults.

use tracewire_shared::Level;

/// Most entries one batch carries, whatever `batchSize` says, so a burst becomes a few
/// requests rather than one huge one.
pub const MAX_BATCH_ENTRIES: usize = 100;
/// Largest batch body in bytes: below the 16 KiB a beacon may carry, so any stored batch can
/// leave with `sendBeacon` or a keepalive fetch when the page goes away.
pub const MAX_BATCH_BYTES: usize = 15 * 1024;
/// Budget of keepalive bytes in flight when the page hides (browsers allow 64 KiB).
pub const KEEPALIVE_BUDGET_BYTES: usize = 60 * 1024;
/// Distinct entries held before a batch is cut regardless of `batchSize` and the interval.
pub const MAX_OPEN_ENTRIES: usize = 1000;
/// A request unanswered for this long is treated as failed (a hung connection must not block
/// the queue forever).
pub const REQUEST_TIMEOUT_MS: f64 = 30_000.0;
/// A cut batch is written to storage at the latest this long after the cut, and at once when
/// it has to wait (its send failed, the page went offline) or the page hides. Most batches are
/// acknowledged, or in a burst evicted, before then and never cost a write; a crash of the tab
/// in between loses them, and the next page load counts them (they are at risk until written).
pub const PERSIST_DELAY_MS: f64 = 1000.0;

/// Logger settings (`init({...})`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL batches are posted to: the ingest URL with the key as `?key=`, so requests stay
    /// CORS-simple and beacons work. The entry builds it from the `endpoint` and `key` options
    /// (`encodeOptions` in `js/encode.js`), as it needs the ingest URL itself to leave its own
    /// requests out of the request log.
    pub url: String,
    /// A batch is cut when this many distinct entries are queued.
    pub batch_size: usize,
    /// …or when this much time has passed since the previous cut.
    pub flush_interval_ms: f64,
    /// Identical entries within this window collapse into one with a count.
    pub dedup_window_ms: f64,
    /// Failed sends before the batch rests in the offline buffer for a while.
    pub max_retries: u32,
    /// Base of the exponential backoff.
    pub retry_delay_ms: f64,
    /// Bound of the offline buffer in entries.
    pub max_buffered_entries: usize,
    /// Bound of the offline buffer in bytes of JSON.
    pub max_buffered_bytes: usize,
    /// Logs below this level are ignored.
    pub min_level: Level,
    /// Fraction of log entries kept (exceptions are always kept); the rest are counted.
    pub sample_rate: f64,
    /// Key names redacted in addition to the defaults.
    pub redact_keys: Vec<String>,
    /// Application user attached to every entry.
    pub user_id: Option<String>,
    /// Fields merged into every entry's `extra_data` / `context_data`: keys with their JSON
    /// values, written (and redacted) once from the `init()` options.
    pub context: Vec<(String, String)>,
    /// SDK version sent in every batch.
    pub sdk_version: String,
    /// The suffix ending every storage key this page writes, when the glue chose it (it holds
    /// the suffix's lock before the core writes anything); otherwise a random one.
    pub tab: Option<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            url: String::new(),
            batch_size: 10,
            flush_interval_ms: 5000.0,
            dedup_window_ms: tracewire_shared::wire::DEDUP_WINDOW_MS as f64,
            max_retries: 3,
            retry_delay_ms: 1000.0,
            max_buffered_entries: 5000,
            max_buffered_bytes: 1024 * 1024,
            min_level: Level::Debug,
            sample_rate: 1.0,
            redact_keys: Vec::new(),
            user_id: None,
            context: Vec::new(),
            sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
            tab: None,
        }
    }
}

impl Config {
    /// Clamps every number into a range that keeps the logger working: a zero batch size, a
    /// negative interval or a buffer smaller than one batch would otherwise stall or spin.
    pub fn sanitized(mut self) -> Self {
        fn finite(v: f64, default: f64) -> f64 {
            if v.is_finite() { v } else { default }
        }
        // Not f64::clamp: its panic message formats floats, which costs kilobytes of wasm.
        fn within(v: f64, lo: f64, hi: f64) -> f64 {
            v.max(lo).min(hi)
        }
        self.batch_size = self.batch_size.clamp(1, MAX_BATCH_ENTRIES);
        self.flush_interval_ms = within(finite(self.flush_interval_ms, 5000.0), 10.0, 3_600_000.0);
        self.dedup_window_ms = within(finite(self.dedup_window_ms, 10_000.0), 0.0, 3_600_000.0);
        self.retry_delay_ms = within(finite(self.retry_delay_ms, 1000.0), 1.0, 3_600_000.0);
        self.max_retries = self.max_retries.min(100);
        self.max_buffered_entries = self.max_buffered_entries.max(MAX_BATCH_ENTRIES);
        self.max_buffered_bytes = self.max_buffered_bytes.max(4 * MAX_BATCH_BYTES);
        self.sample_rate = within(finite(self.sample_rate, 1.0), 0.0, 1.0);
        self
    }
}
