//! The compact text the JS entry encodes calls and `init()` options into, and its reader.
//!
//! Walking JS objects from Rust costs one wasm-bindgen import (and its JS shim) per kind of
//! access; instead the entry encodes each call (and the options) into one string plus the
//! numbers it refers to (`js/encode.js` `encode`), one value after another:
//!
//! | text | value |
//! |---|---|
//! | `z` / `t` / `f` | null / true / false |
//! | `n` | the next number of the numbers array: a safe integer, NaN or ±Infinity (written as JSON, any other value is `null`) |
//! | `d` *len* `:` *text* | any other number: the browser's own printing of it (`String(n)`, a JSON number), then the next number of the numbers array |
//! | `s` *len* `:` *text* | a string of *len* UTF-16 code units |
//! | `a` *values* `]` | an array |
//! | `o` (*len* `:` *key* *value*)\* `}` | an object, keys encoded like strings without the `s` |
//!
//! Lengths count UTF-16 units because that is what JS knows; the string crossed into wasm
//! through `TextEncoder`, which turned each lone surrogate (one unit) into U+FFFD (one unit), so
//! the counts still match. Anything malformed ends the chunk: the values before it are kept,
//! and nothing panics.
//!
//! Nothing is decoded into a tree: values are read in place ([`Encoded`]), and application
//! data is written from this text straight into the entry's JSON, redacted on the way. That is
//! the whole per-entry cost in the module, so it stays one pass with no allocation per value.

use super::json::{cut_back, write_number, write_str};
use super::redact::{KeyRedactor, REDACTED, is_card_number_text, redact_card_numbers};

/// Deepest nesting kept from application data; deeper values become `"[depth limit]"`.
/// Bounds the work and the size of one entry even for cyclic or huge JS objects (the entry
/// already cuts there; this holds for any input).
pub const MAX_DEPTH: usize = 8;
/// Deepest nesting the decoder follows; deeper input is malformed.
const MAX_NESTING: usize = MAX_DEPTH + 4;
/// Most arguments of one call read (the longest call, an exception, has seven).
pub const MAX_ARGS: usize = 8;

/// One encoded value, not decoded: its text and the numbers its `n` tags use, in order.
///
/// Application data (fields, context, an exception's context) stays in this form until the
/// entry's JSON is written: it is written straight from the text, redacted on the way, so no
/// tree of it is ever built, cloned or dropped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encoded<'a> {
    /// The value's text (see the module docs).
    pub text: &'a str,
    /// The numbers of its `n` tags.
    pub nums: &'a [f64],
}

impl<'a> Encoded<'a> {
    /// `null`, also what a missing argument reads as.
    pub const NULL: Encoded<'static> = Encoded {
        text: "z",
        nums: &[],
    };

    /// A value from its text and numbers (tests and the glue build these).
    pub fn new(text: &'a str, nums: &'a [f64]) -> Self {
        Self { text, nums }
    }

    pub(crate) fn reader(self) -> Reader<'a> {
        Reader::new(self.text, self.nums)
    }

    /// True for `null` (and `undefined`, functions and symbols, which the entry encodes so).
    pub fn is_null(self) -> bool {
        self.text == "z"
    }

    /// The number, if this is one.
    pub fn num(self) -> Option<f64> {
        if let [b'n'] | [b'd', ..] = self.text.as_bytes() {
            self.nums.first().copied()
        } else {
            None
        }
    }

    /// The string, if this is one.
    pub fn str(self) -> Option<&'a str> {
        let mut r = self.reader();
        if r.tag()? == b's' { r.string() } else { None }
    }

    /// A non-empty string, owned.
    pub(crate) fn non_empty(self) -> Option<String> {
        self.str().filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// Appends the value as JSON to `out`, with sensitive keys and card numbers redacted
    /// (seed property 8); the top-level keys of an object are pushed onto `keys`. False (and
    /// `out` unspecified) when the text is malformed.
    pub fn write_json(
        self,
        out: &mut String,
        redactor: &KeyRedactor,
        keys: Option<&mut Vec<&'a str>>,
    ) -> bool {
        self.reader().write_value(out, redactor, 0, keys).is_some()
    }

    /// The text a message shows: a string as it is, anything else as its (redacted) JSON.
    pub fn text(self, redactor: &KeyRedactor) -> String {
        if let Some(s) = self.str() {
            return s.to_owned();
        }
        let mut out = String::new();
        self.write_json(&mut out, redactor, None);
        out
    }
}

