//! Browser glue: the sans-IO surface the JS entry (`js/index.js`) drives.
//!
//! The JS entry owns everything that touches the platform: the error handlers, the fetch/XHR
//! patch, the call queue, page lifecycle listeners, timers, `fetch`/`sendBeacon` and the
//! promise of `flush()` (`js/host.js`). This module only turns queued calls into core calls and
//! answers synchronously: what to send ([`WasmLogger::poll`], [`WasmLogger::page_hide`], as
//! strings), when to wake up next, and what became of a request ([`WasmLogger::outcome`]).
//! Storage and randomness come from a small host object ([`host::Host`]). Nothing here throws
//! into the application: no path panics (the size profile aborts on panic), and the time is an
//! argument of every call.

mod config;
mod convert;
pub mod host;

use crate::core::{
    Core, DropKind, ExceptionInput, LogInput, MemoryStorage, Outcome, RequestInfo, SendRequest,
    Storage,
};
use convert::{to_json, to_text};
use host::{Host, HostRandom, HostStorage};
use js_sys::Array;
use tracewire_shared::Level;
use wasm_bindgen::prelude::*;

/// Separates the fields of one request in [`WasmLogger::poll`]'s answer (JSON bodies never
/// hold a raw control character).
const FIELD_SEP: char = '\x1f';
/// Separates requests in [`WasmLogger::page_hide`]'s answer.
const RECORD_SEP: char = '\x1e';

/// One logger instance, created by the JS entry's `init()`.
#[wasm_bindgen]
pub struct WasmLogger {
    core: Core,
}

fn get(arr: &Array, i: u32) -> JsValue {
    arr.get(i)
}

fn opt_string(v: JsValue) -> Option<String> {
    v.as_string().filter(|s| !s.is_empty())
}

/// Appends `id FIELD keepalive FIELD url FIELD body` to `out`.
fn write_request(out: &mut String, req: &SendRequest) {
    crate::core::json::write_u64(out, req.id);
    out.push(FIELD_SEP);
    out.push(if req.keepalive { '1' } else { '0' });
    out.push(FIELD_SEP);
    out.push_str(&req.url);
    out.push(FIELD_SEP);
    out.push_str(&req.body);
}

#[wasm_bindgen]
impl WasmLogger {
    /// Builds the logger from the `init()` options and picks up what earlier page loads left
    /// in storage. `persist` is false for `offlineStorage: false` or when the page has no
    /// usable `localStorage`: unsent batches then live in memory only.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, host: Host, persist: bool, now: f64) -> WasmLogger {
        let cfg = config::from_js(&options);
        let storage: Box<dyn Storage> = if persist {
            Box::new(HostStorage(host.clone()))
        } else {
            Box::new(MemoryStorage::new())
        };
        WasmLogger {
            core: Core::new(cfg, storage, Box::new(HostRandom(host)), now),
        }
    }

    /// Takes a chunk of queued calls: each an array `[kind, …]` (see `js/index.js`).
    pub fn ingest(&mut self, calls: Array, now: f64) {
        for call in calls.iter() {
            apply(&mut self.core, &Array::from(&call), now);
        }
        self.core.tick(now);
    }

    /// Counts calls the JS queue had to drop (its cap was reached before the module loaded).
    #[wasm_bindgen(js_name = recordDropped)]
    pub fn record_dropped(&mut self, n: f64) {
        let n = if n.is_finite() && n > 0.0 {
            n as u64
        } else {
            0
        };
        self.core.record_dropped(DropKind::QueueFull, n);
    }

    /// Cuts everything queued into batches, so the next polls send it all.
    pub fn flush(&mut self, now: f64) {
        self.core.flush(now);
    }

    /// The next request to perform now, as `id \x1f keepalive(0|1) \x1f url \x1f body`;
    /// `undefined` when nothing is due. Answer it with [`WasmLogger::outcome`].
    pub fn poll(&mut self, now: f64) -> Option<String> {
        let req = self.core.poll(now)?;
        let mut out = String::with_capacity(req.body.len() + req.url.len() + 24);
        write_request(&mut out, &req);
        Some(out)
    }

    /// The page is hiding: cuts everything and returns the keepalive requests that fit the
    /// browser's budget, in [`WasmLogger::poll`]'s format, separated by `\x1e`.
    #[wasm_bindgen(js_name = pageHide)]
    pub fn page_hide(&mut self, now: f64) -> String {
        let mut out = String::new();
        for req in self.core.page_hide(now) {
            if !out.is_empty() {
                out.push(RECORD_SEP);
            }
            write_request(&mut out, &req);
        }
        out
    }

    /// What became of request `id`: `status` 0 for a network error; `retry_after_ms` is the
    /// `Retry-After` header in milliseconds, or NaN when absent.
    pub fn outcome(&mut self, id: f64, status: u32, retry_after_ms: f64, now: f64) {
        let outcome = if status == 0 {
            Outcome::NetworkError
        } else {
            Outcome::Status {
                status: u16::try_from(status).unwrap_or(u16::MAX),
                retry_after_ms: (retry_after_ms >= 0.0).then_some(retry_after_ms),
            }
        };
        self.core.on_outcome(id as u64, outcome, now);
    }

    /// When to call [`WasmLogger::poll`] next (epoch ms); NaN when nothing is pending.
    #[wasm_bindgen(js_name = nextWake)]
    pub fn next_wake(&self) -> f64 {
        self.core.next_wake().unwrap_or(f64::NAN)
    }

    /// `online` / `offline` events.
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&mut self, online: bool, now: f64) {
        self.core.set_online(online, now);
    }

    /// Batches waiting for acknowledgement (tests and diagnostics).
    #[wasm_bindgen(js_name = pendingBatches)]
    pub fn pending_batches(&self) -> u32 {
        u32::try_from(self.core.pending_batches()).unwrap_or(u32::MAX)
    }
}

