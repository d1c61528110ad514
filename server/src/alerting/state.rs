//! The state machine of one alert rule, pure and with the clock passed in:
//! ok → pending (breaching, fewer than `pending_evaluations` times in a row) → firing →
//! resolved → ok, plus no data. Each evaluation returns a [`Step`]: whether a history entry is
//! written and whether it is sent.
//!
//! A *trigger* is an evaluation that breaches while the rule fires (or makes it fire). Every
//! trigger is recorded; it is sent unless a notification went out less than
//! `throttle_minutes` ago or the rule is muted (seed property 6: a throttled trigger is in the
//! history with `notification_sent = false`). A resolve is sent only on channels that want
//! resolves, and only when the firing episode it ends was notified, so nobody gets a "resolved"
//! for an alert they never saw.
//!
//! [`RuleState`] is serde-serializable and is stored with the rule, written in the same
//! transaction as the history entry, so a restarted evaluator neither re-sends nor forgets.

use serde::{Deserialize, Serialize};
use tracewire_shared::api::monitoring::{AlertState, HistoryKind, Operator};

const MINUTE_US: i64 = 60_000_000;

/// The settings of a rule the state machine needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleTiming {
    /// Consecutive breaching evaluations before firing (at least 1).
    pub pending_evaluations: u32,
    /// Minimum time between two sent firing notifications.
    pub throttle_minutes: u32,
    /// No notifications before this time (microseconds), if set.
    pub mute_until_us: Option<i64>,
}

/// What one evaluation read, as the state machine needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// A value, and whether it breaches the threshold.
    Value {
        /// The observed value, in the condition's unit.
        value: f64,
        /// Whether the operator and threshold say it breaches.
        breaching: bool,
    },
    /// Nothing to judge (no requests for a latency rule, …).
    NoData,
}

impl Reading {
    /// The reading of an observed value (`None`: no data) against a rule's threshold, as
    /// the evaluator and the preview both judge it.
    pub fn judge(value: Option<f64>, operator: Operator, threshold: f64) -> Reading {
        match value {
            Some(value) => Reading::Value {
                value,
                breaching: operator.breached(value, threshold),
            },
            None => Reading::NoData,
        }
    }
}

/// A rule's state between evaluations, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleState {
    /// Where the rule is in the ok → pending → firing → resolved cycle (or no data).
    pub state: AlertState,
    /// When it entered `state`.
    pub since_us: Option<i64>,
    /// Breaching evaluations in a row.
    pub breaching_streak: u32,
    /// When the rule was last evaluated (µs); the evaluator skips a rule evaluated less than
    /// half an interval ago. `None`: never.
    pub last_evaluated_us: Option<i64>,
    /// Last value read (`None` for no data).
    pub last_value: Option<f64>,
    /// Last time a firing notification was sent; the throttle counts from it.
    pub last_notified_us: Option<i64>,
    /// Whether the current firing episode was notified, so its resolve may be.
    pub episode_notified: bool,
}

impl Default for RuleState {
    fn default() -> Self {
        Self {
            state: AlertState::Ok,
            since_us: None,
            breaching_streak: 0,
            last_evaluated_us: None,
            last_value: None,
            last_notified_us: None,
            episode_notified: false,
        }
    }
}

/// Why a recorded entry was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// Inside `throttle_minutes` of the last notification.
    Throttled,
    /// Before `mute_until`.
    Muted,
    /// A resolve of an episode nobody was told about.
    EpisodeNotNotified,
}

/// A history entry the evaluation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// `firing`, `suppressed`, `resolved` or `no_data`.
    pub kind: HistoryKind,
    /// Whether to send it (resolves: only to channels that want resolves).
    pub notify: bool,
    /// Why not, when not.
    pub suppressed: Option<Suppression>,
}

/// The outcome of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// State before this evaluation.
    pub from: AlertState,
    /// State after it; a change into or out of `Firing` is what the preview counts.
    pub to: AlertState,
    /// The history entry to write, if any.
    pub record: Option<Record>,
}

impl RuleState {
    /// Applies one evaluation read at `now_us`.
    pub fn evaluate(&mut self, timing: &RuleTiming, reading: Reading, now_us: i64) -> Step {
        let from = self.state;
        self.last_evaluated_us = Some(now_us);
        let muted = timing.mute_until_us.is_some_and(|until| now_us < until);
        let record = match reading {
            Reading::NoData => {
                self.last_value = None;
                self.breaching_streak = 0;
                self.episode_notified = false;
                self.enter(AlertState::NoData, now_us);
                (from != AlertState::NoData).then_some(Record {
                    kind: HistoryKind::NoData,
                    notify: false,
                    suppressed: None,
                })
            }
            Reading::Value { value, breaching } => {
                self.last_value = Some(value);
                if breaching {
                    self.breaching_streak = self.breaching_streak.saturating_add(1);
                    self.on_breach(timing, muted, now_us)
                } else {
                    self.breaching_streak = 0;
                    self.on_clear(muted, now_us)
                }
            }
        };
        Step {
            from,
            to: self.state,
            record,
        }
    }

    fn enter(&mut self, state: AlertState, now_us: i64) {
        if self.state != state {
            self.state = state;
            self.since_us = Some(now_us);
        }
    }

    fn on_breach(&mut self, timing: &RuleTiming, muted: bool, now_us: i64) -> Option<Record> {
        if self.state != AlertState::Firing
            && self.breaching_streak < timing.pending_evaluations.max(1)
        {
            self.enter(AlertState::Pending, now_us);
            return None;
        }
        if self.state != AlertState::Firing {
            self.episode_notified = false;
            self.enter(AlertState::Firing, now_us);
        }
        let throttle_us = i64::from(timing.throttle_minutes) * MINUTE_US;
        let throttled = self
            .last_notified_us
            .is_some_and(|last| now_us.saturating_sub(last) < throttle_us);
        let suppressed = if muted {
            Some(Suppression::Muted)
        } else if throttled {
            Some(Suppression::Throttled)
        } else {
            None
        };
        if suppressed.is_none() {
            self.last_notified_us = Some(now_us);
            self.episode_notified = true;
        }
        Some(Record {
            kind: if suppressed.is_none() {
                HistoryKind::Firing
            } else {
                HistoryKind::Suppressed
            },
            notify: suppressed.is_none(),
            suppressed,
        })
    }

    fn on_clear(&mut self, muted: bool, now_us: i64) -> Option<Record> {
        match self.state {
            AlertState::Firing => {
                self.enter(AlertState::Resolved, now_us);
                let suppressed = if !self.episode_notified {
                    Some(Suppression::EpisodeNotNotified)
                } else if muted {
                    Some(Suppression::Muted)
                } else {
                    None
                };
                self.episode_notified = false;
                Some(Record {
                    kind: HistoryKind::Resolved,
                    notify: suppressed.is_none(),
                    suppressed,
                })
            }
            _ => {
                self.enter(AlertState::Ok, now_us);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
