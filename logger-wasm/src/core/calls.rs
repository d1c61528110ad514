//! Queued calls as the JS entry hands them over (in the encoding of [`super::encoded`]), and
//! the `init()` options: each call becomes a core call.
//!
//! A call is an array `[kind, …]` (see [`apply`]); a malformed one ends the chunk, keeping the
//! calls before it.

use super::config::Config;
use super::drops::DropKind;
use super::encoded::{Encoded, MAX_ARGS, Reader};
use super::engine::{Core, Outcome};
use super::entry::{ExceptionInput, LogInput, RequestInfo, VitalInput};
use super::json::write_str;
use super::protocol::{kind, slot};
use super::redact::{KeyRedactor, REDACTED};
use tracewire_shared::Level;

/// Decodes every call of a chunk and applies it; stops at the first malformed one.
pub fn apply_chunk(core: &mut Core, text: &str, nums: &[f64], now: f64) {
    let mut reader = Reader::new(text, nums);
    while let Some(call) = reader.args() {
        apply(core, &call, now);
    }
}

/// Applies one call; its kind and arguments are those of [`super::protocol::kind`]. Unknown
/// kinds are ignored. (FLUSH, ONLINE, DROPPED, ADOPT and OUTCOME ride in the chunk rather than
/// being exports of their own: each export costs a shim in the module and a wrapper in the
/// glue.)
pub fn apply<'a>(core: &mut Core, call: &[Encoded<'a>; MAX_ARGS], now: f64) {
    let [kind, a1, a2, a3, a4, a5, a6, _] = *call;
    let at = |v: Encoded<'_>| v.num().unwrap_or(now);
    let data = |v: Encoded<'a>| (!v.is_null()).then_some(v);
    // Negative, NaN or missing: no kind (`as` would make a negative number 0, DEBUG).
    match kind
        .num()
        .filter(|k| *k >= 0.0)
        .map_or(u8::MAX, |k| k as u8)
    {
        k @ kind::DEBUG..=kind::CRITICAL => {
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
        kind::EXCEPTION => {
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
        kind::REQUEST => {
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
        kind::TRACE => {
            if let Some(hex) = a1.str() {
                core.set_trace(hex);
            }
        }
        kind::USER => core.set_user(a1.non_empty()),
        kind::DROPPED => {
            let n = a1.num().filter(|n| n.is_finite() && *n > 0.0);
            core.record_dropped(DropKind::QueueFull, n.map_or(0, |n| n as u64));
        }
        kind::ONLINE => core.set_online(a1.text == "t", now),
        kind::FLUSH => core.flush(now),
        kind::ADOPT => core.adopt(),
        kind::OUTCOME => {
            if let Some(id) = a1.num() {
                let outcome = match a2.num().filter(|s| *s > 0.0) {
                    // Beyond u16 saturates, like any status the collector never sends.
                    Some(status) => Outcome::Status {
                        status: status as u16,
                        retry_after_ms: a3.num().filter(|ms| *ms >= 0.0),
                    },
                    None => Outcome::NetworkError,
                };
                core.on_outcome(id as u64, outcome, now);
            }
        }
        kind::VITAL => core.vital(
            VitalInput {
                name: a1.str().unwrap_or(""),
                value: a2,
                path: a3.str(),
                navigation_type: a4.str(),
                trace_id: a5.str(),
                at_ms: at(a6),
            },
            now,
        ),
        _ => {}
    }
}

/// Settings from the `init()` options as the entry encodes them, positionally in the slots of
/// [`super::protocol::OPTIONS`] (`tab`: the page's key suffix, 0–65535, chosen by `js/host.js`).
/// Anything missing or of the wrong type keeps its default rather than failing, because the
/// logger must never break the page it watches. The context is written to JSON here, once,
/// redacted with the configured keys; the first `context.userId` is the user, and every
/// `userId` leaves the context.
pub fn config_from(text: &str, nums: &[f64]) -> Config {
    const URL: usize = slot("url");
    const BATCH_SIZE: usize = slot("batchSize");
    const FLUSH_INTERVAL: usize = slot("flushIntervalMs");
    const DEDUP_WINDOW: usize = slot("dedupWindowMs");
    const MAX_RETRIES: usize = slot("maxRetries");
    const RETRY_DELAY: usize = slot("retryDelayMs");
    const MAX_ENTRIES: usize = slot("maxBufferedEntries");
    const MAX_BYTES: usize = slot("maxBufferedBytes");
    const SAMPLE_RATE: usize = slot("sampleRate");
    const MIN_LEVEL: usize = slot("minLevel");
    const REDACT_KEYS: usize = slot("redactKeys");
    const CONTEXT: usize = slot("context");
    const TAB: usize = slot("tab");
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
        let n = v.num().filter(|n| n.is_finite());
        match (i, n) {
            (URL, _) => cfg.url = s.unwrap_or("").to_owned(),
            (BATCH_SIZE, Some(n)) => cfg.batch_size = n.max(1.0) as usize,
            (FLUSH_INTERVAL, Some(n)) => cfg.flush_interval_ms = n,
            (DEDUP_WINDOW, Some(n)) => cfg.dedup_window_ms = n,
            (MAX_RETRIES, Some(n)) => cfg.max_retries = n.max(0.0) as u32,
            (RETRY_DELAY, Some(n)) => cfg.retry_delay_ms = n,
            (MAX_ENTRIES, Some(n)) => cfg.max_buffered_entries = n.max(0.0) as usize,
            (MAX_BYTES, Some(n)) => cfg.max_buffered_bytes = n.max(0.0) as usize,
            (SAMPLE_RATE, Some(n)) => cfg.sample_rate = n,
            // The glue passes 0–65535; anything else saturates, still a valid suffix.
            (TAB, Some(n)) => cfg.tab = Some(n as u16),
            (MIN_LEVEL, _) => {
                if let Some(level) = s.and_then(parse_level) {
                    cfg.min_level = level;
                }
            }
            (REDACT_KEYS, _) => {
                let mut keys = v.reader();
                if keys.tag() == Some(b'a') {
                    while let Some(k) = keys.value() {
                        if let Some(k) = k.str() {
                            cfg.redact_keys.push(k.to_owned());
                        }
                    }
                }
            }
            (CONTEXT, _) => {
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
    use crate::core::fixture::{chunk, encode};
    use crate::core::protocol::OPTIONS;
    use crate::core::{MemoryStorage, XorShift};
    use serde_json::{Value, json};

    /// `options` (by name) in the slots the entry encodes them into.
    fn config(options: Value) -> Config {
        let slots: Vec<Value> = OPTIONS.iter().map(|k| options[*k].clone()).collect();
        let (text, nums) = encode(&Value::Array(slots));
        config_from(&text, &nums)
    }

    fn core_with(cfg: Config) -> Core {
        let (storage, rng) = (Box::new(MemoryStorage::new()), Box::new(XorShift::new(1)));
        Core::new(cfg, storage, rng, 0.0)
    }

    fn apply_json(core: &mut Core, calls: Value) {
        let (text, nums) = chunk(&calls);
        apply_chunk(core, &text, &nums, 0.0);
    }

    /// The body of the one batch everything queued so far is cut into.
    fn batch(core: &mut Core) -> Value {
        core.flush(0.0);
        let body = core.poll(0.0).expect("a batch").body;
        serde_json::from_str(&body).expect("valid JSON")
    }

    #[test]
    fn options_are_read_by_slot_and_wrong_types_keep_defaults() {
        let cfg = config(json!({
            "url": "e?key=k", "batchSize": 3, "flushIntervalMs": "soon",
            "dedupWindowMs": f64::NAN, "maxRetries": 2, "minLevel": "warn", "redactKeys": ["x"],
            "context": {"userId": "ann", "app": "a", "x": 1, "zuserId": "bob"}, "tab": 4660,
        }));
        assert_eq!(cfg.tab, Some(0x1234));
        assert_eq!(cfg.url, "e?key=k");
        assert_eq!((cfg.batch_size, cfg.max_retries), (3, 2));
        assert_eq!(cfg.flush_interval_ms, Config::default().flush_interval_ms);
        assert_eq!(cfg.dedup_window_ms, Config::default().dedup_window_ms);
        assert_eq!(cfg.min_level, Level::Warning);
        assert_eq!(cfg.redact_keys, vec!["x".to_owned()]);
        // The userId is the user and leaves the context; `x` is redacted.
        assert_eq!(cfg.user_id.as_deref(), Some("ann"));
        let redacted = format!("\"{REDACTED}\"");
        assert_eq!(
            cfg.context,
            vec![
                ("app".to_owned(), "\"a\"".to_owned()),
                ("x".to_owned(), redacted),
                ("zuserId".to_owned(), "\"bob\"".to_owned()),
            ]
        );
        for malformed in ["", "q"] {
            let batch_size = config_from(malformed, &[]).batch_size;
            assert_eq!(batch_size, Config::default().batch_size);
        }
    }

    #[test]
    fn drop_counts_and_the_online_flag_arrive_as_calls() {
        let mut core = core_with(Config::default());
        apply_json(
            &mut core,
            json!([[kind::DROPPED, 3], [kind::ONLINE, false], [kind::INFO, "m"]]),
        );
        assert_eq!(core.unreported_drops().queue_full, 3);
        core.flush(0.0);
        assert!(core.poll(0.0).is_none(), "offline: nothing is sent");
        apply_json(&mut core, json!([[kind::ONLINE, true]]));
        assert!(core.poll(0.0).is_some(), "online again: the batch goes");
    }

    #[test]
    fn request_outcomes_arrive_as_calls() {
        let mut core = core_with(Config::default());
        apply_json(&mut core, json!([[kind::INFO, "m"]]));
        core.flush(0.0);
        let id = core.poll(0.0).expect("a request").id;
        // Rate-limited with Retry-After 5 s: the batch stays and waits exactly that long.
        apply_json(&mut core, json!([[kind::OUTCOME, id, 429, 5000]]));
        assert_eq!(core.pending_batches(), 1);
        assert!(core.poll(4_999.0).is_none(), "not before Retry-After");
        let id = core.poll(5_000.0).expect("sent again").id;
        // No answer (status 0): kept for a later try.
        apply_json(&mut core, json!([[kind::OUTCOME, id, 0, null]]));
        assert_eq!(core.pending_batches(), 1);
        let id = core.poll(1e9).expect("sent again").id;
        apply_json(&mut core, json!([[kind::OUTCOME, id, 202, null]]));
        assert_eq!(core.pending_batches(), 0, "acknowledged");
    }

    #[test]
    fn fields_merge_over_the_context_and_non_string_messages_become_json() {
        let cfg = config(json!({"context": {"app": "shop", "page": "/", "token": "t0"}}));
        let mut core = core_with(cfg);
        apply_json(
            &mut core,
            json!([
                [kind::INFO, {"n": 2}, {"page": "/cart", "secret": "s"}],
                [kind::INFO, "bare"],
                [kind::INFO, "list", [1]],
            ]),
        );
        let batch = batch(&mut core);
        let logs = batch["logs"].as_array().expect("logs");
        assert_eq!(logs[0]["message"], r#"{"n":2}"#);
        assert_eq!(
            logs[0]["extra_data"],
            json!({"page": "/cart", "secret": REDACTED, "app": "shop", "token": REDACTED})
        );
        assert_eq!(
            logs[1]["extra_data"],
            json!({"app": "shop", "token": REDACTED, "page": "/"})
        );
        assert_eq!(logs[2]["extra_data"], json!([1]));
    }

    #[test]
    fn request_durations_are_copied_as_printed_and_never_negative() {
        let mut core = core_with(Config::default());
        let calls: Vec<Value> = [json!(12.345), json!(7), json!(-1), json!("x")]
            .into_iter()
            .map(|d| json!([kind::REQUEST, "GET", "/a", 200, d, null, 0]))
            .collect();
        apply_json(&mut core, Value::Array(calls));
        let batch = batch(&mut core);
        let logs = batch["logs"].as_array().expect("logs");
        let durations: Vec<_> = logs.iter().map(|l| l["duration_ms"].to_string()).collect();
        // -1 and "x" both become 0, so those two entries are one with a count of 2.
        assert_eq!(durations, ["12.345", "7", "0"]);
        assert_eq!(logs[2]["dedup_count"], 2);
    }

    #[test]
    fn web_vitals_become_metrics_of_the_page_load() {
        let mut core = core_with(Config::default());
        let trace = "0af7651916cd43dd8448eb211c80319c";
        apply_json(
            &mut core,
            json!([
                [kind::VITAL, "LCP", 1234.5, "/cart", "navigate", trace, 0],
                [kind::VITAL, "CLS", 0.05, "/cart", "reload", trace, 0],
                [kind::VITAL, "INP", -3, "/cart", "navigate", trace, 0],
                [kind::VITAL, "TTFB", "slow", "/cart", "navigate", trace, 0],
                [kind::INFO, "m"],
            ]),
        );
        let batch = batch(&mut core);
        assert_eq!(batch["logs"].as_array().map(Vec::len), Some(1));
        let metrics = batch["metrics"].as_array().expect("metrics");
        assert_eq!(
            metrics.len(),
            2,
            "a negative or non-numeric value is left out"
        );
        assert_eq!(
            metrics[0],
            json!({"metric_type": "web_vital", "metric_name": "LCP", "value": 1234.5,
                   "unit": "ms", "timestamp": "1970-01-01T00:00:00.000Z", "endpoint": "/cart",
                   "trace_id": trace, "tags": {"navigation_type": "navigate"}})
        );
        assert_eq!(metrics[1]["value"], 0.05);
        assert!(metrics[1].get("unit").is_none(), "CLS has no unit");
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
