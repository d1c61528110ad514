//! The store of alerting: rules (with their channels' secrets), one evaluation state per rule,
//! and the history, which is also the notification outbox. The SQL is shared by both backends
//! in `statements/alerts.rs`.
//!
//! Delivery is at most once. An evaluation's state and its history row commit together with
//! `delivery = pending`; the evaluator then *claims* the row (`pending → sending`, a conditional
//! update only one collector can win), sends, and records the outcomes (`done`). A collector
//! that dies after the claim leaves `sending`, which the next round turns into `interrupted`
//! without sending again; one that dies before the claim leaves `pending`, which the next round
//! delivers. So a crash can lose the one notification being sent at that moment, never repeat
//! one.

use super::StoreResult;
use crate::alerting::state::RuleState;
use crate::query::logs::LogFilter;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use tracewire_shared::api::monitoring::{ChannelOutcome, Condition, HistoryKind, Operator};
use uuid::Uuid;

/// A notification channel as stored: with its secrets, and always with an id (so an update
/// can keep a secret it was not sent again).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StoredChannel {
    /// Generic webhook signed per Standard Webhooks.
    Webhook {
        /// Channel id within the rule; an update naming it keeps the stored secret.
        id: Uuid,
        /// Target URL.
        url: String,
        /// `whsec_` signing secret; unsigned when absent.
        secret: Option<String>,
        /// Whether `resolved` notifications go here too (default on for webhooks), for notified
        /// episodes only.
        send_resolved: bool,
    },
    /// Slack-compatible incoming webhook.
    Slack {
        /// Channel id within the rule.
        id: Uuid,
        /// The incoming-webhook URL, which carries the token.
        url: String,
        /// Whether `resolved` notifications go here too (default off), for notified episodes only.
        send_resolved: bool,
    },
    /// Email through the collector's SMTP settings.
    Email {
        /// Channel id within the rule.
        id: Uuid,
        /// Recipient addresses; one message is sent to all of them.
        to: Vec<String>,
        /// Whether `resolved` notifications go here too (default off), for notified episodes only.
        send_resolved: bool,
    },
}

impl StoredChannel {
    /// The channel's id.
    pub fn id(&self) -> Uuid {
        match self {
            StoredChannel::Webhook { id, .. }
            | StoredChannel::Slack { id, .. }
            | StoredChannel::Email { id, .. } => *id,
        }
    }

    /// Whether a resolve notification goes out on it.
    pub fn sends_resolved(&self) -> bool {
        match self {
            StoredChannel::Webhook { send_resolved, .. }
            | StoredChannel::Slack { send_resolved, .. }
            | StoredChannel::Email { send_resolved, .. } => *send_resolved,
        }
    }
}

impl std::fmt::Debug for StoredChannel {
    /// Names the kind and id only: secrets and the Slack URL never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            StoredChannel::Webhook { .. } => "Webhook",
            StoredChannel::Slack { .. } => "Slack",
            StoredChannel::Email { .. } => "Email",
        };
        f.debug_struct(kind)
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// One `alert_configs` row with its evaluation state (absent before the first evaluation).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertRuleRecord {
    /// Rule id (UUIDv7).
    pub id: Uuid,
    /// Project the rule is stored under (the default project for rules made through the API).
    pub project_id: Uuid,
    /// Shown in notifications and the history; copied into each history entry, so a rename
    /// leaves old entries as they were.
    pub name: String,
    /// Free text for whoever is paged.
    pub description: Option<String>,
    /// Disabled rules are not evaluated.
    pub enabled: bool,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// What is watched (its `type` is also stored apart as `condition_type`).
    pub condition: Json<Condition>,
    /// `gt`, `gte`, `lt` or `lte`.
    pub operator: String,
    /// Compared with the value read, in the condition's unit (ratio, ms, count or score).
    pub threshold: f64,
    /// Minutes the value is computed over.
    pub window_minutes: i32,
    /// Breaching evaluations in a row before firing.
    pub pending_evaluations: i32,
    /// Minutes between two sent firing notifications.
    pub throttle_minutes: i32,
    /// No notifications before this time (µs).
    pub mute_until: Option<i64>,
    /// Channels with their secrets; the API and `Debug` show them without.
    pub channels: Json<Vec<StoredChannel>>,
    /// Creation time (µs).
    pub created_at: i64,
    /// Last change (µs).
    pub updated_at: i64,
    /// The evaluator's state, from `alert_states`.
    pub state: Option<Json<RuleState>>,
}

