use super::*;
use proptest::prelude::*;

const MIN: i64 = 60 * SECOND_US;

fn breach() -> Reading {
    Reading::Value {
        value: 5.0,
        breaching: true,
    }
}

fn clear() -> Reading {
    Reading::Value {
        value: 0.0,
        breaching: false,
    }
}

fn rule_timing(pending: u32, throttle: u32, mute_until_us: Option<i64>) -> RuleTiming {
    RuleTiming {
        pending_evaluations: pending,
        throttle_minutes: throttle,
        mute_until_us,
    }
}

/// `readings` five minutes apart from 0.
fn at_five_minutes(readings: &[Reading]) -> Vec<(i64, Reading)> {
    readings
        .iter()
        .enumerate()
        .map(|(i, r)| (i as i64 * 5 * MIN, *r))
        .collect()
}

#[test]
fn the_live_interval_is_kept_when_a_day_of_it_fits_and_multiplied_when_not() {
    let p = plan(30, 5);
    assert_eq!((p.step_secs, p.factor, p.evaluations), (300, 10, 288));
    assert!(p.approximate());
    assert_eq!(
        plan(0, 5),
        p,
        "an evaluator that is off stands for the default 30 s"
    );
    let p = plan(300, 5);
    assert_eq!((p.step_secs, p.factor, p.evaluations), (300, 1, 288));
    assert!(!p.approximate());
    let p = plan(600, 5);
    assert_eq!((p.step_secs, p.factor, p.evaluations), (600, 1, 144));
    let p = plan(7, 5);
    assert_eq!((p.step_secs, p.factor, p.evaluations), (301, 43, 287));
    let p = plan(1, 5);
    assert_eq!((p.step_secs, p.evaluations), (300, 288));
    assert_eq!(plan(3 * 86_400, 5).evaluations, 1);
    assert_eq!(plan(u64::MAX, 5).evaluations, 1);
}

#[test]
fn long_windows_are_read_fewer_times() {
    assert_eq!(
        plan(30, 10),
        plan(30, 5),
        "288 reads of 10 minutes: two days of windows"
    );
    let p = plan(30, 60);
    assert_eq!((p.step_secs, p.evaluations), (1800, 48));
    let p = plan(30, 1440);
    assert_eq!((p.step_secs, p.evaluations), (43_200, 2));
    let p = plan(300, 60);
    assert_eq!((p.step_secs, p.factor, p.evaluations), (1800, 6, 48));
    assert!(
        p.approximate(),
        "exact only when the window is short enough too"
    );
    assert!(!plan(300, 10).approximate());
    assert_eq!(plan(30, 0), plan(30, 1));
}

#[test]
fn instants_end_at_now_one_step_apart() {
    let p = plan(60, 5);
    let now = 1_000_000 * SECOND_US;
    let at: Vec<i64> = p.instants(now).collect();
    assert_eq!(at.len(), 288);
    assert_eq!(at.last(), Some(&now));
    assert!(at.windows(2).all(|w| w[1] - w[0] == 300 * SECOND_US));
    assert_eq!(at[0], now - 287 * 300 * SECOND_US);
}

#[test]
fn pending_keeps_its_duration_at_a_coarser_step() {
    assert_eq!(scaled_pending(1, 10), 1);
    assert_eq!(
        scaled_pending(10, 10),
        1,
        "ten 30 s evaluations are one 5 min step"
    );
    assert_eq!(scaled_pending(11, 10), 2);
    assert_eq!(scaled_pending(30, 10), 3);
    assert_eq!(scaled_pending(5, 1), 5, "exact: unchanged");
    assert_eq!(scaled_pending(0, 1), 1);
    assert_eq!(scaled_pending(3, i64::MAX), 1);
}

#[test]
fn throttle_splits_triggers_into_sent_and_suppressed_and_a_clear_resolves() {
    // Five-minute steps, throttle 10 min: sent at 0, suppressed at 5, sent again at 10.
    let r = at_five_minutes(&[clear(), breach(), breach(), breach(), clear(), clear()]);
    let t = simulate(&rule_timing(1, 10, None), &r);
    assert_eq!(t.evaluations, 6);
    assert_eq!(t.breaching, 3);
    assert_eq!(
        (
            t.triggers,
            t.notifications,
            t.suppressed,
            t.muted,
            t.resolves
        ),
        (3, 2, 1, 0, 1)
    );
    assert_eq!(
        t.episodes,
        vec![Episode {
            start_us: 5 * MIN,
            end_us: Some(20 * MIN),
            notified: true
        }]
    );
}

