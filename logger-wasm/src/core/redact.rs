//! Client-side redaction of sensitive keys and card numbers (seed property 8); card numbers
//! inside longer strings are found with the collector's own scanner
//! ([`redact_card_numbers`]), which needs neither regex nor serde_json.
//!
//! The rule is the one `tracewire_shared::redact::Redactor` applies on the collector: key names
//! are compared case-insensitively, ignoring `-` and `_`, as substrings of the default list
//! [`DEFAULT_SENSITIVE_KEYS`] plus the configured `redactKeys`. The shared `Redactor` works on
//! `serde_json::Value` and compiles regexes; linking either into the wasm module would spend
//! most of the size budget, so the logger applies the same rule while it writes application
//! data into an entry ([`super::encoded::Encoded::write_json`]).
//! A native test checks both agree (`tests/redaction.rs`).

pub use tracewire_shared::redact::{DEFAULT_SENSITIVE_KEYS, REDACTED, redact_card_numbers};

/// Decides which keys and values are hidden before anything is stored or sent.
#[derive(Debug, Clone)]
pub struct KeyRedactor {
    /// Normalized (lowercase, no `-`/`_`) key-name substrings.
    needles: Vec<Vec<u8>>,
}

/// ASCII lowercasing only: Unicode case tables would cost ~10 KB of wasm, and every sensitive
/// name is ASCII. Bytes rather than chars: no UTF-8 decoding, and matching is bytewise anyway.
/// Plain loops here and below: iterator adapters and `collect` link more wasm for the same work.
fn normalize(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len());
    for c in key.bytes() {
        if c != b'-' && c != b'_' {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl KeyRedactor {
    /// The default names plus `extra_keys` (key-name substrings).
    pub fn new(extra_keys: &[String]) -> Self {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        let mut add = |k: &str| {
            let k = normalize(k);
            if !k.is_empty() && !needles.contains(&k) {
                needles.push(k);
            }
        };
        for k in DEFAULT_SENSITIVE_KEYS {
            add(k);
        }
        for k in extra_keys {
            add(k);
        }
        Self { needles }
    }

    /// True when a value under this key must be hidden.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        // Runs for every key of every entry: short keys are normalized on the stack.
        let mut buf = [0u8; 64];
        let heap;
        let key = if key.len() <= buf.len() {
            let mut n = 0;
            for c in key.bytes() {
                if c != b'-' && c != b'_' {
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = c.to_ascii_lowercase();
                    }
                    n += 1;
                }
            }
            buf.get(..n).unwrap_or(&[])
        } else {
            heap = normalize(key);
            heap.as_slice()
        };
        // Byte windows rather than str::contains: same result for these ASCII-lowercased
        // needles, and no string-slicing panic paths in the wasm module.
        self.needles.iter().any(|n| {
            !n.is_empty() && n.len() <= key.len() && key.windows(n.len()).any(|w| w == n.as_slice())
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn keys_match_case_and_separator_insensitively() {
        let r = KeyRedactor::new(&["session-id".to_owned()]);
        for k in [
            "password",
            "X-API-Key",
            "apiKey",
            "Authorization",
            "csrf_token",
            "SESSIONID",
        ] {
            assert!(r.is_sensitive_key(k), "{k}");
        }
        for k in ["user", "items", "path"] {
            assert!(!r.is_sensitive_key(k), "{k}");
        }
    }
}
