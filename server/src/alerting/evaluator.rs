//! The evaluator: every `--alert-interval-secs`, under the `AlertEvaluator` lease (so of
//! several collectors on one PostgreSQL exactly one runs a round), it
//!
//! 1. marks deliveries a stopped collector left half-sent as `interrupted` (never re-sent);
//! 2. reads each enabled, due rule's condition ([`super::conditions`]) and applies the state
//!    machine ([`super::state`]); then commits every new state together with the history
//!    entries the steps produced, in one transaction; an entry to send goes in as `pending`;
//! 3. delivers the outbox: claims each pending entry, sends it on its channels, records each
//!    channel's outcome.
//!
//! A rule is *due* when it was last evaluated at least half an interval ago: a round that
//! follows another collector's round closely (their timers are not aligned) leaves the rule
//! alone, so each rule is evaluated about once per interval however many collectors run, and
//! pending periods count evaluations, not collectors.

use std::sync::Arc;
use std::time::Duration;

use tracewire_shared::api::monitoring::{HistoryKind, Operator};

use super::conditions::{self, ReadError, ReadLimits};
use super::message::admin_link;
use super::notify::{self, Notifier};
use super::rules::{self, from_spelling, spelling};
use super::state::{Reading, Record, RuleState};
use crate::store::{
    AlertRuleRecord, Delivery, EvaluationRecord, HistoryPayload, HistoryRecord, LeaseName, Store,
    StoreResult,
};
use crate::telemetry::{ALERT_EVALUATIONS, ALERT_NOTIFICATIONS};
use sqlx::types::Json;

/// What one round did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// False when another collector holds the lease (nothing was done).
    pub ran: bool,
    /// Rules whose condition was read and state written.
    pub evaluated: usize,
    /// Rules left alone: disabled, not due, or unreadable this round.
    pub skipped: usize,
    /// History entries written this round (sent or not); the periodic job logs a round with any.
    pub recorded: usize,
    /// Outbox entries sent (at least one channel accepted).
    pub sent: usize,
    /// Outbox entries no channel accepted.
    pub failed: usize,
    /// Half-sent entries of a stopped collector marked interrupted.
    pub interrupted: u64,
}

/// Reads rules, moves their states and sends their notifications.
pub struct Evaluator {
    store: Arc<dyn Store>,
    notifier: Notifier,
    interval: Duration,
    limits: ReadLimits,
}

impl Evaluator {
    /// An evaluator running every `interval` (which also decides when a rule is due).
    pub fn new(store: Arc<dyn Store>, notifier: Notifier, interval: Duration) -> Self {
        Self {
            store,
            notifier,
            interval,
            limits: ReadLimits::default(),
        }
    }

