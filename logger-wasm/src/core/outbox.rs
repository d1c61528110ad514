//! The outbox: batches cut and waiting for the collector's acknowledgement, in order.
//!
//! Every batch that has to wait is written to storage (within [`PERSIST_DELAY_MS`] of its
//! cut, at once when its send fails, the page goes offline or hides), so a reload or a long
//! offline period loses nothing: the next page load finds the batches and sends them again
//! *with the same batch_id*, which the collector stores at most once. A batch acknowledged
//! before then never costs a write.
//!
//! [`PERSIST_DELAY_MS`]: super::config::PERSIST_DELAY_MS
//! The buffer is bounded by entries and bytes; the oldest batches are evicted first and their
//! entries counted, so the loss is reported instead of silent.

use super::drops::Drops;
use super::json::{parse_u64, write_padded, write_u64};
use super::list::{put_at, take_at};
use super::storage::{Storage, StorageError};
use super::text::split_byte;

/// Key prefix of stored batches; keys sort in cut order (time, sequence, tab).
pub const BATCH_PREFIX: &str = "tracewire:b:";

/// One cut batch.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// Storage key, also the batch's identity inside the core.
    pub key: String,
    /// The request body, including its batch_id; never changes once cut.
    pub body: String,
    /// Application entries inside (for drop accounting; the drop report is not one).
    pub entries: u32,
    /// The drop counts this batch reports, if it carries the report: should the batch be
    /// lost after all, the counts go back to the counters instead of vanishing with it.
    pub report: Option<Drops>,
    /// Failed sends in the current round (reset when the batch parks or the page comes online).
    pub attempts: u32,
    /// Not sent before this time (epoch ms): backoff, Retry-After or parking.
    pub not_before: f64,
    /// Request id and send time while a request for this batch is outstanding.
    pub in_flight: Option<(u64, f64)>,
    /// False until [`Outbox::persist_all`] wrote it, or when storage refused it (quota,
    /// unavailable): it lives in memory only and would be lost with the page, so the core
    /// counts it as at risk until it is written or acknowledged.
    pub persisted: bool,
}

impl Batch {
    /// What the batch would take with it if it were lost while in memory only: its entries
    /// and the drop counts its report carries.
    pub fn at_risk(&self) -> u64 {
        u64::from(self.entries) + self.report.as_ref().map_or(0, Drops::total)
    }
}

/// Ordered, bounded, persisted batches.
pub(crate) struct Outbox {
    storage: Box<dyn Storage>,
    /// Oldest first. A Vec, not a VecDeque: few batches wait, and it keeps the module small.
    batches: Vec<Batch>,
    max_entries: usize,
    max_bytes: usize,
    /// (time, sequence) of the newest key, so new keys always sort after loaded ones.
    last: (u64, u32),
    /// Random per-page suffix so two tabs never write the same key.
    tab: u16,
}

fn parse_key(key: &str) -> Option<(u64, u32)> {
    let rest = key.strip_prefix(BATCH_PREFIX)?;
    let time = parse_u64(rest.get(..13)?)?;
    let seq = u32::try_from(parse_u64(rest.get(13..19)?)?).ok()?;
    Some((time, seq))
}

impl Outbox {
    /// Loads the batches a previous page load (or another tab) left in `storage`.
    pub fn load(storage: Box<dyn Storage>, max_entries: usize, max_bytes: usize, tab: u16) -> Self {
        let mut me = Self {
            storage,
            batches: Vec::new(),
            max_entries,
            max_bytes,
            last: (0, 0),
            tab,
        };
        me.adopt();
        me
    }

