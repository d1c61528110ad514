use super::*;
use proptest::prelude::*;

const MIN: i64 = MINUTE_US;

fn timing(pending: u32, throttle: u32) -> RuleTiming {
    RuleTiming {
        pending_evaluations: pending,
        throttle_minutes: throttle,
        mute_until_us: None,
    }
}

fn breach(value: f64) -> Reading {
    Reading::Value {
        value,
        breaching: true,
    }
}

fn clear() -> Reading {
    Reading::Value {
        value: 0.0,
        breaching: false,
    }
}

#[test]
fn fires_only_after_n_consecutive_breaches() {
    let t = timing(3, 10);
    let mut s = RuleState::default();
    let steps: Vec<_> = [
        breach(1.0),
        breach(1.0),
        clear(),
        breach(1.0),
        breach(1.0),
        breach(1.0),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, r)| s.evaluate(&t, r, i as i64 * MIN))
    .map(|step| (step.to, step.record.map(|r| r.kind)))
    .collect();
    assert_eq!(
        steps,
        [
            (AlertState::Pending, None),
            (AlertState::Pending, None),
            (AlertState::Ok, None),
            (AlertState::Pending, None),
            (AlertState::Pending, None),
            (AlertState::Firing, Some(HistoryKind::Firing)),
        ]
    );
}

#[test]
fn throttled_triggers_are_recorded_unsent_then_sent_again() {
    let t = timing(1, 5);
    let mut s = RuleState::default();
    let first = s.evaluate(&t, breach(9.0), 0);
    assert_eq!(first.record.map(|r| r.notify), Some(true));
    let inside = s.evaluate(&t, breach(9.0), 4 * MIN);
    assert_eq!(
        inside.record,
        Some(Record {
            kind: HistoryKind::Suppressed,
            notify: false,
            suppressed: Some(Suppression::Throttled)
        })
    );
    let after = s.evaluate(&t, breach(9.0), 5 * MIN);
    assert_eq!(
        after.record.map(|r| (r.kind, r.notify)),
        Some((HistoryKind::Firing, true))
    );
}

#[test]
fn resolves_are_sent_for_notified_episodes_only() {
    let mut t = timing(1, 60);
    let mut s = RuleState::default();
    s.evaluate(&t, breach(1.0), 0);
    let resolved = s.evaluate(&t, clear(), MIN);
    assert_eq!(resolved.to, AlertState::Resolved);
    assert_eq!(resolved.record.map(|r| r.notify), Some(true));
    assert_eq!(s.evaluate(&t, clear(), 2 * MIN).to, AlertState::Ok);
    // Fires again inside the throttle: recorded unsent, so its resolve is not sent either.
    s.evaluate(&t, breach(1.0), 3 * MIN);
    let quiet = s.evaluate(&t, clear(), 4 * MIN);
    assert_eq!(
        quiet.record.and_then(|r| r.suppressed),
        Some(Suppression::EpisodeNotNotified)
    );
    // Muted: nothing goes out, everything is recorded.
    t.mute_until_us = Some(200 * MIN);
    let muted = s.evaluate(&t, breach(1.0), 100 * MIN);
    assert_eq!(
        muted.record.and_then(|r| r.suppressed),
        Some(Suppression::Muted)
    );
    assert!(!muted.record.is_some_and(|r| r.notify));
}

#[test]
fn no_data_is_recorded_once_and_ends_an_episode() {
    let t = timing(1, 0);
    let mut s = RuleState::default();
    s.evaluate(&t, breach(1.0), 0);
    let gone = s.evaluate(&t, Reading::NoData, MIN);
    assert_eq!(
        (gone.to, gone.record.map(|r| r.kind)),
        (AlertState::NoData, Some(HistoryKind::NoData))
    );
    assert_eq!(s.evaluate(&t, Reading::NoData, 2 * MIN).record, None);
    assert_eq!(s.evaluate(&t, clear(), 3 * MIN).to, AlertState::Ok);
}

/// One evaluation of a random sequence: minutes since the previous one and what it read.
fn events() -> impl Strategy<Value = Vec<(i64, Option<bool>)>> {
    prop::collection::vec(
        (
            1i64..20,
            prop_oneof![8 => any::<bool>().prop_map(Some), 1 => Just(None)],
        ),
        1..80,
    )
}

fn reading(r: Option<bool>) -> Reading {
    match r {
        Some(breaching) => Reading::Value {
            value: 1.0,
            breaching,
        },
        None => Reading::NoData,
    }
}

proptest! {
    /// Seed property 6 and the rest of the contract over random trigger sequences.
    #[test]
    fn throttle_pending_resolve_and_mute_hold(
        events in events(),
        pending in 1u32..5,
        throttle in 0u32..60,
        mute in prop::option::of(0i64..600),
    ) {
        let t = RuleTiming {
            pending_evaluations: pending,
            throttle_minutes: throttle,
            mute_until_us: mute.map(|m| m * MIN),
        };
        let mut s = RuleState::default();
        let mut now = 0;
        let mut streak = 0u32;
        let mut last_sent: Option<i64> = None;
        let mut episode_sent = false;
        for (gap, r) in events {
            now += gap * MIN;
            let was_firing = s.state == AlertState::Firing;
            let step = s.evaluate(&t, reading(r), now);
            streak = if r == Some(true) { streak + 1 } else { 0 };
            let muted = t.mute_until_us.is_some_and(|m| now < m);

            // Pending: firing starts only after `pending` breaches in a row.
            if step.to == AlertState::Firing && !was_firing {
                prop_assert!(streak >= pending);
            }
            // Every trigger (a breach while firing afterwards) is recorded.
            if r == Some(true) && step.to == AlertState::Firing {
                let rec = step.record.expect("a trigger is always recorded");
                let throttled = last_sent.is_some_and(|l| now - l < i64::from(throttle) * MIN);
                // Property 6: inside the throttle (or muted) it is recorded unsent.
                prop_assert_eq!(rec.notify, !throttled && !muted);
                prop_assert_eq!(rec.kind == HistoryKind::Suppressed, throttled || muted);
                if rec.notify {
                    last_sent = Some(now);
                    episode_sent = true;
                }
            } else if step.to != AlertState::Firing {
                // Nothing but resolves and no-data entries outside firing.
                if let Some(rec) = step.record {
                    prop_assert!(matches!(rec.kind, HistoryKind::Resolved | HistoryKind::NoData));
                    if rec.kind == HistoryKind::Resolved {
                        prop_assert!(was_firing);
                        prop_assert_eq!(rec.notify, episode_sent && !muted);
                    } else {
                        prop_assert!(!rec.notify);
                    }
                }
                episode_sent = false;
            }
            // Muted rules send nothing at all.
            if muted {
                prop_assert!(!step.record.is_some_and(|r| r.notify));
            }
        }
    }

    /// A state stored and read back (a restart) continues exactly as the one that stayed in
    /// memory: nothing is sent twice and nothing is forgotten.
    #[test]
    fn a_stored_state_continues_identically(events in events(), cut in 0usize..80, pending in 1u32..4, throttle in 0u32..30) {
        let t = timing(pending, throttle);
        let mut live = RuleState::default();
        let mut restarted = RuleState::default();
        let mut now = 0;
        for (i, (gap, r)) in events.into_iter().enumerate() {
            now += gap * MIN;
            if i == cut {
                let stored = serde_json::to_string(&restarted).expect("serialize");
                restarted = serde_json::from_str(&stored).expect("deserialize");
            }
            let a = live.evaluate(&t, reading(r), now);
            let b = restarted.evaluate(&t, reading(r), now);
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(live, restarted);
    }
}
