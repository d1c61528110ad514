//! Alert rules, their state and history, and test notifications.
//!
//! Alert rules are written with [`AlertRuleRequest`] (create and full update alike) and read as
//! [`AlertRule`]. Secrets (a webhook's signing secret, a Slack webhook URL, which carries its
//! token) travel only in requests; responses say whether one is set. A request channel without
//! a secret but with the `id` of an existing channel keeps that channel's secret, so a UI can
//! edit a rule without ever having read the secret.
//!
//! [`AlertRuleRequest::validate`] reports every problem by JSON path (`condition.pattern`,
//! `channels[1].to[0]`) for the 422 `validation_failed` envelope.

use super::*;

/// How bad an alert is; carried into every notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs a look.
    Warning,
    /// Needs someone now.
    Critical,
}

impl Severity {
    /// Wire and stored spelling: `info`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Every severity, mildest first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The severity of a wire spelling (exact, lowercase), if any.
    pub fn parse(raw: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// A comma-separated list of severities, as the history's `severity` parameter takes it
    /// (`warning,critical`), blanks around names ignored, each kept once in the order given.
    /// An empty list is `Ok(vec![])` (no filter); an unknown name is its error message.
    pub fn parse_list(raw: &str) -> Result<Vec<Severity>, String> {
        let mut out = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let severity = Severity::parse(name).ok_or_else(|| {
                format!("unknown severity {name:?}: expected info, warning or critical")
            })?;
            if !out.contains(&severity) {
                out.push(severity);
            }
        }
        Ok(out)
    }
}

/// How the observed value is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    /// value > threshold.
    Gt,
    /// value >= threshold.
    Gte,
    /// value < threshold.
    Lt,
    /// value <= threshold.
    Lte,
}

impl Operator {
    /// Whether `value` breaches `threshold`.
    pub fn breached(self, value: f64, threshold: f64) -> bool {
        match self {
            Operator::Gt => value > threshold,
            Operator::Gte => value >= threshold,
            Operator::Lt => value < threshold,
            Operator::Lte => value <= threshold,
        }
    }

    /// Symbol for messages (`>`, `≥`, …).
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Gt => ">",
            Operator::Gte => ">=",
            Operator::Lt => "<",
            Operator::Lte => "<=",
        }
    }
}

/// The logs a log-based condition counts: the same filters as the logs list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogFilters {
    /// `frontend` or `backend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Exactly this level, one name in any case (`error`, `WARN` and `FATAL` are understood).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// This level or more severe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_level: Option<String>,
    /// Exactly this module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Request path, exact or a prefix ending in `*` (`/api/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Full-text query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Values left out, by field (the logs list's `not.<field>`): `{"user_id": ["bot"]}`.
    /// Logs without the field are kept. Fields: [`LOG_EXCLUDE_FIELDS`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not: BTreeMap<String, Vec<String>>,
}

/// The fields a negative log filter (`not.<field>`) may name, in the logs list and in rules.
pub const LOG_EXCLUDE_FIELDS: &[&str] = &[
    "source",
    "level",
    "module",
    "function",
    "user_id",
    "trace_id",
    "path",
    "request_method",
    "response_status",
];

