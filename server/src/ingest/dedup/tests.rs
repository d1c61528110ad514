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
