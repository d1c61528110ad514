//! The alert rule form's model: every input as the text the user typed ([`RuleForm`]), filled
//! from a stored rule, turned into an [`AlertRuleRequest`] with parse errors and the shared
//! validation reported by the same JSON paths the collector's 422 uses, so one lookup
//! ([`message_for`]) places both next to their fields. Pure, tested natively.
//!
//! Secrets are write-only: a stored channel comes back with only whether its secret is set, and
//! an empty secret field sends no secret, which keeps the stored one (the API's rule for a
//! channel that carries its `id`).

use tracewire_shared::api::monitoring::{
    AlertRule, AlertRuleRequest, ChannelRequest, ChannelView, Condition, LogFilters, Operator,
    Severity,
};
use tracewire_shared::validate::FieldError;
use uuid::Uuid;

/// Condition types offered, as (wire name, label).
pub const CONDITIONS: &[(&str, &str)] = &[
    ("error_rate", "Error rate"),
    ("log_count", "Log count"),
    ("new_exception", "New exception"),
    ("regressed_exception", "Regressed exception"),
    ("exception_count", "Exception count"),
    ("latency", "Latency percentile"),
    ("slow_request_count", "Slow requests"),
    ("message_regex", "Message matches regex"),
    ("web_vital", "Web vital p75"),
];

/// Operators as (wire name, label).
pub const OPERATORS: &[(&str, &str)] = &[
    ("gt", "above (>)"),
    ("gte", "at or above (≥)"),
    ("lt", "below (<)"),
    ("lte", "at or below (≤)"),
];

/// One channel as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChannelForm {
    /// `webhook`, `slack` or `email`.
    pub kind: String,
    /// The stored channel this row edits (keeps its secret when the field stays empty).
    pub id: Option<Uuid>,
    /// Webhook or Slack URL (Slack's is write-only: empty keeps the stored one).
    pub url: String,
    /// New webhook signing secret; empty keeps the stored one.
    pub secret: String,
    /// Whether the stored channel has a secret (webhook) or URL (Slack), to say so.
    pub secret_set: bool,
    /// Remove the stored webhook secret.
    pub clear_secret: bool,
    /// Email recipients, comma separated.
    pub to: String,
    /// Notify when the alert clears.
    pub send_resolved: bool,
}

impl ChannelForm {
    /// An empty channel of `kind` with the API's resolve default.
    pub fn new(kind: &str) -> ChannelForm {
        ChannelForm {
            kind: kind.to_owned(),
            send_resolved: kind == "webhook",
            ..ChannelForm::default()
        }
    }
}

/// Every input of the rule form, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleForm {
    /// Rule name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Evaluated at all.
    pub enabled: bool,
    /// `info`, `warning`, `critical`.
    pub severity: String,
    /// Condition type, one of [`CONDITIONS`].
    pub condition: String,
    /// Route template (error rate, latency, slow requests).
    pub endpoint: String,
    /// `frontend`, `backend` or empty for both.
    pub source: String,
    /// Latency quantile.
    pub quantile: String,
    /// Slowness threshold of slow requests, ms; empty for the collector's default.
    pub slow_ms: String,
    /// Message regex.
    pub pattern: String,
    /// Web vital name.
    pub metric: String,
    /// Web vital page.
    pub page: String,
    /// Exception type (exception count).
    pub exception_type: String,
    /// Minimum level of counted logs (log count, regex).
    pub min_level: String,
    /// Request path filter of counted logs.
    pub path: String,
    /// Full-text filter of counted logs.
    pub q: String,
    /// Operator, one of [`OPERATORS`].
    pub operator: String,
    /// Threshold; a percentage for error rates (the API takes a ratio).
    pub threshold: String,
    /// Window in minutes.
    pub window_minutes: String,
    /// Consecutive breaching evaluations before firing.
    pub pending_evaluations: String,
    /// Throttle in minutes.
    pub throttle_minutes: String,
    /// Kept as stored (muting is its own action).
    pub mute_until: Option<String>,
    /// Channels.
    pub channels: Vec<ChannelForm>,
}

impl Default for RuleForm {
    fn default() -> Self {
        RuleForm {
            name: String::new(),
            description: String::new(),
            enabled: true,
            severity: "warning".into(),
            condition: "error_rate".into(),
            endpoint: String::new(),
            source: String::new(),
            quantile: "p95".into(),
            slow_ms: String::new(),
            pattern: String::new(),
            metric: "LCP".into(),
            page: String::new(),
            exception_type: String::new(),
            min_level: "ERROR".into(),
            path: String::new(),
            q: String::new(),
            operator: "gt".into(),
            threshold: String::new(),
            window_minutes: "5".into(),
            pending_evaluations: "1".into(),
            throttle_minutes: "60".into(),
            mute_until: None,
            channels: Vec::new(),
        }
    }
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn text(o: &Option<String>) -> String {
    o.clone().unwrap_or_default()
}

/// A number for an input, without float formatting (at most two decimals, trailing zeros cut).
pub fn number_text(v: f64) -> String {
    let s = crate::timefmt::fixed(v, 2);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Whether the form's threshold is a percentage (the API's ratio × 100).
pub fn is_percent(condition: &str) -> bool {
    condition == "error_rate"
}

/// The unit shown after the threshold input for a condition type.
pub fn threshold_unit(condition: &str, metric: &str) -> &'static str {
    match condition {
        "error_rate" => "%",
        "latency" => "ms",
        "web_vital" if metric == "CLS" => "score",
        "web_vital" => "ms",
        _ => "count",
    }
}

