//! Queued calls as the JS entry hands them over: one string plus the numbers it refers to.
//!
//! Walking JS objects from Rust costs one wasm-bindgen import (and its JS shim) per kind of
//! access; instead the entry encodes each call (and the `init()` options) into a compact text
//! that this module decodes, so the module imports almost nothing. The encoding (`js/index.js`
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

use super::config::Config;
use super::drops::DropKind;
use super::engine::Core;
use super::entry::{ExceptionInput, LogInput, RequestInfo};
use super::json::{Json, MAX_DEPTH, parse_u64};
use super::text::split_byte;
use tracewire_shared::Level;

/// Deepest nesting the decoder follows (the entry cuts application data at [`MAX_DEPTH`]).
const MAX_NESTING: usize = MAX_DEPTH + 4;

/// Reads values from an encoded chunk.
pub struct Reader<'a> {
    /// The text not read yet.
    rest: &'a str,
    /// The numbers, consumed in order by `n`.
    nums: std::slice::Iter<'a, f64>,
}

impl<'a> Reader<'a> {
    /// A reader over `text` and the `nums` its `n` tags refer to.
    pub fn new(text: &'a str, nums: &'a [f64]) -> Self {
        Self {
            rest: text,
            nums: nums.iter(),
        }
    }

    /// The next value; `None` at the end or on malformed input.
    pub fn value(&mut self) -> Option<Json> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_NESTING {
            return None;
        }
        let tag = *self.rest.as_bytes().first()?;
        self.rest = self.rest.get(1..)?;
        Some(match tag {
            b'z' => Json::Null,
            b't' => Json::Bool(true),
            b'f' => Json::Bool(false),
            b'n' => Json::Num(*self.nums.next()?),
            b's' => Json::Str(self.string()?),
            b'a' => {
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value_at(depth + 1)?);
                }
                Json::Arr(items)
            }
            b'o' => {
                let mut fields = Vec::new();
                while !self.eat(b'}') {
                    let key = self.string()?;
                    fields.push((key, self.value_at(depth + 1)?));
                }
                Json::Obj(fields)
            }
            _ => return None,
        })
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.rest.as_bytes().first() == Some(&b);
        if hit {
            self.rest = self.rest.get(1..).unwrap_or("");
        }
        hit
    }

    /// `len:text`, with `len` in UTF-16 code units.
    fn string(&mut self) -> Option<String> {
        let (len, text) = split_byte(self.rest, b':')?;
        let mut units = parse_u64(len)?;
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
        Some(s.to_owned())
    }
}

/// Element `i` of a call, `Null` when missing.
fn arg(call: &[Json], i: usize) -> &Json {
    call.get(i).unwrap_or(&Json::Null)
}

/// A number argument (any f64 the entry passed).
pub fn num(v: &Json) -> Option<f64> {
    match v {
        Json::Num(n) => Some(*n),
        _ => None,
    }
}

