//! Property 3 at the level of the pure index: counts are exact across groups, rollbacks leave
//! no trace, and rows only absorb duplicates inside the window.

use super::*;
use proptest::prelude::*;
use std::collections::HashMap;
use tracewire_shared::level::Level;
use tracewire_shared::validate::Source;

const WINDOW: i64 = 10_000_000;

fn row(key: u128, first_seen: i64, count: i64) -> LogRow {
    LogRow {
        dedup_count: count,
        ..LogRow::new(
            Uuid::nil(),
            first_seen,
            Level::Info,
            Source::Frontend,
            key.to_string(),
        )
    }
}

#[test]
fn duplicates_collapse_within_and_across_groups() {
    let mut index = DedupIndex::new(WINDOW);
    let mut p = index.planner(0);
    p.add(1, row(1, 0, 1));
    p.add(1, row(1, 1_000_000, 2));
    p.add(2, row(2, 0, 1));
    let plan = p.finish();
    assert_eq!(plan.inserts.len(), 2);
    assert_eq!(plan.inserts[0].dedup_count, 3);
    let first_id = plan.inserts[0].id;
    index.apply(plan);

    let mut p = index.planner(5_000_000);
    p.add(1, row(1, 9_999_999, 4));
    p.add(1, row(1, 10_000_000, 1));
    let plan = p.finish();
    assert_eq!(
        plan.bumps,
        vec![LogBump {
            id: first_id,
            add: 4,
            first_seen_at: 9_999_999,
            last_seen_at: 9_999_999
        }]
    );
    assert_eq!(
        plan.inserts.len(),
        1,
        "a log a full window later opens a new row"
    );
}

#[test]
fn an_unapplied_plan_changes_nothing() {
    let index = DedupIndex::new(WINDOW);
    let mut p = index.planner(0);
    p.add(7, row(7, 0, 1));
    drop(p.finish());
    let mut p = index.planner(0);
    p.add(7, row(7, 0, 1));
    assert_eq!(
        p.finish().inserts.len(),
        1,
        "the rolled-back row must not receive bumps"
    );
}

#[test]
fn eviction_closes_idle_slots_only() {
    let mut index = DedupIndex::new(WINDOW);
    let mut p = index.planner(0);
    p.add(1, row(1, 0, 1));
    index.apply(p.finish());
    index.evict(WINDOW);
    assert_eq!(index.len(), 1);
    index.evict(2 * WINDOW + 1);
    assert!(index.is_empty());
}

proptest! {
    /// Random groups of random keys, counts and (sorted) times: every input count lands in
    /// exactly one row, each row only absorbs entries within the window of its first-seen, and
    /// groups that fail to commit leave no trace.
    #[test]
    fn counts_are_exact_across_groups(
        groups in prop::collection::vec(
            (prop::collection::vec((0u128..4, 0i64..40_000_000, 1i64..5), 0..30), any::<bool>()),
            1..12,
        )
    ) {
        let mut index = DedupIndex::new(WINDOW);
        let mut expected: HashMap<u128, i64> = HashMap::new();
        // row id -> (key, first_seen, total count)
        let mut rows: HashMap<Uuid, (u128, i64, i64)> = HashMap::new();
        let mut clock = 0i64;
        for (entries, commits) in groups {
            let mut entries = entries;
            entries.sort_by_key(|e| e.1);
            let mut p = index.planner(clock);
            for &(key, offset, count) in &entries {
                p.add(key, row(key, clock + offset, count));
            }
            let plan = p.finish();
            if commits {
                for &(key, _, count) in &entries {
                    *expected.entry(key).or_default() += count;
                }
                for r in &plan.inserts {
                    let key: u128 = r.message.parse().expect("test rows carry their key");
                    rows.insert(r.id, (key, r.first_seen_at, r.dedup_count));
                }
                for b in &plan.bumps {
                    let entry = rows.get_mut(&b.id).expect("bumps only touch stored rows");
                    prop_assert!((b.first_seen_at - entry.1).abs() < WINDOW);
                    entry.2 += b.add;
                }
                index.apply(plan);
            }
            clock += 3_000_000;
        }
        let mut actual: HashMap<u128, i64> = HashMap::new();
        for (key, _, count) in rows.values() {
            *actual.entry(*key).or_default() += count;
        }
        prop_assert_eq!(actual, expected);
    }
}

