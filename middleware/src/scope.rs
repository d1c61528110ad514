//! The request a thread is working on right now.
//!
//! Events reach [`crate::TracewireLayer`] with their span context, which normally names the
//! request. But a global filter (say `RUST_LOG=warn`) can disable the INFO `request` span, and
//! then handler events would lose their trace id. So while a request future is being polled its
//! trace context also sits in a thread-local, which the layer consults when no span carries one.

use std::cell::RefCell;
use std::sync::Arc;

/// Trace context and request line of one request, as attached to its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestScope {
    /// 32 hex digits.
    pub(crate) trace_id: String,
    /// Our hop's span, 16 hex digits.
    pub(crate) span_id: String,
    /// HTTP method.
    pub(crate) method: String,
    /// Raw request path.
    pub(crate) path: String,
    /// The matched route template (`/orders/{id}`); empty when no route matched. Statement
    /// metrics are keyed by it, so their cardinality stays that of the router.
    pub(crate) route: String,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<RequestScope>>> = const { RefCell::new(None) };
}

/// Runs `f` with `scope` as the current request, restoring the previous one afterwards (also
/// when `f` unwinds, so a caught panic cannot leak the scope into the next task).
pub(crate) fn enter<R>(scope: &Arc<RequestScope>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<RequestScope>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            // `try_with`: during thread teardown the slot may be gone already.
            let _ = CURRENT.try_with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|slot| slot.borrow_mut().replace(Arc::clone(scope)));
    let _restore = Restore(previous);
    f()
}

/// The request this thread is polling, if any.
pub(crate) fn current() -> Option<Arc<RequestScope>> {
    CURRENT
        .try_with(|slot| slot.borrow().clone())
        .ok()
        .flatten()
}