    /// Takes in the stored batches this outbox does not hold yet, in key order: at load, what
    /// earlier page loads left; later, what a closed tab left in the shared buffer (the storage
    /// lists only the keys this page may take, see `js/host.js`). Unreadable leftovers (older
    /// format, manual edits) are deleted: they would block nothing but never leave either.
    /// The bounds are not enforced here; the caller does and counts what they evict.
    pub fn adopt(&mut self) {
        // Sorted by the storage: key order is cut order.
        for key in self.storage.keys_with_prefix(BATCH_PREFIX) {
            if self.batches.iter().any(|b| b.key == key) {
                continue;
            }
            let parsed = self.storage.get(&key).and_then(|v| {
                let (head, body) = split_byte(&v, b'\n')?;
                let (n, report) = match split_byte(head, b';') {
                    Some((n, r)) => (n, Some(Drops::parse(r))),
                    None => (head, None),
                };
                Some((u32::try_from(parse_u64(n)?).ok()?, report, body.to_owned()))
            });
            let (Some(order), Some((entries, report, body))) = (parse_key(&key), parsed) else {
                self.storage.remove(&key);
                continue;
            };
            self.last = self.last.max(order);
            let pos = self.batches.iter().position(|b| b.key > key);
            let batch = Batch {
                key,
                body,
                entries,
                report,
                attempts: 0,
                not_before: 0.0,
                in_flight: None,
                persisted: true,
            };
            put_at(&mut self.batches, pos.unwrap_or(usize::MAX), batch);
        }
    }

    /// A fresh key sorting after every existing one.
    pub fn next_key(&mut self, now_ms: f64) -> String {
        let now = if now_ms.is_finite() && now_ms > 0.0 {
            now_ms as u64
        } else {
            0
        };
        self.last = if now > self.last.0 {
            (now.min(9_999_999_999_999), 0)
        } else {
            (self.last.0, self.last.1.saturating_add(1).min(999_999))
        };
        let mut key = String::with_capacity(BATCH_PREFIX.len() + 23);
        key.push_str(BATCH_PREFIX);
        write_padded(&mut key, self.last.0, 13);
        write_padded(&mut key, u64::from(self.last.1), 6);
        self.push_tab(&mut key);
        key
    }

    /// Appends this page's tab suffix (four hex digits), which ends every key it writes.
    pub fn push_tab(&self, key: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for shift in [12, 8, 4, 0] {
            key.push(char::from(HEX[usize::from((self.tab >> shift) & 0xf)]));
        }
    }

    /// Appends a batch, in memory until [`Outbox::persist`] writes it, and enforces the
    /// bounds. Returns the evicted batches.
    pub fn push(&mut self, mut batch: Batch) -> Vec<Batch> {
        batch.persisted = false;
        self.batches.push(batch);
        self.enforce_bounds()
    }

    /// Writes the batches not stored yet, oldest first, evicting the oldest batches (onto
    /// `evicted`) while the quota is full; a batch storage refuses stays in memory. Returns
    /// what the batches written had at risk.
    pub fn persist_all(&mut self, evicted: &mut Vec<Batch>) -> u64 {
        let mut released = 0;
        let mut i = 0;
        while let Some(batch) = self.batches.get(i) {
            if batch.persisted {
                i += 1;
                continue;
            }
            let key = batch.key.clone();
            let mut value = String::with_capacity(batch.body.len() + 48);
            write_u64(&mut value, u64::from(batch.entries));
            if let Some(r) = &batch.report {
                value.push(';');
                value.push_str(&r.to_field());
            }
            value.push('\n');
            value.push_str(&batch.body);
            let stored = self.store_evicting(&key, &value, evicted);
            // Evictions only take batches other than this one, so find it again.
            let Some(pos) = self.batches.iter().position(|b| b.key == key) else {
                break;
            };
            if let Some(b) = self.batches.get_mut(pos)
                && stored
            {
                b.persisted = true;
                released += b.at_risk();
            }
            i = pos + 1;
        }
        released
    }