/// What delivering a history entry needs besides the rule's channels, frozen at trigger time
/// (the rule may be edited before a pending entry is sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPayload {
    /// The condition evaluated, as it was when the entry was recorded.
    pub condition: Condition,
    /// Its comparison, as it was then.
    pub operator: Operator,
    /// Its window in minutes, as it was then.
    pub window_minutes: u32,
    /// The admin UI view of what was seen.
    pub link: String,
    /// Sample log lines or exceptions.
    pub samples: Vec<String>,
}

/// Where a history entry is in the outbox (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing to send (throttled, muted, no channel wants it, no data).
    None,
    /// Committed, not tried yet.
    Pending,
    /// Claimed by an evaluator, being sent.
    Sending,
    /// Sent (or tried); outcomes recorded.
    Done,
    /// Claimed by a collector that stopped before recording outcomes; never re-sent.
    Interrupted,
}

impl Delivery {
    /// Stored spelling, the `delivery` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::None => "none",
            Delivery::Pending => "pending",
            Delivery::Sending => "sending",
            Delivery::Done => "done",
            Delivery::Interrupted => "interrupted",
        }
    }
}

/// One `alert_history` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryRecord {
    /// Entry id (UUIDv7; also the notification's `webhook-id`).
    pub id: Uuid,
    /// The rule that produced it; deleting the rule deletes its history.
    pub rule_id: Uuid,
    /// The rule's name then.
    pub rule_name: String,
    /// The rule's severity then.
    pub severity: String,
    /// [`HistoryKind`] spelling.
    pub kind: String,
    /// The rule's state after the evaluation.
    pub state: String,
    /// Value read (`None` without data).
    pub value: Option<f64>,
    /// The rule's threshold when the entry was recorded.
    pub threshold: f64,
    /// Evaluation time (µs, collector clock).
    pub triggered_at: i64,
    /// Whether at least one channel accepted it.
    pub notification_sent: bool,
    /// One outcome per channel tried.
    pub notification_status: Json<Vec<ChannelOutcome>>,
    /// [`Delivery`] spelling.
    pub delivery: String,
    /// The summary line (`[FIRING] name (severity): …`), with why not sent for a suppressed one.
    pub message: String,
    /// What the notification needs besides the rule, frozen when recorded; delivery sends this.
    pub payload: Json<HistoryPayload>,
    /// When acknowledged (µs).
    pub acknowledged_at: Option<i64>,
    /// Username of the admin who acknowledged first; `None` while unacknowledged.
    pub acknowledged_by: Option<String>,
    /// The acknowledger's note.
    pub acknowledge_note: Option<String>,
}

impl HistoryRecord {
    /// The entry's kind, if the stored spelling is one we know.
    pub fn history_kind(&self) -> Option<HistoryKind> {
        serde_json::from_value(serde_json::Value::String(self.kind.clone())).ok()
    }
}

/// One rule's evaluation as the round commits it.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRecord {
    /// The rule evaluated; its state row is replaced by `state`.
    pub rule_id: Uuid,
    /// Its state after the evaluation.
    pub state: RuleState,
    /// The history entry the evaluation produced, if any.
    pub entry: Option<HistoryRecord>,
}

/// Filters of a history page, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    /// Only this rule's entries; `None` for every rule.
    pub rule_id: Option<Uuid>,
    /// Only this kind ([`HistoryKind`] spelling).
    pub kind: Option<String>,
    /// Only these severities (spellings); empty for any. Matched against the severity each
    /// entry was recorded with, the one the history shows, so a rule whose severity changed
    /// keeps its old entries under the old one.
    pub severities: Vec<String>,
    /// Only acknowledged (true) or unacknowledged (false).
    pub acknowledged: Option<bool>,
    /// Inclusive lower bound on `triggered_at` (µs).
    pub from_us: Option<i64>,
    /// Inclusive upper bound (µs).
    pub to_us: Option<i64>,
    /// Rows after this `(triggered_at, id)` in newest-first order.
    pub before: Option<(i64, Uuid)>,
    /// Page size; `limit + 1` rows are read to tell whether a next page exists.
    pub limit: u32,
}

