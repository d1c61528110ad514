//! Redaction of sensitive values, applied by the browser logger before sending and again by the
//! collector before storing (seed property 8).
//!
//! Rules, applied at any depth of a JSON value and to every stored text field (message, stack
//! trace, path, user id…; the collector's `IngestService::redact`):
//! - a key whose normalized name contains a sensitive name (or is one of the exact names) has
//!   its whole value replaced;
//! - secrets inside any string are replaced by hand-written scanners (`text`, `cards`): card
//!   numbers, IBANs, PEM private keys, URL credentials, bearer tokens, US SSNs, sensitive
//!   `key=value` pairs, and emails when enabled;
//! - integers that are card numbers (13–19 digits, Luhn) are replaced;
//! - configured regexes replace their matches inside strings.
//!
//! The scanners need neither `regex` nor `serde_json`, so the browser logger can link them
//! ([`redact_text`], [`is_card_number_text`]) without linking either.
//!
//! Redaction is idempotent: the [`REDACTED`] marker is never redacted or counted again, so the
//! collector can redact what the browser logger already redacted and count only what is new.

mod cards;
#[cfg(test)]
mod tests;
mod text;

use regex::Regex;
use serde_json::Value;
use std::ops::Range;

/// What every redacted value becomes.
pub const REDACTED: &str = "***REDACTED***";

/// Key names redacted by default (matched case-insensitively, ignoring `-` and `_`, as
/// substrings: `api_key` also matches `apiKey` and `X-Api-Key`), modelled on Sentry Relay's
/// `@password` key rule. What each costs in false
/// positives (values hidden that were not secret):
/// - `password`, `passwd`, `passphrase`, `secret`, `privatekey`, `mysqlpwd`: next to none;
/// - `token`: also `tokens`, `tokenizer`, `token_count` (counts hidden);
/// - `apikey`, `authorization`, `cookie`, `credential`: next to none (`cookie_consent` hidden);
/// - `sessionid`, `sessid` (`PHPSESSID`, `JSESSIONID`): next to none.
///
/// `auth` and `session` are not here but in [`DEFAULT_SENSITIVE_EXACT_KEYS`]: as substrings
/// they would hide `author`, `oauth_provider`, `session_count`, `session_duration`.
pub const DEFAULT_SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "mysql_pwd",
    "token",
    "secret",
    "api_key",
    "authorization",
    "cookie",
    "private_key",
    "credential",
    "session_id",
    "sessid",
];

/// Key names redacted by default only when the whole normalized key is the name (`auth`,
/// `AUTH`, `session`; not `x_auth` or `author`), where a substring rule would cost too many
/// false positives (see [`DEFAULT_SENSITIVE_KEYS`]).
pub const DEFAULT_SENSITIVE_EXACT_KEYS: &[&str] = &["auth", "session"];

/// Invalid configuration of a [`Redactor`].
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// A configured value pattern is not a valid regex.
    #[error("invalid redaction pattern {pattern:?}: {source}")]
    Pattern {
        /// The pattern as configured.
        pattern: String,
        /// Why it does not compile.
        source: regex::Error,
    },
}

/// Decides which keys and values are sensitive and replaces them.
///
/// Built once (patterns are compiled in [`Redactor::new`]) and shared; redaction itself only
/// reads it.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Normalized sensitive names (see [`normalize_key`]); a key containing one is sensitive.
    names: Vec<String>,
    /// Normalized names a key must equal to be sensitive.
    exact: Vec<String>,
    /// Compiled value patterns, applied to every string value in configuration order.
    patterns: Vec<Regex>,
    /// Whether email addresses are redacted too.
    emails: bool,
}

impl Default for Redactor {
    /// The default names and text rules, no value patterns, emails kept.
    fn default() -> Self {
        Self {
            names: DEFAULT_SENSITIVE_KEYS
                .iter()
                .map(|name| normalize_key(name))
                .collect(),
            exact: DEFAULT_SENSITIVE_EXACT_KEYS
                .iter()
                .map(|name| normalize_key(name))
                .collect(),
            patterns: Vec::new(),
            emails: false,
        }
    }
}

impl Redactor {
    /// The default names plus `extra_keys` (key-name substrings) and `value_patterns`
    /// (regexes; any match inside a string value is replaced).
    ///
    /// Extra names that normalize to nothing (`""`, `"-"`) are ignored, since they would make
    /// every key sensitive.
    pub fn new(extra_keys: &[String], value_patterns: &[String]) -> Result<Self, RedactError> {
        let mut redactor = Self::default();
        for name in extra_keys.iter().map(|key| normalize_key(key)) {
            if !name.is_empty() && !redactor.names.contains(&name) {
                redactor.names.push(name);
            }
        }
        for pattern in value_patterns {
            let regex = Regex::new(pattern).map_err(|source| RedactError::Pattern {
                pattern: pattern.clone(),
                source,
            })?;
            redactor.patterns.push(regex);
        }
        Ok(redactor)
    }

    /// Also redact email addresses in text (`--redact-emails`). Off by default: an address is
    /// often what operators search by to help a user, and user ids are often addresses.
    pub fn with_emails(mut self, emails: bool) -> Self {
        self.emails = emails;
        self
    }

