//! Bounds on the free-form JSON fields (`request_data`, `extra_data`, `exception_details`,
//! `context_data`, `tags`).
//!
//! An oversized field is truncated, not refused: a batch is atomic, so refusing would throw away
//! every other entry of the batch with it, and the browser logger drops a batch answered 422
//! (retrying cannot fix it). The entry is kept with the start of the field's JSON as a string and
//! a marker saying it was cut, as Sentry trims oversized event data instead of dropping events.

use serde_json::Value;
use std::io::Write;

/// Appended to the kept start of a truncated field.
pub const TRUNCATED_MARKER: &str = "…[truncated]";

/// Counts serialized JSON and refuses past `max` bytes: the size check every field takes on the
/// ingest path, with no allocation and an early stop on huge values.
struct Counted {
    len: usize,
    max: usize,
}

impl Write for Counted {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.len += bytes.len();
        if self.len > self.max {
            return Err(std::io::Error::other("over the field limit"));
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Collects serialized JSON until `max` bytes, then refuses more: the start of a field that is
/// over the limit, kept as its preview.
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + bytes.len() > self.max {
            let room = self.max - self.buf.len();
            self.buf.extend_from_slice(&bytes[..room]);
            return Err(std::io::Error::other("over the field limit"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The value itself when its JSON is at most `max` bytes; otherwise a string of at most `max`
/// bytes: the start of its JSON (cut at a character boundary) and [`TRUNCATED_MARKER`].
/// Returns whether it truncated.
pub(super) fn bound(value: &mut Value, max: usize) -> bool {
    if serde_json::to_writer(Counted { len: 0, max }, value).is_ok() {
        return false;
    }
    let mut out = Capped {
        buf: Vec::with_capacity(max),
        max,
    };
    // Fails by design once `max` bytes are kept.
    let _ = serde_json::to_writer(&mut out, value);
    let keep = max.saturating_sub(TRUNCATED_MARKER.len());
    out.buf.truncate(keep);
    let text = match std::str::from_utf8(&out.buf) {
        Ok(text) => text,
        // serde_json writes UTF-8, so only the cut can split a character: keep what precedes it.
        Err(e) => std::str::from_utf8(&out.buf[..e.valid_up_to()]).unwrap_or_default(),
    };
    *value = Value::String(format!("{text}{TRUNCATED_MARKER}"));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn small_values_are_untouched_and_large_ones_cut_with_a_marker() {
        let mut small = json!({"items": [1, 2, 3], "note": "é"});
        let before = small.clone();
        assert!(!bound(&mut small, 64));
        assert_eq!(small, before);

        let mut big = json!({"items": vec![1; 1000]});
        assert!(bound(&mut big, 100));
        let text = big.as_str().expect("a string");
        assert!(text.starts_with(r#"{"items":[1,1,1"#));
        assert!(text.ends_with(TRUNCATED_MARKER));
        assert!(text.len() <= 100);
    }

    proptest! {
        /// Whatever the value, the stored field serializes within the limit plus the quotes
        /// and escapes of a string, keeps a value that fits unchanged, and never splits a
        /// character.
        #[test]
        fn bounded_fields_fit(text in "\\PC{0,80}", n in 0usize..40, max in 16usize..120) {
            let original = json!({"t": text, "n": vec![n; n]});
            let mut value = original.clone();
            let cut = bound(&mut value, max);
            let size = serde_json::to_vec(&original).unwrap().len();
            prop_assert_eq!(cut, size > max);
            if cut {
                let s = value.as_str().unwrap();
                prop_assert!(s.len() <= max);
                prop_assert!(s.ends_with(TRUNCATED_MARKER));
            } else {
                prop_assert_eq!(value, original);
            }
        }
    }
}