/// What a rule watches, tagged by `type`. The threshold's kind follows from it
/// ([`Condition::threshold_kind`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// Share of requests answered 5xx, as a ratio 0..=1.
    ErrorRate {
        /// One route template, or all requests.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// `frontend` or `backend`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// Logs matching filters (typically a level) in the window.
    LogCount {
        /// Which logs count; empty filters count every log.
        #[serde(default)]
        filters: LogFilters,
    },
    /// An exception group seen for the first time in the window.
    NewException {
        /// `frontend` or `backend`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// A resolved exception group that occurred again (judged on receive time).
    RegressedException {
        /// `frontend` or `backend`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// Exception occurrences in the window.
    ExceptionCount {
        /// `frontend` or `backend`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// Only this exception type, compared exactly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exception_type: Option<String>,
    },
    /// A latency percentile of requests, in milliseconds.
    Latency {
        /// `p50` … `p99` (see [`LATENCY_QUANTILES`]).
        quantile: String,
        /// One route template, or all requests.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
    /// Requests slower than `slow_ms` in the window.
    SlowRequestCount {
        /// Slowness threshold; the collector's default when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slow_ms: Option<f64>,
        /// One route template, or all requests.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
    /// Logs whose message matches a regular expression (Rust `regex` syntax).
    MessageRegex {
        /// Rust `regex` syntax, unanchored, matched against each message.
        pattern: String,
        /// Which logs are searched; the evaluator reads a bounded number of them per evaluation.
        #[serde(default)]
        filters: LogFilters,
    },
    /// The 75th percentile of a web vital.
    WebVital {
        /// One of [`WEB_VITALS`].
        metric: String,
        /// One page, or all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<String>,
    },
}

/// What kind of number a condition's threshold is, so a rule cannot compare an error rate with
/// 250 or a count with 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    /// A fraction in 0..=1.
    Ratio,
    /// A whole, non-negative number.
    Count,
    /// Non-negative milliseconds.
    Milliseconds,
    /// A non-negative unitless score (CLS).
    Score,
}

impl Condition {
    /// The kind of threshold this condition compares against.
    pub fn threshold_kind(&self) -> ThresholdKind {
        match self {
            Condition::ErrorRate { .. } => ThresholdKind::Ratio,
            Condition::Latency { .. } => ThresholdKind::Milliseconds,
            Condition::WebVital { metric, .. } if metric == "CLS" => ThresholdKind::Score,
            Condition::WebVital { .. } => ThresholdKind::Milliseconds,
            Condition::LogCount { .. }
            | Condition::NewException { .. }
            | Condition::RegressedException { .. }
            | Condition::ExceptionCount { .. }
            | Condition::SlowRequestCount { .. }
            | Condition::MessageRegex { .. } => ThresholdKind::Count,
        }
    }

    /// Stored and wire spelling of the condition's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Condition::ErrorRate { .. } => "error_rate",
            Condition::LogCount { .. } => "log_count",
            Condition::NewException { .. } => "new_exception",
            Condition::RegressedException { .. } => "regressed_exception",
            Condition::ExceptionCount { .. } => "exception_count",
            Condition::Latency { .. } => "latency",
            Condition::SlowRequestCount { .. } => "slow_request_count",
            Condition::MessageRegex { .. } => "message_regex",
            Condition::WebVital { .. } => "web_vital",
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_pending() -> u32 {
    1
}

fn default_throttle() -> u32 {
    60
}

fn default_window() -> u32 {
    5
}

/// A notification channel as written: secrets included.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelRequest {
    /// A JSON POST signed per Standard Webhooks.
    Webhook {
        /// An existing channel of this rule, whose secret is kept when `secret` is absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Uuid>,
        /// `http://` or `https://` URL.
        url: String,
        /// `whsec_`-prefixed base64 signing secret; absent keeps the existing one (or none),
        /// empty removes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        /// Notify when the alert clears (default on for webhooks, as in Alertmanager).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        send_resolved: Option<bool>,
    },
    /// A Slack-compatible incoming webhook (`text` + `blocks`).
    Slack {
        /// An existing channel of this rule, whose URL is kept when `url` is absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Uuid>,
        /// The incoming-webhook URL; it carries the token, so it is write-only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// Notify when the alert clears (default off).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        send_resolved: Option<bool>,
    },
    /// Email over the collector's configured SMTP server.
    Email {
        /// An existing channel of this rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Uuid>,
        /// Recipient addresses, 1 to 20; one message goes to all of them.
        to: Vec<String>,
        /// Notify when the alert clears (default off).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        send_resolved: Option<bool>,
    },
}

impl ChannelRequest {
    /// Whether a resolve notification goes out on this channel: as asked, else on for webhooks
    /// and off for Slack and email (Alertmanager's defaults).
    pub fn sends_resolved(&self) -> bool {
        match self {
            ChannelRequest::Webhook { send_resolved, .. } => send_resolved.unwrap_or(true),
            ChannelRequest::Slack { send_resolved, .. }
            | ChannelRequest::Email { send_resolved, .. } => send_resolved.unwrap_or(false),
        }
    }
}

impl std::fmt::Debug for ChannelRequest {
    /// Leaves secrets and the Slack URL out, so a logged request cannot leak them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChannelRequest::Webhook {
                id, url, secret, ..
            } => f
                .debug_struct("Webhook")
                .field("id", id)
                .field("url", url)
                .field("secret_set", &secret.is_some())
                .finish(),
            ChannelRequest::Slack { id, url, .. } => f
                .debug_struct("Slack")
                .field("id", id)
                .field("url_set", &url.is_some())
                .finish(),
            ChannelRequest::Email { id, to, .. } => f
                .debug_struct("Email")
                .field("id", id)
                .field("to", to)
                .finish(),
        }
    }
}