impl RuleForm {
    /// The form for editing a stored rule (secrets left empty).
    pub fn from_rule(r: &AlertRule) -> RuleForm {
        let mut f = RuleForm {
            name: r.name.clone(),
            description: text(&r.description),
            enabled: r.enabled,
            severity: r.severity.as_str().to_owned(),
            condition: r.condition.type_name().to_owned(),
            operator: match r.operator {
                Operator::Gt => "gt",
                Operator::Gte => "gte",
                Operator::Lt => "lt",
                Operator::Lte => "lte",
            }
            .to_owned(),
            threshold: number_text(if is_percent(r.condition.type_name()) {
                r.threshold * 100.0
            } else {
                r.threshold
            }),
            window_minutes: r.window_minutes.to_string(),
            pending_evaluations: r.pending_evaluations.to_string(),
            throttle_minutes: r.throttle_minutes.to_string(),
            mute_until: r.mute_until.clone(),
            ..RuleForm::default()
        };
        let filters = |f: &mut RuleForm, l: &LogFilters| {
            f.source = text(&l.source);
            f.min_level = l.min_level.clone().or(l.level.clone()).unwrap_or_default();
            f.path = text(&l.path);
            f.q = text(&l.q);
        };
        match &r.condition {
            Condition::ErrorRate { endpoint, source } => {
                f.endpoint = text(endpoint);
                f.source = text(source);
            }
            Condition::LogCount { filters: l } => filters(&mut f, l),
            Condition::NewException { source } | Condition::RegressedException { source } => {
                f.source = text(source)
            }
            Condition::ExceptionCount {
                source,
                exception_type,
            } => {
                f.source = text(source);
                f.exception_type = text(exception_type);
            }
            Condition::Latency { quantile, endpoint } => {
                f.quantile = quantile.clone();
                f.endpoint = text(endpoint);
            }
            Condition::SlowRequestCount { slow_ms, endpoint } => {
                f.slow_ms = slow_ms.map(number_text).unwrap_or_default();
                f.endpoint = text(endpoint);
            }
            Condition::MessageRegex {
                pattern,
                filters: l,
            } => {
                f.pattern = pattern.clone();
                filters(&mut f, l);
            }
            Condition::WebVital { metric, page } => {
                f.metric = metric.clone();
                f.page = text(page);
            }
        }
        f.channels = r
            .channels
            .iter()
            .map(|c| match c {
                ChannelView::Webhook {
                    id,
                    url,
                    secret_set,
                    send_resolved,
                } => ChannelForm {
                    kind: "webhook".into(),
                    id: Some(*id),
                    url: url.clone(),
                    secret_set: *secret_set,
                    send_resolved: *send_resolved,
                    ..ChannelForm::default()
                },
                ChannelView::Slack {
                    id,
                    url_set,
                    send_resolved,
                } => ChannelForm {
                    kind: "slack".into(),
                    id: Some(*id),
                    secret_set: *url_set,
                    send_resolved: *send_resolved,
                    ..ChannelForm::default()
                },
                ChannelView::Email {
                    id,
                    to,
                    send_resolved,
                } => ChannelForm {
                    kind: "email".into(),
                    id: Some(*id),
                    to: to.join(", "),
                    send_resolved: *send_resolved,
                    ..ChannelForm::default()
                },
            })
            .collect();
        f
    }

    fn condition(&self, errors: &mut Vec<FieldError>) -> Condition {
        let filters = LogFilters {
            source: opt(&self.source),
            min_level: opt(&self.min_level),
            path: opt(&self.path),
            q: opt(&self.q),
            ..LogFilters::default()
        };
        match self.condition.as_str() {
            "log_count" => Condition::LogCount { filters },
            "new_exception" => Condition::NewException {
                source: opt(&self.source),
            },
            "regressed_exception" => Condition::RegressedException {
                source: opt(&self.source),
            },
            "exception_count" => Condition::ExceptionCount {
                source: opt(&self.source),
                exception_type: opt(&self.exception_type),
            },
            "latency" => Condition::Latency {
                quantile: self.quantile.clone(),
                endpoint: opt(&self.endpoint),
            },
            "slow_request_count" => Condition::SlowRequestCount {
                slow_ms: opt(&self.slow_ms).and_then(|s| number(&s, "condition.slow_ms", errors)),
                endpoint: opt(&self.endpoint),
            },
            "message_regex" => Condition::MessageRegex {
                pattern: self.pattern.clone(),
                filters,
            },
            "web_vital" => Condition::WebVital {
                metric: self.metric.clone(),
                page: opt(&self.page),
            },
            _ => Condition::ErrorRate {
                endpoint: opt(&self.endpoint),
                source: opt(&self.source),
            },
        }
    }

