//! Redaction of sensitive values, applied by the browser logger before sending and again by the
//! collector before storing (seed property 8).

use serde_json::Value;

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
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    _private: (),
}

impl Redactor {
    /// The default names plus `extra_keys` (key-name substrings) and `value_patterns`
    /// (regexes; any match inside a string value is replaced).
    pub fn new(extra_keys: &[String], value_patterns: &[String]) -> Result<Self, RedactError> {
        let _ = (extra_keys, value_patterns);
        todo!("implemented in the shared-crate work")
    }

    /// True when a value under this key must be hidden.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        let _ = key;
        todo!("implemented in the shared-crate work")
    }

    /// Redacts in place at any depth; returns how many values were replaced.
    pub fn redact_value(&self, value: &mut Value) -> usize {
        let _ = value;
        todo!("implemented in the shared-crate work")
    }
}