    /// Writes `key`, evicting the oldest batches (other than `key`'s own) while the quota is
    /// full. False when it could not be written (the caller keeps the data in memory).
    pub fn store_evicting(&mut self, key: &str, value: &str, evicted: &mut Vec<Batch>) -> bool {
        loop {
            match self.storage.set(key, value) {
                Ok(()) => return true,
                Err(StorageError::Quota) => match self.evict_oldest(key) {
                    Some(b) => evicted.push(b),
                    None => return false,
                },
                Err(StorageError::Unavailable) => return false,
            }
        }
    }

    fn bytes(&self) -> usize {
        self.batches.iter().map(|b| b.body.len()).sum()
    }

    fn entries(&self) -> usize {
        self.batches.iter().map(|b| b.entries as usize).sum()
    }

    /// Evicts the oldest batches while the buffer is over its bounds; returns them.
    pub fn enforce_bounds(&mut self) -> Vec<Batch> {
        let mut evicted = Vec::new();
        while self.batches.len() > 1
            && (self.entries() > self.max_entries || self.bytes() > self.max_bytes)
        {
            let Some(newest) = self.batches.last().map(|b| b.key.clone()) else {
                break;
            };
            match self.evict_oldest(&newest) {
                Some(b) => evicted.push(b),
                None => break,
            }
        }
        evicted
    }

    /// Removes the oldest batch that is neither `keep` nor in flight.
    fn evict_oldest(&mut self, keep: &str) -> Option<Batch> {
        let pos = self
            .batches
            .iter()
            .position(|b| b.key != keep && b.in_flight.is_none())?;
        let batch = self.take(pos)?;
        if batch.persisted {
            self.storage.remove(&batch.key);
        }
        Some(batch)
    }

    /// Forgets a batch (acknowledged or rejected); returns it.
    pub fn remove(&mut self, key: &str) -> Option<Batch> {
        let pos = self.batches.iter().position(|b| b.key == key)?;
        let batch = self.take(pos)?;
        if batch.persisted {
            self.storage.remove(key);
        }
        Some(batch)
    }

    /// Removes the batch at `pos`, if there is one.
    fn take(&mut self, pos: usize) -> Option<Batch> {
        take_at(&mut self.batches, pos)
    }

    /// Batches in order.
    pub fn iter(&self) -> impl Iterator<Item = &Batch> {
        self.batches.iter()
    }

    /// Batches in order, mutable (scheduling fields only).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Batch> {
        self.batches.iter_mut()
    }

    /// The oldest batch.
    pub fn front_mut(&mut self) -> Option<&mut Batch> {
        self.batches.first_mut()
    }

    /// How many batches wait.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// The storage, for the core's own small records (drop counters).
    pub fn storage(&mut self) -> &mut dyn Storage {
        self.storage.as_mut()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::MemoryStorage;

    fn batch(key: String, body: &str) -> Batch {
        Batch {
            key,
            body: body.to_owned(),
            entries: 1,
            report: None,
            attempts: 0,
            not_before: 0.0,
            in_flight: None,
            persisted: false,
        }
    }

    #[test]
    fn adopting_keeps_cut_order_and_takes_each_batch_once() {
        let shared = MemoryStorage::new();
        let mut closed = Outbox::load(Box::new(shared.clone()), 100, 1 << 20, 0xaaaa);
        let mut open = Outbox::load(Box::new(shared.clone()), 100, 1 << 20, 0xbbbb);
        let older = closed.next_key(1_000.0);
        closed.push(batch(older.clone(), "older"));
        assert_eq!(closed.persist_all(&mut Vec::new()), 1);
        let newer = open.next_key(2_000.0);
        open.push(batch(newer.clone(), "newer"));
        assert_eq!(open.persist_all(&mut Vec::new()), 1);
        drop(closed);
        open.adopt();
        open.adopt();
        let keys: Vec<&str> = open.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, [older.as_str(), newer.as_str()]);
        assert!(open.iter().all(|b| b.persisted));
        // Keys cut after adopting sort after everything adopted.
        let later = open.next_key(500.0);
        assert!(later > older && later > newer, "{later}");
    }
}
