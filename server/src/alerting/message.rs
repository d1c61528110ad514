//! What a notification says, built once and rendered per channel: the rule, severity, value
//! against threshold, window, a link to the admin UI view with the rule's filters in the URL,
//! and a few sample log lines or the exception. Pure: the clock and the public URL come in.

use serde_json::{Value, json};
use tracewire_shared::api::monitoring::{
    Condition, HistoryKind, Operator, Severity, ThresholdKind,
};
use tracewire_shared::validate::format_timestamp_us;
use uuid::Uuid;

/// Sample lines carried in a message at most, so a message stays readable and small.
pub const MAX_SAMPLES: usize = 5;
/// Longest sample line kept, in characters.
const MAX_SAMPLE_CHARS: usize = 300;

/// One notification, independent of the channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Stable per history entry and channel kind, reused across retries, so a receiver can
    /// drop duplicates (`webhook-id`).
    pub message_id: String,
    /// Id of the rule; webhook receivers get it as `rule.id`.
    pub rule_id: Uuid,
    /// The rule's name, in the summary line (which is also the email subject).
    pub rule_name: String,
    /// The rule's severity, shown in the summary and the webhook body.
    pub severity: Severity,
    /// `firing`, `resolved` or `test`.
    pub kind: HistoryKind,
    /// The rule's condition; gives the summary's wording and the unit of value and threshold.
    pub condition: Condition,
    /// How `value` is compared with `threshold`; printed as its symbol.
    pub operator: Operator,
    /// The rule's threshold, in the condition's unit (ratio, milliseconds, count or score).
    pub threshold: f64,
    /// The value read (`None` without data or for a test).
    pub value: Option<f64>,
    /// The rule's window in minutes, as the summary and the webhook body state it.
    pub window_minutes: u32,
    /// When the evaluation ran (microseconds).
    pub triggered_at_us: i64,
    /// The admin UI view to open.
    pub link: String,
    /// A few matching log lines, or the exception's type, message and top frames.
    pub samples: Vec<String>,
}

impl Notification {
    /// Keeps at most [`MAX_SAMPLES`] samples, each cut to a readable length.
    pub fn with_samples(mut self, samples: impl IntoIterator<Item = String>) -> Self {
        self.samples = samples
            .into_iter()
            .take(MAX_SAMPLES)
            .map(|s| {
                if s.chars().count() > MAX_SAMPLE_CHARS {
                    let cut: String = s.chars().take(MAX_SAMPLE_CHARS).collect();
                    format!("{cut}…")
                } else {
                    s
                }
            })
            .collect();
        self
    }

    /// `FIRING`, `RESOLVED`, `TEST`.
    pub fn status_word(&self) -> &'static str {
        match self.kind {
            HistoryKind::Resolved => "RESOLVED",
            HistoryKind::Test => "TEST",
            HistoryKind::NoData => "NO DATA",
            HistoryKind::Firing | HistoryKind::Suppressed => "FIRING",
        }
    }

    /// One line: `[FIRING] name (critical): p95 latency of /x = 912.4 ms > 800 ms over 5 min`.
    pub fn summary(&self) -> String {
        let kind = self.condition.threshold_kind();
        let value = self
            .value
            .map_or_else(|| "no data".to_owned(), |v| format_value(kind, v));
        format!(
            "[{}] {} ({}): {} = {} {} {} over {} min",
            self.status_word(),
            self.rule_name,
            self.severity.as_str(),
            describe(&self.condition),
            value,
            self.operator.symbol(),
            format_value(kind, self.threshold),
            self.window_minutes
        )
    }

    /// Plain-text body for email: summary, link, time and samples.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}\n\nOpen: {}\nAt: {}\n",
            self.summary(),
            self.link,
            format_timestamp_us(self.triggered_at_us)
        );
        if !self.samples.is_empty() {
            out.push_str("\nSamples:\n");
            for s in &self.samples {
                out.push_str("  ");
                out.push_str(s);
                out.push('\n');
            }
        }
        out
    }

    /// The generic webhook's JSON body.
    pub fn webhook_body(&self) -> Value {
        json!({
            "version": "1",
            "id": self.message_id,
            "status": self.kind,
            "rule": {
                "id": self.rule_id,
                "name": self.rule_name,
                "severity": self.severity,
                "condition": self.condition,
                "operator": self.operator,
                "threshold": self.threshold,
                "window_minutes": self.window_minutes,
            },
            "value": self.value,
            "summary": self.summary(),
            "triggered_at": format_timestamp_us(self.triggered_at_us),
            "url": self.link,
            "samples": self.samples,
        })
    }

    /// A Slack incoming-webhook body: `text` as the fallback and `blocks` for the layout.
    pub fn slack_body(&self) -> Value {
        let mut blocks = vec![
            json!({"type": "section", "text": {"type": "mrkdwn", "text":
                format!("*{}*\n{}", slack_escape(&self.rule_name), slack_escape(&self.summary()))}}),
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text":
                format!("<{}|Open in Tracewire> · {}", self.link, format_timestamp_us(self.triggered_at_us))}]}),
        ];
        if !self.samples.is_empty() {
            let lines: Vec<String> = self.samples.iter().map(|s| slack_escape(s)).collect();
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                "text": format!("```{}```", lines.join("\n"))}}));
        }
        json!({ "text": self.summary(), "blocks": blocks })
    }
}

