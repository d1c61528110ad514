//! Queued calls as the JS entry hands them over: one string plus the numbers it refers to.
//!
//! Walking JS objects from Rust costs one wasm-bindgen import (and its JS shim) per kind of
//! access; instead the entry encodes each call (and the `init()` options) into a compact text
//! that this module reads, so the module imports almost nothing. The encoding (`js/encode.js`
//! `encode`), one value after another:
//!
//! | text | value |
//! |---|---|
//! | `z` / `t` / `f` | null / true / false |
//! | `n` | the next number of the numbers array (any f64, NaN included) |
//! | `s` *len* `:` *text* | a string of *len* UTF-16 code units |
//! | `a` *values* `]` | an array |
//! | `o` (*len* `:` *key* *value*)\* `}` | an object, keys encoded like strings without the `s` |
//!
//! A call is an array `[kind, …]` (see [`apply`]). Lengths count UTF-16 units because that is
//! what JS knows; the string crossed into wasm through `TextEncoder`, which turned each lone
//! surrogate (one unit) into U+FFFD (one unit), so the counts still match. Anything malformed
//! ends the chunk: the calls before it are kept, and nothing panics.
//!
//! Nothing is decoded into a tree: a call's arguments are read in place ([`Encoded`]), and
//! application data is written from this text straight into the entry's JSON, redacted on the
//! way. That is the whole per-entry cost in the module, so it stays one pass with no
//! allocation per value.

