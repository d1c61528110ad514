//! What a rule would have done over the last day, for the rule form's preview: the evaluator's
//! own condition reads ([`conditions::observe`]) at past instants, fed through the evaluator's
//! own state machine ([`RuleState::evaluate`], with the rule's pending evaluations, throttle and
//! mute), then folded into the counts the history would hold. Nothing is stored or sent.
//!
//! Design. The live evaluator judges a rule every `--alert-interval-secs` (30 s by default):
//! 2,880 condition reads for a day, each an indexed range over the window (a message regex up
//! to [`PREVIEW_REGEX_ROWS`] rows), too many for a form's button. A read costs about what its
//! window holds, so the preview's work is bounded twice whatever the rule and interval
//! ([`plan`]): at most [`MAX_EVALUATIONS`] reads, and at most [`READ_BUDGET_MINUTES`] of
//! windows read in all. Measured once (debug build, 2 contended cores, 50,000 error logs
//! spread over the day, `log_count` on SQLite): 288 reads of a 5-minute window take 1 s; 288
//! reads of a 60-minute window took 6.5 s and of a 1,440-minute window 60 s, which the second
//! bound brings to 1 s (48 reads) and 0.5 s (2 reads).
//!
//! - when a day at the live interval fits both bounds (an interval of 300 s or more and a
//!   short window), the instants are the live interval apart and the preview is exact: the
//!   same reads, the same state machine, the same throttle arithmetic; only the phase of the
//!   instants and the starting state (`ok` at the first instant) may differ from what ran;
//! - otherwise the step is the smallest multiple of the interval that fits (300 s for 30 s
//!   and a window up to 10 minutes), and the answer says so (`approximate`, `note`). The state machine counts evaluations, so
//!   the pending evaluations are scaled ([`scaled_pending`]) to keep their meaning in time:
//!   "N in a row" at the interval lasts N intervals, which `ceil(N / factor)` steps cover.
//!   Throttle and mute are in time and need no scaling; but a firing rule records one trigger
//!   per step instead of one per interval, so suppressed counts are per step.
//!
//! Each read still covers `window_minutes` ending at its instant, as live: windows overlap
//! when the window is longer than the step, and minutes between two instants go unread when it
//! is shorter (a one-minute burst between two 5-minute instants can be missed by a 1-minute
//! window: the price of the bound, and why the answer says it was stepped coarser). The
//! window budget (two days of windows for one day) never makes the step longer than the
//! window by itself, so it never leaves minutes unread that the live evaluator would read.
//!
//! Only the reads are async ([`preview`]); the stepping plan, the scaling and the folding of
//! [`Step`]s into the summary ([`simulate`], [`Tally`]) are plain functions tested natively.

use tracewire_shared::api::monitoring::{
    AlertRulePreview, AlertRuleRequest, AlertState, HistoryKind, PreviewEpisode,
};
use tracewire_shared::validate::{format_timestamp_us, parse_timestamp_us};

use super::conditions::{self, ReadError, ReadLimits};
use super::state::{Reading, RuleState, RuleTiming, Step, Suppression};

/// How far back a preview replays the rule: one day, ending now.
pub const PREVIEW_SPAN_SECS: i64 = 24 * 3600;
/// Most condition reads one preview makes (a day at five minutes).
pub const MAX_EVALUATIONS: i64 = 288;
/// Most minutes of windows one preview reads in all (evaluations × `window_minutes`): two
/// days, so every minute of the day is read about twice at most.
pub const READ_BUDGET_MINUTES: i64 = 2 * 24 * 60;
/// The interval a preview stands for when the collector's evaluator is off
/// (`--alert-interval-secs 0`): the flag's default.
pub const DEFAULT_INTERVAL_SECS: u64 = 30;
/// Most rows a message regex reads per instant (the live evaluator reads up to 10,000).
pub const PREVIEW_REGEX_ROWS: u32 = 1000;

const SECOND_US: i64 = 1_000_000;

/// Where a preview evaluates: `evaluations` instants `step_secs` apart, the last at now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The live interval the preview stands for.
    pub interval_secs: i64,
    /// A multiple of `interval_secs`: `factor` intervals.
    pub step_secs: i64,
    /// `step_secs / interval_secs`; 1 when exact.
    pub factor: i64,
    /// Instants evaluated, at most [`MAX_EVALUATIONS`] and [`READ_BUDGET_MINUTES`] of
    /// windows.
    pub evaluations: i64,
}