/// Slack's three control characters in mrkdwn.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The watched quantity in words.
pub fn describe(condition: &Condition) -> String {
    let on = |endpoint: &Option<String>| {
        endpoint
            .as_deref()
            .map_or_else(|| " of all requests".to_owned(), |e| format!(" of {e}"))
    };
    match condition {
        Condition::ErrorRate { endpoint, .. } => format!("error rate{}", on(endpoint)),
        Condition::LogCount { filters } => match (&filters.level, &filters.min_level) {
            (Some(l), _) => format!("{l} logs"),
            (None, Some(l)) => format!("{l}+ logs"),
            (None, None) => "logs".to_owned(),
        },
        Condition::NewException { .. } => "new exceptions".to_owned(),
        Condition::RegressedException { .. } => "regressed exceptions".to_owned(),
        Condition::ExceptionCount { exception_type, .. } => match exception_type {
            Some(t) => format!("{t} exceptions"),
            None => "exceptions".to_owned(),
        },
        Condition::Latency { quantile, endpoint } => format!("{quantile} latency{}", on(endpoint)),
        Condition::SlowRequestCount { endpoint, .. } => format!("slow requests{}", on(endpoint)),
        Condition::MessageRegex { pattern, .. } => format!("logs matching /{pattern}/"),
        Condition::WebVital { metric, page } => match page {
            Some(p) => format!("{metric} p75 on {p}"),
            None => format!("{metric} p75"),
        },
    }
}

