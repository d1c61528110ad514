//! A minimal JSON value and writer.
//!
//! The logger builds its wire JSON by hand instead of with serde_json: serde_json alone would
//! spend most of the 20 KB gzip budget of the wasm package (TOOLCHAIN.md). The writer is tested
//! natively against serde_json's parser, so what it emits is always valid JSON.

use std::fmt::Write as _;

/// Deepest nesting kept from application data; deeper values become `"[depth limit]"`.
/// Bounds the work and the size of one entry even for cyclic or huge JS objects.
pub const MAX_DEPTH: usize = 8;

/// A JSON value as the logger receives it from the application (fields, context, details).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null` (also what `undefined`, functions and non-finite numbers become).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A finite number.
    Num(f64),
    /// A string (always valid UTF-8; the glue replaced lone surrogates).
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, keeping the application's key order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Appends the compact JSON text of `self` to `out`.
    pub fn write_to(&self, out: &mut String) {
        self.write_depth(out, 0);
    }

    fn write_depth(&self, out: &mut String, depth: usize) {
        if depth > MAX_DEPTH {
            out.push_str("\"[depth limit]\"");
            return;
        }
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => write_number(out, *n),
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_depth(out, depth + 1);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write_depth(out, depth + 1);
                }
                out.push('}');
            }
        }
    }

    /// The compact JSON text of `self`.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }
}

/// Writes a number; non-finite values (which JSON cannot carry) become `null`.
pub fn write_number(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
    } else if n == n.trunc() && n.abs() < 9.0e15 {
        // Integral values print without a fraction, like JavaScript does.
        let _ = write!(out, "{}", n as i64);
    } else if n.abs() >= 1e21 || n.abs() < 1e-6 {
        // Exponent form, as JavaScript prints these: plain form would take hundreds of digits.
        let _ = write!(out, "{n:e}");
    } else {
        let _ = write!(out, "{n}");
    }
}

/// Writes `s` as a JSON string literal with the escapes RFC 8259 requires.
pub fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
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
    out.truncate(start);
    out.push('"');
    let mut used = 0;
    let mut buf = String::new();
    let mut tmp = [0u8; 4];
    for c in s.chars() {
        buf.clear();
        write_str(&mut buf, c.encode_utf8(&mut tmp));
        let piece = &buf[1..buf.len() - 1];
        if used + piece.len() + '…'.len_utf8() > max_bytes {
            break;
        }
        used += piece.len();
        out.push_str(piece);
    }
    out.push_str("…\"");
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
    s.truncate(cut);
    s.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<f64>().prop_map(Json::Num),
            any::<i32>().prop_map(|n| Json::Num(n.into())),
            ".*".prop_map(Json::Str),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Arr),
                prop::collection::vec((".*", inner), 0..6).prop_map(Json::Obj),
            ]
        })
    }

    /// What serde_json should read back from our text.
    fn expected(v: &Json) -> serde_json::Value {
        match v {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => (*b).into(),
            Json::Num(n) if !n.is_finite() => serde_json::Value::Null,
            Json::Num(n) => serde_json::Value::from(*n),
            Json::Str(s) => s.clone().into(),
            Json::Arr(a) => a.iter().map(expected).collect(),
            Json::Obj(o) => {
                let mut map = serde_json::Map::new();
                for (k, v) in o {
                    map.insert(k.clone(), expected(v));
                }
                serde_json::Value::Object(map)
            }
        }
    }

    fn numbers_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        match (a, b) {
            (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
                match (x.as_f64(), y.as_f64()) {
                    // serde_json's default float parser may be one ulp off.
                    (Some(a), Some(b)) => a == b || ((a - b) / b).abs() < 1e-15,
                    _ => false,
                }
            }
            (serde_json::Value::Array(x), serde_json::Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| numbers_equal(a, b))
            }
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| numbers_equal(v, w)))
            }
            _ => a == b,
        }
    }

    proptest! {
        #[test]
        fn writer_output_parses_back(v in arb_json()) {
            let text = v.to_json_string();
            let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            prop_assert!(numbers_equal(&parsed, &expected(&v)), "{} vs {:?}", text, v);
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
    fn control_characters_are_escaped() {
        let mut out = String::new();
        write_str(&mut out, "a\u{1}\"\\\n");
        assert_eq!(out, r#""a\u0001\"\\\n""#);
    }
}
