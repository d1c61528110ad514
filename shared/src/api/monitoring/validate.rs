//! Checks of an [`AlertRuleRequest`] that serde cannot express, each reported by JSON path.

use super::{
    AlertRuleRequest, ChannelRequest, Condition, LATENCY_QUANTILES, LOG_EXCLUDE_FIELDS, LogFilters,
    ThresholdKind, WEB_VITALS,
};
use crate::level::Level;
use crate::validate::{FieldError, parse_timestamp_us};

/// Longest rule name, in characters after trimming; a blank name is refused too.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest window: one day, the coarsest period re-evaluated every interval.
pub const MAX_WINDOW_MINUTES: u32 = 1440;
/// Most consecutive evaluations a rule may wait before firing.
pub const MAX_PENDING_EVALUATIONS: u32 = 1000;
/// Longest throttle: 30 days, Sentry's longest action interval.
pub const MAX_THROTTLE_MINUTES: u32 = 30 * 1440;
/// Most channels on one rule, and most recipients on one email channel.
pub const MAX_CHANNELS: usize = 20;
/// Whether [`AlertRuleRequest::validate`] compiles message-regex patterns (the `regex-check`
/// feature): the collector does; the admin UI leaves it to the collector's 422. Features unify
/// across a workspace build, so code that depends on the difference asks here.
pub const CHECKS_REGEX: bool = cfg!(feature = "regex-check");
#[cfg(feature = "regex-check")]
/// Largest compiled message regex, so a rule cannot make the evaluator allocate without bound.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl AlertRuleRequest {
    /// Every problem of the rule, by path; empty when it can be stored.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "must not be blank"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::new(
                "name",
                format!("at most {MAX_NAME_CHARS} characters"),
            ));
        }
        check_condition(&self.condition, &mut errors);
        check_threshold(self.threshold, self.condition.threshold_kind(), &mut errors);
        if !(1..=MAX_WINDOW_MINUTES).contains(&self.window_minutes) {
            errors.push(FieldError::new(
                "window_minutes",
                format!("must be 1 to {MAX_WINDOW_MINUTES}"),
            ));
        }
        if !(1..=MAX_PENDING_EVALUATIONS).contains(&self.pending_evaluations) {
            errors.push(FieldError::new(
                "pending_evaluations",
                format!("must be 1 to {MAX_PENDING_EVALUATIONS}"),
            ));
        }
        if self.throttle_minutes > MAX_THROTTLE_MINUTES {
            errors.push(FieldError::new(
                "throttle_minutes",
                format!("at most {MAX_THROTTLE_MINUTES}"),
            ));
        }
        if let Some(until) = &self.mute_until
            && parse_timestamp_us(until).is_none()
        {
            errors.push(FieldError::new("mute_until", "expected an RFC 3339 time"));
        }
        if self.channels.len() > MAX_CHANNELS {
            errors.push(FieldError::new(
                "channels",
                format!("at most {MAX_CHANNELS} channels"),
            ));
        }
        for (i, channel) in self.channels.iter().enumerate() {
            check_channel(&format!("channels[{i}]"), channel, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn check_condition(condition: &Condition, errors: &mut Vec<FieldError>) {
    match condition {
        Condition::ErrorRate { source, .. }
        | Condition::NewException { source }
        | Condition::RegressedException { source }
        | Condition::ExceptionCount { source, .. } => {
            check_source("condition.source", source.as_deref(), errors);
        }
        Condition::LogCount { filters } => check_filters("condition.filters", filters, errors),
        Condition::MessageRegex { pattern, filters } => {
            if pattern.is_empty() {
                errors.push(FieldError::new("condition.pattern", "must not be empty"));
            }
            #[cfg(feature = "regex-check")]
            if !pattern.is_empty()
                && let Err(e) = regex::RegexBuilder::new(pattern)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
            {
                // The regex crate's message spans several lines with a caret under the fault.
                let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                errors.push(FieldError::new(
                    "condition.pattern",
                    format!("not a valid regular expression: {first}"),
                ));
            }
            check_filters("condition.filters", filters, errors);
        }
        Condition::Latency { quantile, .. } => {
            if !LATENCY_QUANTILES.contains(&quantile.as_str()) {
                errors.push(FieldError::new(
                    "condition.quantile",
                    format!(
                        "unknown quantile; expected one of {}",
                        LATENCY_QUANTILES.join(", ")
                    ),
                ));
            }
        }
        Condition::SlowRequestCount { slow_ms, .. } => {
            if let Some(ms) = slow_ms
                && !(ms.is_finite() && *ms > 0.0)
            {
                errors.push(FieldError::new(
                    "condition.slow_ms",
                    "must be a positive number of milliseconds",
                ));
            }
        }
        Condition::WebVital { metric, .. } => {
            if !WEB_VITALS.contains(&metric.as_str()) {
                errors.push(FieldError::new(
                    "condition.metric",
                    format!("unknown metric; expected one of {}", WEB_VITALS.join(", ")),
                ));
            }
        }
    }
}

fn check_source(path: &str, source: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(s) = source
        && !matches!(s, "frontend" | "backend")
    {
        errors.push(FieldError::new(path, "expected frontend or backend"));
    }
}

fn check_filters(path: &str, filters: &LogFilters, errors: &mut Vec<FieldError>) {
    check_source(&format!("{path}.source"), filters.source.as_deref(), errors);
    for (field, values) in &filters.not {
        let at = format!("{path}.not.{field}");
        if !LOG_EXCLUDE_FIELDS.contains(&field.as_str()) {
            errors.push(FieldError::new(at, "unknown field"));
            continue;
        }
        for value in values {
            let bad = match field.as_str() {
                "source" => !matches!(value.as_str(), "frontend" | "backend"),
                "level" => value.parse::<Level>().is_err(),
                "response_status" => value.parse::<u16>().is_err(),
                _ => false,
            };
            if bad {
                errors.push(FieldError::new(
                    at.clone(),
                    format!("not a {field}: {value}"),
                ));
            }
        }
    }
    for (name, value) in [("level", &filters.level), ("min_level", &filters.min_level)] {
        if let Some(level) = value
            && level.parse::<Level>().is_err()
        {
            errors.push(FieldError::new(
                format!("{path}.{name}"),
                "unknown level; expected DEBUG, INFO, WARNING, ERROR or CRITICAL",
            ));
        }
    }
}

fn check_threshold(threshold: f64, kind: ThresholdKind, errors: &mut Vec<FieldError>) {
    let problem = if !threshold.is_finite() {
        Some("must be a finite number")
    } else {
        match kind {
            ThresholdKind::Ratio if !(0.0..=1.0).contains(&threshold) => {
                Some("an error rate is a ratio from 0 to 1")
            }
            ThresholdKind::Count if threshold < 0.0 || threshold.fract() != 0.0 => {
                Some("a count is a whole number, 0 or more")
            }
            ThresholdKind::Milliseconds if threshold < 0.0 => {
                Some("a duration is 0 or more milliseconds")
            }
            ThresholdKind::Score if threshold < 0.0 => Some("a score is 0 or more"),
            _ => None,
        }
    };
    if let Some(message) = problem {
        errors.push(FieldError::new("threshold", message));
    }
}

fn check_channel(path: &str, channel: &ChannelRequest, errors: &mut Vec<FieldError>) {
    match channel {
        ChannelRequest::Webhook { url, secret, .. } => {
            check_url(&format!("{path}.url"), url, errors);
            if let Some(secret) = secret
                && !secret.is_empty()
                && !is_whsec(secret)
            {
                errors.push(FieldError::new(
                    format!("{path}.secret"),
                    "expected whsec_ followed by base64 (Standard Webhooks)",
                ));
            }
        }
        ChannelRequest::Slack { id, url, .. } => match url {
            Some(url) => check_url(&format!("{path}.url"), url, errors),
            None if id.is_none() => {
                errors.push(FieldError::new(format!("{path}.url"), "required"));
            }
            None => {}
        },
        ChannelRequest::Email { to, .. } => {
            if to.is_empty() {
                errors.push(FieldError::new(
                    format!("{path}.to"),
                    "at least one recipient",
                ));
            } else if to.len() > MAX_CHANNELS {
                errors.push(FieldError::new(
                    format!("{path}.to"),
                    format!("at most {MAX_CHANNELS} recipients"),
                ));
            }
            for (i, address) in to.iter().enumerate() {
                if !is_plain_address(address) {
                    errors.push(FieldError::new(
                        format!("{path}.to[{i}]"),
                        "expected an email address like ops@example.com",
                    ));
                }
            }
        }
    }
}

fn check_url(path: &str, url: &str, errors: &mut Vec<FieldError>) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.contains(char::is_whitespace)
    });
    if !host_ok || url.contains(char::is_whitespace) {
        errors.push(FieldError::new(path, "expected an http:// or https:// URL"));
    }
}

/// `whsec_` followed by non-empty standard base64.
fn is_whsec(secret: &str) -> bool {
    secret.strip_prefix("whsec_").is_some_and(|b64| {
        let body = b64.trim_end_matches('=');
        !body.is_empty()
            && b64.len() % 4 == 0
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    })
}

/// One `local@domain` with no spaces, angle brackets or commas: enough to refuse typos and
/// header injection; the SMTP server judges the rest.
fn is_plain_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\@".contains(c))
}

#[cfg(test)]
mod tests;