/// A value as its kind reads: ratios as percentages, durations in ms, counts whole.
pub fn format_value(kind: ThresholdKind, value: f64) -> String {
    match kind {
        ThresholdKind::Ratio => format!("{}%", round2(value * 100.0)),
        ThresholdKind::Milliseconds => format!("{} ms", round2(value)),
        ThresholdKind::Count => format!("{}", value.round()),
        ThresholdKind::Score => format!("{}", round2(value)),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The admin UI view showing what the rule watched, over its window ending at `now_us`:
/// `{base}/logs?…`, `{base}/exceptions?…` or `{base}/monitoring?…`, filters in the query.
pub fn admin_link(
    base_url: &str,
    condition: &Condition,
    window_minutes: u32,
    now_us: i64,
) -> String {
    let from = now_us - i64::from(window_minutes) * 60_000_000;
    let mut query = form_urlencoded::Serializer::new(String::new());
    let page = match condition {
        Condition::LogCount { filters } | Condition::MessageRegex { filters, .. } => {
            for (name, value) in [
                ("source", &filters.source),
                ("level", &filters.level),
                ("min_level", &filters.min_level),
                ("module", &filters.module),
                ("path", &filters.path),
                ("q", &filters.q),
            ] {
                if let Some(v) = value {
                    query.append_pair(name, v);
                }
            }
            // The explorer's URL spells some fields shorter than the API (`not.user`).
            for (field, values) in &filters.not {
                let key = match field.as_str() {
                    "user_id" => "user",
                    "trace_id" => "trace",
                    "request_method" => "method",
                    "response_status" => "status",
                    other => other,
                };
                for v in values {
                    query.append_pair(&format!("not.{key}"), v);
                }
            }
            if let Condition::MessageRegex { pattern, .. } = condition {
                query.append_pair("regex", pattern);
            }
            "logs"
        }
        Condition::NewException { source }
        | Condition::RegressedException { source }
        | Condition::ExceptionCount { source, .. } => {
            if let Some(s) = source {
                query.append_pair("source", s);
            }
            if let Condition::ExceptionCount {
                exception_type: Some(t),
                ..
            } = condition
            {
                query.append_pair("exception_type", t);
            }
            "exceptions"
        }
        Condition::ErrorRate { endpoint, .. }
        | Condition::Latency { endpoint, .. }
        | Condition::SlowRequestCount { endpoint, .. } => {
            query.append_pair("metric_type", "http_request");
            if let Some(e) = endpoint {
                query.append_pair("endpoint", e);
            }
            "monitoring"
        }
        Condition::WebVital { metric, page } => {
            query.append_pair("metric_type", "web_vital");
            query.append_pair("metric_name", metric);
            if let Some(p) = page {
                query.append_pair("endpoint", p);
            }
            "monitoring"
        }
    };
    query.append_pair("from", &format_timestamp_us(from));
    query.append_pair("to", &format_timestamp_us(now_us));
    format!(
        "{}/{page}?{}",
        base_url.trim_end_matches('/'),
        query.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracewire_shared::api::monitoring::LogFilters;

    fn note(condition: Condition, value: f64, threshold: f64) -> Notification {
        Notification {
            message_id: "msg_1".into(),
            rule_id: Uuid::nil(),
            rule_name: "Checkout <slow>".into(),
            severity: Severity::Critical,
            kind: HistoryKind::Firing,
            link: admin_link("https://logs.example/", &condition, 5, 600_000_000),
            condition,
            operator: Operator::Gt,
            threshold,
            value: Some(value),
            window_minutes: 5,
            triggered_at_us: 600_000_000,
            samples: vec![],
        }
    }

    #[test]
    fn summaries_name_value_threshold_and_window() {
        let n = note(
            Condition::ErrorRate {
                endpoint: Some("/api/pay".into()),
                source: None,
            },
            0.125,
            0.05,
        );
        assert_eq!(
            n.summary(),
            "[FIRING] Checkout <slow> (critical): error rate of /api/pay = 12.5% > 5% over 5 min"
        );
    }

    #[test]
    fn links_carry_the_filters_and_window() {
        let link = admin_link(
            "https://logs.example/",
            &Condition::MessageRegex {
                pattern: "timeout & retry".into(),
                filters: LogFilters {
                    min_level: Some("ERROR".into()),
                    not: [("user_id".to_owned(), vec!["bot".to_owned()])].into(),
                    ..LogFilters::default()
                },
            },
            10,
            600_000_000,
        );
        assert!(
            link.starts_with(
                "https://logs.example/logs?min_level=ERROR&not.user=bot&regex=timeout+%26+retry&from="
            ),
            "{link}"
        );
        assert!(link.contains("from=1970-01-01T00%3A00%3A00"));
        assert!(link.contains("to=1970-01-01T00%3A10%3A00"));
    }

    #[test]
    fn slack_bodies_have_text_and_escaped_blocks() {
        let n = note(
            Condition::Latency {
                quantile: "p95".into(),
                endpoint: None,
            },
            912.44,
            800.0,
        )
        .with_samples((0..9).map(|i| format!("line {i} <b>")));
        let body = n.slack_body();
        assert_eq!(body["text"], n.summary());
        let blocks = body["blocks"].as_array().expect("blocks");
        assert!(
            blocks[0]["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("&lt;slow&gt;"))
        );
        assert!(
            blocks[0]["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("912.44 ms"))
        );
        let samples = blocks[2]["text"]["text"].as_str().unwrap_or_default();
        assert_eq!(samples.matches("line").count(), MAX_SAMPLES);
    }

    #[test]
    fn long_samples_are_cut() {
        let n = note(Condition::NewException { source: None }, 1.0, 0.0)
            .with_samples(["x".repeat(1000)]);
        assert_eq!(n.samples[0].chars().count(), MAX_SAMPLE_CHARS + 1);
    }
}