impl Plan {
    /// Whether the preview judges less often than the live evaluator.
    pub fn approximate(&self) -> bool {
        self.factor > 1
    }

    /// The instants, oldest first, the last at `now_us`.
    pub fn instants(&self, now_us: i64) -> impl Iterator<Item = i64> + use<> {
        let step_us = self.step_secs * SECOND_US;
        let first = now_us - (self.evaluations - 1) * step_us;
        (0..self.evaluations).map(move |i| first + i * step_us)
    }
}

/// The stepping of a preview for a live interval of `interval_secs` (0 stands for
/// [`DEFAULT_INTERVAL_SECS`]) and a window of `window_minutes`: the live interval when a day
/// of it is within both bounds (see the module doc), else its smallest multiple that is.
pub fn plan(interval_secs: u64, window_minutes: u32) -> Plan {
    let interval_secs = if interval_secs == 0 {
        DEFAULT_INTERVAL_SECS
    } else {
        interval_secs
    };
    // Both at most a day, so the conversions cannot fail.
    let interval = i64::try_from(interval_secs.min(PREVIEW_SPAN_SECS as u64)).unwrap_or(1);
    let cap = (READ_BUDGET_MINUTES / i64::from(window_minutes.max(1))).clamp(1, MAX_EVALUATIONS);
    let per_day = (PREVIEW_SPAN_SECS / interval) as u64;
    let factor = i64::try_from(per_day.div_ceil(cap as u64).max(1)).unwrap_or(1);
    let step_secs = interval * factor;
    Plan {
        interval_secs: interval,
        step_secs,
        factor,
        evaluations: (PREVIEW_SPAN_SECS / step_secs).clamp(1, cap),
    }
}

/// The pending evaluations to apply at a step of `factor` live intervals so that they last
/// as long as `pending` evaluations live: `ceil(pending / factor)`, at least 1.
pub fn scaled_pending(pending: u32, factor: i64) -> u32 {
    let factor = u32::try_from(factor.max(1)).unwrap_or(u32::MAX);
    pending.max(1).div_ceil(factor).max(1)
}

/// One firing episode, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// The evaluation that made the rule fire.
    pub start_us: i64,
    /// The evaluation that took it out of firing; `None` while it fires.
    pub end_us: Option<i64>,
    /// Whether one of its triggers was sent.
    pub notified: bool,
}

/// The counts of a run of evaluations, folded from their [`Step`]s: what the history would
/// hold. Fields as in [`AlertRulePreview`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Evaluations folded, one per reading replayed.
    pub evaluations: u32,
    /// Readings with a value that breached the threshold.
    pub breaching: u32,
    /// Readings with nothing to judge (no requests for a latency rule, …); never breaching.
    pub no_data: u32,
    /// History entries of kind `firing` or `suppressed`.
    pub triggers: u32,
    /// Triggers that would have been sent; `notifications + suppressed = triggers`.
    pub notifications: u32,
    /// Triggers recorded but not sent (throttled or muted).
    pub suppressed: u32,
    /// Of `suppressed`, the muted ones.
    pub muted: u32,
    /// History entries of kind `resolved`.
    pub resolves: u32,
    /// Firing episodes, oldest first.
    pub episodes: Vec<Episode>,
}

impl Tally {
    /// Folds one evaluation at `at_us`: its reading and the step the state machine took.
    pub fn add(&mut self, at_us: i64, reading: Reading, step: &Step) {
        self.evaluations += 1;
        match reading {
            Reading::NoData => self.no_data += 1,
            Reading::Value {
                breaching: true, ..
            } => self.breaching += 1,
            Reading::Value { .. } => {}
        }
        if step.from != AlertState::Firing && step.to == AlertState::Firing {
            self.episodes.push(Episode {
                start_us: at_us,
                end_us: None,
                notified: false,
            });
        }
        if let Some(record) = step.record {
            match record.kind {
                HistoryKind::Firing | HistoryKind::Suppressed => {
                    self.triggers += 1;
                    if record.notify {
                        self.notifications += 1;
                        if let Some(episode) = self.episodes.last_mut() {
                            episode.notified = true;
                        }
                    } else {
                        self.suppressed += 1;
                        if record.suppressed == Some(Suppression::Muted) {
                            self.muted += 1;
                        }
                    }
                }
                HistoryKind::Resolved => self.resolves += 1,
                HistoryKind::NoData | HistoryKind::Test => {}
            }
        }
        if step.from == AlertState::Firing
            && step.to != AlertState::Firing
            && let Some(episode) = self.episodes.last_mut()
        {
            episode.end_us = Some(at_us);
        }
    }
}