    /// Replaces the read bounds (the benchmark and tests use smaller ones).
    pub fn with_limits(mut self, limits: ReadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// One round at `now_us` (the collector's clock), if the lease is free.
    pub async fn round(&self, now_us: i64) -> StoreResult<RoundReport> {
        let Some(lease) = self.store.try_lease(LeaseName::AlertEvaluator).await? else {
            return Ok(RoundReport::default());
        };
        let result = self.round_under_lease(now_us).await;
        lease.release().await;
        result
    }

    async fn round_under_lease(&self, now_us: i64) -> StoreResult<RoundReport> {
        let mut report = RoundReport {
            ran: true,
            interrupted: self.store.interrupt_stale_deliveries().await?,
            ..RoundReport::default()
        };
        if report.interrupted > 0 {
            tracing::warn!(
                entries = report.interrupted,
                "alert notifications interrupted by a stopped collector are not sent again"
            );
        }
        let half = i64::try_from(self.interval.as_micros() / 2).unwrap_or(i64::MAX);
        let mut evaluations = Vec::new();
        for rule in self.store.list_rules().await? {
            let state = rules::current_state(&rule);
            let due = state
                .last_evaluated_us
                .is_none_or(|last| now_us.saturating_sub(last) >= half);
            if !rule.enabled || !due {
                report.skipped += 1;
                continue;
            }
            match self.evaluate(&rule, state, now_us).await {
                Ok(evaluation) => {
                    report.evaluated += 1;
                    evaluations.push(evaluation);
                }
                Err(EvalFailure::Store(e)) => {
                    count_evaluation("error");
                    return Err(e);
                }
                Err(EvalFailure::Skip(why)) => {
                    count_evaluation("error");
                    tracing::warn!(rule = %rule.id, reason = %why, "alert rule skipped");
                    report.skipped += 1;
                }
            }
        }
        // One commit for the round's states and history; a crash before it loses only this
        // round's evaluations, which the next round repeats.
        report.recorded = self.store.record_evaluations(&evaluations).await?;
        for entry in self.store.pending_deliveries().await? {
            match self.deliver(&entry).await? {
                Some(true) => report.sent += 1,
                Some(false) => report.failed += 1,
                None => {}
            }
        }
        Ok(report)
    }

    /// Reads and steps one rule: its new state and the history entry to commit.
    async fn evaluate(
        &self,
        rule: &AlertRuleRecord,
        mut state: RuleState,
        now_us: i64,
    ) -> Result<EvaluationRecord, EvalFailure> {
        let window = u32::try_from(rule.window_minutes).unwrap_or(1).max(1);
        let operator: Operator = from_spelling("operator", &rule.operator)
            .map_err(|e| EvalFailure::Skip(e.to_string()))?;
        let seen = conditions::observe(
            self.store.as_ref(),
            &rule.condition.0,
            window,
            now_us,
            &self.limits,
        )
        .await
        .map_err(|e| match e {
            ReadError::Store(e) => EvalFailure::Store(e),
            other => EvalFailure::Skip(other.to_string()),
        })?;
        let reading = Reading::judge(seen.value, operator, rule.threshold);
        count_evaluation(match reading {
            Reading::Value {
                breaching: true, ..
            } => "breached",
            Reading::Value { .. } => "ok",
            Reading::NoData => "no_data",
        });
        let step = state.evaluate(&rules::timing(rule), reading, now_us);
        if let Some(record) = step.record
            && record.kind == HistoryKind::Suppressed
        {
            metrics::counter!(ALERT_NOTIFICATIONS, "channel" => "all", "outcome" => "suppressed")
                .increment(1);
        }
        let entry = step.record.map(|record| {
            history_entry(
                rule,
                &state,
                record,
                HistoryPayload {
                    condition: rule.condition.0.clone(),
                    operator,
                    window_minutes: window,
                    link: admin_link(&self.notifier.base_url, &rule.condition.0, window, now_us),
                    samples: seen.samples,
                },
                now_us,
            )
        });
        Ok(EvaluationRecord {
            rule_id: rule.id,
            state,
            entry,
        })
    }

    /// Sends one outbox entry if this evaluator wins its claim: `Some(sent)`, or `None` when
    /// it was not ours to send.
    async fn deliver(&self, entry: &HistoryRecord) -> StoreResult<Option<bool>> {
        if !self.store.claim_delivery(entry.id).await? {
            return Ok(None);
        }
        let note = match notify::notification(entry) {
            Ok(note) => note,
            Err(e) => {
                tracing::warn!(entry = %entry.id, error = %e, "alert notification cannot be built");
                self.store.finish_delivery(entry.id, false, &[]).await?;
                return Ok(Some(false));
            }
        };
        // The channels as they are now: an edit between trigger and send (a new URL, a new
        // secret) applies; a deleted rule took its history with it.
        let channels = match self.store.get_rule(entry.rule_id).await {
            Ok(rule) => notify::channels_for(note.kind, &rule.channels.0),
            Err(crate::store::StoreError::NotFound) => Vec::new(),
            Err(e) => return Err(e),
        };
        let outcomes = self.notifier.send(&channels, &note).await;
        for outcome in &outcomes {
            metrics::counter!(ALERT_NOTIFICATIONS,
                "channel" => spelling(&outcome.kind),
                "outcome" => if outcome.delivered { "delivered" } else { "failed" })
            .increment(1);
        }
        let sent = outcomes.iter().any(|o| o.delivered);
        for failed in outcomes.iter().filter(|o| !o.delivered) {
            tracing::warn!(entry = %entry.id, channel = ?failed.kind, error = ?failed.error,
                "alert notification not delivered");
        }
        self.store
            .finish_delivery(entry.id, sent, &outcomes)
            .await?;
        Ok(Some(sent))
    }
}

/// Counts one evaluation in `/metrics` by outcome.
fn count_evaluation(outcome: &'static str) {
    metrics::counter!(ALERT_EVALUATIONS, "outcome" => outcome).increment(1);
}

enum EvalFailure {
    /// The database failed: the round stops and is retried at the next interval.
    Store(crate::store::StoreError),
    /// This rule cannot be read now; the others go on.
    Skip(String),
}

/// The history entry of `record`, queued for delivery when it is to be sent and some channel
/// wants it.
fn history_entry(
    rule: &AlertRuleRecord,
    state: &RuleState,
    record: Record,
    payload: HistoryPayload,
    now_us: i64,
) -> HistoryRecord {
    let wanted = notify::channels_for(record.kind, &rule.channels.0);
    let delivery = if record.notify && !wanted.is_empty() {
        Delivery::Pending
    } else {
        Delivery::None
    };
    let mut entry = HistoryRecord {
        id: uuid::Uuid::now_v7(),
        rule_id: rule.id,
        rule_name: rule.name.clone(),
        severity: rule.severity.clone(),
        kind: spelling(&record.kind),
        state: state.state.as_str().to_owned(),
        value: state.last_value,
        threshold: rule.threshold,
        triggered_at: now_us,
        notification_sent: false,
        notification_status: Json(Vec::new()),
        delivery: delivery.as_str().to_owned(),
        message: String::new(),
        payload: Json(payload),
        acknowledged_at: None,
        acknowledged_by: None,
        acknowledge_note: None,
    };
    entry.message = match notify::notification(&entry) {
        Ok(note) => note.summary(),
        Err(_) => format!("{} {}", rule.name, spelling(&record.kind)),
    };
    if record.kind == HistoryKind::Suppressed
        && let Some(why) = record.suppressed
    {
        entry.message = format!("{} (not sent: {})", entry.message, spelling(&why));
    }
    entry
}

/// Runs a round every `interval` until `stopping` turns true. The first round runs one
/// interval after start, so a collector restarting in a loop cannot evaluate faster than the
/// interval.
pub async fn periodic(evaluator: Evaluator, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(evaluator.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        if *stopping.borrow() {
            return;
        }
        match evaluator.round(crate::clock::now_us()).await {
            Ok(report) if report.recorded > 0 || report.sent > 0 || report.failed > 0 => {
                tracing::info!(?report, "alert round");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "alert round failed; retried next interval"),
        }
    }
}
