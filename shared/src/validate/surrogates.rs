//! Repair of string escapes the collector cannot keep, in raw JSON bodies: lone UTF-16
//! surrogates (`"\ud800"`) and NUL (`"\u0000"`).
//!
//! `JSON.stringify` escapes a lone surrogate instead of failing, so browsers do send them, and
//! serde_json refuses them. Replacing the six bytes of such an escape by `\ufffd` (also six
//! bytes) makes the body parse with U+FFFD where the broken character was, which is what a
//! UTF-8 decoder would have produced.
//!
//! NUL is valid JSON, but PostgreSQL can store it neither in `text` nor in `jsonb`: a batch
//! carrying one would fail at commit on PostgreSQL only, and a retry could never succeed. A NUL
//! can only reach a JSON string as the escape `\u0000` (raw control characters are invalid
//! JSON), so the same six-byte swap turns it into U+FFFD before parsing, on both backends alike.

use std::borrow::Cow;

/// The escape every lone surrogate becomes.
const REPLACEMENT: &[u8; 6] = b"\\ufffd";

/// See [`crate::validate::replace_lone_surrogate_escapes`].
pub(super) fn replace(json: &[u8]) -> Cow<'_, [u8]> {
    if !may_need_repair(json) {
        return Cow::Borrowed(json);
    }
    // Copied on the first replacement only; every replacement has the input's length.
    let mut repaired: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut i = 0;
    while let Some(&byte) = json.get(i) {
        if !in_string {
            in_string = byte == b'"';
            i += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                i += 1;
            }
            // An escape: `\\` and `\"` are two bytes, so the `u` of `\\u` is never seen as one.
            b'\\' if json.get(i + 1) == Some(&b'u') => match code_unit(json, i) {
                Some(0xD800..=0xDBFF)
                    if matches!(code_unit(json, i + 6), Some(0xDC00..=0xDFFF)) =>
                {
                    i += 12;
                }
                Some(0x0000 | 0xD800..=0xDFFF) => {
                    let out = repaired.get_or_insert_with(|| json.to_vec());
                    if let Some(slot) = out.get_mut(i..i + 6) {
                        slot.copy_from_slice(REPLACEMENT);
                    }
                    i += 6;
                }
                Some(_) => i += 6,
                // Not four hex digits: invalid JSON that serde_json will report.
                None => i += 2,
            },
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    match repaired {
        Some(bytes) => Cow::Owned(bytes),
        None => Cow::Borrowed(json),
    }
}

/// True when some `\u` is followed by `d` or `D` (the first digit of every surrogate) or by
/// `0000`. Most bodies have neither, and then the string-aware scan is skipped.
fn may_need_repair(json: &[u8]) -> bool {
    json.windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && ((w[2] | 0x20) == b'd' || w[2..] == *b"0000"))
}

