// @tracewire/logger — loads the wasm core and calls it: a hand-written stand-in for the JS glue
// wasm-bindgen generates for src/web (~1.5 KB of the package's gzip for its generic loader and
// helpers; this takes ~0.5 KB). It follows that glue's ABI: wasm-abi.txt records the glue and
// module it was written against, and scripts/build-logger.sh fails when wasm-bindgen's output
// differs from it. The build also renames the `wasm.<export>` accesses, the import names
// (wasm-bindgen's, without their hashes) and the import module below to the module's minified
// names (scripts/logger-abi.mjs).
import { hostGet, hostKeys, hostOpen, hostRandom, hostRemove, hostSet } from './host.js';

/** The instance's exports, once init() ran; before, every function below throws. */
let wasm;
const encoder = new TextEncoder();
let decoder;
let decoded = 0;

/** A view of the module's memory, made for each use: memory.grow detaches the old buffer. */
const bytes = (ptr, len) => new Uint8Array(wasm.memory.buffer, ptr, len);

/** A UTF-8 string the module lends (ptr, len): decoded, never freed here. */
function str(ptr, len) {
  // Safari 16 to 18.4 throw once one TextDecoder has decoded 2 GiB in all (WebKit bug 280593):
  // a long-lived page gets a fresh one before that.
  if (!decoder || (decoded += len) > 2e9) {
    decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    decoded = len;
  }
  return decoder.decode(bytes(ptr, len));
}

/**
 * Copies bytes into a new allocation of exactly their size and returns its address. The module
 * owns it from then on: it rebuilds a String or Box<[f64]> of that length and frees it with
 * that layout, so the size must be exact.
 */
function pass(b, align) {
  const ptr = wasm.__wbindgen_malloc(b.length, align);
  bytes(ptr, b.length).set(b);
  return ptr;
}

/** A `&str, &[f64]` argument pair as the (ptr, len, ptr, count) the module takes. */
function strAndNums(text, nums) {
  // Both converted before anything is allocated: nothing can throw between the allocations.
  const t = encoder.encode(text);
  const n = new Uint8Array(Float64Array.from(nums).buffer);
  return [pass(t, 1), t.length, pass(n, 8), n.length / 8];
}

/**
 * An import's String or Option<String> result, returned as (ptr, len) written at `ret`, a slot
 * on the module's stack (4-aligned); ptr 0 is None. The slot's view is made after the
 * allocation, which may grow memory.
 */
function out(ret, s) {
  const b = s == null ? null : encoder.encode(s);
  const ptr = b ? pass(b, 1) : 0;
  new Int32Array(wasm.memory.buffer, ret, 2).set([ptr, b ? b.length : 0]);
}

const imports = {
  './tracewire_logger_bg.js': {
    __wbg_hostOpen: (persist) => hostOpen(persist !== 0),
    __wbg_hostGet: (ret, ptr, len) => out(ret, hostGet(str(ptr, len))),
    __wbg_hostSet: (kPtr, kLen, vPtr, vLen) => hostSet(str(kPtr, kLen), str(vPtr, vLen)),
    __wbg_hostRemove: (ptr, len) => hostRemove(str(ptr, len)),
    __wbg_hostKeys: (ret, ptr, len) => out(ret, hostKeys(str(ptr, len))),
    // Filled in place: a view of the module's memory, not a copy.
    __wbg_hostRandom: (ptr, len) => hostRandom(bytes(ptr, len)),
    // wasm-bindgen's glue puts its reserved JS values (undefined, null, true, false) into the
    // module's externref table here. No JS value crosses (src/web/host.rs) and the module never
    // reads that table (the build checks), so it stays empty.
    __wbindgen_init_externref_table() {},
  },
};

/**
 * Instantiates the module; once per page. `source`: a URL, a Response (or a promise of one),
 * the bytes, or a WebAssembly.Module.
 */
export default async function init(source) {
  source = await source;
  if (typeof source === 'string' || source instanceof URL) source = await fetch(source);
  let result;
  if (source instanceof Response) {
    // A missing file is the usual set-up mistake (a bundler that did not copy the .wasm): say so.
    if (!source.ok) throw new Error(`${source.status} fetching ${source.url}`);
    try {
      result = await WebAssembly.instantiateStreaming(source, imports);
    } catch (e) {
      // Refused before reading the body, as when not served as application/wasm: compile the
      // bytes instead.
      if (source.bodyUsed) throw e;
      result = await WebAssembly.instantiate(await source.arrayBuffer(), imports);
    }
  } else {
    result = await WebAssembly.instantiate(source, imports);
  }
  wasm = (result.instance || result).exports;
  wasm.__wbindgen_start();
}

// The exports, with the glue's signatures. Numbers and booleans pass as they are; &str and
// &[f64] arguments move into the module, which frees them after the call.
export function create(options, nums, persist, now) {
  wasm.create(...strAndNums(options, nums), persist, now);
}

export function ingest(text, nums, now) {
  wasm.ingest(...strAndNums(text, nums), now);
}

/** A String result comes back as [ptr, len] (multi-value), for the caller to free. */
export function poll(now, hiding) {
  const [ptr, len] = wasm.poll(now, hiding);
  const s = str(ptr, len);
  wasm.__wbindgen_free(ptr, len, 1);
  return s;
}

export const outcome = (id, status, retryAfterMs, now) =>
  wasm.outcome(id, status, retryAfterMs, now);

export const nextWake = () => wasm.nextWake();

/** A u32 result comes back as an i32. */
export const pendingBatches = () => wasm.pendingBatches() >>> 0;