/// The database's side of [`GroupPlan::claims`]: what the PostgreSQL upsert of
/// `log_dedup_slots` decides, one claim at a time (a key keeps its row while a claimed
/// first-seen time falls within its window, else the claim takes the key over).
fn claim_in(slots: &mut HashMap<u128, SlotOwner>, rounds: &[Vec<SlotClaim>]) -> Vec<SlotOwner> {
    let mut owners = Vec::new();
    for claim in rounds.concat() {
        let owner = match slots.get(&claim.key) {
            Some(held) if (claim.first_seen_us - held.first_seen_us).abs() < WINDOW => *held,
            _ => SlotOwner {
                key: claim.key,
                row_id: claim.row_id,
                first_seen_us: claim.first_seen_us,
            },
        };
        slots.insert(claim.key, owner);
        owners.push(owner);
    }
    owners
}

/// Stored rows (id -> (key, count)) after a plan commits.
fn commit(rows: &mut HashMap<Uuid, (String, i64)>, plan: &GroupPlan) {
    for r in &plan.inserts {
        rows.insert(r.id, (r.message.clone(), r.dedup_count));
    }
    for b in &plan.bumps {
        rows.get_mut(&b.id).expect("a bump names a stored row").1 += b.add;
    }
}

#[test]
fn a_second_collector_bumps_the_first_ones_row_instead_of_inserting() {
    let mut slots = HashMap::new();
    let mut rows = HashMap::new();
    let (mut a, mut b) = (DedupIndex::new(WINDOW), DedupIndex::new(WINDOW));
    let mut p = a.planner(0);
    p.add(7, row(7, 0, 2));
    let mut plan = p.finish();
    let rounds = plan.claims();
    let owners = claim_in(&mut slots, &rounds);
    plan.reconcile(&rounds, &owners);
    commit(&mut rows, &plan);
    let first = plan.inserts[0].id;
    a.apply(plan);

    // Collector b has never seen key 7: it plans a new row, the database says no.
    let mut p = b.planner(1_000_000);
    p.add(7, row(7, 1_000_000, 3));
    let mut plan = p.finish();
    assert_eq!(plan.inserts.len(), 1);
    let rounds = plan.claims();
    let owners = claim_in(&mut slots, &rounds);
    plan.reconcile(&rounds, &owners);
    assert!(plan.inserts.is_empty());
    assert_eq!(plan.bumps.len(), 1);
    assert_eq!((plan.bumps[0].id, plan.bumps[0].add), (first, 3));
    commit(&mut rows, &plan);
    b.apply(plan);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[&first].1, 5);

    // And b's index now knows a's row: its next duplicate bumps it directly.
    let mut p = b.planner(2_000_000);
    p.add(7, row(7, 2_000_000, 1));
    let plan = p.finish();
    assert_eq!(plan.bumps.first().map(|x| x.id), Some(first));
}

proptest! {
    /// Property 3 across collectors: logs of a few keys, all within one window, spread in
    /// random groups over three collectors that share only the slot table, end up as one row
    /// per key whose count is the exact number sent.
    #[test]
    fn identical_logs_over_several_collectors_collapse_into_one_row_each(
        sends in prop::collection::vec((0usize..3, 0u128..4, 0i64..9_000_000, 1i64..4), 1..60),
        cuts in prop::collection::vec(1usize..6, 1..30),
    ) {
        let mut slots = HashMap::new();
        let mut rows: HashMap<Uuid, (String, i64)> = HashMap::new();
        let mut indexes: Vec<DedupIndex> = (0..3).map(|_| DedupIndex::new(WINDOW)).collect();
        let mut sent: HashMap<String, i64> = HashMap::new();
        let mut rest = sends.as_slice();
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap_or(&1)).min(rest.len());
            let (group, tail) = rest.split_at(n);
            rest = tail;
            // A group goes to the collector of its first log.
            let collector = group[0].0;
            let mut p = indexes[collector].planner(0);
            for &(_, key, first_seen, count) in group {
                p.add(key, row(key, first_seen, count));
                *sent.entry(key.to_string()).or_default() += count;
            }
            let mut plan = p.finish();
            let rounds = plan.claims();
    let owners = claim_in(&mut slots, &rounds);
            plan.reconcile(&rounds, &owners);
            commit(&mut rows, &plan);
            indexes[collector].apply(plan);
        }
        let mut stored: HashMap<String, (usize, i64)> = HashMap::new();
        for (message, count) in rows.values() {
            let e = stored.entry(message.clone()).or_default();
            e.0 += 1;
            e.1 += count;
        }
        for (key, total) in &sent {
            prop_assert_eq!(stored.get(key).copied(), Some((1, *total)), "key {}", key);
        }
    }
}
