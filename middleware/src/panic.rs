//! Panic capture for request futures.
//!
//! A backtrace is only useful if taken where the panic happened, before unwinding; by the time
//! `catch_unwind` returns, the stack is gone. So a process-wide panic hook (installed once, and
//! chaining to the previous hook so the usual message is still printed) records the message,
//! location and a forced backtrace into a thread-local slot — but only while this thread is
//! polling a request future, so panics elsewhere cost nothing extra. [`CatchPanic`] polls inside
//! `catch_unwind` on the same thread and picks the record up.

use std::any::Any;
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

/// A panic caught while handling a request.
#[derive(Debug, Clone)]
pub(crate) struct CaughtPanic {
    /// The panic message (`"panicked"` if the payload was not a string).
    pub(crate) message: String,
    /// `file:line:column` of the panic, when known.
    pub(crate) location: Option<String>,
    /// Backtrace captured inside the hook, when the hook ran on this thread.
    pub(crate) backtrace: Option<String>,
}

thread_local! {
    /// How many request futures this thread is polling right now (nesting is possible).
    static WATCHING: Cell<usize> = const { Cell::new(0) };
    /// What the hook recorded for the latest panic on this thread while watching.
    static LAST_PANIC: RefCell<Option<(Option<String>, String)>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the recording hook once per process.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if WATCHING.with(Cell::get) > 0 {
                let location = info.location().map(ToString::to_string);
                let backtrace = Backtrace::force_capture().to_string();
                LAST_PANIC.with(|slot| *slot.borrow_mut() = Some((location, backtrace)));
            }
            previous(info);
        }));
    });
}

/// The text of a panic payload.
fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked".to_owned()
    }
}

/// Runs `f` as a watched call, turning a panic into [`CaughtPanic`].
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, CaughtPanic> {
    WATCHING.with(|w| w.set(w.get() + 1));
    LAST_PANIC.with(|slot| slot.borrow_mut().take());
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    WATCHING.with(|w| w.set(w.get().saturating_sub(1)));
    result.map_err(|payload| {
        let recorded = LAST_PANIC.with(|slot| slot.borrow_mut().take());
        let (location, backtrace) = match recorded {
            Some((location, backtrace)) => (location, Some(backtrace)),
            None => (None, None),
        };
        CaughtPanic {
            message: payload_message(&*payload),
            location,
            backtrace,
        }
    })
}

/// A future that resolves to `Err(CaughtPanic)` instead of unwinding into the executor.
pub(crate) struct CatchPanic<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> CatchPanic<F> {
    pub(crate) fn new(inner: F) -> Self {
        Self {
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, CaughtPanic>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match catch(move || inner.poll(cx)) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(caught) => Poll::Ready(Err(caught)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn explode() {
        panic!("boom {}", 42);
    }

    #[test]
    fn catch_records_message_location_and_backtrace() {
        install_hook();
        let caught = catch(explode).expect_err("panics");
        assert_eq!(caught.message, "boom 42");
        assert!(
            caught
                .location
                .as_deref()
                .is_some_and(|l| l.contains("panic.rs"))
        );
        let backtrace = caught.backtrace.expect("backtrace captured in the hook");
        assert!(backtrace.contains("explode"), "{backtrace}");
    }

    #[test]
    fn future_panics_become_errors() {
        install_hook();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let result = runtime.block_on(CatchPanic::new(async {
            tokio::task::yield_now().await;
            explode();
        }));
        assert_eq!(result.expect_err("panics").message, "boom 42");
    }
}