/// A string argument.
pub fn string(v: &Json) -> Option<String> {
    match v {
        Json::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn non_empty(v: &Json) -> Option<String> {
    string(v).filter(|s| !s.is_empty())
}

/// Fields or context: `None` for null (also what `undefined` became).
fn data(v: &Json) -> Option<Json> {
    (!matches!(v, Json::Null)).then(|| v.clone())
}

/// A message that may not be a string (the entry already took an Error's message).
fn text(v: &Json) -> String {
    match v {
        Json::Str(s) => s.clone(),
        other => other.to_json_string(),
    }
}

/// Decodes every call of a chunk and applies it; stops at the first malformed one.
pub fn apply_chunk(core: &mut Core, text: &str, nums: &[f64], now: f64) {
    let mut reader = Reader::new(text, nums);
    while let Some(Json::Arr(call)) = reader.value() {
        apply(core, &call, now);
    }
}

/// Applies one call. Kinds: 0–4 log levels `[k, message, fields, at]`; 5 exception
/// `[5, type, message, stack, context, at, path]`; 6 request `[6, method, path, status,
/// durationMs, spanId, at]`; 7 trace `[7, traceIdHex]`; 8 user `[8, id]`; 9 calls the entry's
/// queue dropped `[9, count]`; 10 `online`/`offline` `[10, online]`; 11 `flush()` `[11]`.
/// Unknown kinds are ignored. (9–11 ride in the chunk rather than being exports of their own:
/// each export costs a shim in the module and a wrapper in the glue.)
pub fn apply(core: &mut Core, call: &[Json], now: f64) {
    let at = |i| num(arg(call, i)).unwrap_or(now);
    let kind = num(arg(call, 0)).unwrap_or(-1.0);
    match kind as i32 {
        k @ 0..=4 => core.log(
            LogInput {
                level: Level::ALL[k as usize],
                message: text(arg(call, 1)),
                fields: data(arg(call, 2)),
                at_ms: at(3),
                request: None,
                span_id: None,
            },
            now,
        ),
        5 => core.exception(
            ExceptionInput {
                exception_type: non_empty(arg(call, 1)).unwrap_or_else(|| "Error".into()),
                message: text(arg(call, 2)),
                stack: non_empty(arg(call, 3)),
                context: data(arg(call, 4)),
                path: non_empty(arg(call, 6)),
                at_ms: at(5),
            },
            now,
        ),
        6 => {
            let status = num(arg(call, 3)).filter(|s| *s > 0.0).map(|s| s as u16);
            let level = match status {
                Some(s) if s < 400 => Level::Info,
                Some(s) if s < 500 => Level::Warning,
                _ => Level::Error,
            };
            let method = non_empty(arg(call, 1)).unwrap_or_else(|| "GET".into());
            let path = non_empty(arg(call, 2)).unwrap_or_else(|| "/".into());
            let mut message = String::with_capacity(method.len() + path.len() + 1);
            message.push_str(&method);
            message.push(' ');
            message.push_str(&path);
            core.log(
                LogInput {
                    level,
                    message,
                    fields: None,
                    at_ms: at(6),
                    request: Some(RequestInfo {
                        method,
                        path,
                        status,
                        duration_ms: num(arg(call, 4)).unwrap_or(0.0),
                    }),
                    span_id: non_empty(arg(call, 5)),
                },
                now,
            );
        }
        7 => {
            if let Json::Str(hex) = arg(call, 1) {
                core.set_trace(hex);
            }
        }
        8 => core.set_user(non_empty(arg(call, 1))),
        9 => {
            let n = num(arg(call, 1)).filter(|n| n.is_finite() && *n > 0.0);
            core.record_dropped(DropKind::QueueFull, n.map_or(0, |n| n as u64));
        }
        10 => core.set_online(matches!(arg(call, 1), Json::Bool(true)), now),
        11 => core.flush(now),
        _ => {}
    }
}

/// Settings from the `init()` options as the entry encodes them, positionally: `[endpoint,
/// key, batchSize, flushIntervalMs, dedupWindowMs, maxRetries, retryDelayMs,
/// maxBufferedEntries, maxBufferedBytes, sampleRate, minLevel, redactKeys, context]`.
/// Anything missing or of the wrong type keeps its default rather than failing, because the
/// logger must never break the page it watches. Takes the values by value: strings and the
/// context move into the settings instead of being cloned.
pub fn config_from(opts: Vec<Json>) -> Config {
    let mut cfg = Config::default();
    for (i, v) in opts.into_iter().enumerate() {
        match (i, v) {
            (0, Json::Str(s)) => cfg.endpoint = s,
            (1, Json::Str(s)) => cfg.key = s,
            (2..=9, Json::Num(v)) if v.is_finite() => match i {
                2 => cfg.batch_size = v.max(1.0) as usize,
                3 => cfg.flush_interval_ms = v,
                4 => cfg.dedup_window_ms = v,
                5 => cfg.max_retries = v.max(0.0) as u32,
                6 => cfg.retry_delay_ms = v,
                7 => cfg.max_buffered_entries = v.max(0.0) as usize,
                8 => cfg.max_buffered_bytes = v.max(0.0) as usize,
                _ => cfg.sample_rate = v,
            },
            (10, Json::Str(s)) => {
                if let Some(level) = parse_level(&s) {
                    cfg.min_level = level;
                }
            }
            (11, Json::Arr(keys)) => {
                for key in keys {
                    if let Json::Str(s) = key {
                        cfg.redact_keys.push(s);
                    }
                }
            }
            (12, Json::Obj(mut fields)) => {
                // The first `userId` is the user; every `userId` leaves the context.
                let mut user = None;
                fields.retain_mut(|(k, v)| {
                    let keep = k != "userId";
                    if !keep && user.is_none() {
                        user = Some(std::mem::replace(v, Json::Null));
                    }
                    keep
                });
                cfg.user_id = user.as_ref().and_then(string);
                if !fields.is_empty() {
                    cfg.context = Some(Json::Obj(fields));
                }
            }
            _ => {}
        }
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

    fn read_all(text: &str, nums: &[f64]) -> Vec<Json> {
        let mut r = Reader::new(text, nums);
        std::iter::from_fn(|| r.value()).collect()
    }

    #[test]
    fn decodes_every_kind_of_value() {
        let expected = Json::Arr(vec![
            Json::Num(1.5),
            Json::Str("hi".into()),
            Json::Null,
            Json::Bool(true),
            Json::Bool(false),
            Json::Arr(vec![]),
            Json::Obj(vec![
                ("k".into(), Json::Num(-3.0)),
                ("k".into(), Json::Arr(vec![Json::Str(String::new())])),
            ]),
        ]);
        let v = read_all("ans2:hiztfa]o1:kn1:kas0:]}]", &[1.5, -3.0]);
        assert_eq!(v, vec![expected]);
    }

    #[test]
    fn lengths_count_utf16_units() {
        // "é" is one unit (two bytes), "😀" two units (four bytes), U+FFFD (a replaced lone
        // surrogate) one unit; a separator-like ":" inside the text is just text.
        let v = read_all("s6:é😀\u{fffd}:sn", &[]);
        assert_eq!(v, vec![Json::Str("é😀\u{fffd}:s".into())]);
        assert_eq!(read_all("s2:ab", &[]), vec![Json::Str("ab".into())]);
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
            assert!(read_all(bad, &[]).is_empty(), "{bad}");
        }
        // Values before the malformed one are kept.
        assert_eq!(read_all("tq", &[]), vec![Json::Bool(true)]);
        // Nesting is bounded.
        assert!(read_all(&"a".repeat(100), &[]).is_empty());
    }

    #[test]
    fn options_are_read_positionally_and_wrong_types_keep_defaults() {
        let text = "as1:es1:kns2:10nzzzzzs4:warnas1:x]o6:userIds3:ann3:apps1:a}]";
        let mut r = Reader::new(text, &[3.0, f64::NAN]);
        let Some(Json::Arr(opts)) = r.value() else {
            panic!("an options array")
        };
        let cfg = config_from(opts);
        assert_eq!((cfg.endpoint.as_str(), cfg.key.as_str()), ("e", "k"));
        assert_eq!(cfg.batch_size, 3);
        assert_eq!(cfg.flush_interval_ms, Config::default().flush_interval_ms);
        assert_eq!(cfg.dedup_window_ms, Config::default().dedup_window_ms);
        assert_eq!(cfg.min_level, Level::Warning);
        assert_eq!(cfg.redact_keys, vec!["x".to_owned()]);
        assert_eq!(cfg.user_id.as_deref(), Some("ann"));
        assert_eq!(
            cfg.context,
            Some(Json::Obj(vec![("app".into(), Json::Str("a".into()))]))
        );
        assert_eq!(config_from(vec![]).batch_size, Config::default().batch_size);
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
    fn levels_parse_like_the_shared_from_str() {
        for s in [
            "debug", "INFO", "Warning", "warn", "WARN ", " error", "critical", "Fatal", "loud", "",
            "warnin", "fatal!", "infoo",
        ] {
            assert_eq!(parse_level(s), s.parse::<Level>().ok(), "{s:?}");
        }
    }
}
