//! Tracewire browser logger: Rust compiled to WebAssembly, shipped as `@tracewire/logger`.
//!
//! # Layout
//! - [`core`]: the pure logic (queue, dedup, batching, retry schedule, offline buffer, trace
//!   context, drop accounting). No web APIs; tested natively with proptest.
//! - `web` (wasm32 only): thin wasm-bindgen glue exporting a synchronous, sans-IO surface
//!   (ingest calls and request outcomes, poll for requests as strings, next wake-up). The
//!   hand-written JS owns the platform: `js/index.js` installs the error handlers and the
//!   fetch/XHR patch synchronously and queues calls; `js/host.js` gives the core
//!   `localStorage` and `crypto`, and performs its requests (`fetch`, `sendBeacon`) and timers.
#![deny(missing_docs)]

pub mod core;

/// The module's allocator: lol_alloc's free list (blocks kept in address order and merged)
/// instead of the default dlmalloc, which alone costs several KB of the package's gzip budget.
/// Its O(free blocks) search measured as fast as talc in the browser benchmark, offline
/// overflow included (docs/BENCHMARKS.md), at ~430 B less gzip. Single-threaded wasm only.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
// SAFETY: the module has no threads (no atomics target feature), so nothing allocates concurrently.
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
#[cfg(target_arch = "wasm32")]
pub mod web;
