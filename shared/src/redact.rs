//! Redaction of sensitive values, applied by the browser logger before sending and again by the
//! collector before storing (seed property 8).
//!
//! Three rules, applied at any depth of a JSON value:
//! - a key whose normalized name contains a sensitive name has its whole value replaced;
//! - payment card numbers inside string values are replaced (hand-written scanner in `cards`);
//! - configured regexes replace their matches inside string values.
//!
//! Redaction is idempotent: the [`REDACTED`] marker is never redacted or counted again, so the
//! collector can redact what the browser logger already redacted and count only what is new.

mod cards;
#[cfg(test)]
mod tests;

use regex::Regex;
use serde_json::Value;
use std::ops::Range;

/// What every redacted value becomes.
pub const REDACTED: &str = "***REDACTED***";

/// Key names redacted by default (matched case-insensitively, ignoring `-` and `_`, as substrings).
pub const DEFAULT_SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "token",
    "secret",
    "api_key",
    "authorization",
    "cookie",
];

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
    /// Compiled value patterns, applied to every string value in configuration order.
    patterns: Vec<Regex>,
}

impl Default for Redactor {
    /// The default names and no value patterns.
    fn default() -> Self {
        Self {
            names: DEFAULT_SENSITIVE_KEYS
                .iter()
                .map(|name| normalize_key(name))
                .collect(),
            patterns: Vec::new(),
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

    /// True when a value under this key must be hidden.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        let key = normalize_key(key);
        self.names.iter().any(|name| key.contains(name.as_str()))
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
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
    }

    /// Redacts card numbers and pattern matches inside one string; returns how many were
    /// replaced. Useful for free text outside JSON values, such as log messages.
    pub fn redact_str(&self, text: &mut String) -> usize {
        let mut count = 0;
        if let Some((redacted, found)) = cards::redact(text) {
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
