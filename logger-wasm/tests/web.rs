//! Browser tests of the web glue and its platform side (`js/host.js`: storage host, send loop,
//! timers) in headless Chromium, with the real `localStorage`, `fetch` and timers: persistence
//! of unsent batches across a simulated reload, `offlineStorage: false`, a full storage quota,
//! keepalive splitting on page hide, a real HTTP request, and JS values (errors, dates, bigints,
//! cycles, throwing getters, lone surrogates) through the encoded hand-over (`js/encode.js`).
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p tracewire-logger --target
//! wasm32-unknown-unknown` (the runner comes from `.cargo/config.toml`).
//!
//! Tests share one page and run one at a time, so each starts by clearing `localStorage` and
//! installing its own `fetch` recorder. Apart from the real-request test, `fetch` answers from
//! the recorder, so nothing depends on the network.
#![cfg(target_arch = "wasm32")]

use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, JSON, Promise, Reflect};
use tracewire_logger::core::config::{KEEPALIVE_BUDGET_BYTES, MAX_BATCH_BYTES};
use tracewire_logger::core::outbox::BATCH_PREFIX;
use tracewire_logger::core::{Storage, StorageError};
use tracewire_logger::web;
use tracewire_logger::web::host::HostStorage;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The package's own platform side: the same code the JS entry uses.
#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// What `driver(core)` returns.
    type Driver;
    fn driver(core: &JsCore) -> Driver;
    #[wasm_bindgen(method)]
    fn wake(this: &Driver);
    #[wasm_bindgen(method)]
    fn flush(this: &Driver) -> Promise;
    #[wasm_bindgen(method, js_name = pageHide)]
    fn page_hide(this: &Driver);
    #[wasm_bindgen(method)]
    fn close(this: &Driver);
    /// Selects the store the core opens, as the entry does before `create`.
    #[wasm_bindgen(js_name = hostOpen)]
    fn host_open(persist: bool);
}

/// The entry's encoder of calls and options (see `tracewire_logger::core::calls`).
#[wasm_bindgen(module = "/js/encode.js")]
extern "C" {
    fn encode(calls: &Array) -> Array;
    #[wasm_bindgen(js_name = encodeOptions)]
    fn encode_options(options: &JsValue) -> Array;
}

/// The generated protocol module the encoder imports (its copy must sit beside the encoder's,
/// which importing it here also ensures).
#[wasm_bindgen(module = "/js/protocol.js")]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = FLUSH)]
    static JS_FLUSH: f64;
    #[wasm_bindgen(thread_local_v2, js_name = OUTCOME)]
    static JS_OUTCOME: f64;
}

#[path = "../src/core/fixture.rs"]
#[allow(dead_code)]
mod fixture;

/// `[text, numbers]` as the encoder returns them.
fn unpack(encoded: &Array) -> (String, Vec<f64>) {
    let text = encoded.get(0).as_string().unwrap_or_default();
    let nums = js_sys::Float64Array::new(&encoded.get(1)).to_vec();
    (text, nums)
}

#[wasm_bindgen]
extern "C" {
    /// What the JS entry hands the driver (see `js_core`).
    type JsCore;
}