    /// True when a value under this key must be hidden.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        let key = normalize_key(key);
        self.names.iter().any(|name| key.contains(name.as_str())) || self.exact.contains(&key)
    }

    /// Redacts in place at any depth; returns how many values were replaced.
    ///
    /// A value already equal to [`REDACTED`] is left alone and not counted.
    pub fn redact_value(&self, value: &mut Value) -> usize {
        match value {
            Value::Object(map) => map
                .iter_mut()
                .map(|(key, value)| {
                    if self.is_sensitive_key(key) {
                        replace_whole(value)
                    } else {
                        self.redact_value(value)
                    }
                })
                .sum(),
            Value::Array(items) => items.iter_mut().map(|item| self.redact_value(item)).sum(),
            Value::String(text) => self.redact_str(text),
            Value::Number(n) if number_is_card(n) => replace_whole(value),
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
    }

    /// Redacts the text rules' secrets and pattern matches inside one string; returns how many
    /// were replaced. The collector applies it to every stored text field.
    pub fn redact_str(&self, text: &mut String) -> usize {
        let mut count = 0;
        let sensitive = |key: &str| self.is_sensitive_key(key);
        let rules = text::Rules {
            emails: self.emails,
            sensitive_key: &sensitive,
        };
        if let Some((redacted, found)) = text::redact(text, &rules) {
            *text = redacted;
            count += found;
        }
        for pattern in &self.patterns {
            if let Some((redacted, found)) = replace_matches(pattern, text) {
                *text = redacted;
                count += found;
            }
        }
        count
    }
}

/// Replaces every payment card number inside `text` (13–19 digits, optionally grouped by single
/// spaces or dashes, passing the Luhn check) by [`REDACTED`]; returns the new text and how many
/// numbers were replaced, or `None` when there is none.
///
/// The same scan [`Redactor`] applies to every string, for callers that must not link `regex`
/// or `serde_json` (the browser logger redacts its own values with it before sending).
pub fn redact_card_numbers(text: &str) -> Option<(String, usize)> {
    cards::redact(text)
}

/// Redacts every secret the default text rules find in `text` (cards, IBANs, PEM keys, URL
/// credentials, bearer tokens, SSNs, `key=value` pairs whose key `is_sensitive_key` accepts,
/// and emails when `emails`); the new text and how many were replaced, or `None`.
///
/// What [`Redactor::redact_str`] applies before its patterns, for callers that must not link
/// `regex` or `serde_json` (the browser logger).
pub fn redact_text(
    text: &str,
    is_sensitive_key: &dyn Fn(&str) -> bool,
    emails: bool,
) -> Option<(String, usize)> {
    text::redact(
        text,
        &text::Rules {
            emails,
            sensitive_key: is_sensitive_key,
        },
    )
}

/// True for an integer printed in decimal (an optional `-`, then digits only) that is a
/// payment card number: 13–19 digits passing Luhn. How both sides judge a number: the browser
/// logger on the number as it prints it, the collector on the integer it parsed, printed.
pub fn is_card_number_text(number: &str) -> bool {
    let bytes = number.as_bytes();
    let digits = match bytes.split_first() {
        Some((b'-', rest)) => rest,
        _ => bytes,
    };
    cards::is_card_digits(digits)
}

/// Largest integer every JSON reader holds exactly (2^53): what the browser sends as an
/// integer however it was written.
const SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A JSON number that is a card number sent as a number: an integer (or a float with an
/// integral value below 2^53, which the browser would print as an integer) whose digits pass
/// [`is_card_number_text`]. Fractions and larger floats are left alone on both sides.
fn number_is_card(n: &serde_json::Number) -> bool {
    let int = n
        .as_u64()
        .or_else(|| n.as_i64().map(i64::unsigned_abs))
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < SAFE_INTEGER)
                .map(|f| f.abs() as u64)
        });
    // Fewer than 13 digits cannot be a card: no formatting for ordinary numbers.
    int.is_some_and(|i| i >= 1_000_000_000_000 && is_card_number_text(&i.to_string()))
}

/// Lowercases a key and drops `-` and `_`, so `X-Api-Key`, `api_key` and `apiKey` all become
/// `xapikey`/`apikey` and substring matching sees through naming conventions.
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Replaces the whole value of a sensitive key; 0 when it already was the marker.
fn replace_whole(value: &mut Value) -> usize {
    if value.as_str() == Some(REDACTED) {
        return 0;
    }
    *value = Value::String(REDACTED.to_owned());
    1
}

/// Replaces every non-empty match of `pattern` that does not overlap an earlier marker; `None`
/// when nothing matched. Skipping empty matches keeps `x*`-style patterns from filling the text
/// with markers, and skipping markers keeps a pattern such as `\*+` from eating them.
fn replace_matches(pattern: &Regex, text: &str) -> Option<(String, usize)> {
    let markers: Vec<Range<usize>> = text
        .match_indices(REDACTED)
        .map(|(at, m)| at..at + m.len())
        .collect();
    let mut out = String::new();
    let mut copied = 0;
    let mut count = 0;
    for found in pattern.find_iter(text) {
        let range = found.range();
        let overlaps_marker = markers
            .iter()
            .any(|m| m.start < range.end && range.start < m.end);
        if range.is_empty() || overlaps_marker {
            continue;
        }
        out.push_str(&text[copied..range.start]);
        out.push_str(REDACTED);
        copied = range.end;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some((out, count))
}
