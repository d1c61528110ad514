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
    /// The key hash of each of `inserts`, in the same order.
    insert_hashes: Vec<u128>,
}

/// A row this collector means to absorb a key's duplicates into, as offered to the other
/// collectors on the same database ([`GroupPlan::claims`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotClaim {
    /// The project's dedup key hash ([`key_hash`]).
    pub key: u128,
    /// The row: one this group inserts, or an open one it bumps.
    pub row_id: Uuid,
    /// The first-seen time the row's window is measured from.
    pub first_seen_us: i64,
}

/// The row the database says a key's duplicates go to: the claimed row, or another
/// collector's row whose window the claimed first-seen time falls into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotOwner {
    /// Key hash, as claimed.
    pub key: u128,
    /// The row that absorbs the key's duplicates.
    pub row_id: Uuid,
    /// That row's window start.
    pub first_seen_us: i64,
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

    /// The window, in microseconds.
    pub fn window_us(&self) -> i64 {
        self.window_us
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
        self.plan.insert_hashes.push(hash);
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

impl GroupPlan {
    /// Every row this plan routes a key to, in rounds where no key appears twice (one database
    /// statement can claim a key once): round one holds every key, a later round only the
    /// rare key a group saw again more than a window apart.
    pub fn claims(&self) -> Vec<Vec<SlotClaim>> {
        let mut rounds: Vec<Vec<SlotClaim>> = Vec::new();
        let mut seen: HashMap<u128, usize> = HashMap::new();
        let inserts = self.inserts.iter().zip(&self.insert_hashes);
        let claimed = inserts.map(|(row, &key)| SlotClaim {
            key,
            row_id: row.id,
            first_seen_us: row.first_seen_at,
        });
        let bump_ids: std::collections::HashSet<Uuid> = self.bumps.iter().map(|b| b.id).collect();
        let bumped = self.staged.iter().filter_map(|(key, slot)| {
            bump_ids.contains(&slot.row_id).then_some(SlotClaim {
                key: *key,
                row_id: slot.row_id,
                first_seen_us: slot.first_seen_us,
            })
        });
        for claim in claimed.chain(bumped) {
            let round = seen.entry(claim.key).or_default();
            if rounds.len() <= *round {
                rounds.push(Vec::new());
            }
            rounds[*round].push(claim);
            *round += 1;
        }
        rounds
    }

    /// Routes the plan as the database decided: a new row whose key another collector already
    /// holds an open row for becomes a bump of that row, and a bump goes to the row the database
    /// names. Counts and first/last-seen times move with the rows, so nothing is lost or
    /// counted twice; the slots applied to the index afterwards name the owners.
    /// `rounds` are this plan's [`GroupPlan::claims`], `owners` the database's answer to them.
    pub fn reconcile(&mut self, rounds: &[Vec<SlotClaim>], owners: &[SlotOwner]) {
        let mut redirected: HashMap<Uuid, SlotOwner> = HashMap::new();
        for (claim, owner) in rounds.iter().flatten().zip(owners) {
            debug_assert_eq!(claim.key, owner.key);
            if owner.row_id != claim.row_id {
                redirected.insert(claim.row_id, *owner);
            }
        }
        if redirected.is_empty() {
            return;
        }
        let mut kept = Vec::with_capacity(self.inserts.len());
        let mut kept_hashes = Vec::with_capacity(self.inserts.len());
        for (row, hash) in self.inserts.drain(..).zip(self.insert_hashes.drain(..)) {
            match redirected.get(&row.id) {
                Some(owner) => self.bumps.push(LogBump {
                    id: owner.row_id,
                    add: row.dedup_count,
                    first_seen_at: row.first_seen_at,
                    last_seen_at: row.last_seen_at,
                }),
                None => {
                    kept.push(row);
                    kept_hashes.push(hash);
                }
            }
        }
        self.inserts = kept;
        self.insert_hashes = kept_hashes;
        for bump in &mut self.bumps {
            if let Some(owner) = redirected.get(&bump.id) {
                bump.id = owner.row_id;
            }
        }
        // One bump per row: the writer's UPDATEs then touch each row once.
        let mut merged: Vec<LogBump> = Vec::with_capacity(self.bumps.len());
        let mut at: HashMap<Uuid, usize> = HashMap::new();
        for bump in self.bumps.drain(..) {
            match at.get(&bump.id) {
                Some(&i) => {
                    let m = &mut merged[i];
                    m.add += bump.add;
                    m.first_seen_at = m.first_seen_at.min(bump.first_seen_at);
                    m.last_seen_at = m.last_seen_at.max(bump.last_seen_at);
                }
                None => {
                    at.insert(bump.id, merged.len());
                    merged.push(bump);
                }
            }
        }
        self.bumps = merged;
        for (key, slot) in &mut self.staged {
            if let Some(owner) = redirected.get(&slot.row_id) {
                debug_assert_eq!(*key, owner.key);
                slot.row_id = owner.row_id;
                slot.first_seen_us = owner.first_seen_us;
            }
        }
    }
}

#[cfg(test)]
mod tests;
