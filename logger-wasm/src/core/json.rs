//! JSON text writing: numbers, strings and their limits.
//!
//! The logger builds its wire JSON by hand instead of with serde_json: serde_json alone would
//! spend most of the 20 KB gzip budget of the wasm package (TOOLCHAIN.md). The writer is tested
//! natively against serde_json's parser, so what it emits is always valid JSON.

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

/// Appends a duration in milliseconds with three decimals (microseconds), the precision
/// `performance.now()` gives; negative and NaN read as 0.
pub fn write_millis(out: &mut String, ms: f64) {
    // Saturating casts: NaN and negatives become 0. No float formatting needed.
    let micros = (ms * 1000.0 + 0.5) as u64;
    write_u64(out, micros / 1000);
    out.push('.');
    write_padded(out, micros % 1000, 3);
}

/// Reads a number in JSON's grammar (what JS `String(n)` gives for a finite `n`); `None` for
/// anything else, and for values beyond f64's range. Integers below 2^53 (timestamps, counts)
/// and decimals of up to 15 digits with small exponents come out exactly; others are off by a
/// few ulps, and magnitudes below ~1e-290 may read as 0, which settings do not notice. Stands in for `str::parse::<f64>`,
/// whose correctly rounded algorithm costs kilobytes of wasm. Application data never goes
/// through here: its numbers are copied as written.
pub fn parse_number(s: &str) -> Option<f64> {
    // One pass over the bytes: 0 sign, 1 integer digits, 2 fraction digits, 3 exponent sign,
    // 4 exponent digits. One loop rather than a helper per part: smaller in the module.
    let b = s.as_bytes();
    let negative = b.first() == Some(&b'-');
    // The value is mant * 10^(scale + exp) (exp negated when exp_negative).
    let (mut mant, mut scale, mut exp) = (0u64, 0i32, 0i32);
    let (mut part, mut exp_negative) = (1u8, false);
    // Digits seen in the current part, and the first integer digit.
    let (mut seen, mut lead) = (0u32, 0u8);
    for &c in b.iter().skip(usize::from(negative)) {
        match (part, c) {
            (1 | 2 | 4, b'0'..=b'9') => {
                let d = c - b'0';
                if part == 1 && seen == 0 {
                    lead = c;
                } else if part == 1 && lead == b'0' {
                    return None; // a leading zero
                }
                seen += 1;
                if part == 4 {
                    exp = exp.saturating_mul(10).saturating_add(i32::from(d));
                } else if mant < 100_000_000_000_000_000 {
                    mant = mant * 10 + u64::from(d);
                    scale -= i32::from(part == 2);
                } else {
                    // Past 17 digits only the magnitude still matters.
                    scale += i32::from(part == 1);
                }
            }
            (1, b'.') if seen > 0 => (part, seen) = (2, 0),
            (1 | 2, b'e' | b'E') if seen > 0 => (part, seen) = (3, 0),
            (3, b'+' | b'-') => (part, exp_negative) = (4, c == b'-'),
            (3, b'0'..=b'9') => {
                (part, seen) = (4, 1);
                exp = i32::from(c - b'0');
            }
            _ => return None,
        }
    }
    if seen == 0 || part == 3 {
        return None;
    }
    let scale = scale.saturating_add(if exp_negative { -exp } else { exp });
    // 10^k is exact up to k = 22, so one division or product rounds once for usual values.
    let v = if scale < 0 {
        mant as f64 / 10f64.powi(scale.saturating_neg())
    } else {
        mant as f64 * 10f64.powi(scale)
    };
    let v = if negative { -v } else { v };
    v.is_finite().then_some(v)
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
        fn numbers_read_like_std(
            n in any::<f64>().prop_filter("finite, not tiny", |n| n.is_finite() && (*n == 0.0 || n.abs() > 1e-290)),
            i in any::<i64>(),
            e in -30i32..30,
        ) {
            // Plain and with an exponent, as JS and Rust print numbers.
            for text in [format!("{n}"), format!("{n:e}"), format!("{i}"), format!("{i}e{e}")] {
                let std: f64 = text.parse().expect("std reads it");
                let ours = parse_number(&text).expect("a JSON number");
                prop_assert!(ours == std || ((ours - std) / std).abs() < 1e-14, "{} read as {}", text, ours);
            }
        }

        #[test]
        fn millis_keep_microseconds(us in 0u64..1u64 << 50) {
            let mut out = String::new();
            write_millis(&mut out, us as f64 / 1000.0);
            let back: f64 = out.parse().expect("a number");
            prop_assert!((back * 1000.0 - us as f64).abs() < 1.0, "{}", out);
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
    fn only_json_numbers_are_read() {
        for ok in [
            "0",
            "-0",
            "12",
            "1.5",
            "-1.5e-7",
            "1e+21",
            "2E3",
            "1732600000000",
        ] {
            assert!(parse_number(ok).is_some(), "{ok}");
        }
        assert_eq!(parse_number("1732600000000"), Some(1_732_600_000_000.0));
        assert_eq!(parse_number("0.25"), Some(0.25));
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "1e+", "+1", "NaN", "Infinity", "1e999", "1 ", "0x10",
            "1.5.2",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut out = String::new();
        write_str(&mut out, "a\u{1}\"\\\n");
        assert_eq!(out, r#""a\u0001\"\\\n""#);
    }
}
