//! Server-side dedup (seed property 3): identical logs whose first-seen times lie within the
//! window of a stored row collapse into that row, across batches, with an exact `dedup_count`.
//!
//! Pure logic, no I/O. The writer plans a whole group of batches against the index, writes the
//! plan in one transaction and only then [`DedupIndex::apply`]s it, so a rolled-back group leaves
//! the index exactly as it was. Keys are kept as 128-bit hashes so a 64 KiB message costs the
//! index 16 bytes, not 64 KiB.

use crate::store::{LogBump, LogRow};
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use tracewire_shared::fingerprint::DedupKey;
use uuid::Uuid;

/// 128-bit hash of a project's dedup key (two independent 64-bit SipHashes).
pub fn key_hash(project_id: Uuid, key: &DedupKey) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        project_id.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// A stored row that can still absorb duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    row_id: Uuid,
    first_seen_us: i64,
    /// Server time the slot was last written, for eviction.
    touched_us: i64,
}

/// Rows still open for duplicates, by key hash.
#[derive(Debug)]
pub struct DedupIndex {
    window_us: i64,
    slots: HashMap<u128, Slot>,
}

/// Where a key lives while a group is being planned.
#[derive(Debug, Clone, Copy)]
enum Staged {
    /// A row this group inserts (index into `inserts`).
    New { insert: usize, first_seen_us: i64 },
    /// A row an earlier group stored (index into `bumps`).
    Existing { bump: usize, first_seen_us: i64 },
}

/// What one group writes, and the index changes to apply once it has committed.
#[derive(Debug, Default)]
pub struct GroupPlan {
    /// New rows, with their collapsed counts.
    pub inserts: Vec<LogRow>,
    /// Count increments for rows stored earlier.
    pub bumps: Vec<LogBump>,
    staged: Vec<(u128, Slot)>,
}

/// Plans one group against the index without changing it.
pub struct Planner<'a> {
    index: &'a DedupIndex,
    now_us: i64,
    staged: HashMap<u128, Staged>,
    plan: GroupPlan,
}

impl DedupIndex {
    /// An empty index with the given window (10 s in production).
    pub fn new(window_us: i64) -> Self {
        Self {
            window_us,
            slots: HashMap::new(),
        }
    }

    /// Number of open slots (memory use is proportional).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no slot is open.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Re-opens a row stored before a restart.
    pub fn seed(&mut self, hash: u128, row_id: Uuid, first_seen_us: i64, now_us: i64) {
        self.slots.insert(
            hash,
            Slot {
                row_id,
                first_seen_us,
                touched_us: now_us,
            },
        );
    }

    /// Starts planning a group at server time `now_us`.
    pub fn planner(&self, now_us: i64) -> Planner<'_> {
        Planner {
            index: self,
            now_us,
            staged: HashMap::new(),
            plan: GroupPlan::default(),
        }
    }

    /// Makes a committed plan's rows available to later groups.
    pub fn apply(&mut self, plan: GroupPlan) {
        for (hash, slot) in plan.staged {
            self.slots.insert(hash, slot);
        }
    }

    /// Forgets slots no new duplicate can reach any more. Clients send within seconds, so a slot
    /// untouched for two windows is closed.
    pub fn evict(&mut self, now_us: i64) {
        let horizon = now_us - 2 * self.window_us;
        self.slots.retain(|_, s| s.touched_us >= horizon);
    }

    fn within(&self, a: i64, b: i64) -> bool {
        (a - b).abs() < self.window_us
    }
}

impl Planner<'_> {
    /// Adds one log; it becomes a new row or collapses into an open one.
    pub fn add(&mut self, hash: u128, row: LogRow) {
        let staged = self.staged.get(&hash).copied();
        match staged {
            Some(Staged::New {
                insert,
                first_seen_us,
            }) if self.index.within(row.first_seen_at, first_seen_us) => {
                let target = &mut self.plan.inserts[insert];
                target.dedup_count += row.dedup_count;
                target.first_seen_at = target.first_seen_at.min(row.first_seen_at);
                target.last_seen_at = target.last_seen_at.max(row.last_seen_at);
            }
            Some(Staged::Existing {
                bump,
                first_seen_us,
            }) if self.index.within(row.first_seen_at, first_seen_us) => {
                let target = &mut self.plan.bumps[bump];
                target.add += row.dedup_count;
                target.first_seen_at = target.first_seen_at.min(row.first_seen_at);
                target.last_seen_at = target.last_seen_at.max(row.last_seen_at);
            }
            Some(_) => self.insert(hash, row),
            None => match self.index.slots.get(&hash) {
                Some(slot) if self.index.within(row.first_seen_at, slot.first_seen_us) => {
                    self.staged.insert(
                        hash,
                        Staged::Existing {
                            bump: self.plan.bumps.len(),
                            first_seen_us: slot.first_seen_us,
                        },
                    );
                    self.plan.bumps.push(LogBump {
                        id: slot.row_id,
                        add: row.dedup_count,
                        first_seen_at: row.first_seen_at,
                        last_seen_at: row.last_seen_at,
                    });
                }
                _ => self.insert(hash, row),
            },
        }
    }

    fn insert(&mut self, hash: u128, row: LogRow) {
        self.staged.insert(
            hash,
            Staged::New {
                insert: self.plan.inserts.len(),
                first_seen_us: row.first_seen_at,
            },
        );
        self.plan.inserts.push(row);
    }

    /// Finishes the plan; nothing in the index has changed yet.
    pub fn finish(mut self) -> GroupPlan {
        let now_us = self.now_us;
        for (hash, staged) in self.staged {
            let slot = match staged {
                Staged::New { insert, .. } => {
                    let row = &self.plan.inserts[insert];
                    Slot {
                        row_id: row.id,
                        first_seen_us: row.first_seen_at,
                        touched_us: now_us,
                    }
                }
                Staged::Existing {
                    bump,
                    first_seen_us,
                } => Slot {
                    row_id: self.plan.bumps[bump].id,
                    first_seen_us,
                    touched_us: now_us,
                },
            };
            self.plan.staged.push((hash, slot));
        }
        self.plan
    }
}

#[cfg(test)]
mod tests;
