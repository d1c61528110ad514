//! Counters of entries the logger itself had to give up, reported to the collector as an
//! ordinary log entry so no loss is silent.
//!
//! The counters are persisted, so drops that happen while offline (evictions) and are followed
//! by a reload still get reported.

use super::json::{parse_u64, write_number, write_str, write_u64};
use super::storage::{Storage, StorageError};
use super::text::split_all;
use super::time::write_rfc3339;

/// Key prefix of the persisted counters. Each tab keeps its own record,
/// `tracewire:d:<tab>` (the tab suffix of its batch keys), so open tabs never count each
/// other's drops; the tab that drains the shared buffer adopts the records of tabs that have
/// gone, as it adopts their batches. The prefix also matches `tracewire:drops`, the one shared
/// record of earlier versions, which is adopted the same way.
pub const DROPS_PREFIX: &str = "tracewire:d";
/// Message of the report entry; the collector side can alert on it.
pub const REPORT_MESSAGE: &str = "tracewire logger dropped entries";

/// Why an entry was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    /// Not kept by `sampleRate`.
    Sampled,
    /// Evicted from the bounded offline buffer (oldest first).
    Evicted,
    /// Refused by the collector with a 4xx other than 408/429.
    Rejected,
    /// Over the glue's pre-initialization or call-path queue cap.
    QueueFull,
}

/// Counts per [`DropKind`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drops {
    /// Dropped by sampling.
    pub sampled: u64,
    /// Evicted from the offline buffer.
    pub evicted: u64,
    /// Rejected by the collector.
    pub rejected: u64,
    /// Over a queue cap.
    pub queue_full: u64,
    /// Entries in batches storage refused: not lost yet, but lost if the page goes before
    /// they are delivered. The next page load counts whatever is left as evicted.
    pub at_risk: u64,
}

impl Drops {
    /// Takes over the counter records of pages that have gone (every record the storage lists
    /// but `own`), removing them: their at-risk entries were lost with their page and count as
    /// evicted. Unreadable values count as zero.
    pub(crate) fn adopt(storage: &mut dyn Storage, own: &str) -> Self {
        let mut sum = Self::default();
        for key in storage.keys_with_prefix(DROPS_PREFIX) {
            if key == own {
                continue;
            }
            if let Some(text) = storage.get(&key) {
                let mut gone = Self::parse(&text);
                gone.settle_previous_page();
                sum.merge(&gone);
            }
            storage.remove(&key);
        }
        sum
    }

    /// The stored form, `sampled,evicted,rejected,queue_full`.
    pub(crate) fn to_field(&self) -> String {
        let mut out = String::with_capacity(24);
        let counts = [
            self.sampled,
            self.evicted,
            self.rejected,
            self.queue_full,
            self.at_risk,
        ];
        for (i, n) in counts.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_u64(&mut out, n);
        }
        out
    }

    /// Reads [`Drops::to_field`]'s form; unreadable numbers count as zero.
    pub(crate) fn parse(text: &str) -> Self {
        let mut n = [0u64; 5];
        for (i, part) in split_all(text, b',').enumerate() {
            if let Some(slot) = n.get_mut(i) {
                *slot = parse_u64(part).unwrap_or(0);
            }
        }
        let [sampled, evicted, rejected, queue_full, at_risk] = n;
        Self {
            sampled,
            evicted,
            rejected,
            queue_full,
            at_risk,
        }
    }

    /// Persists the counters under `key`, this page's record.
    pub(crate) fn save(&self, storage: &mut dyn Storage, key: &str) -> Result<(), StorageError> {
        if self.total() == 0 && self.at_risk == 0 {
            storage.remove(key);
            Ok(())
        } else {
            storage.set(key, &self.to_field())
        }
    }

    /// Adds `n` drops of `kind`.
    pub fn add(&mut self, kind: DropKind, n: u64) {
        let slot = match kind {
            DropKind::Sampled => &mut self.sampled,
            DropKind::Evicted => &mut self.evicted,
            DropKind::Rejected => &mut self.rejected,
            DropKind::QueueFull => &mut self.queue_full,
        };
        *slot = slot.saturating_add(n);
    }

    /// Adds every counter of `other`.
    pub fn merge(&mut self, other: &Drops) {
        self.sampled = self.sampled.saturating_add(other.sampled);
        self.evicted = self.evicted.saturating_add(other.evicted);
        self.rejected = self.rejected.saturating_add(other.rejected);
        self.queue_full = self.queue_full.saturating_add(other.queue_full);
    }

    /// A gone page's at-risk entries were lost with it.
    fn settle_previous_page(&mut self) {
        self.evicted = self
            .evicted
            .saturating_add(std::mem::take(&mut self.at_risk));
    }

    /// All drops together.
    pub fn total(&self) -> u64 {
        self.sampled + self.evicted + self.rejected + self.queue_full
    }

    /// The report entry's JSON and the counts it carries when anything was dropped,
    /// resetting the counters.
    pub(crate) fn take_report(
        &mut self,
        trace_id: &str,
        user_id: Option<&str>,
        now: f64,
    ) -> Option<(String, Drops)> {
        if self.total() == 0 {
            return None;
        }
        let at_risk = self.at_risk;
        let d = std::mem::take(self);
        self.at_risk = at_risk;
        let mut out = String::with_capacity(320);
        out.push_str("{\"level\":\"WARNING\",\"message\":");
        write_str(&mut out, REPORT_MESSAGE);
        out.push_str(",\"module\":\"tracewire\",\"trace_id\":");
        write_str(&mut out, trace_id);
        if let Some(user) = user_id {
            out.push_str(",\"user_id\":");
            write_str(&mut out, user);
        }
        out.push_str(",\"extra_data\":{");
        for (i, (name, v)) in [
            ("dropped", d.total()),
            ("sampled", d.sampled),
            ("evicted", d.evicted),
            ("rejected", d.rejected),
            ("queue_full", d.queue_full),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, name);
            out.push(':');
            write_number(&mut out, v as f64);
        }
        out.push_str("},\"timestamp\":\"");
        write_rfc3339(&mut out, now);
        out.push_str("\"}");
        Some((out, d))
    }
}
