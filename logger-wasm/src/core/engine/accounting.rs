//! The core's accounting of its own losses: which batches are at risk (in memory only), what
//! an eviction, a rejection or a late verdict costs, and persisting the counters so a reload
//! cannot hide them. Every path that drops or delivers a batch goes through here, so each
//! entry is counted once (`tests/core_model.rs` checks it under random interleavings).

use super::{Core, MAX_ISSUED};
use crate::core::drops::DropKind;
use crate::core::list::take_at;
use crate::core::outbox::Batch;
use crate::core::storage::StorageError;

impl Core {
    /// Persists the drop counters, evicting batches if the quota demands it: the record of
    /// losses must survive, or a reload would hide them.
    pub(super) fn save_drops(&mut self) {
        for _ in 0..1000 {
            match self.drops.save(self.outbox.storage(), &self.drops_key) {
                Err(StorageError::Quota) => {
                    let mut evicted = Vec::new();
                    let value = self.drops.to_field();
                    let stored = self
                        .outbox
                        .store_evicting(&self.drops_key, &value, &mut evicted);
                    let changed = !evicted.is_empty();
                    for b in evicted {
                        self.evict(b);
                    }
                    if !stored || !changed {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// Writes the batches not stored yet, oldest first; stored, they are no longer at risk.
    /// What the quota evicts on the way is counted.
    pub(super) fn persist_pending(&mut self) {
        self.persist_at = None;
        let mut evicted = Vec::new();
        let released = self.outbox.persist_all(&mut evicted);
        self.drops.at_risk = self.drops.at_risk.saturating_sub(released);
        for b in evicted {
            self.evict(b);
        }
        self.save_drops();
    }

    /// Accounts for a batch that leaves the outbox without being delivered.
    pub(super) fn forget(&mut self, batch: Batch, kind: DropKind) {
        self.count_lost(&batch, kind);
        self.acked(&batch);
    }

    /// Counts a lost batch's entries and gives back the drop counts its report carried.
    pub(super) fn count_lost(&mut self, batch: &Batch, kind: DropKind) {
        self.drops.add(kind, u64::from(batch.entries));
        if let Some(r) = &batch.report {
            self.drops.merge(r);
        }
    }

    /// Accounts for a batch evicted from the outbox. If a request for it is still unanswered
    /// (timed out, so no longer in flight), it may yet arrive: it waits in `unsettled`, at risk,
    /// for that request's verdict.
    pub(super) fn evict(&mut self, batch: Batch) {
        let mut ids = Vec::new();
        self.issued.retain(|(id, key)| {
            let mine = *key == batch.key;
            if mine {
                ids.push(*id);
            }
            !mine
        });
        if ids.is_empty() {
            return self.forget(batch, DropKind::Evicted);
        }
        if batch.persisted {
            self.drops.at_risk += batch.at_risk();
        }
        if self.unsettled.len() >= MAX_ISSUED {
            // Bounded like `issued`: the oldest is given up on, counted as lost.
            if let Some((_, oldest)) = take_at(&mut self.unsettled, 0) {
                self.settle(oldest, false);
            }
        }
        self.unsettled.push((ids, batch));
    }

    /// The verdict on an evicted batch: no longer at risk, and counted unless delivered.
    pub(super) fn settle(&mut self, batch: Batch, delivered: bool) {
        self.drops.at_risk = self.drops.at_risk.saturating_sub(batch.at_risk());
        if !delivered {
            self.count_lost(&batch, DropKind::Evicted);
        }
    }

    /// A batch left the outbox: it is no longer at risk.
    pub(super) fn acked(&mut self, batch: &Batch) {
        if !batch.persisted {
            self.drops.at_risk = self.drops.at_risk.saturating_sub(batch.at_risk());
        }
    }
}
