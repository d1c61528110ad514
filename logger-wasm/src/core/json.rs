//! JSON text writing: numbers, strings and their limits.
//!
//! The logger builds its wire JSON by hand instead of with serde_json: serde_json alone would
//! spend most of the 20 KB gzip budget of the wasm package (TOOLCHAIN.md). The writer is tested
//! natively against serde_json's parser, so what it emits is always valid JSON.

/// Writes a whole number; anything else becomes `null` (so does what JSON cannot carry).
///
/// The module prints integers only: counts, statuses, and application numbers the entry passes
/// as they are (safe integers). Every other number arrives printed by the browser (`d` in
/// [`super::encoded`]) and is copied: float printing here, Rust's or by hand, would cost a
/// good part of the module's size budget and print worse than the browser's own.
pub fn write_number(out: &mut String, n: f64) {
    let v = n.abs();
    if !(v == v.trunc() && v < 18_446_744_073_709_551_616.0) {
        out.push_str("null");
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    write_u64(out, v as u64);
}

/// Appends the decimal digits of `v`.
pub fn write_u64(out: &mut String, mut v: u64) {
    // u64::MAX has 20 digits. Filled from the end through iter_mut: no index, no bounds check.
    let mut buf = [0u8; 20];
    let mut used = 0;
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        used += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for b in buf.iter().skip(buf.len() - used) {
        out.push(char::from(*b));
    }
}

/// Appends `v` in decimal, zero-padded on the left to at least `width` digits. (By hand, like
/// [`write_u64`]: `{:0w}` formatting links `core::fmt`'s padding machinery into the module.)
pub fn write_padded(out: &mut String, v: u64, width: usize) {
    let mut digits = 1;
    let mut rest = v / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    for _ in digits..width {
        out.push('0');
    }
    write_u64(out, v);
}

/// Reads a plain decimal number (ASCII digits only, no sign); `None` when empty, malformed or
/// beyond `u64`. Stands in for `str::parse`, whose generic error paths cost wasm bytes.
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        let d = b.checked_sub(b'0').filter(|d| *d < 10)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Writes `s` as a JSON string literal with the escapes RFC 8259 requires.
pub fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().copied().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        // Escapes are ASCII, so these ranges always fall on character boundaries.
        out.push_str(s.get(start..i).unwrap_or(""));
        match escape {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

/// Writes `s` as a JSON string literal whose escaped content stays within `max_bytes`
/// (plus the quotes); a cut is marked with `…`. Bounding the *escaped* size matters: a string
/// of control characters grows sixfold when escaped, and every entry must fit one beacon.
pub fn write_str_limited(out: &mut String, s: &str, max_bytes: usize) {
    let start = out.len();
    write_str(out, s);
    if out.len() - start <= max_bytes + 2 {
        return;
    }
    cut_back(out, start);
    out.push('"');
    let mut used = 0;
    let mut buf = String::new();
    let mut tmp = [0u8; 4];
    for c in s.chars() {
        buf.clear();
        write_str(&mut buf, c.encode_utf8(&mut tmp));
        let piece = buf.get(1..buf.len() - 1).unwrap_or("");
        if used + piece.len() + '…'.len_utf8() > max_bytes {
            break;
        }
        used += piece.len();
        out.push_str(piece);
    }
    out.push_str("…\"");
}

/// Cuts `out` back to `len`, a character boundary (a length it had before). `String::truncate`
/// would assert the boundary and link its panic path (message and location) into the module;
/// `get` checks it without one. Only on rare paths (an oversized or malformed value), so the
/// copy does not matter.
pub fn cut_back(out: &mut String, len: usize) {
    if let Some(head) = out.get(..len) {
        *out = head.to_owned();
    }
}

/// Cuts `s` to at most `max_bytes` bytes on a character boundary, marking the cut with `…`.
pub fn truncate(s: &mut String, max_bytes: usize) {
    if s.len() <= max_bytes {
        return;
    }
    let mut cut = max_bytes.saturating_sub('…'.len_utf8());
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut_back(s, cut);
    s.push('…');
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn numbers_parse_back(n in any::<f64>(), i in any::<i64>()) {
            for n in [n, i as f64, n.trunc()] {
                let mut out = String::new();
                write_number(&mut out, n);
                let back: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
                let v = n.abs();
                if v == v.trunc() && v < 2f64.powi(64) {
                    // Whole numbers print exactly.
                    prop_assert_eq!(back.as_f64(), Some(n), "{}", out);
                } else {
                    prop_assert!(back.is_null(), "{} for {}", out, n);
                }
            }
        }

        #[test]
        fn strings_parse_back(s in ".*") {
            let mut out = String::new();
            write_str(&mut out, &s);
            let back: String = serde_json::from_str(&out).expect("valid JSON string");
            prop_assert_eq!(back, s);
        }

        #[test]
        fn truncate_keeps_a_valid_prefix(s in ".*", max in 0usize..64) {
            let mut t = s.clone();
            truncate(&mut t, max.max(4));
            prop_assert!(t.len() <= max.max(4) || t == s);
        }
    }

    proptest! {
        #[test]
        fn limited_strings_stay_within_bounds(s in ".*", max in 8usize..200) {
            let mut out = String::new();
            write_str_limited(&mut out, &s, max);
            prop_assert!(out.len() <= max + 2, "{} > {}", out.len(), max + 2);
            let back: String = serde_json::from_str(&out).expect("valid JSON string");
            if back != s {
                prop_assert!(back.ends_with('…'));
                let prefix = back.trim_end_matches('…');
                prop_assert!(s.starts_with(prefix));
            }
        }
    }

    #[test]
    fn numbers_print_as_expected() {
        let cases: [(f64, &str); 8] = [
            (812.0, "812"),
            (-3.0, "-3"),
            (-0.0, "0"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (1e19, "10000000000000000000"),
            (12.5, "null"),
            (1e300, "null"),
            (f64::NAN, "null"),
        ];
        for (n, want) in cases {
            let mut out = String::new();
            write_number(&mut out, n);
            assert_eq!(out, want, "{n}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut out = String::new();
        write_str(&mut out, "a\u{1}\"\\\n");
        assert_eq!(out, r#""a\u0001\"\\\n""#);
    }
}
