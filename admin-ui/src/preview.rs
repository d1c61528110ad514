//! The rule form's preview in plain words: what the rule would have done over the last day
//! (fired, notified, suppressed, resolved, lacked data) and how closely the preview followed
//! the live evaluator. Pure, tested natively; the form only renders these strings.

use tracewire_shared::api::monitoring::AlertRulePreview;

/// `n` and the noun, singular for one.
fn count(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A step or interval in seconds as people say it: `30 s`, `5 min`, `1 h`, `5 min 1 s`.
pub fn duration(secs: i64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s if s < 60 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}

/// What the rule would have done: "Would have fired 3 times (2 notifications sent, 1
/// suppressed by the throttle), resolved 3 times; 12 evaluations without data."
pub fn outcome(p: &AlertRulePreview) -> String {
    let fired = u32::try_from(p.episodes.len()).unwrap_or(u32::MAX);
    let no_data = if p.no_data > 0 {
        format!(
            "; {} without data",
            count(p.no_data, "evaluation", "evaluations")
        )
    } else {
        String::new()
    };
    if fired == 0 {
        return format!(
            "Would not have fired (breaching at {} of {} evaluations){no_data}.",
            p.breaching, p.evaluations
        );
    }
    let mut sent = vec![format!(
        "{} sent",
        count(p.notifications, "notification", "notifications")
    )];
    let throttled = p.suppressed.saturating_sub(p.muted);
    if throttled > 0 {
        sent.push(format!("{throttled} suppressed by the throttle"));
    }
    if p.muted > 0 {
        sent.push(format!("{} muted", p.muted));
    }
    let resolved = match p.resolves {
        0 => "never resolved".to_owned(),
        n => format!("resolved {}", count(n, "time", "times")),
    };
    format!(
        "Would have fired {} ({}), {resolved}{no_data}.",
        count(fired, "time", "times"),
        sent.join(", ")
    )
}

/// How it was evaluated: "Evaluated every 5 min (288 evaluations)." and, when stepped coarser
/// than the live interval, that it is an approximation and why.
pub fn method(p: &AlertRulePreview) -> String {
    let base = format!(
        "Evaluated every {} ({}).",
        duration(p.step_seconds),
        count(p.evaluations, "evaluation", "evaluations")
    );
    if p.approximate {
        format!(
            "{base} Live the rule is evaluated every {}, so this is an approximation: \
             pending evaluations count as {} at this step.",
            duration(p.interval_seconds),
            p.pending_evaluations
        )
    } else {
        format!("{base} As the live evaluator does.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracewire_shared::api::monitoring::PreviewEpisode;

    fn preview() -> AlertRulePreview {
        let episode = |notified| PreviewEpisode {
            start: "2026-12-07T10:00:00Z".into(),
            end: Some("2026-12-07T10:10:00Z".into()),
            notified,
        };
        AlertRulePreview {
            from: "2026-12-06T10:05:00Z".into(),
            to: "2026-12-07T10:00:00Z".into(),
            step_seconds: 300,
            interval_seconds: 30,
            approximate: true,
            pending_evaluations: 1,
            evaluations: 288,
            breaching: 5,
            no_data: 12,
            firings: vec!["2026-12-07T10:00:00Z".into(); 3],
            episodes: vec![episode(true), episode(true), episode(false)],
            triggers: 5,
            notifications: 2,
            suppressed: 3,
            muted: 2,
            resolves: 3,
            note: Some("…".into()),
        }
    }

    #[test]
    fn the_outcome_reads_as_a_sentence() {
        let mut p = preview();
        assert_eq!(
            outcome(&p),
            "Would have fired 3 times (2 notifications sent, 1 suppressed by the throttle, \
             2 muted), resolved 3 times; 12 evaluations without data."
        );
        p.episodes.truncate(1);
        (
            p.notifications,
            p.suppressed,
            p.muted,
            p.resolves,
            p.no_data,
        ) = (1, 0, 0, 0, 1);
        assert_eq!(
            outcome(&p),
            "Would have fired 1 time (1 notification sent), never resolved; 1 evaluation \
             without data."
        );
        p.episodes.clear();
        p.no_data = 0;
        assert_eq!(
            outcome(&p),
            "Would not have fired (breaching at 5 of 288 evaluations)."
        );
    }

    #[test]
    fn the_method_says_when_it_is_an_approximation() {
        let mut p = preview();
        assert_eq!(
            method(&p),
            "Evaluated every 5 min (288 evaluations). Live the rule is evaluated every 30 s, \
             so this is an approximation: pending evaluations count as 1 at this step."
        );
        (p.approximate, p.interval_seconds) = (false, 300);
        assert_eq!(
            method(&p),
            "Evaluated every 5 min (288 evaluations). As the live evaluator does."
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(1), "1 s");
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(300), "5 min");
        assert_eq!(duration(301), "5 min 1 s");
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(5400), "90 min");
        assert_eq!(duration(86_400), "24 h");
    }
}