/// A notification channel as read back: secrets replaced by whether they are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelView {
    /// See [`ChannelRequest::Webhook`].
    Webhook {
        /// Channel id, to keep its secret on update.
        id: Uuid,
        /// Target URL.
        url: String,
        /// Whether a signing secret is stored, so deliveries carry `webhook-signature`.
        secret_set: bool,
        /// Whether resolve notifications go out.
        send_resolved: bool,
    },
    /// See [`ChannelRequest::Slack`].
    Slack {
        /// Channel id, to keep its URL on update.
        id: Uuid,
        /// Whether a URL is stored.
        url_set: bool,
        /// Whether resolve notifications go out.
        send_resolved: bool,
    },
    /// See [`ChannelRequest::Email`].
    Email {
        /// Channel id, to name the channel in an update.
        id: Uuid,
        /// Recipient addresses; one message goes to all of them.
        to: Vec<String>,
        /// Whether resolve notifications go out.
        send_resolved: bool,
    },
}

/// Which kind a channel is, for outcomes and history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Generic signed webhook.
    Webhook,
    /// Slack-compatible webhook.
    Slack,
    /// SMTP email.
    Email,
}

/// `POST /api/v1/monitoring/alerts` and `PUT …/alerts/{id}` (a full replacement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRuleRequest {
    /// Shown in notifications and the UI.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub name: String,
    /// Free text for whoever gets paged.
    #[serde(default)]
    pub description: Option<String>,
    /// Disabled rules are not evaluated.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Carried into notifications and history entries; the history can be filtered by it.
    pub severity: Severity,
    /// What is watched; its `type` decides what kind of number `threshold` is.
    pub condition: Condition,
    /// How the value compares with the threshold.
    pub operator: Operator,
    /// Of the kind [`Condition::threshold_kind`] says.
    pub threshold: f64,
    /// The window the value is computed over, in minutes (1..=1440).
    #[serde(default = "default_window")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub window_minutes: u32,
    /// Consecutive breaching evaluations before the rule fires (1 fires on the first), the
    /// cure for flapping.
    #[serde(default = "default_pending")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub pending_evaluations: u32,
    /// After a notification, further triggers within this many minutes are recorded in the
    /// history but not sent (seed property 6).
    #[serde(default = "default_throttle")]
    pub throttle_minutes: u32,
    /// No notifications until then (RFC 3339); evaluation and history go on.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub mute_until: Option<String>,
    /// Where notifications go; none records history only.
    #[serde(default)]
    pub channels: Vec<ChannelRequest>,
}

/// The state of a rule between evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Not breaching.
    Ok,
    /// Breaching, but not yet for `pending_evaluations` evaluations in a row.
    Pending,
    /// Breaching long enough: notified (unless throttled or muted).
    Firing,
    /// Was firing and cleared at the last evaluation.
    Resolved,
    /// The condition had no data to judge (e.g. no requests at all for a latency rule).
    NoData,
}

impl AlertState {
    /// Wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Ok => "ok",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
            AlertState::NoData => "no_data",
        }
    }
}

/// A rule's evaluation state as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleStateView {
    /// Current state; it changes only at evaluations.
    pub state: AlertState,
    /// When it entered that state.
    pub since: Option<String>,
    /// Last evaluation; `null` before the first.
    pub last_evaluated_at: Option<String>,
    /// Value seen at the last evaluation (`null` without data).
    pub last_value: Option<f64>,
    /// Breaching evaluations in a row so far.
    pub breaching_streak: u32,
    /// Last firing notification actually sent; the throttle counts from it.
    pub last_notified_at: Option<String>,
}

