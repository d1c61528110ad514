//! Sending what the core asks for with `fetch`, and waking the core up on time.

use super::{Shared, now};
use crate::core::{Outcome, SendRequest};
use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{RequestInit, Response};

/// Longest sleep between wake-ups; also bounds the effect of a clock jump.
const MAX_SLEEP_MS: f64 = 60_000.0;

/// Starts a send loop if none runs, and (re)arms the timer for the core's next wake-up.
pub(crate) fn wake(inner: &Shared) {
    let start = {
        let mut me = inner.borrow_mut();
        !me.closed && !std::mem::replace(&mut me.pumping, true)
    };
    if start {
        let inner = inner.clone();
        spawn_local(async move {
            pump(&inner).await;
            inner.borrow_mut().pumping = false;
            arm_timer(&inner);
        });
    } else {
        arm_timer(inner);
    }
}

fn arm_timer(inner: &Shared) {
    let mut me = inner.borrow_mut();
    if me.closed {
        return;
    }
    let Some(due) = me.core.next_wake() else {
        return;
    };
    let t = now();
    let due = due.max(t).min(t + MAX_SLEEP_MS);
    if me.timer.as_ref().is_some_and(|(d, _)| *d <= due) {
        return;
    }
    let weak = std::rc::Rc::downgrade(inner);
    let delay = (due - t).max(0.0) as u32;
    let timeout = Timeout::new(delay, move || {
        if let Some(inner) = weak.upgrade() {
            inner.borrow_mut().timer = None;
            wake(&inner);
        }
    });
    me.timer = Some((due, timeout));
}

/// Sends batches one by one until the core has nothing due.
async fn pump(inner: &Shared) {
    loop {
        let req = {
            let mut me = inner.borrow_mut();
            if me.closed {
                return;
            }
            me.core.poll(now())
        };
        let Some(req) = req else { return };
        let outcome = send(&req).await;
        inner.borrow_mut().core.on_outcome(req.id, outcome, now());
    }
}

/// A promise resolving once the send loop has nothing more to do now.
pub(crate) fn flush_promise(inner: Shared) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        // Wait for a running loop to finish its request, then run our own.
        for _ in 0..200 {
            if !inner.borrow().pumping {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(5).await;
        }
        inner.borrow_mut().pumping = true;
        pump(&inner).await;
        inner.borrow_mut().pumping = false;
        arm_timer(&inner);
        Ok(JsValue::from(inner.borrow().core.pending_batches() as u32))
    })
}

/// Keepalive sends of the oldest batches when the page hides.
pub(crate) fn page_hide(inner: &Shared) {
    let reqs = inner.borrow_mut().core.page_hide(now());
    for req in reqs {
        let inner = inner.clone();
        spawn_local(async move {
            let outcome = send(&req).await;
            inner.borrow_mut().core.on_outcome(req.id, outcome, now());
        });
    }
}

/// One POST; `text/plain` body and the key in the URL keep it a CORS-simple request.
async fn send(req: &SendRequest) -> Outcome {
    let Some(window) = web_sys::window() else {
        return Outcome::NetworkError;
    };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&req.body));
    if req.keepalive {
        // `keepalive` is not in web-sys's stable RequestInit API yet.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    }
    let promise = window.fetch_with_str_and_init(&req.url, &init);
    let response = match JsFuture::from(promise).await {
        Ok(r) => r,
        Err(_) if req.keepalive => {
            // Over the keepalive quota or refused: a beacon may still be accepted.
            let queued: bool = window
                .navigator()
                .send_beacon_with_opt_str(&req.url, Some(&req.body))
                .unwrap_or(false);
            // Either way the fate is unknown: the batch stays stored and goes again later with
            // the same batch_id (the collector stores it once).
            let _ = queued;
            return Outcome::NetworkError;
        }
        Err(_) => return Outcome::NetworkError,
    };
    let Ok(response) = response.dyn_into::<Response>() else {
        return Outcome::NetworkError;
    };
    let retry_after_ms = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        // Delay-seconds form only; an HTTP-date falls back to the backoff schedule. (Parsing
        // floats would pull Rust's float tables into the module.)
        .and_then(|v| crate::core::json::parse_u64(v.trim()))
        .map(|s| s.min(u64::from(u32::MAX)) as f64 * 1000.0);
    Outcome::Status {
        status: response.status(),
        retry_after_ms,
    }
}