/// The object the entry hands the driver: the module's exported functions, and `flush` as an
/// ingest call; here each is wrapped in a closure.
fn js_core() -> JsCore {
    let o = js_sys::Object::new();
    let set = |name: &str, f: JsValue| {
        Reflect::set(&o, &name.into(), &f).expect("property set");
    };
    set(
        "poll",
        Closure::<dyn Fn(f64, bool) -> String>::new(web::poll).into_js_value(),
    );
    // outcome() and flush() are OUTCOME and FLUSH calls of the ingest chunk, encoded by the
    // entry's encoder.
    set(
        "outcome",
        Closure::<dyn Fn(f64, f64, f64, f64)>::new(
            |id: f64, status: f64, retry_after: f64, now| {
                let args = [JS_OUTCOME.with(|k| *k), id, status, retry_after].map(JsValue::from);
                let call = Array::of4(&args[0], &args[1], &args[2], &args[3]);
                let (text, nums) = unpack(&encode(&Array::of1(&call)));
                web::ingest(&text, &nums, now);
            },
        )
        .into_js_value(),
    );
    set(
        "nextWake",
        Closure::<dyn Fn() -> f64>::new(web::next_wake).into_js_value(),
    );
    set(
        "flush",
        Closure::<dyn Fn(f64)>::new(|now| {
            let call = Array::of1(&Array::of1(&JS_FLUSH.with(|k| *k).into()));
            let (text, nums) = unpack(&encode(&call));
            web::ingest(&text, &nums, now);
        })
        .into_js_value(),
    );
    set(
        "pendingBatches",
        Closure::<dyn Fn() -> u32>::new(web::pending_batches).into_js_value(),
    );
    o.unchecked_into()
}

/// The page's logger and the driver performing its requests, as the JS entry wires them.
struct Logger {
    io: Driver,
}

impl Logger {
    fn pending_batches(&self) -> u32 {
        web::pending_batches()
    }

    fn page_hide(&self) {
        self.io.page_hide();
    }

    fn shutdown(&self) {
        self.io.close();
    }
}

/// The page's `localStorage`.
fn local_storage() -> web_sys::Storage {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage available in the test page")
}

/// A fresh logger over the page's storage (in memory when `persist` is false); `extra` is
/// spliced into the options JSON.
fn logger_with(extra: &str, persist: bool) -> Logger {
    let json = format!(
        r#"{{"endpoint":"http://collector.invalid","key":"k","batchSize":1,"maxRetries":0{extra}}}"#
    );
    let options = JSON::parse(&json).expect("valid options");
    let (text, nums) = unpack(&encode_options(&options));
    host_open(persist);
    web::create(&text, &nums, js_sys::Date::now());
    let io = driver(&js_core());
    io.wake();
    Logger { io }
}

fn logger(extra: &str) -> Logger {
    logger_with(extra, true)
}

/// Replaces `fetch` with a recorder. `mode` 0 rejects like a network error, a status answers
/// with it, and `"real"` passes the request on to the browser's own `fetch`.
fn install_fetch(mode: JsValue) {
    let f = Function::new_with_args(
        "mode",
        r#"
        globalThis.__twRealFetch = globalThis.__twRealFetch || globalThis.fetch;
        globalThis.__twCalls = [];
        globalThis.fetch = function (url, init) {
          const c = { url: String(url), body: String(init && init.body),
                      keepalive: !!(init && init.keepalive), status: -1 };
          globalThis.__twCalls.push(c);
          if (mode === 'real') {
            return globalThis.__twRealFetch.call(globalThis, url, init)
              .then((r) => { c.status = r.status; return r; });
          }
          if (mode === 0) return Promise.reject(new TypeError('Failed to fetch'));
          return Promise.resolve(new Response('{}', { status: mode }));
        };
        "#,
    );
    f.call1(&JsValue::NULL, &mode)
        .expect("fetch recorder installed");
}

/// One recorded request.
struct Call {
    url: String,
    body: String,
    keepalive: bool,
    status: f64,
}