/// An alert rule as read: `GET /api/v1/monitoring/alerts` (in a `Page`) and `…/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRule {
    /// Rule id (UUIDv7).
    pub id: Uuid,
    /// Project the rule is stored under (the default project).
    pub project_id: Uuid,
    /// See [`AlertRuleRequest::name`].
    pub name: String,
    /// See [`AlertRuleRequest::description`].
    pub description: Option<String>,
    /// See [`AlertRuleRequest::enabled`].
    pub enabled: bool,
    /// See [`AlertRuleRequest::severity`].
    pub severity: Severity,
    /// See [`AlertRuleRequest::condition`].
    pub condition: Condition,
    /// See [`AlertRuleRequest::operator`].
    pub operator: Operator,
    /// See [`AlertRuleRequest::threshold`].
    pub threshold: f64,
    /// See [`AlertRuleRequest::window_minutes`].
    pub window_minutes: u32,
    /// See [`AlertRuleRequest::pending_evaluations`].
    pub pending_evaluations: u32,
    /// See [`AlertRuleRequest::throttle_minutes`].
    pub throttle_minutes: u32,
    /// See [`AlertRuleRequest::mute_until`].
    pub mute_until: Option<String>,
    /// Channels without their secrets: `secret_set` and `url_set` say whether one is stored.
    pub channels: Vec<ChannelView>,
    /// Evaluation state; `null` before the first evaluation.
    pub state: Option<RuleStateView>,
    /// Creation time; a replace keeps it.
    pub created_at: String,
    /// Time of the last create or replace; evaluations do not change it.
    pub updated_at: String,
}

/// What one history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// The rule started firing, or fired again after its throttle.
    Firing,
    /// A trigger while firing inside the throttle (or while muted): recorded, not sent.
    Suppressed,
    /// The condition cleared after firing; sent only on channels that want resolves, and only if
    /// the episode was notified.
    Resolved,
    /// The rule stopped getting data.
    NoData,
    /// A test notification (`POST …/alerts/{id}/test`); it does not touch the rule's state.
    Test,
}

/// How delivery on one channel went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelOutcome {
    /// The channel (absent for a channel of a request being tested before it is saved).
    pub channel_id: Option<Uuid>,
    /// The channel's kind, so an outcome reads on its own.
    pub kind: ChannelKind,
    /// Whether a try was accepted (2xx, or the SMTP server took the message).
    pub delivered: bool,
    /// Tries made; 0 when the channel could not be tried (a bad secret, no SMTP server).
    pub attempts: u32,
    /// HTTP status or SMTP reply code of the last try.
    pub status: Option<u16>,
    /// Why the last try failed, without secrets.
    pub error: Option<String>,
    /// Time spent over all tries.
    pub duration_ms: f64,
}

/// One row of `GET /api/v1/monitoring/alerts/history` (in a `Page`, newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertHistoryEntry {
    /// Entry id (UUIDv7); the notification's `webhook-id` is `msg_` and this id without dashes.
    pub id: Uuid,
    /// The rule; its history goes when the rule is deleted.
    pub rule_id: Uuid,
    /// The rule's name at the time.
    pub rule_name: String,
    /// What the evaluation recorded (or a test).
    pub kind: HistoryKind,
    /// The rule's severity at the time.
    pub severity: Severity,
    /// Value seen (`null` for no data).
    pub value: Option<f64>,
    /// The rule's threshold when recorded (it may have changed since).
    pub threshold: f64,
    /// When the evaluation ran, by the collector's clock.
    pub triggered_at: String,
    /// Whether a notification went out (false inside the throttle, while muted, for an
    /// entry without channels).
    pub notification_sent: bool,
    /// One outcome per channel tried.
    pub notification_status: Vec<ChannelOutcome>,
    /// The message sent (or that would have been).
    pub message: String,
    /// When an admin first acknowledged it; `null` until then.
    pub acknowledged_at: Option<String>,
    /// Username of that admin; acknowledging again keeps the first.
    pub acknowledged_by: Option<String>,
}

