//! The pure logger core: no web-sys, no js-sys, no wasm-bindgen.
//!
//! Everything that decides *what* happens lives here and is tested natively; the browser glue
//! in `crate::web` only decides *how* (fetch, localStorage, timers).
//!
//! # Layout
//! - [`engine`]: [`Core`], the sans-IO state machine: record calls, ask what to send, report
//!   outcomes; time is passed into every call.
//! - [`queue`]: open entries with 10 s dedup, cut into size-bounded batches.
//! - [`outbox`]: cut batches in order, persisted once they have to wait, bounded, evicting
//!   oldest first.
//! - [`retry`]: backoff with jitter, Retry-After, parking after `maxRetries`.
//! - [`drops`]: counters of the logger's own losses, reported as a log entry.
//! - [`entry`]: inputs and their wire JSON; [`json`]: the JSON text writer;
//!   [`redact`]: sensitive keys and card numbers; [`time`]: RFC 3339 timestamps.
//! - [`trace`]: the page's trace and per-request spans.
//! - [`storage`]: the injected [`Storage`] and [`Random`] traits and in-memory versions.
//! - [`text`]: splitting on ASCII bytes without `str`'s pattern machinery; [`list`]: `Vec`
//!   removal and insertion without panic paths.
//! - [`config`]: settings and their defaults; [`encoded`]: the compact text the JS entry hands
//!   over, read in place; [`protocol`]: the call kinds and option slots, defined once (the JS
//!   side is generated from it); [`calls`]: the calls and options in it, applied to the core.

pub mod calls;
pub mod config;
pub mod drops;
pub mod encoded;
pub mod engine;
pub mod entry;
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod fixture;
pub mod json;
pub mod list;
pub mod outbox;
pub mod protocol;
pub mod queue;
pub mod redact;
pub mod retry;
pub mod storage;
pub mod text;
pub mod time;
pub mod trace;

pub use config::Config;
pub use drops::{DropKind, Drops};
pub use encoded::Encoded;
pub use engine::{Core, Outcome, SendRequest};
pub use entry::{ExceptionInput, LogInput, RequestInfo, VitalInput};
pub use storage::{MemoryStorage, Random, Storage, StorageError, XorShift};