/// Which exception rows an exception condition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionSignal {
    /// Groups first received in the window.
    New,
    /// Groups that reopened (by receive time) in the window.
    Regressed,
    /// Occurrences (`exception_events` rows) with a timestamp in the window.
    Occurrences,
}

/// A count of exception rows and a few of them as sample lines (`Type: message`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalCount {
    /// Rows counted: groups for `New` and `Regressed`, occurrences for `Occurrences`.
    pub count: i64,
    /// The newest few, for the notification.
    pub samples: Vec<String>,
}

/// Rules, states, history and the exception reads of exception conditions.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores a new rule, with no state until its first evaluation.
    async fn insert_rule(&self, rule: &AlertRuleRecord) -> StoreResult<()>;
    /// Replaces a rule's settings (state kept); `NotFound` when it does not exist.
    async fn update_rule(&self, rule: &AlertRuleRecord) -> StoreResult<()>;
    /// Deletes a rule with its state and history; `NotFound` when it does not exist.
    async fn delete_rule(&self, id: Uuid) -> StoreResult<()>;
    /// One rule with its state; `NotFound` when there is no such id.
    async fn get_rule(&self, id: Uuid) -> StoreResult<AlertRuleRecord>;
    /// Every rule with its state, oldest first (rules are few: tens, not thousands).
    async fn list_rules(&self) -> StoreResult<Vec<AlertRuleRecord>>;
    /// Writes the states of a round's rules and the history entries their evaluations
    /// produced, all in one transaction (a round costs one commit, not one per rule); rules
    /// deleted meanwhile are left out. Returns how many history entries were written.
    async fn record_evaluations(&self, evaluations: &[EvaluationRecord]) -> StoreResult<usize>;
    /// Appends a history entry on its own (test notifications).
    async fn insert_history(&self, entry: &HistoryRecord) -> StoreResult<()>;
    /// Entries waiting in the outbox, oldest first.
    async fn pending_deliveries(&self) -> StoreResult<Vec<HistoryRecord>>;
    /// Claims a pending entry for sending; false when someone else did (or it is not pending).
    async fn claim_delivery(&self, id: Uuid) -> StoreResult<bool>;
    /// Records the outcomes of a claimed entry.
    async fn finish_delivery(
        &self,
        id: Uuid,
        sent: bool,
        outcomes: &[ChannelOutcome],
    ) -> StoreResult<()>;
    /// Marks entries left `sending` by a stopped evaluator `interrupted`; returns how many.
    async fn interrupt_stale_deliveries(&self) -> StoreResult<u64>;
    /// One page of history (newest first, `limit + 1` rows) and the total matching without
    /// the cursor.
    async fn list_history(&self, filter: &HistoryFilter) -> StoreResult<(Vec<HistoryRecord>, i64)>;
    /// One history entry; `NotFound` when there is no such id.
    async fn get_history(&self, id: Uuid) -> StoreResult<HistoryRecord>;
    /// Marks an entry acknowledged (again acknowledging keeps the first time and person).
    async fn acknowledge_history(
        &self,
        id: Uuid,
        at_us: i64,
        by: &str,
        note: Option<&str>,
    ) -> StoreResult<HistoryRecord>;
    /// Occurrences of the logs `filter` matches (the sum of their `dedup_count`, so a burst of
    /// identical errors that dedup collapsed into one row still counts as a burst). Read
    /// through the time indexes over the filter's range (`(level, timestamp)` when it names a
    /// level), never the whole table; the filter's limit and cursor are ignored.
    async fn count_log_occurrences(&self, filter: &LogFilter) -> StoreResult<i64>;
    /// Exception rows of `signal` in `[from_us, to_us]`, optionally of one source and type;
    /// read through the time indexes (`first_received_at`, `regressed_at`,
    /// `exception_events (timestamp, id)`), never a scan of the tables.
    async fn exception_signal(
        &self,
        signal: ExceptionSignal,
        source: Option<&str>,
        exception_type: Option<&str>,
        from_us: i64,
        to_us: i64,
    ) -> StoreResult<SignalCount>;
}
