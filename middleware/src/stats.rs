//! Delivery counters. The middleware never prints its own problems (that could recurse into the
//! logs it ships); it counts them here for the application to expose or assert on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of what the shipper has done so far. All counts are entries, not batches, except
/// `batches_sent`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries the sink acknowledged.
    pub sent: u64,
    /// Batches the sink acknowledged.
    pub batches_sent: u64,
    /// Entries refused because the queue was full.
    pub dropped_queue_full: u64,
    /// Entries given up after the retry budget ran out.
    pub dropped_after_retries: u64,
    /// Entries the collector rejected for good (bad key, invalid batch…).
    pub dropped_permanent: u64,
    /// Entries pushed after shutdown, when nothing sends any more.
    pub dropped_after_shutdown: u64,
    /// The last permanent rejection, so a misconfiguration can be diagnosed.
    pub last_permanent_error: Option<String>,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent: AtomicU64,
    pub(crate) batches_sent: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_after_retries: AtomicU64,
    pub(crate) dropped_permanent: AtomicU64,
    pub(crate) dropped_after_shutdown: AtomicU64,
    pub(crate) last_permanent_error: Mutex<Option<String>>,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn set_permanent_error(&self, message: String) {
        if let Ok(mut slot) = self.last_permanent_error.lock() {
            *slot = Some(message);
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            sent: load(&self.sent),
            batches_sent: load(&self.batches_sent),
            dropped_queue_full: load(&self.dropped_queue_full),
            dropped_after_retries: load(&self.dropped_after_retries),
            dropped_permanent: load(&self.dropped_permanent),
            dropped_after_shutdown: load(&self.dropped_after_shutdown),
            last_permanent_error: self
                .last_permanent_error
                .lock()
                .ok()
                .and_then(|slot| slot.clone()),
        }
    }
}