/// Query of `GET /api/v1/monitoring/alerts/history`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct AlertHistoryQuery {
    /// Only entries of this rule.
    #[serde(default)]
    pub rule_id: Option<Uuid>,
    /// Only entries of this kind.
    #[serde(default)]
    pub kind: Option<HistoryKind>,
    /// Only these severities, comma separated (`warning,critical`; see
    /// [`Severity::parse_list`]): the severity each entry was recorded with. Filtered by the
    /// collector, so paging with a cursor keeps the filter.
    #[serde(default)]
    pub severity: Option<String>,
    /// Only acknowledged (true) or unacknowledged (false) entries.
    #[serde(default)]
    pub acknowledged: Option<bool>,
    /// Only entries triggered at or after this time (RFC 3339).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(format = DateTime))]
    pub from: Option<String>,
    /// Only entries triggered at or before this time (RFC 3339).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(format = DateTime))]
    pub to: Option<String>,
    /// Page size, 1..=1000, default 100.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub limit: Option<u32>,
    /// Cursor of the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /api/v1/monitoring/alerts/history/{id}/acknowledge`; the body may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcknowledgeRequest {
    /// Note, at most 2,000 characters; blank is stored as none.
    #[serde(default)]
    pub note: Option<String>,
}

/// Answer of `POST /api/v1/monitoring/alerts/preview` (body: an [`AlertRuleRequest`]): what
/// the rule would have done over the last 24 hours. The evaluator's own condition reads at
/// past instants `step_seconds` apart are fed through the evaluator's own state machine with
/// the rule's pending evaluations, throttle and mute, starting from `ok` at `from`; so the
/// counts are those the history would hold, up to the step (see `approximate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRulePreview {
    /// First evaluation instant, within the 24 hours before `to`.
    pub from: String,
    /// Last evaluation instant: the time of the request.
    pub to: String,
    /// Distance between evaluation instants: the live interval when a day of it fits the
    /// preview's budget of reads, else a multiple of it.
    pub step_seconds: i64,
    /// The live evaluator's interval (`--alert-interval-secs`) the preview stands for.
    pub interval_seconds: i64,
    /// True when `step_seconds` is coarser than `interval_seconds`: the rule is judged less
    /// often than it would be live, so `pending_evaluations` is scaled and a firing rule
    /// records fewer triggers than live (one per step instead of one per interval).
    pub approximate: bool,
    /// The breaching evaluations in a row applied at `step_seconds`: the rule's own when
    /// exact, else scaled so that they last about as long as the rule's at the live interval.
    pub pending_evaluations: u32,
    /// Instants evaluated, at most 288.
    pub evaluations: u32,
    /// Instants where the condition held.
    pub breaching: u32,
    /// Instants with no data to judge.
    pub no_data: u32,
    /// Instants where the rule would have started firing (after its pending evaluations),
    /// oldest first: the starts of `episodes`.
    pub firings: Vec<String>,
    /// Each firing episode, oldest first.
    pub episodes: Vec<PreviewEpisode>,
    /// Triggers recorded in the history (kinds `firing` and `suppressed`): every evaluation
    /// that breached while the rule fired or made it fire.
    pub triggers: u32,
    /// Triggers that would have been sent (`notifications + suppressed == triggers`).
    pub notifications: u32,
    /// Triggers recorded but not sent, inside the throttle or while muted.
    pub suppressed: u32,
    /// Of `suppressed`, those held back by `mute_until` (the rest by the throttle).
    pub muted: u32,
    /// Episodes that ended with the condition clearing (history kind `resolved`); an episode
    /// can also end in no data, or still be firing at `to`.
    pub resolves: u32,
    /// What the preview could not do exactly, in words, when `approximate`.
    pub note: Option<String>,
}

/// One firing episode of a preview: from the evaluation that made the rule fire to the one
/// that took it out of firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewEpisode {
    /// The instant it started firing.
    pub start: String,
    /// The instant it stopped (resolved, or no data); `null` when still firing at the end.
    pub end: Option<String>,
    /// Whether any trigger of the episode was sent (only then is its resolve sent).
    pub notified: bool,
}

/// Answer of `POST /api/v1/monitoring/alerts/{id}/test`: each channel's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestNotificationResponse {
    /// True when every channel delivered.
    pub delivered: bool,
    /// One per channel, in the rule's order.
    pub outcomes: Vec<ChannelOutcome>,
}