/// Applies one queued call. Kinds: 0–4 log levels `[k, message, fields, at]`; 5 exception
/// `[5, type, message, stack, context, at, path]`; 6 request `[6, method, path, status,
/// durationMs, spanId, at]`; 7 trace `[7, traceIdHex]`; 8 user `[8, id]`.
fn apply(core: &mut Core, call: &Array, t: f64) {
    let kind = get(call, 0).as_f64().unwrap_or(-1.0);
    let at = |i| get(call, i).as_f64().unwrap_or(t);
    match kind as i32 {
        k @ 0..=4 => {
            let fields = get(call, 2);
            core.log(
                LogInput {
                    level: Level::ALL[k as usize],
                    message: to_text(&get(call, 1)),
                    fields: (!fields.is_undefined() && !fields.is_null()).then(|| to_json(&fields)),
                    at_ms: at(3),
                    request: None,
                    span_id: None,
                },
                t,
            );
        }
        5 => {
            let context = get(call, 4);
            core.exception(
                ExceptionInput {
                    exception_type: opt_string(get(call, 1)).unwrap_or_else(|| "Error".into()),
                    message: to_text(&get(call, 2)),
                    stack: opt_string(get(call, 3)),
                    context: (!context.is_undefined() && !context.is_null())
                        .then(|| to_json(&context)),
                    path: opt_string(get(call, 6)),
                    at_ms: at(5),
                },
                t,
            );
        }
        6 => {
            let status = get(call, 3).as_f64().filter(|s| *s > 0.0).map(|s| s as u16);
            let level = match status {
                Some(s) if s < 400 => Level::Info,
                Some(s) if s < 500 => Level::Warning,
                _ => Level::Error,
            };
            let method = opt_string(get(call, 1)).unwrap_or_else(|| "GET".into());
            let path = opt_string(get(call, 2)).unwrap_or_else(|| "/".into());
            core.log(
                LogInput {
                    level,
                    message: {
                        let mut m = String::with_capacity(method.len() + path.len() + 1);
                        m.push_str(&method);
                        m.push(' ');
                        m.push_str(&path);
                        m
                    },
                    fields: None,
                    at_ms: at(6),
                    request: Some(RequestInfo {
                        method,
                        path,
                        status,
                        duration_ms: get(call, 4).as_f64().unwrap_or(0.0),
                    }),
                    span_id: opt_string(get(call, 5)),
                },
                t,
            );
        }
        7 => {
            if let Some(hex) = get(call, 1).as_string() {
                core.set_trace(&hex);
            }
        }
        8 => core.set_user(opt_string(get(call, 1))),
        _ => {}
    }
}
