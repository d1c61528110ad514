//! Browser glue: binds [`crate::core::Core`] to `fetch`, `localStorage`, `crypto` and timers,
//! and exports the class the JS entry (`js/index.js`) drives.
//!
//! The JS entry owns everything that must exist before the wasm module loads (error handlers,
//! the fetch/XHR patch, the call queue, page lifecycle listeners); it hands queued calls over in
//! chunks with [`WasmLogger::ingest`]. This module turns them into core calls, persists, sends
//! and schedules the next wake-up. Nothing here throws into the application: every browser call
//! that can fail is matched, and the size profile aborts on panic, so no path panics.

mod config;
mod convert;
pub mod platform;
mod transport;

use crate::core::{Core, DropKind, ExceptionInput, LogInput, MemoryStorage, RequestInfo, Storage};
use convert::{to_json, to_text};
use js_sys::{Array, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use tracewire_shared::Level;
use wasm_bindgen::prelude::*;

/// State shared between the exported object, timers and in-flight sends.
pub(crate) struct Inner {
    pub core: Core,
    /// The pending wake-up and its due time.
    pub timer: Option<(f64, gloo_timers::callback::Timeout)>,
    /// True while a send loop runs, so two loops never race for the queue.
    pub pumping: bool,
    /// Set by `shutdown`: nothing more is sent or scheduled.
    pub closed: bool,
}

/// Shared handle to [`Inner`].
pub(crate) type Shared = Rc<RefCell<Inner>>;

fn now() -> f64 {
    js_sys::Date::now()
}

/// One logger instance, created by the JS entry's `init()`.
#[wasm_bindgen]
pub struct WasmLogger {
    inner: Shared,
}

fn get(arr: &Array, i: u32) -> JsValue {
    arr.get(i)
}

fn opt_string(v: JsValue) -> Option<String> {
    v.as_string().filter(|s| !s.is_empty())
}

#[wasm_bindgen]
impl WasmLogger {
    /// Builds the logger from the `init()` options and picks up what earlier page loads left
    /// in localStorage.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> WasmLogger {
        let cfg = config::from_js(&options);
        let persist = Reflect::get(&options, &"offlineStorage".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let storage: Box<dyn Storage> = match platform::LocalStorage::open() {
            Some(ls) if persist => Box::new(ls),
            _ => Box::new(MemoryStorage::new()),
        };
        let core = Core::new(cfg, storage, Box::new(platform::CryptoRandom::new()), now());
        let inner = Rc::new(RefCell::new(Inner {
            core,
            timer: None,
            pumping: false,
            closed: false,
        }));
        transport::wake(&inner);
        WasmLogger { inner }
    }

    /// Takes a chunk of queued calls: each an array `[kind, …]` (see `js/index.js`).
    pub fn ingest(&self, calls: Array) {
        {
            let mut inner = self.inner.borrow_mut();
            let t = now();
            for call in calls.iter() {
                let call = Array::from(&call);
                apply(&mut inner.core, &call, t);
            }
            inner.core.tick(t);
        }
        transport::wake(&self.inner);
    }

    /// Counts calls the JS queue had to drop (its cap was reached before the module loaded).
    #[wasm_bindgen(js_name = recordDropped)]
    pub fn record_dropped(&self, n: f64) {
        let n = if n.is_finite() && n > 0.0 {
            n as u64
        } else {
            0
        };
        self.inner
            .borrow_mut()
            .core
            .record_dropped(DropKind::QueueFull, n);
    }

    /// Cuts everything and sends until nothing more can go now; resolves when done.
    pub fn flush(&self) -> js_sys::Promise {
        self.inner.borrow_mut().core.flush(now());
        transport::flush_promise(self.inner.clone())
    }

    /// The page is hiding: keepalive sends within the browser's budget.
    #[wasm_bindgen(js_name = pageHide)]
    pub fn page_hide(&self) {
        transport::page_hide(&self.inner);
    }

    /// `online` / `offline` events.
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&self, online: bool) {
        self.inner.borrow_mut().core.set_online(online, now());
        transport::wake(&self.inner);
    }

    /// `[traceparent, traceId]` for one outgoing request, with a fresh span.
    #[wasm_bindgen(js_name = traceHeaders)]
    pub fn trace_headers(&self) -> Array {
        let (tp, id) = self.inner.borrow_mut().core.trace_headers();
        Array::of2(&tp.into(), &id.into())
    }

    /// Batches waiting for acknowledgement (tests and diagnostics).
    #[wasm_bindgen(js_name = pendingBatches)]
    pub fn pending_batches(&self) -> u32 {
        u32::try_from(self.inner.borrow().core.pending_batches()).unwrap_or(u32::MAX)
    }

    /// Stops timers and sending; what is stored stays for the next page load.
    pub fn shutdown(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.closed = true;
        inner.timer = None;
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
