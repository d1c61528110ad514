//! Client-side redaction (seed property 8): sensitive keys at any depth, card numbers inside
//! strings (the collector's own scanner, [`redact_card_numbers`]) and card numbers sent as
//! numbers ([`is_card_number_text`]); none of it needs regex or serde_json.
//!
//! The rules are the ones `tracewire_shared::redact::Redactor` applies on the collector: key
//! names are compared case-insensitively, ignoring `-` and `_`, as substrings of the default
//! list [`DEFAULT_SENSITIVE_KEYS`] plus the configured `redactKeys`, or as the whole key for
//! [`DEFAULT_SENSITIVE_EXACT_KEYS`]. The shared `Redactor` works on `serde_json::Value` and
//! compiles regexes; linking either into the wasm module would spend most of the size budget,
//! so the logger applies the same rules while it writes application data into an entry
//! ([`super::encoded::Encoded::write_json`]). A native test checks both agree
//! (`tests/redaction.rs`).
//!
//! Not here: the collector's free-text scanners (IBANs, PEM keys, URL credentials, bearer
//! tokens, SSNs, `key=value` pairs, emails) and the operator's patterns. The module is held to
//! 20,000 B gzip with its loader glue and was 19,802 B before this rule set; the key and
//! number rules alone brought it to 19,999 B, and the scanners are several times that. The
//! collector applies them to every stored field, so it is the guarantee: messages, stack
//! traces and paths leave the browser as written and are redacted before anything is stored.

pub use tracewire_shared::redact::{
    DEFAULT_SENSITIVE_EXACT_KEYS, DEFAULT_SENSITIVE_KEYS, REDACTED, is_card_number_text,
    redact_card_numbers,
};

/// Decides which keys and values are hidden before anything is stored or sent.
#[derive(Debug, Clone)]
pub struct KeyRedactor {
    /// Normalized (lowercase, no `-`/`_`) key-name substrings; one ending in `$` is instead a
    /// name the whole key must equal ([`DEFAULT_SENSITIVE_EXACT_KEYS`]). One list, one loop:
    /// a second list costs module bytes.
    needles: Vec<Vec<u8>>,
}

/// ASCII lowercasing only: Unicode case tables would cost ~10 KB of wasm, and every sensitive
/// name is ASCII. Bytes rather than chars: no UTF-8 decoding, and matching is bytewise anyway.
/// Plain loops here and below: iterator adapters and `collect` link more wasm for the same work.
fn normalize(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 2);
    out.push(EDGE);
    for c in key.bytes() {
        if c != b'-' && c != b'_' {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.push(EDGE);
    out
}

/// Marks both ends of a normalized key, so a name that must equal the whole key is found by
/// the same substring search as the others (`\x01auth\x01`): no second rule in the module.
const EDGE: u8 = 1;

impl KeyRedactor {
    /// The default names plus `extra_keys` (key-name substrings).
    pub fn new(extra_keys: &[String]) -> Self {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        // Duplicates are harmless (an extra comparison) and skipping them costs module bytes.
        let mut add = |k: &str| {
            let k = normalize(k);
            // Without its edges: a substring anywhere in the key.
            if let Some(inner) = k.get(1..k.len() - 1).filter(|k| !k.is_empty()) {
                needles.push(inner.to_vec());
            }
        };
        for k in DEFAULT_SENSITIVE_KEYS {
            add(k);
        }
        for k in extra_keys {
            add(k);
        }
        for k in DEFAULT_SENSITIVE_EXACT_KEYS {
            needles.push(normalize(k));
        }
        Self { needles }
    }

    /// True when a value under this key must be hidden.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        // Runs for every key of every entry: short keys are normalized on the stack.
        let mut buf = [EDGE; 66];
        let heap;
        let key = if key.len() <= 64 {
            let mut n = 1;
            for c in key.bytes() {
                if c != b'-' && c != b'_' {
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = c.to_ascii_lowercase();
                    }
                    n += 1;
                }
            }
            buf.get(..=n).unwrap_or(&[])
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
            "private_key",
            "Auth",
            "credentials",
        ] {
            assert!(r.is_sensitive_key(k), "{k}");
        }
        for k in ["user", "items", "path", "author", "session_count"] {
            assert!(!r.is_sensitive_key(k), "{k}");
        }
    }
}
