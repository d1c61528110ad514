//! Queued calls as the JS entry hands them over (in the encoding of [`super::encoded`]), and
//! the `init()` options: each call becomes a core call.
//!
//! A call is an array `[kind, …]` (see [`apply`]); a malformed one ends the chunk, keeping the
//! calls before it.

use super::config::Config;
use super::drops::DropKind;
use super::encoded::{Encoded, MAX_ARGS, Reader};
use super::engine::Core;
use super::entry::{ExceptionInput, LogInput, RequestInfo};
use super::json::write_str;
use super::redact::{KeyRedactor, REDACTED};
use tracewire_shared::Level;

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
                        duration_ms: a4,
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
    fn request_durations_are_copied_as_printed_and_never_negative() {
        use crate::core::{MemoryStorage, XorShift};
        let (storage, rng) = (Box::new(MemoryStorage::new()), Box::new(XorShift::new(1)));
        let mut core = Core::new(Config::default(), storage, rng, 0.0);
        // [6, "GET", "/a", 200, <duration>, null, 0] with 12.345 (printed), 7, -1 and "x".
        let text = ["d6:12.345", "n", "n", "s1:x"]
            .map(|d| format!("ans3:GETs2:/an{d}zn]"))
            .concat();
        let nums = [
            [6.0, 200.0, 12.345, 0.0].as_slice(),
            &[6.0, 200.0, 7.0, 0.0],
            &[6.0, 200.0, -1.0, 0.0],
            &[6.0, 200.0, 0.0],
        ]
        .concat();
        apply_chunk(&mut core, &text, &nums, 0.0);
        core.flush(0.0);
        let body = core.poll(0.0).expect("a batch").body;
        let batch: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        let logs = batch["logs"].as_array().expect("logs");
        let durations: Vec<_> = logs.iter().map(|l| l["duration_ms"].to_string()).collect();
        // -1 and "x" both become 0, so those two entries are one with a count of 2.
        assert_eq!(durations, ["12.345", "7", "0"]);
        assert_eq!(logs[2]["dedup_count"], 2);
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