/// Runs the state machine from `ok` over `readings` (instant, reading; oldest first) and
/// folds its steps.
pub fn simulate(timing: &RuleTiming, readings: &[(i64, Reading)]) -> Tally {
    let mut state = RuleState::default();
    let mut tally = Tally::default();
    for &(at_us, reading) in readings {
        let step = state.evaluate(timing, reading, at_us);
        tally.add(at_us, reading, &step);
    }
    tally
}

/// The rule's timing at the plan's step.
pub fn timing(rule: &AlertRuleRequest, plan: &Plan) -> RuleTiming {
    RuleTiming {
        pending_evaluations: scaled_pending(rule.pending_evaluations, plan.factor),
        throttle_minutes: rule.throttle_minutes,
        mute_until_us: rule.mute_until.as_deref().and_then(parse_timestamp_us),
    }
}

/// The answer of a preview run under `plan` with `timing`, ending at `now_us`.
pub fn summary(
    rule: &AlertRuleRequest,
    plan: &Plan,
    timing: &RuleTiming,
    tally: Tally,
    now_us: i64,
) -> AlertRulePreview {
    let first = plan.instants(now_us).next().unwrap_or(now_us);
    let note = plan.approximate().then(|| {
        let pending = if timing.pending_evaluations == rule.pending_evaluations.max(1) {
            String::new()
        } else {
            format!(
                " Pending evaluations scaled from {} to {} to last as long.",
                rule.pending_evaluations.max(1),
                timing.pending_evaluations
            )
        };
        format!(
            "Evaluated every {} s instead of every {} s (the live interval) to bound the \
             reads.{pending} A firing rule records a trigger at every evaluation, so live it \
             would record about {} times as many triggers as counted here, each sent or \
             suppressed as the throttle decides.",
            plan.step_secs, plan.interval_secs, plan.factor
        )
    });
    AlertRulePreview {
        from: format_timestamp_us(first),
        to: format_timestamp_us(now_us),
        step_seconds: plan.step_secs,
        interval_seconds: plan.interval_secs,
        approximate: plan.approximate(),
        pending_evaluations: timing.pending_evaluations,
        evaluations: tally.evaluations,
        breaching: tally.breaching,
        no_data: tally.no_data,
        firings: tally
            .episodes
            .iter()
            .map(|e| format_timestamp_us(e.start_us))
            .collect(),
        episodes: tally
            .episodes
            .iter()
            .map(|e| PreviewEpisode {
                start: format_timestamp_us(e.start_us),
                end: e.end_us.map(format_timestamp_us),
                notified: e.notified,
            })
            .collect(),
        triggers: tally.triggers,
        notifications: tally.notifications,
        suppressed: tally.suppressed,
        muted: tally.muted,
        resolves: tally.resolves,
        note,
    }
}

/// Previews `rule` (already validated) over the day ending at `now_us`, for a live interval
/// of `interval_secs`.
pub async fn preview(
    store: &dyn crate::store::Store,
    rule: &AlertRuleRequest,
    now_us: i64,
    interval_secs: u64,
    limits: &ReadLimits,
) -> Result<AlertRulePreview, ReadError> {
    let limits = ReadLimits {
        regex_max_rows: limits.regex_max_rows.min(PREVIEW_REGEX_ROWS),
        ..*limits
    };
    let plan = plan(interval_secs, rule.window_minutes);
    let mut readings = Vec::with_capacity(usize::try_from(plan.evaluations).unwrap_or(0));
    for at in plan.instants(now_us) {
        let seen =
            conditions::observe(store, &rule.condition, rule.window_minutes, at, &limits).await?;
        readings.push((
            at,
            Reading::judge(seen.value, rule.operator, rule.threshold),
        ));
    }
    let timing = timing(rule, &plan);
    let tally = simulate(&timing, &readings);
    Ok(summary(rule, &plan, &timing, tally, now_us))
}

#[cfg(test)]
mod tests;