/// The code unit of a `\uXXXX` escape starting at `at`, if the six bytes there are one.
fn code_unit(json: &[u8], at: usize) -> Option<u16> {
    let escape = json.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let mut unit = 0u16;
    for &digit in &escape[2..] {
        let value = (digit as char).to_digit(16)?;
        unit = (unit << 4) | value as u16;
    }
    Some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(json: &[u8]) -> String {
        serde_json::from_slice(&replace(json)).expect("repaired JSON parses")
    }

    #[test]
    fn lone_high_and_low_surrogates_become_replacement_characters() {
        assert!(serde_json::from_slice::<String>(br#""a\ud800b""#).is_err());
        assert_eq!(parse(br#""a\ud800b""#), "a\u{fffd}b");
        assert_eq!(parse(br#""a\uDC00b""#), "a\u{fffd}b");
        assert_eq!(parse(br#""\ud800\ud800""#), "\u{fffd}\u{fffd}");
        assert_eq!(parse(br#""\udc00\ud800""#), "\u{fffd}\u{fffd}");
        assert_eq!(parse(br#""\ud800""#), "\u{fffd}");
        assert_eq!(parse(br#""\ud800\n""#), "\u{fffd}\n");
        assert_eq!(parse(br#""\ud800\u0041""#), "\u{fffd}A");
    }

    #[test]
    fn valid_pairs_and_other_escapes_are_untouched() {
        let emoji = br#"{"m":"smile \ud83d\ude00 \u00e9 \\ud800"}"#;
        assert!(matches!(replace(emoji), Cow::Borrowed(_)));
        let value: serde_json::Value = serde_json::from_slice(emoji).unwrap();
        assert_eq!(value["m"], "smile \u{1f600} \u{e9} \\ud800");
    }

    #[test]
    fn escaped_backslash_followed_by_u_is_not_an_escape() {
        let body = br#"["\\ud800", "\\\ud800"]"#;
        let repaired = replace(body);
        let value: Vec<String> = serde_json::from_slice(&repaired).unwrap();
        assert_eq!(value, ["\\ud800", "\\\u{fffd}"]);
    }

    #[test]
    fn keys_are_repaired_too_and_truncated_escapes_do_not_panic() {
        let value: serde_json::Value =
            serde_json::from_slice(&replace(br#"{"\ud800":1}"#)).unwrap();
        assert_eq!(value["\u{fffd}"], 1);
        for truncated in [
            &b"\"\\ud8"[..],
            b"\"\\ud800\\u",
            b"\"\\ud800\\udc",
            b"\\",
            b"\"\\",
        ] {
            let _ = replace(truncated);
        }
    }

    #[test]
    fn nul_escapes_become_replacement_characters() {
        assert_eq!(parse(br#""a\u0000b""#), "a\u{fffd}b");
        assert_eq!(parse(br#""\u0000""#), "\u{fffd}");
        let value: serde_json::Value =
            serde_json::from_slice(&replace(br#"{"k\u0000":["\u0000",1]}"#)).unwrap();
        assert_eq!(value["k\u{fffd}"][0], "\u{fffd}");
        // Text that merely spells the escape is kept.
        assert_eq!(parse(br#""\\u0000""#), "\\u0000");
        assert!(matches!(replace(br#""\u00e9 \u0001""#), Cow::Borrowed(_)));
    }

    proptest! {
        /// Whatever strings a client serializes, none parses back with a NUL in it.
        #[test]
        fn no_string_keeps_a_nul(s in any::<String>(), nuls in 0usize..3) {
            let s = format!("{}{s}", "\0".repeat(nuls));
            let json = serde_json::to_vec(&serde_json::json!({ s.clone(): [s.clone()] })).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&replace(&json)).unwrap();
            let expected = s.replace('\0', "\u{fffd}");
            prop_assert_eq!(&value[&expected][0], &serde_json::Value::String(expected.clone()));
        }

        #[test]
        fn serialized_strings_are_borrowed_unchanged(s in any::<String>()) {
            let s = s.replace('\0', "");
            let json = serde_json::to_vec(&s).unwrap();
            let repaired = replace(&json);
            prop_assert!(matches!(repaired, Cow::Borrowed(_)));
            prop_assert_eq!(&*repaired, &json[..]);
        }

        /// Any sequence of UTF-16 code units, written as `\u` escapes the way `JSON.stringify`
        /// does, parses after repair to what a lossy UTF-16 decoder gives.
        #[test]
        fn arbitrary_utf16_parses_like_lossy_decoding(units in prop::collection::vec(
            prop_oneof![0xD7F0u16..=0xE010, any::<u16>()], 0..12))
        {
            let mut json = String::from("\"");
            for unit in &units {
                json.push_str(&format!("\\u{unit:04x}"));
            }
            json.push('"');
            let parsed: String = serde_json::from_slice(&replace(json.as_bytes())).unwrap();
            let expected = String::from_utf16_lossy(&units).replace('\0', "\u{fffd}");
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(
            prop_oneof![Just(b'\\'), Just(b'u'), Just(b'd'), Just(b'8'), Just(b'"'), any::<u8>()], 0..40))
        {
            let repaired = replace(&bytes);
            prop_assert_eq!(repaired.len(), bytes.len());
        }
    }
}