/// Reads values from an encoded chunk.
pub struct Reader<'a> {
    /// The text not read yet.
    rest: &'a str,
    /// The numbers not used yet, consumed in order by `n`.
    nums: &'a [f64],
}

impl<'a> Reader<'a> {
    /// A reader over `text` and the `nums` its `n` tags refer to.
    pub fn new(text: &'a str, nums: &'a [f64]) -> Self {
        Self { rest: text, nums }
    }

    /// The next value, checked but not decoded; `None` at the end or on malformed input.
    pub fn value(&mut self) -> Option<Encoded<'a>> {
        let (text, nums) = (self.rest, self.nums);
        self.skip(0)?;
        Some(Encoded {
            text: text.get(..text.len() - self.rest.len())?,
            nums: nums.get(..nums.len() - self.nums.len())?,
        })
    }

    pub(crate) fn tag(&mut self) -> Option<u8> {
        let tag = *self.rest.as_bytes().first()?;
        self.rest = self.rest.get(1..)?;
        Some(tag)
    }

    fn num(&mut self) -> Option<f64> {
        let (n, rest) = self.nums.split_first()?;
        self.nums = rest;
        Some(*n)
    }

    /// Walks over one value.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_NESTING {
            return None;
        }
        match self.tag()? {
            b'z' | b't' | b'f' => {}
            b'n' => {
                self.num()?;
            }
            tag @ (b's' | b'd') => {
                self.string()?;
                if tag == b'd' {
                    self.num()?;
                }
            }
            b'a' => {
                while !self.eat(b']') {
                    self.skip(depth + 1)?;
                }
            }
            b'o' => {
                while !self.eat(b'}') {
                    self.string()?;
                    self.skip(depth + 1)?;
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// Writes one value as JSON (see [`Encoded::write_json`]).
    fn write_value(
        &mut self,
        out: &mut String,
        redactor: &KeyRedactor,
        depth: usize,
        mut keys: Option<&mut Vec<&'a str>>,
    ) -> Option<()> {
        let start = out.len();
        let close = match self.tag()? {
            b'z' => {
                out.push_str("null");
                return Some(());
            }
            b't' => {
                out.push_str("true");
                return Some(());
            }
            b'f' => {
                out.push_str("false");
                return Some(());
            }
            b'n' => {
                write_number(out, self.num()?);
                0
            }
            b'd' => {
                // Printed by the browser: JSON's number grammar. Only its characters pass, so
                // a malformed chunk cannot put structure into the entry.
                let s = self.string()?;
                self.num()?;
                let mut digit = false;
                for b in s.bytes() {
                    digit = b.is_ascii_digit();
                    if !digit && !matches!(b, b'+' | b'-' | b'.' | b'e' | b'E') {
                        return None;
                    }
                }
                if !digit {
                    return None;
                }
                out.push_str(s);
                0
            }
            b's' => {
                // Card numbers anywhere inside a string, with the collector's own scanner.
                let s = self.string()?;
                match redact_card_numbers(s) {
                    Some((redacted, _)) => write_str(out, &redacted),
                    None => write_str(out, s),
                }
                return Some(());
            }
            b'a' => {
                out.push('[');
                b']'
            }
            b'o' => {
                out.push('{');
                b'}'
            }
            _ => return None,
        };
        if close == 0 {
            // A number: a card number sent as one is judged on its printed digits, as the
            // collector judges the integer it reads (rare, so the copy does not matter).
            if out.get(start..).is_some_and(is_card_number_text) {
                cut_back(out, start);
                write_str(out, REDACTED);
            }
            return Some(());
        }
        let mut first = true;
        while !self.eat(close) {
            if !first {
                out.push(',');
            }
            first = false;
            let mut hidden = false;
            if close == b'}' {
                let key = self.string()?;
                if let Some(keys) = keys.as_deref_mut() {
                    keys.push(key);
                }
                write_str(out, key);
                out.push(':');
                hidden = redactor.is_sensitive_key(key);
            }
            if depth >= MAX_NESTING {
                return None;
            }
            if hidden || depth >= MAX_DEPTH {
                self.skip(depth + 1)?;
                write_str(out, if hidden { REDACTED } else { "[depth limit]" });
            } else {
                self.write_value(out, redactor, depth + 1, None)?;
            }
        }
        out.push(char::from(close));
        Some(())
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        let hit = self.rest.as_bytes().first() == Some(&b);
        if hit {
            self.rest = self.rest.get(1..).unwrap_or("");
        }
        hit
    }

    /// `len:text`, with `len` in UTF-16 code units.
    pub(crate) fn string(&mut self) -> Option<&'a str> {
        // The length and its colon in one pass: this runs for every string, twice. At most 15
        // digits, so the length cannot overflow (and no text is that long).
        let mut units: u64 = 0;
        let mut digits = 0;
        let text = loop {
            let b = *self.rest.as_bytes().get(digits)?;
            if b == b':' && digits > 0 {
                break self.rest.get(digits + 1..)?;
            }
            let d = b.checked_sub(b'0').filter(|d| *d < 10 && digits < 15)?;
            units = units * 10 + u64::from(d);
            digits += 1;
        };
        // ASCII text (the usual case) is one byte per unit.
        if let Some(s) = text.get(..usize::try_from(units).ok()?)
            && s.is_ascii()
        {
            self.rest = text.get(s.len()..)?;
            return Some(s);
        }
        // Walks UTF-8 lead bytes: a 4-byte character is two UTF-16 units, any other one.
        let bytes = text.as_bytes();
        let mut end = 0;
        while units > 0 {
            let lead = *bytes.get(end)?;
            let width = match lead {
                0..0x80 => 1,
                0xf0.. => 4,
                0xe0.. => 3,
                _ => 2,
            };
            units = units.checked_sub(if width == 4 { 2 } else { 1 })?;
            end += width;
        }
        let s = text.get(..end)?;
        self.rest = text.get(end..)?;
        Some(s)
    }

    /// The elements of the array that comes next (the first [`MAX_ARGS`]; missing ones read as
    /// null); `None` when the next value is not a well-formed array.
    pub(crate) fn args(&mut self) -> Option<[Encoded<'a>; MAX_ARGS]> {
        let mut args = [Encoded::NULL; MAX_ARGS];
        if self.tag()? != b'a' {
            return None;
        }
        let mut i = 0;
        while !self.eat(b']') {
            let v = self.value()?;
            if let Some(slot) = args.get_mut(i) {
                *slot = v;
            }
            i += 1;
        }
        Some(args)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::fixture::encode;
    use serde_json::json;

    /// The JSON each value of an encoded chunk writes (no sensitive keys involved).
    fn json_all(text: &str, nums: &[f64]) -> Vec<String> {
        let redactor = KeyRedactor::new(&[]);
        let mut r = Reader::new(text, nums);
        std::iter::from_fn(|| {
            let v = r.value()?;
            let mut out = String::new();
            assert!(v.write_json(&mut out, &redactor, None));
            Some(out)
        })
        .collect()
    }

    #[test]
    fn writes_every_kind_of_value() {
        // The format itself, hand-written: two members may share a key (JS objects cannot).
        let v = json_all("ad3:1.5s2:hiztfa]o1:kn1:kas0:]}]", &[1.5, -3.0]);
        assert_eq!(
            v,
            vec![r#"[1.5,"hi",null,true,false,[],{"k":-3,"k":[""]}]"#]
        );
    }

    #[test]
    fn printed_numbers_are_copied_and_still_read_as_numbers() {
        // What `String(n)` gives for numbers that are not safe integers.
        let v = json_all("ad3:0.1d6:1e+300d7:-1.5e-7]", &[0.1, 1e300, -1.5e-7]);
        assert_eq!(v, vec!["[0.1,1e+300,-1.5e-7]"]);
        let mut r = Reader::new("d3:0.5n", &[0.5, 7.0]);
        assert_eq!(r.value().and_then(Encoded::num), Some(0.5));
        assert_eq!(r.value().and_then(Encoded::num), Some(7.0));
        // Only number characters pass, ending in a digit, and the number must be there.
        let redactor = KeyRedactor::new(&[]);
        for (bad, nums) in [
            ("d3:1,2", &[1.0][..]),
            ("d2:1\"", &[1.0]),
            ("d2:1e", &[1.0]),
            ("d0:", &[1.0]),
            ("d1:1", &[]),
        ] {
            let mut out = String::new();
            assert!(
                !Encoded::new(bad, nums).write_json(&mut out, &redactor, None),
                "{bad}"
            );
        }
    }

    #[test]
    fn lengths_count_utf16_units() {
        // "é" is one unit (two bytes), "😀" two units (four bytes), U+FFFD (a replaced lone
        // surrogate) one unit; a separator-like ":" inside the text is just text.
        let mut r = Reader::new("s6:é😀\u{fffd}:sn", &[]);
        assert_eq!(r.value().and_then(Encoded::str), Some("é😀\u{fffd}:s"));
        assert_eq!(Encoded::new("s2:ab", &[]).str(), Some("ab"));
    }

    #[test]
    fn malformed_input_ends_the_chunk_without_panicking() {
        for bad in [
            "s9:short",
            "s1",
            "x",
            "a",
            "o1:k",
            "n",
            "s1:😀",
            "s99999999999999999999:",
        ] {
            assert!(json_all(bad, &[]).is_empty(), "{bad}");
        }
        // Values before the malformed one are kept.
        assert_eq!(json_all("tq", &[]), vec!["true"]);
        // Nesting is bounded.
        assert!(json_all(&"a".repeat(100), &[]).is_empty());
        let deep = format!(
            "{}{}",
            "a".repeat(MAX_NESTING + 2),
            "]".repeat(MAX_NESTING + 2)
        );
        assert!(json_all(&deep, &[]).is_empty());
    }

    #[test]
    fn deep_values_are_cut_at_the_depth_limit() {
        let n = MAX_DEPTH + 2;
        let text = format!("{}z{}", "a".repeat(n), "]".repeat(n));
        let json = json_all(&text, &[]).pop().expect("written");
        let kept = "[".repeat(MAX_DEPTH + 1);
        assert!(
            json.starts_with(&format!("{kept}\"[depth limit]\"")),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert!(back.is_array());
    }

    #[test]
    fn sensitive_keys_and_card_numbers_are_redacted_at_any_depth() {
        let r = KeyRedactor::new(&["custom".to_owned()]);
        let (text, nums) = encode(&json!({
            "user": "ann", "nested": [{"Password": "hunter2", "n": {"x": 1}}],
            "card": "4111 1111 1111 1111", "My_Custom": [1],
        }));
        let mut out = String::new();
        assert!(Encoded::new(&text, &nums).write_json(&mut out, &r, None));
        // (the fixture writes keys in sorted order)
        assert_eq!(
            out,
            format!(
                r#"{{"My_Custom":"{REDACTED}","card":"{REDACTED}","nested":[{{"Password":"{REDACTED}","n":{{"x":1}}}}],"user":"ann"}}"#
            )
        );
    }

    #[test]
    fn card_numbers_inside_text_are_redacted_and_need_luhn() {
        let r = KeyRedactor::new(&[]);
        let (text, nums) = encode(&json!([
            "paid with 4111-1111-1111-1111 today",
            "order 4111 1111 1111 1112 (not Luhn-valid)",
            "12345",
        ]));
        let mut out = String::new();
        assert!(Encoded::new(&text, &nums).write_json(&mut out, &r, None));
        assert_eq!(
            out,
            format!(
                r#"["paid with {REDACTED} today","order 4111 1111 1111 1112 (not Luhn-valid)","12345"]"#
            )
        );
    }
}
