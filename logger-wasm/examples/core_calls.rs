//! The core's own work per log call, counted in instructions: the browser benchmark's times vary
//! with the machine's load, an instruction count under callgrind does not. Natively (x86-64,
//! not wasm), so it ranks changes to the core; the browser benchmark gives the real times.
//!
//! ```sh
//! cargo build --release -p tracewire-logger --example core_calls
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!   target/release/examples/core_calls [misses|hits|baseline]
//! ```
//!
//! Mirrors the strictest case of `logger-wasm/bench/bench.mjs`: 100,000 calls
//! `info(message, { user: 'ann', items: 3 })` with distinct messages (`misses`) or one repeated
//! message (`hits`), encoded as the JS entry encodes them and handed over in chunks of 2,048
//! calls, with the network cut and a flush every 10,000 calls. `baseline` only builds the
//! chunks: subtract it to get the core's share.
use serde_json::json;
use std::fmt::Write;
use tracewire_logger::core::calls::apply_chunk;
use tracewire_logger::core::protocol::kind;
use tracewire_logger::core::{Config, Core, MemoryStorage, XorShift};

#[path = "../src/core/fixture.rs"]
#[allow(dead_code)]
mod fixture;

const CALLS: usize = 100_000;
const CHUNK: usize = 2048;
const FLUSH_EVERY: usize = 10_000;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "misses".into());
    let (hits, apply) = match mode.as_str() {
        "misses" => (false, true),
        "hits" => (true, true),
        "baseline" => (false, false),
        other => {
            eprintln!("core_calls: unknown mode {other:?} (misses, hits or baseline)");
            std::process::exit(2);
        }
    };
    let cfg = Config {
        url: "http://127.0.0.1:1/api/v1/logging/logs?key=k".into(),
        ..Config::default()
    };
    let storage = Box::new(MemoryStorage::new());
    let mut core = Core::new(cfg, storage, Box::new(XorShift::new(1)), 0.0);
    // A burst: 50 calls per millisecond, timestamps in whole ms like Date.now().
    let mut now = 1_764_000_000_000.0;
    core.set_online(false, now);
    let (mut text, mut nums, mut message) = (String::new(), Vec::new(), String::new());
    for i in 1..=CALLS {
        message.clear();
        if hits {
            message.push_str("same message");
        } else {
            let _ = write!(message, "all miss {i}");
        }
        let call = json!([kind::INFO, message, {"user": "ann", "items": 3}, f64::floor(now)]);
        let (t, n) = fixture::encode(&call);
        text.push_str(&t);
        nums.extend(n);
        if i % CHUNK == 0 || i % FLUSH_EVERY == 0 {
            if apply {
                apply_chunk(&mut core, &text, &nums, now);
                core.tick(now);
            }
            text.clear();
            nums.clear();
        }
        if apply && i % FLUSH_EVERY == 0 {
            core.flush(now);
            while core.poll(now).is_some() {}
        }
        now += 0.02;
    }
    println!(
        "{mode}: {CALLS} calls, {} batches waiting",
        core.pending_batches()
    );
}