fn calls() -> Vec<Call> {
    let list = Reflect::get(&js_sys::global(), &"__twCalls".into()).unwrap_or_default();
    Array::from(&list)
        .iter()
        .map(|c| Call {
            url: Reflect::get(&c, &"url".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default(),
            body: Reflect::get(&c, &"body".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default(),
            keepalive: Reflect::get(&c, &"keepalive".into())
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            status: Reflect::get(&c, &"status".into())
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(-1.0),
        })
        .collect()
}

/// Keys of stored batches and their values.
fn stored_batches() -> Vec<(String, String)> {
    let ls = local_storage();
    let n = ls.length().unwrap_or(0);
    (0..n)
        .filter_map(|i| ls.key(i).ok().flatten())
        .filter(|k| k.starts_with(BATCH_PREFIX))
        .map(|k| {
            let v = ls.get_item(&k).ok().flatten().unwrap_or_default();
            (k, v)
        })
        .collect()
}

/// Queues one INFO entry.
fn log(l: &Logger, message: &str) {
    let call = Array::of4(
        &1.into(),
        &message.into(),
        &JsValue::UNDEFINED,
        &js_sys::Date::now().into(),
    );
    let (text, nums) = unpack(&encode(&Array::of1(&call)));
    web::ingest(&text, &nums, js_sys::Date::now());
    l.io.wake();
}

async fn flush(l: &Logger) {
    JsFuture::from(l.io.flush())
        .await
        .expect("flush never rejects");
}

#[wasm_bindgen_test]
async fn unsent_batch_survives_a_reload_and_is_sent_once() {
    local_storage().clear().unwrap();
    install_fetch(0.into());
    let first = logger("");
    log(&first, "kept across reload");
    flush(&first).await;
    assert!(!calls().is_empty(), "the send was attempted");
    let stored = stored_batches();
    assert!(
        stored.iter().any(|(_, v)| v.contains("kept across reload")),
        "the failed batch is in localStorage: {:?}",
        stored.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    first.shutdown();

    // A new page load over the same storage, now online.
    install_fetch(200.into());
    let second = logger("");
    flush(&second).await;
    let sent: Vec<_> = calls()
        .into_iter()
        .filter(|c| c.body.contains("kept across reload"))
        .collect();
    assert_eq!(sent.len(), 1, "sent exactly once after the reload");
    assert_eq!(second.pending_batches(), 0);
    assert!(
        stored_batches().is_empty(),
        "acknowledged batches are removed"
    );
    second.shutdown();
}

#[wasm_bindgen_test]
async fn offline_storage_false_writes_nothing_to_local_storage() {
    local_storage().clear().unwrap();
    install_fetch(0.into());
    let first = logger_with(r#","offlineStorage":false"#, false);
    log(&first, "memory only");
    flush(&first).await;
    assert!(!calls().is_empty(), "the send was attempted");
    assert_eq!(first.pending_batches(), 1, "the batch waits in memory");
    assert_eq!(local_storage().length().unwrap(), 0, "nothing persisted");
    first.shutdown();

    install_fetch(200.into());
    let second = logger_with(r#","offlineStorage":false"#, false);
    flush(&second).await;
    assert!(calls().iter().all(|c| !c.body.contains("memory only")));
    assert_eq!(second.pending_batches(), 0, "a reload finds nothing");
    second.shutdown();
}

/// Fills `localStorage` until it refuses even a small value; returns the keys written.
fn fill_storage() -> Vec<String> {
    let ls = local_storage();
    let mut keys = Vec::new();
    let mut size = 1 << 20;
    while size >= 64 {
        let chunk = "x".repeat(size);
        loop {
            let key = format!("filler:{}", keys.len());
            if ls.set_item(&key, &chunk).is_err() {
                break;
            }
            keys.push(key);
        }
        size /= 4;
    }
    keys
}

#[wasm_bindgen_test]
async fn full_storage_reports_quota_and_the_logger_keeps_working() {
    local_storage().clear().unwrap();
    let filler = fill_storage();
    assert!(!filler.is_empty());

    host_open(true);
    let mut storage = HostStorage;
    let big = "y".repeat(64 * 1024);
    assert_eq!(
        storage.set("tracewire:probe", &big),
        Err(StorageError::Quota)
    );

    install_fetch(0.into());
    let l = logger("");
    log(&l, "while the disk is full");
    flush(&l).await;
    assert_eq!(l.pending_batches(), 1, "the batch is kept in memory");
    l.shutdown();
    local_storage().clear().unwrap();
}

#[wasm_bindgen_test]
async fn page_hide_splits_keepalive_sends_within_browser_limits() {
    local_storage().clear().unwrap();
    install_fetch(200.into());
    let l = logger(r#","batchSize":100,"flushIntervalMs":3600000"#);
    let pad = "p".repeat(1000);
    for i in 0..150 {
        log(&l, &format!("entry {i} {pad}"));
    }
    l.page_hide();
    let batches = l.pending_batches() as usize;
    TimeoutFuture::new(50).await;
    let keepalive: Vec<_> = calls().into_iter().filter(|c| c.keepalive).collect();
    assert!(
        keepalive.len() >= 2,
        "the queue is split into several sends"
    );
    assert!(
        keepalive
            .iter()
            .all(|c| c.body.len() <= MAX_BATCH_BYTES && c.body.len() < 16 * 1024),
        "each send fits a beacon"
    );
    let total: usize = keepalive.iter().map(|c| c.body.len()).sum();
    assert!(total <= KEEPALIVE_BUDGET_BYTES, "{total} bytes in flight");
    assert!(
        keepalive.len() < batches,
        "150 KB do not fit one keepalive budget: {} of {batches} batches",
        keepalive.len()
    );
    // What did not fit goes out afterwards, each entry once.
    flush(&l).await;
    assert_eq!(l.pending_batches(), 0);
    let sent = calls();
    for i in 0..150 {
        let needle = format!("entry {i} ");
        assert_eq!(
            sent.iter().filter(|c| c.body.contains(&needle)).count(),
            1,
            "entry {i} sent once"
        );
    }
    l.shutdown();
}

#[wasm_bindgen_test]
async fn a_real_request_reaches_an_http_server() {
    local_storage().clear().unwrap();
    install_fetch("real".into());
    // The test runner's own server: it has no ingest route, so the answer is a real 4xx, which
    // the core treats as final (dropped and counted), leaving nothing pending.
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let l = logger(&format!(r#","endpoint":"{origin}""#));
    log(&l, "over the wire");
    flush(&l).await;
    let sent = calls();
    let ours = sent
        .iter()
        .find(|c| c.body.contains("over the wire"))
        .expect("the batch was sent");
    assert!(
        (400.0..500.0).contains(&ours.status),
        "a real HTTP answer: {}",
        ours.status
    );
    assert_eq!(l.pending_batches(), 0);
    l.shutdown();
}

#[wasm_bindgen_test]
async fn requests_go_to_the_ingest_url_with_the_key_percent_encoded() {
    local_storage().clear().unwrap();
    // The endpoint is a base URL or the ingest URL itself, trailing slashes ignored; the key
    // keeps only RFC 3986's unreserved characters as they are.
    let want = "http://c.invalid/api/v1/logging/logs?key=k%20y%2F%C3%A9~._-";
    for endpoint in [
        "http://c.invalid//",
        "http://c.invalid/api/v1/logging/logs/",
    ] {
        install_fetch(200.into());
        let l = logger(&format!(r#","endpoint":"{endpoint}","key":"k y/é~._-""#));
        log(&l, "where to");
        flush(&l).await;
        let sent = calls();
        assert!(!sent.is_empty());
        for c in &sent {
            assert_eq!(c.url, want);
        }
        l.shutdown();
    }
}

#[wasm_bindgen_test]
async fn js_values_cross_the_encoded_hand_over_like_the_wire_expects() {
    local_storage().clear().unwrap();
    install_fetch(200.into());
    let l = logger("");
    let fields = Function::new_no_args(
        r#"
        const cyclic = { name: 'loop' }; cyclic.self = cyclic;
        let deep = { leaf: 1 }; for (let i = 0; i < 12; i++) deep = { deep };
        const throwing = { ok: 1 };
        Object.defineProperty(throwing, 'bad', { enumerable: true, get() { throw new Error('getter'); } });
        return { err: new TypeError('boom'), when: new Date(0), bad: new Date(NaN), big: 10n,
                 fn() {}, sym: Symbol('s'), undef: undefined, nan: NaN, n: -2.5, yes: true,
                 sum: 0.1 + 0.2, huge: 1e300, tiny: -1.5e-7, unsafe: 2 ** 53 + 2, inf: -Infinity,
                 list: [1, 'two', null], lone: 'a\ud800b', emoji: 'é😀', cyclic, deep, throwing,
                 many: Array.from({ length: 500 }, (_, i) => i) };
        "#,
    )
    .call0(&JsValue::NULL)
    .expect("fields built");
    let message = Function::new_no_args("return new RangeError('as message');")
        .call0(&JsValue::NULL)
        .expect("error built");
    let call = Array::of4(&3.into(), &message, &fields, &js_sys::Date::now().into());
    let (text, nums) = unpack(&encode(&Array::of1(&call)));
    web::ingest(&text, &nums, js_sys::Date::now());
    flush(&l).await;
    let sent = calls();
    let body = &sent
        .iter()
        .find(|c| c.body.contains("as message"))
        .expect("sent")
        .body;
    for needle in [
        r#""message":"as message""#,
        r#""err":{"name":"TypeError","message":"boom"}"#,
        r#""when":"1970-01-01T00:00:00.000Z""#,
        r#""bad":null"#,
        r#""big":"10""#,
        r#""fn":null"#,
        r#""sym":null"#,
        r#""undef":null"#,
        r#""nan":null"#,
        r#""n":-2.5"#,
        // Printed by the browser: exact, as JSON.stringify would.
        r#""sum":0.30000000000000004"#,
        r#""huge":1e+300"#,
        r#""tiny":-1.5e-7"#,
        r#""unsafe":9007199254740994"#,
        r#""inf":null"#,
        r#""yes":true"#,
        r#""list":[1,"two",null]"#,
        "\"lone\":\"a\u{fffd}b\"",
        "\"emoji\":\"é😀\"",
        "[depth limit]",
        r#""throwing":{"ok":1,"bad":null}"#,
        r#""many":[0,1,2,"#,
    ] {
        assert!(body.contains(needle), "{needle} in {body}");
    }
    // At most 200 values are taken from one object: the long list is cut.
    assert!(!body.contains(",499]"), "the 500-item list is cut");
    l.shutdown();
}

#[wasm_bindgen_test]
async fn a_batch_goes_out_on_its_interval_without_flush() {
    local_storage().clear().unwrap();
    install_fetch(200.into());
    let l = logger(r#","batchSize":100,"flushIntervalMs":50"#);
    log(&l, "sent by the timer");
    TimeoutFuture::new(400).await;
    assert!(
        calls().iter().any(|c| c.body.contains("sent by the timer")),
        "the interval cut and sent the batch"
    );
    assert_eq!(l.pending_batches(), 0);
    l.shutdown();
}

/// The fixtures of the native tests (`core::fixture`) encode as the entry's encoder does, and
/// the generated protocol module carries the core's kinds: both sides of the hand-over agree.
#[wasm_bindgen_test]
fn the_native_fixtures_and_the_protocol_match_the_entrys_encoder() {
    use serde_json::json;
    use tracewire_logger::core::protocol::kind;
    let calls = json!([
        [kind::INFO, "mé😀ssage", {"items": 3, "price": 12.5, "tags": ["a", null, true]}, 1764000000000u64],
        [kind::EXCEPTION, "TypeError", "x is undefined", null, {"a": {"b": [false, -2]}}, 1, "/cart"],
        [kind::VITAL, "CLS", 0.0123, "/", "navigate", "0af7651916cd43dd8448eb211c80319c", 2],
    ]);
    let js_calls = JSON::parse(&calls.to_string()).expect("valid JSON");
    let from_js = unpack(&encode(js_calls.unchecked_ref()));
    assert_eq!(from_js, fixture::chunk(&calls));
    assert_eq!(JS_FLUSH.with(|k| *k), f64::from(kind::FLUSH));
}
