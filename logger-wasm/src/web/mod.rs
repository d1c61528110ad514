//! Browser glue: the sans-IO surface the JS entry (`js/index.js`) drives.
//!
//! The JS entry owns everything that touches the platform: the error handlers, the fetch/XHR
//! patch, the call queue, page lifecycle listeners, timers, `fetch`/`sendBeacon` and the
//! promise of `flush()` (`js/host.js`). This module only turns queued calls into core calls and
//! answers synchronously: what to send ([`poll`], as a string) and when to wake up next; what
//! became of a request comes back as a call (OUTCOME) in the next [`ingest`]. Storage and
//! randomness come from `js/host.js` ([`host`]). Nothing here throws into the application: no
//! path panics (the size profile aborts on panic), and the time is an argument of every call.
//!
//! One logger per page, like its storage ([`host::HostStorage`]): the core lives in a
//! module-level slot that [`create`] fills and the other functions use, instead of an exported
//! class. A class costs an `Rc<RefCell>` wrapper, borrow checks and a finalizer in the module,
//! and a wrapper class in the JS glue. Before [`create`] every function does nothing.

pub mod host;

use crate::core::calls::{apply_chunk, config_from};
use crate::core::{Core, SendRequest};
use host::{HostRandom, HostStorage};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// Separates the fields of one request in [`poll`]'s answer (JSON bodies never hold a raw
/// control character).
const FIELD_SEP: char = '\x1f';
/// Separates requests in [`poll`]'s answer.
const RECORD_SEP: char = '\x1e';

thread_local! {
    /// The page's logger, once [`create`] ran.
    static CORE: RefCell<Option<Core>> = const { RefCell::new(None) };
}

/// Runs `f` on the logger's slot. The host functions the core calls never call back into this
/// module, so the borrow is never taken twice; `try_` forms all the same: `with_borrow_mut` and
/// `set` would link panic paths (messages and locations) for what cannot happen.
fn slot<R>(f: impl FnOnce(&mut Option<Core>) -> R) -> Option<R> {
    CORE.try_with(|c| c.try_borrow_mut().ok().map(|mut c| f(&mut c)))
        .ok()
        .flatten()
}

/// Runs `f` on the logger; `None` before [`create`].
fn with<R>(f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    slot(|c| c.as_mut().map(f)).flatten()
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

/// Builds the page's logger from the `init()` options (encoded by the entry, see
/// [`crate::core::calls`]), replacing (and leaking) any earlier one, and picks up what earlier
/// page loads left in the storage the entry selected with `js/host.js`'s `hostOpen`
/// (`localStorage`, or an in-memory map for `offlineStorage: false`; see [`HostStorage`]).
#[wasm_bindgen]
pub fn create(options: &str, nums: &[f64], now: f64) {
    let cfg = config_from(options, nums);
    let core = Core::new(cfg, Box::new(HostStorage), Box::new(HostRandom), now);
    // A replaced logger is leaked, not dropped: the entry creates one per page (`init()` runs
    // once) and only the browser tests replace it (to simulate a reload), while the drop glue
    // of `Core` costs the package 128 B gzip.
    slot(|c| std::mem::forget(c.replace(core)));
}

/// Takes a chunk of queued calls, encoded by the entry into `text` and `nums` (see
/// [`crate::core::calls`]).
#[wasm_bindgen]
pub fn ingest(text: &str, nums: &[f64], now: f64) {
    with(|core| {
        apply_chunk(core, text, nums, now);
        core.tick(now);
    });
}

/// What to send now, as `id \x1f keepalive(0|1) \x1f url \x1f body` per request, requests
/// separated by `\x1e`; empty when nothing is due. Normally the one next request (answer it
/// with an OUTCOME call before polling again: batches leave in order). With `hiding` (pagehide,
/// visibilitychange hidden) it cuts everything and returns the keepalive requests that fit the
/// browser's budget. One export for both keeps one string-returning shim in the module
/// instead of two.
#[wasm_bindgen]
pub fn poll(now: f64, hiding: bool) -> String {
    let mut out = String::new();
    with(|core| {
        if hiding {
            for req in core.page_hide(now) {
                if !out.is_empty() {
                    out.push(RECORD_SEP);
                }
                write_request(&mut out, &req);
            }
        } else if let Some(req) = core.poll(now) {
            write_request(&mut out, &req);
        }
    });
    out
}

/// When to call [`poll`] next (epoch ms); NaN when nothing is pending.
#[wasm_bindgen(js_name = nextWake)]
pub fn next_wake() -> f64 {
    with(|core| core.next_wake()).flatten().unwrap_or(f64::NAN)
}

/// Batches waiting for acknowledgement (tests and diagnostics).
#[wasm_bindgen(js_name = pendingBatches)]
pub fn pending_batches() -> u32 {
    with(|core| u32::try_from(core.pending_batches()).unwrap_or(u32::MAX)).unwrap_or(0)
}