    /// The request this form describes, or every problem by the API's JSON path: unparsable
    /// numbers first, then the shared validation (the collector also checks a regex compiles,
    /// which the UI leaves to its 422).
    pub fn to_request(&self) -> Result<AlertRuleRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let condition = self.condition(&mut errors);
        let mut threshold = number(&self.threshold, "threshold", &mut errors).unwrap_or(0.0);
        if is_percent(&self.condition) {
            threshold /= 100.0;
        }
        let whole = |s: &str, path: &str, errors: &mut Vec<FieldError>| -> u32 {
            match s.trim().parse::<u32>() {
                Ok(n) => n,
                Err(_) => {
                    errors.push(FieldError::new(path, "expected a whole number"));
                    0
                }
            }
        };
        let window_minutes = whole(&self.window_minutes, "window_minutes", &mut errors);
        let pending_evaluations = whole(
            &self.pending_evaluations,
            "pending_evaluations",
            &mut errors,
        );
        let throttle_minutes = whole(&self.throttle_minutes, "throttle_minutes", &mut errors);
        let channels = self.channels.iter().map(channel_request).collect();
        let request = AlertRuleRequest {
            name: self.name.trim().to_owned(),
            description: opt(&self.description),
            enabled: self.enabled,
            severity: match self.severity.as_str() {
                "info" => Severity::Info,
                "critical" => Severity::Critical,
                _ => Severity::Warning,
            },
            condition,
            operator: match self.operator.as_str() {
                "gte" => Operator::Gte,
                "lt" => Operator::Lt,
                "lte" => Operator::Lte,
                _ => Operator::Gt,
            },
            threshold,
            window_minutes,
            pending_evaluations,
            throttle_minutes,
            mute_until: self.mute_until.clone(),
            channels,
        };
        if let Err(found) = request.validate() {
            for e in found {
                // A parse error already speaks for this field; the range check of the 0 put in
                // its place would only repeat it.
                if !errors.iter().any(|x| x.path == e.path) {
                    errors.push(percent_wording(e, &self.condition));
                }
            }
        }
        if errors.is_empty() {
            Ok(request)
        } else {
            Err(errors)
        }
    }
}

/// The ratio message in the form's percentage terms.
fn percent_wording(e: FieldError, condition: &str) -> FieldError {
    if e.path == "threshold" && is_percent(condition) && e.message.contains("ratio") {
        FieldError::new("threshold", "an error rate is a percentage from 0 to 100")
    } else {
        e
    }
}

fn number(s: &str, path: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.push(FieldError::new(path, "expected a number"));
            None
        }
    }
}

fn channel_request(c: &ChannelForm) -> ChannelRequest {
    let send_resolved = Some(c.send_resolved);
    match c.kind.as_str() {
        "slack" => ChannelRequest::Slack {
            id: c.id,
            url: opt(&c.url),
            send_resolved,
        },
        "email" => ChannelRequest::Email {
            id: c.id,
            to: c.to.split([',', ';', '\n']).filter_map(opt).collect(),
            send_resolved,
        },
        _ => ChannelRequest::Webhook {
            id: c.id,
            url: c.url.trim().to_owned(),
            secret: if c.clear_secret {
                Some(String::new())
            } else {
                opt(&c.secret)
            },
            send_resolved,
        },
    }
}

/// The message for the field at `path`: its own, or for a list the first of its items
/// (`channels[0].to` also shows `channels[0].to[2]`'s).
pub fn message_for(errors: &[FieldError], path: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.path == path)
        .or_else(|| {
            errors.iter().find(|e| {
                e.path
                    .strip_prefix(path)
                    .is_some_and(|r| r.starts_with('['))
            })
        })
        .map(|e| e.message.clone())
}

/// Paths the form has no field for, with their messages, so no problem goes unshown.
pub fn unplaced(errors: &[FieldError], placed: &[&str]) -> Vec<String> {
    errors
        .iter()
        .filter(|e| {
            !placed
                .iter()
                .any(|p| e.path == *p || e.path.strip_prefix(p).is_some_and(|r| r.starts_with('[')))
        })
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect()
}

/// Form field paths for one condition type (for [`unplaced`]).
pub fn condition_paths(condition: &str) -> &'static [&'static str] {
    match condition {
        "error_rate" | "new_exception" | "regressed_exception" | "exception_count" => {
            &["condition.source", "condition.endpoint"]
        }
        "log_count" => &[
            "condition.filters.source",
            "condition.filters.min_level",
            "condition.filters.level",
        ],
        "latency" => &["condition.quantile"],
        "slow_request_count" => &["condition.slow_ms"],
        "message_regex" => &[
            "condition.pattern",
            "condition.filters.source",
            "condition.filters.min_level",
        ],
        "web_vital" => &["condition.metric"],
        _ => &[],
    }
}

/// Mute durations offered, as (label, minutes).
pub const MUTE_FOR: &[(&str, i64)] = &[
    ("1 hour", 60),
    ("4 hours", 240),
    ("1 day", 1440),
    ("1 week", 7 * 1440),
];

#[cfg(test)]
mod tests;