#[test]
fn pending_delays_the_start_and_a_short_breach_never_fires() {
    let r = at_five_minutes(&[breach(), clear(), breach(), breach(), breach()]);
    let t = simulate(&rule_timing(2, 0, None), &r);
    assert_eq!(t.episodes.len(), 1);
    assert_eq!(t.episodes[0].start_us, 15 * MIN);
    assert_eq!(t.episodes[0].end_us, None, "still firing at the end");
    assert_eq!((t.triggers, t.notifications, t.resolves), (2, 2, 0));
}

#[test]
fn a_muted_episode_is_recorded_not_sent_and_its_resolve_is_not_counted_as_sent() {
    let r = at_five_minutes(&[breach(), clear(), breach(), clear()]);
    // Muted until just after the second reading: the first episode is muted.
    let t = simulate(&rule_timing(1, 0, Some(6 * MIN)), &r);
    assert_eq!(
        (
            t.triggers,
            t.notifications,
            t.suppressed,
            t.muted,
            t.resolves
        ),
        (2, 1, 1, 1, 2)
    );
    assert!(!t.episodes[0].notified);
    assert!(t.episodes[1].notified);
}

#[test]
fn no_data_ends_an_episode_without_a_resolve() {
    let r = at_five_minutes(&[breach(), Reading::NoData, Reading::NoData, clear()]);
    let t = simulate(&rule_timing(1, 0, None), &r);
    assert_eq!(t.no_data, 2);
    assert_eq!(t.resolves, 0);
    assert_eq!(t.episodes[0].end_us, Some(5 * MIN));
}

#[test]
fn the_answer_says_when_and_how_it_was_stepped_coarser() {
    let rule: AlertRuleRequest = serde_json::from_value(serde_json::json!({
        "name": "r", "severity": "warning",
        "condition": {"type": "log_count", "filters": {}},
        "operator": "gte", "threshold": 1, "pending_evaluations": 20,
        "mute_until": "2026-01-01T00:00:00Z"
    }))
    .expect("rule");
    let p = plan(30, 5);
    let t = super::timing(&rule, &p);
    assert_eq!(t.pending_evaluations, 2);
    assert_eq!(t.mute_until_us, parse_timestamp_us("2026-01-01T00:00:00Z"));
    let now = 2_000_000 * SECOND_US;
    let body = summary(&rule, &p, &t, Tally::default(), now);
    assert!(body.approximate);
    assert_eq!((body.step_seconds, body.interval_seconds), (300, 30));
    assert_eq!(body.pending_evaluations, 2);
    let note = body.note.expect("a note");
    assert!(note.contains("every 300 s instead of every 30 s"), "{note}");
    assert!(note.contains("scaled from 20 to 2"), "{note}");
    assert_eq!(body.from, format_timestamp_us(now - 287 * 300 * SECOND_US));

    let exact = plan(300, 5);
    let body = summary(
        &rule,
        &exact,
        &super::timing(&rule, &exact),
        Tally::default(),
        now,
    );
    assert!(!body.approximate);
    assert_eq!(body.pending_evaluations, 20);
    assert_eq!(body.note, None);
}

/// An independent model of the rule's life as the README states it, for the property below.
#[derive(Default, Debug, PartialEq)]
struct Model {
    triggers: u32,
    notifications: u32,
    suppressed: u32,
    muted: u32,
    resolves: u32,
    episodes: Vec<Episode>,
}

fn model(t: &RuleTiming, readings: &[(i64, Reading)]) -> Model {
    let mut m = Model::default();
    let (mut firing, mut streak, mut last_sent) = (false, 0u32, None::<i64>);
    for &(at, reading) in readings {
        match reading {
            Reading::Value {
                breaching: true, ..
            } => {
                streak += 1;
                if !firing && streak >= t.pending_evaluations.max(1) {
                    firing = true;
                    m.episodes.push(Episode {
                        start_us: at,
                        end_us: None,
                        notified: false,
                    });
                }
                if firing {
                    m.triggers += 1;
                    let muted = t.mute_until_us.is_some_and(|u| at < u);
                    let throttled =
                        last_sent.is_some_and(|l| at - l < i64::from(t.throttle_minutes) * MIN);
                    if muted {
                        m.suppressed += 1;
                        m.muted += 1;
                    } else if throttled {
                        m.suppressed += 1;
                    } else {
                        m.notifications += 1;
                        last_sent = Some(at);
                        if let Some(e) = m.episodes.last_mut() {
                            e.notified = true;
                        }
                    }
                }
            }
            other => {
                streak = 0;
                if firing {
                    firing = false;
                    if matches!(other, Reading::Value { .. }) {
                        m.resolves += 1;
                    }
                    if let Some(e) = m.episodes.last_mut() {
                        e.end_us = Some(at);
                    }
                }
            }
        }
    }
    m
}

fn reading() -> impl Strategy<Value = Reading> {
    prop_oneof![
        3 => Just(breach()),
        2 => Just(clear()),
        1 => Just(Reading::NoData),
    ]
}