use super::config::Config;
use super::drops::DropKind;
use super::engine::Core;
use super::entry::{ExceptionInput, LogInput, RequestInfo};
use super::json::{parse_u64, write_number, write_str};
use super::redact::{KeyRedactor, REDACTED, redact_card_numbers};
use super::text::split_byte;
use tracewire_shared::Level;

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

    fn reader(self) -> Reader<'a> {
        Reader::new(self.text, self.nums)
    }

    /// True for `null` (and `undefined`, functions and symbols, which the entry encodes so).
    pub fn is_null(self) -> bool {
        self.text == "z"
    }

    /// The number, if this is one.
    pub fn num(self) -> Option<f64> {
        if self.text == "n" {
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
    fn non_empty(self) -> Option<String> {
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

    fn tag(&mut self) -> Option<u8> {
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
            b's' => {
                self.string()?;
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
                return Some(());
            }
            b's' => {
                let s = self.string()?;
                // Card numbers anywhere inside a string, with the collector's own scanner.
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

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.rest.as_bytes().first() == Some(&b);
        if hit {
            self.rest = self.rest.get(1..).unwrap_or("");
        }
        hit
    }

    /// `len:text`, with `len` in UTF-16 code units.
    fn string(&mut self) -> Option<&'a str> {
        let (len, text) = split_byte(self.rest, b':')?;
        let mut units = parse_u64(len)?;
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
    fn args(&mut self) -> Option<[Encoded<'a>; MAX_ARGS]> {
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

/// Decodes every call of a chunk and applies it; stops at the first malformed one.
pub fn apply_chunk(core: &mut Core, text: &str, nums: &[f64], now: f64) {
    let mut reader = Reader::new(text, nums);
    while let Some(call) = reader.args() {
        apply(core, &call, now);
    }
}

/// Applies one call. Kinds: 0–4 log levels `[k, message, fields, at]`; 5 exception
/// `[5, type, message, stack, context, at, path]`; 6 request `[6, method, path, status,
/// durationMs, spanId, at]`; 7 trace `[7, traceIdHex]`; 8 user `[8, id]`; 9 calls the entry's
/// queue dropped `[9, count]`; 10 `online`/`offline` `[10, online]`; 11 `flush()` `[11]`;
/// 12 this tab now drains the shared buffer `[12]` ([`Core::adopt`]). Unknown kinds are ignored. (9–11 ride in the chunk rather than being exports of their own:
/// each export costs a shim in the module and a wrapper in the glue.)
pub fn apply<'a>(core: &mut Core, call: &[Encoded<'a>; MAX_ARGS], now: f64) {
    let [kind, a1, a2, a3, a4, a5, a6, _] = *call;
    let at = |v: Encoded<'_>| v.num().unwrap_or(now);
    let data = |v: Encoded<'a>| (!v.is_null()).then_some(v);
    match kind.num().unwrap_or(-1.0) as i32 {
        k @ 0..=4 => {
            let message = a1.text(core.redactor());
            core.log(
                LogInput {
                    level: Level::ALL[k as usize],
                    message,
                    fields: data(a2),
                    at_ms: at(a3),
                    request: None,
                    span_id: None,
                },
                now,
            )
        }
        5 => {
            let message = a2.text(core.redactor());
            core.exception(
                ExceptionInput {
                    exception_type: a1.non_empty().unwrap_or_else(|| "Error".into()),
                    message,
                    stack: a3.non_empty(),
                    context: data(a4),
                    path: a6.non_empty(),
                    at_ms: at(a5),
                },
                now,
            )
        }
        6 => {
            let status = a3.num().filter(|s| *s > 0.0).map(|s| s as u16);
            let level = match status {
                Some(s) if s < 400 => Level::Info,
                Some(s) if s < 500 => Level::Warning,
                _ => Level::Error,
            };
            let method = a1.non_empty().unwrap_or_else(|| "GET".into());
            let path = a2.non_empty().unwrap_or_else(|| "/".into());
            let mut message = String::with_capacity(method.len() + path.len() + 1);
            message.push_str(&method);
            message.push(' ');
            message.push_str(&path);
            core.log(
                LogInput {
                    level,
                    message,
                    fields: None,
                    at_ms: at(a6),
                    request: Some(RequestInfo {
                        method,
                        path,
                        status,
                        duration_ms: a4.num().unwrap_or(0.0),
                    }),
                    span_id: a5.non_empty(),
                },
                now,
            );
        }
        7 => {
            if let Some(hex) = a1.str() {
                core.set_trace(hex);
            }
        }
        8 => core.set_user(a1.non_empty()),
        9 => {
            let n = a1.num().filter(|n| n.is_finite() && *n > 0.0);
            core.record_dropped(DropKind::QueueFull, n.map_or(0, |n| n as u64));
        }
        10 => core.set_online(a1.text == "t", now),
        11 => core.flush(now),
        12 => core.adopt(),
        _ => {}
    }
}

/// Settings from the `init()` options as the entry encodes them, positionally: `[endpoint,
/// key, batchSize, flushIntervalMs, dedupWindowMs, maxRetries, retryDelayMs,
/// maxBufferedEntries, maxBufferedBytes, sampleRate, minLevel, redactKeys, context, tab]`
/// (`tab`: the page's key suffix, 0–65535, chosen by `js/host.js`).
/// Anything missing or of the wrong type keeps its default rather than failing, because the
/// logger must never break the page it watches. The context is written to JSON here, once,
/// redacted with the configured keys; the first `context.userId` is the user, and every
/// `userId` leaves the context.
pub fn config_from(text: &str, nums: &[f64]) -> Config {
    let mut cfg = Config::default();
    let mut r = Reader::new(text, nums);
    if r.tag() != Some(b'a') {
        return cfg;
    }
    let mut i = 0;
    while !r.eat(b']') {
        let Some(v) = r.value() else {
            break;
        };
        let s = v.str();
        match (i, v.num()) {
            (0, _) => cfg.endpoint = s.unwrap_or("").to_owned(),
            (1, _) => cfg.key = s.unwrap_or("").to_owned(),
            (2..=9 | 13, Some(n)) if n.is_finite() => match i {
                2 => cfg.batch_size = n.max(1.0) as usize,
                3 => cfg.flush_interval_ms = n,
                4 => cfg.dedup_window_ms = n,
                5 => cfg.max_retries = n.max(0.0) as u32,
                6 => cfg.retry_delay_ms = n,
                7 => cfg.max_buffered_entries = n.max(0.0) as usize,
                8 => cfg.max_buffered_bytes = n.max(0.0) as usize,
                9 => cfg.sample_rate = n,
                // The glue passes 0–65535; anything else saturates, still a valid suffix.
                _ => cfg.tab = Some(n as u16),
            },
            (10, _) => {
                if let Some(level) = s.and_then(parse_level) {
                    cfg.min_level = level;
                }
            }
            (11, _) => {
                let mut keys = v.reader();
                if keys.tag() == Some(b'a') {
                    while let Some(k) = keys.value() {
                        if let Some(k) = k.str() {
                            cfg.redact_keys.push(k.to_owned());
                        }
                    }
                }
            }
            (12, _) => {
                let redactor = KeyRedactor::new(&cfg.redact_keys);
                let mut members = v.reader();
                let mut user_seen = false;
                if members.tag() == Some(b'o') {
                    while let (Some(key), Some(value)) = (members.string(), members.value()) {
                        if key == "userId" {
                            if !user_seen {
                                cfg.user_id = value.str().map(str::to_owned);
                            }
                            user_seen = true;
                            continue;
                        }
                        let mut json = String::new();
                        if redactor.is_sensitive_key(key) {
                            write_str(&mut json, REDACTED);
                        } else {
                            value.write_json(&mut json, &redactor, None);
                        }
                        cfg.context.push((key.to_owned(), json));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    cfg
}

/// `minLevel` read like `Level::from_str` (any case, `WARN` and `FATAL` as aliases, ASCII
/// spaces around ignored; the entry already trimmed other whitespace). By hand: `from_str`'s
/// Unicode trim, uppercase copy and error string cost wasm bytes.
pub fn parse_level(s: &str) -> Option<Level> {
    let s = s.trim_ascii();
    let alias = |name: &str, level| s.eq_ignore_ascii_case(name).then_some(level);
    Level::ALL
        .into_iter()
        .find(|l| s.eq_ignore_ascii_case(l.as_str()))
        .or_else(|| alias("WARN", Level::Warning))
        .or_else(|| alias("FATAL", Level::Critical))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

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
        let v = json_all("ans2:hiztfa]o1:kn1:kas0:]}]", &[1.5, -3.0]);
        assert_eq!(
            v,
            vec![r#"[1.5,"hi",null,true,false,[],{"k":-3,"k":[""]}]"#]
        );
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
        // {user: "ann", nested: [{Password: "hunter2", n: {x: 1}}], card: "…", My_Custom: [1]}
        let text = "o4:users3:ann6:nestedao8:Passwords7:hunter21:no1:xn}}]\
                    4:cards19:4111 1111 1111 11119:My_Customan]}";
        let mut out = String::new();
        assert!(Encoded::new(text, &[1.0, 2.0]).write_json(&mut out, &r, None));
        assert_eq!(
            out,
            format!(
                r#"{{"user":"ann","nested":[{{"Password":"{REDACTED}","n":{{"x":1}}}}],"card":"{REDACTED}","My_Custom":"{REDACTED}"}}"#
            )
        );
    }

    #[test]
    fn card_numbers_inside_text_are_redacted_and_need_luhn() {
        let r = KeyRedactor::new(&[]);
        let text = "as35:paid with 4111-1111-1111-1111 todays42:order 4111 1111 1111 1112 (not Luhn-valid)s5:12345]";
        let mut out = String::new();
        assert!(Encoded::new(text, &[]).write_json(&mut out, &r, None));
        assert_eq!(
            out,
            format!(
                r#"["paid with {REDACTED} today","order 4111 1111 1111 1112 (not Luhn-valid)","12345"]"#
            )
        );
    }

    #[test]
    fn options_are_read_positionally_and_wrong_types_keep_defaults() {
        let text =
            "as1:es1:kns2:10nzzzzzs4:warnas1:x]o6:userIds3:ann3:apps1:a1:xn6:userIds3:bob}n]";
        let cfg = config_from(text, &[3.0, f64::NAN, 2.0, 4660.0]);
        assert_eq!(cfg.tab, Some(0x1234));
        assert_eq!((cfg.endpoint.as_str(), cfg.key.as_str()), ("e", "k"));
        assert_eq!(cfg.batch_size, 3);
        assert_eq!(cfg.flush_interval_ms, Config::default().flush_interval_ms);
        assert_eq!(cfg.dedup_window_ms, Config::default().dedup_window_ms);
        assert_eq!(cfg.min_level, Level::Warning);
        assert_eq!(cfg.redact_keys, vec!["x".to_owned()]);
        // The first userId is the user; every userId leaves the context; `x` is redacted.
        assert_eq!(cfg.user_id.as_deref(), Some("ann"));
        let redacted = format!("\"{REDACTED}\"");
        assert_eq!(
            cfg.context,
            vec![
                ("app".to_owned(), "\"a\"".to_owned()),
                ("x".to_owned(), redacted)
            ]
        );
        assert_eq!(
            config_from("", &[]).batch_size,
            Config::default().batch_size
        );
        assert_eq!(
            config_from("q", &[]).batch_size,
            Config::default().batch_size
        );
    }

    #[test]
    fn drop_counts_and_the_online_flag_arrive_as_calls() {
        use crate::core::{MemoryStorage, XorShift};
        let (storage, rng) = (Box::new(MemoryStorage::new()), Box::new(XorShift::new(1)));
        let mut core = Core::new(Config::default(), storage, rng, 0.0);
        // [9, 3], [10, false], [1, "m"]
        apply_chunk(&mut core, "ann]anf]ans1:m]", &[9.0, 3.0, 10.0, 1.0], 0.0);
        assert_eq!(core.unreported_drops().queue_full, 3);
        core.flush(0.0);
        assert!(core.poll(0.0).is_none(), "offline: nothing is sent");
        apply_chunk(&mut core, "ant]", &[10.0], 0.0);
        assert!(core.poll(0.0).is_some(), "online again: the batch goes");
    }

    #[test]
    fn fields_merge_over_the_context_and_non_string_messages_become_json() {
        use crate::core::{MemoryStorage, XorShift};
        let (storage, rng) = (Box::new(MemoryStorage::new()), Box::new(XorShift::new(1)));
        // context {app: "shop", token: "t0", page: "/"}
        let cfg = config_from("azzzzzzzzzzzzo3:apps4:shop5:tokens2:t04:pages1:/}]", &[]);
        let mut core = Core::new(cfg, storage, rng, 0.0);
        // [1, {n: 2}, {page: "/cart", secret: "s"}], [1, "bare"], [1, "list", [1]]
        apply_chunk(
            &mut core,
            "ano1:nn}o4:pages5:/cart6:secrets1:s}]ans4:bare]ans4:listan]]",
            &[1.0, 2.0, 1.0, 1.0, 1.0],
            0.0,
        );
        core.flush(0.0);
        let body = core.poll(0.0).expect("a batch").body;
        let batch: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        let logs = batch["logs"].as_array().expect("logs");
        assert_eq!(logs[0]["message"], r#"{"n":2}"#);
        assert_eq!(
            logs[0]["extra_data"],
            serde_json::json!({"page": "/cart", "secret": REDACTED, "app": "shop", "token": REDACTED})
        );
        assert_eq!(
            logs[1]["extra_data"],
            serde_json::json!({"app": "shop", "token": REDACTED, "page": "/"})
        );
        assert_eq!(logs[2]["extra_data"], serde_json::json!([1]));
    }

    #[test]
    fn levels_parse_like_the_shared_from_str() {
        for s in [
            "debug", "INFO", "Warning", "warn", "WARN ", " error", "critical", "Fatal", "loud", "",
            "warnin", "fatal!", "infoo",
        ] {
            assert_eq!(parse_level(s), s.parse::<Level>().ok(), "{s:?}");
        }
    }
}