/// A history entry as the evaluator writes it: kind, sent, why not.
type Entry = (HistoryKind, bool, Option<Suppression>);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // Any interval gives a bounded plan of whole intervals, the finest that fits.
    #[test]
    fn every_plan_is_bounded_and_the_finest_that_fits(
        interval in 1u64..200_000,
        window in 1u32..=1440,
    ) {
        let p = plan(interval, window);
        let cap = (READ_BUDGET_MINUTES / i64::from(window)).clamp(1, MAX_EVALUATIONS);
        prop_assert!(p.evaluations >= 1 && p.evaluations <= cap);
        prop_assert!(p.evaluations * i64::from(window) <= READ_BUDGET_MINUTES);
        prop_assert_eq!(p.step_secs, p.interval_secs * p.factor);
        prop_assert!(p.evaluations * p.step_secs <= PREVIEW_SPAN_SECS.max(p.step_secs));
        if p.factor > 1 {
            let finer = p.interval_secs * (p.factor - 1);
            prop_assert!(finer * cap < PREVIEW_SPAN_SECS, "a finer step would not cover the day");
            if cap < MAX_EVALUATIONS {
                prop_assert!(p.step_secs <= i64::from(window) * 60, "no minute left unread");
            }
        }
        let pending = u32::try_from(interval % 50).unwrap_or(0) + 1;
        let scaled = i64::from(scaled_pending(pending, p.factor));
        prop_assert!(scaled * p.factor >= i64::from(pending), "lasts at least as long");
        prop_assert!((scaled - 1) * p.factor < i64::from(pending), "and not a step longer");
    }

    // For any readings, the preview's counts are the state machine's own steps counted as
    // the evaluator writes them to the history, and agree with the documented model.
    #[test]
    fn the_summary_is_what_the_state_machine_records(
        readings in prop::collection::vec(reading(), 0..150),
        pending in 1u32..5,
        throttle in 0u32..40,
        step_secs in prop_oneof![Just(30i64), Just(300i64)],
        mute_at in prop::option::of(0usize..150),
    ) {
        let step_us = step_secs * SECOND_US;
        let at: Vec<(i64, Reading)> = readings
            .iter()
            .enumerate()
            .map(|(i, r)| (i as i64 * step_us, *r))
            .collect();
        let t = rule_timing(pending, throttle, mute_at.map(|i| i as i64 * step_us));
        let tally = simulate(&t, &at);

        // Driven step by step, as the evaluator does, with the history entries it writes.
        let mut state = RuleState::default();
        let mut kinds = Vec::new();
        let mut sent_at = Vec::new();
        for &(now, r) in &at {
            let step = state.evaluate(&t, r, now);
            if let Some(record) = step.record {
                kinds.push((record.kind, record.notify, record.suppressed));
                if record.kind == HistoryKind::Firing && record.notify {
                    sent_at.push(now);
                }
            }
        }
        let count = |f: &dyn Fn(&Entry) -> bool| kinds.iter().filter(|k| f(k)).count() as u32;
        prop_assert_eq!(tally.evaluations as usize, at.len());
        prop_assert_eq!(tally.triggers, count(&|k| matches!(k.0, HistoryKind::Firing | HistoryKind::Suppressed)));
        prop_assert_eq!(tally.notifications, count(&|k| k.0 == HistoryKind::Firing));
        prop_assert_eq!(tally.suppressed, count(&|k| k.0 == HistoryKind::Suppressed));
        prop_assert_eq!(tally.muted, count(&|k| k.2 == Some(Suppression::Muted) && k.0 == HistoryKind::Suppressed));
        prop_assert_eq!(tally.resolves, count(&|k| k.0 == HistoryKind::Resolved));
        prop_assert_eq!(tally.notifications + tally.suppressed, tally.triggers);
        prop_assert_eq!(
            tally.episodes.last().is_some_and(|e| e.end_us.is_none()),
            state.state == AlertState::Firing,
            "only the last episode may be open, and it is when the rule still fires"
        );
        for w in tally.episodes.windows(2) {
            prop_assert!(w[0].end_us.is_some_and(|end| end <= w[1].start_us));
        }
        // Seed property 6 through the preview: sent triggers are a throttle apart.
        for w in sent_at.windows(2) {
            prop_assert!(w[1] - w[0] >= i64::from(throttle) * MIN);
        }

        let m = model(&t, &at);
        prop_assert_eq!(
            (tally.triggers, tally.notifications, tally.suppressed, tally.muted, tally.resolves),
            (m.triggers, m.notifications, m.suppressed, m.muted, m.resolves)
        );
        prop_assert_eq!(&tally.episodes, &m.episodes);
    }
}
