// @tracewire/logger — entry point.
//
// Everything that must work before the WebAssembly module has loaded lives here and runs
// synchronously at import: the error handlers, the fetch/XMLHttpRequest patch, the page
// lifecycle listeners and the call queue. A log call only pushes a small array onto the queue
// (no serialization, no I/O); the queue is handed to the wasm core in chunks at idle time,
// encoded as one string (encode.js). The core is synchronous and does no I/O: host.js gives it
// storage and randomness and performs the requests it asks for, with its timers.
// Nothing here throws into the application: every boundary is wrapped in try/catch.
import initWasm, {
  create, ingest, poll, nextWake, pendingBatches as pendingCount,
} from './tracewire_logger.js';
import { claimOutbox, driver, hostOpen, hostRandom } from './host.js';
import { encode, encodeOptions, ingestUrl } from './encode.js';
import {
  DEBUG, INFO, WARNING, ERROR, CRITICAL, EXCEPTION, REQUEST, TRACE, USER, DROPPED, ONLINE, FLUSH,
  ADOPT, VITAL, OUTCOME,
} from './protocol.js';
import { watchVitals } from './vitals.js';

/** Calls kept while the module loads (or before init()); beyond it they are counted as dropped. */
const MAX_PENDING = 10000;
/** Queue length at which a call hands the queue over at once instead of waiting for idle. */
const SYNC_DRAIN_AT = 2048;

const g = typeof globalThis !== 'undefined' ? globalThis : window;
const pending = [];
let droppedBeforeReady = 0;
/** True once init() has created the page's logger in the wasm module (its exported functions). */
let created = false;
/** The platform side of the core (sends, timers): see host.js. */
let io = null;
let drainScheduled = false;
let ingestPrefix = null;
let propagate = null;
let options = {};
let closed = false;
// The page's fetch before our patch: the logger's own module download must not be logged.
let unpatchedFetch = typeof g.fetch === 'function' ? g.fetch : null;

function hex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}
function randomHex(n) {
  const b = new Uint8Array(n);
  hostRandom(b); // crypto.getRandomValues, or Math.random where it is missing
  if (b.every((x) => x === 0)) b[0] = 1; // all-zero ids are invalid
  return hex(b);
}

// The page's trace starts at import, so requests made before the module loads carry it.
let traceId = randomHex(16);
const bootTrace = traceId;
/** The page load's path: web vitals belong to it, whatever the app navigates to later. */
const bootPath = pagePath();
/** Reports the final web vitals (vitals.js); set by init() unless `webVitals: false`. */
let vitalsHidden = null;

function scheduleDrain() {
  if (drainScheduled || !created) return;
  drainScheduled = true;
  const run = () => { drainScheduled = false; drain(); };
  if (typeof g.requestIdleCallback === 'function') g.requestIdleCallback(run, { timeout: 1000 });
  else setTimeout(run, 0);
}

function drain() {
  if (!created || pending.length === 0) return;
  try {
    const calls = pending.splice(0, pending.length);
    // The drop count and the online flag travel as calls, not exports of their own.
    if (droppedBeforeReady) { calls.unshift([DROPPED, droppedBeforeReady]); droppedBeforeReady = 0; }
    const [t, n] = encode(calls);
    ingest(t, n, Date.now());
    io.wake();
  } catch (_) { /* never throw into the app */ }
}

function push(call) {
  if (closed) return;
  if (pending.length >= MAX_PENDING) { droppedBeforeReady++; return; }
  pending.push(call);
  if (created) {
    if (pending.length >= SYNC_DRAIN_AT) drain();
    else if (!drainScheduled) scheduleDrain();
  }
}

/** Logs at DEBUG. */
export function debug(message, fields) { push([DEBUG, message, fields && { ...fields }, Date.now()]); }
/** Logs at INFO. */
export function info(message, fields) { push([INFO, message, fields && { ...fields }, Date.now()]); }
/** Logs at WARNING. */
export function warn(message, fields) { push([WARNING, message, fields && { ...fields }, Date.now()]); }
/** Logs at ERROR. */
export function error(message, fields) { push([ERROR, message, fields && { ...fields }, Date.now()]); }
/** Logs at CRITICAL. */
export function critical(message, fields) { push([CRITICAL, message, fields && { ...fields }, Date.now()]); }

function pagePath() { try { return g.location ? g.location.pathname : undefined; } catch (_) { return undefined; } }

/** Records an exception (an Error or anything thrown) with optional context fields. */
export function captureException(err, context) {
  try {
    const e = err instanceof Error ? err : null;
    const type = e ? (e.name || (e.constructor && e.constructor.name) || 'Error') : typeof err === 'string' ? 'Error' : 'NonErrorThrown';
    let message;
    try { message = e ? e.message : typeof err === 'string' ? err : JSON.stringify(err); } catch (_) { message = String(err); }
    push([EXCEPTION, type, message, e && typeof e.stack === 'string' ? e.stack : undefined, context, Date.now(), pagePath()]);
  } catch (_) { /* never throw */ }
}

/** Attaches a user id to every later entry (null clears it). */
export function setUser(id) { push([USER, id == null ? '' : String(id)]); }

/** Starts a new trace (e.g. on a client-side navigation); returns its id. */
export function newTrace() {
  traceId = randomHex(16);
  push([TRACE, traceId]);
  return traceId;
}

/** Headers to continue the current trace on a request the patch does not see. */
export function traceHeaders() {
  const span = randomHex(8);
  return { traceparent: `00-${traceId}-${span}-01`, 'x-trace-id': traceId };
}

// ---- error capture (installed at import) -------------------------------------------------
function onError(ev) {
  if (options.captureErrors === false) return;
  try {
    if (ev.error) captureException(ev.error);
    else push([EXCEPTION, 'Error', ev.message || 'Script error', ev.filename ? `at ${ev.filename}:${ev.lineno}:${ev.colno}` : undefined, undefined, Date.now(), pagePath()]);
  } catch (_) { /* never throw */ }
}
function onRejection(ev) {
  if (options.captureErrors === false) return;
  try { captureException(ev.reason, { unhandledrejection: true }); } catch (_) { /* never throw */ }
}

// ---- request instrumentation (installed at import) ---------------------------------------
function resolveUrl(u) { try { return new URL(u, g.location ? g.location.href : undefined); } catch (_) { return null; } }

function shouldPropagate(url) {
  const list = propagate || [g.location ? g.location.origin : ''];
  for (const p of list) {
    if (p instanceof RegExp) { if (p.test(url.href)) return true; }
    else if (typeof p === 'string') { const o = resolveUrl(p); if (o && o.origin === url.origin) return true; }
  }
  return false;
}
function isOwn(url) { return ingestPrefix !== null && url.href.startsWith(ingestPrefix); }

function logRequest(method, url, status, started, span) {
  // In whole microseconds: a difference of two clock readings prints as 12.300000000000182.
  const ms = Math.round(((g.performance ? performance.now() : Date.now()) - started) * 1000) / 1000;
  push([REQUEST, method, url.pathname, status, ms, span, Date.now()]);
}

function patchFetch() {
  const orig = g.fetch;
  if (typeof orig !== 'function') return;
  g.fetch = function tracewireFetch(input, init) {
    let url = null; let method = 'GET'; let span = null;
    try {
      url = resolveUrl(typeof input === 'string' || input instanceof URL ? input : input && input.url);
      method = ((init && init.method) || (input && input.method) || 'GET').toUpperCase();
      if (url && !isOwn(url) && options.instrumentFetch !== false && shouldPropagate(url)) {
        span = randomHex(8);
        const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
        headers.set('traceparent', `00-${traceId}-${span}-01`);
        headers.set('x-trace-id', traceId);
        if (input instanceof Request && !(init && init.headers)) input = new Request(input, { headers });
        else init = { ...(init || {}), headers };
      }
    } catch (_) { span = null; }
    if (!url || isOwn(url) || options.instrumentFetch === false) return orig.call(this, input, init);
    const started = g.performance ? performance.now() : Date.now();
    const p = orig.call(this, input, init);
    try {
      p.then((r) => logRequest(method, url, r.status, started, span), () => logRequest(method, url, 0, started, span));
    } catch (_) { /* never throw */ }
    return p;
  };
}

function patchXhr() {
  const X = g.XMLHttpRequest;
  if (typeof X !== 'function') return;
  const open = X.prototype.open; const send = X.prototype.send;
  X.prototype.open = function (method, url, ...rest) {
    try { this.__tw = { method: String(method || 'GET').toUpperCase(), url: resolveUrl(url) }; } catch (_) { this.__tw = null; }
    return open.call(this, method, url, ...rest);
  };
  X.prototype.send = function (body) {
    const tw = this.__tw;
    try {
      if (tw && tw.url && !isOwn(tw.url) && options.instrumentFetch !== false) {
        const span = shouldPropagate(tw.url) ? randomHex(8) : null;
        if (span) {
          this.setRequestHeader('traceparent', `00-${traceId}-${span}-01`);
          this.setRequestHeader('x-trace-id', traceId);
        }
        const started = g.performance ? performance.now() : Date.now();
        this.addEventListener('loadend', () => logRequest(tw.method, tw.url, this.status, started, span));
      }
    } catch (_) { /* never throw */ }
    return send.call(this, body);
  };
}

// ---- page lifecycle ----------------------------------------------------------------------
function onHide() {
  try { if (vitalsHidden) vitalsHidden(); drain(); if (io) io.pageHide(); } catch (_) { /* never throw */ }
}
function onVisibility() { if (g.document && g.document.visibilityState === 'hidden') onHide(); }
/** Hands the core one call of `kind` with `args` at `now`: see src/core/calls.rs. */
function call(kind, now, ...args) { const [t, n] = encode([[kind, ...args]]); ingest(t, n, now); }
function setOnline(on) {
  try { if (created) { call(ONLINE, Date.now(), on); io.wake(); } } catch (_) { /* never throw */ }
}
/** This tab now drains the shared offline buffer (the tab that did closed): adopt its batches. */
function takeOver() {
  try { if (created && !closed) { call(ADOPT, Date.now()); io.wake(); } } catch (_) { /* never throw */ }
}
function onOnline() { setOnline(true); }
function onOffline() { setOnline(false); }

if (typeof g.addEventListener === 'function') {
  g.addEventListener('error', onError);
  g.addEventListener('unhandledrejection', onRejection);
  g.addEventListener('pagehide', onHide);
  g.addEventListener('online', onOnline);
  g.addEventListener('offline', onOffline);
  if (g.document) g.document.addEventListener('visibilitychange', onVisibility);
  patchFetch();
  patchXhr();
}

let ready = null;
/**
 * Loads the module and starts sending. Returns a promise; calls made before it resolves are
 * queued, not lost. `wasm` may name the .wasm file (URL, Response or bytes) for unusual setups.
 */
export function init(opts = {}) {
  if (ready) return ready;
  options = opts || {};
  propagate = Array.isArray(options.propagateTo) ? options.propagateTo : null;
  try {
    if (options.webVitals !== false) {
      vitalsHidden = watchVitals((name, value, navigationType) =>
        push([VITAL, name, value, bootPath, navigationType, bootTrace, Date.now()]));
    }
  } catch (_) { /* no Performance API: no vitals */ }
  try {
    const full = ingestUrl(options.endpoint);
    ingestPrefix = resolveUrl(full) ? resolveUrl(full).href : full;
  } catch (_) { ingestPrefix = null; }
  let source = options.wasm;
  try {
    if (!source && unpatchedFetch) {
      // A missing file is the usual set-up mistake (a bundler that did not copy the .wasm):
      // say so, rather than let the compiler choke on an HTML error page.
      source = unpatchedFetch.call(g, new URL('./tracewire_logger_bg.wasm', import.meta.url)).then((r) => {
        if (!r.ok) throw new Error(`${r.status} fetching ${r.url}`);
        return r;
      });
    }
  } catch (_) { source = undefined; }
  // The outbox lock is settled before the core loads the stored batches (host.js).
  const claimed = options.offlineStorage !== false ? claimOutbox(options.key, takeOver) : null;
  ready = initWasm({ module_or_path: source })
    .then(() => claimed)
    .then((tab) => {
      const [t, n] = encodeOptions(options, tab);
      hostOpen(options.offlineStorage !== false); // the store the core opens
      create(t, n, Date.now());
      created = true;
      io = driver({
        poll,
        outcome: (id, status, retryAfter, now) => call(OUTCOME, now, id, status, retryAfter),
        nextWake,
        flush: (now) => call(FLUSH, now),
        pendingBatches: pendingCount,
      });
      pending.unshift([TRACE, bootTrace]);
      if (g.navigator && g.navigator.onLine === false) pending.unshift([ONLINE, false]);
      drain();
      io.wake();
    })
    .catch((e) => { try { console.warn('[tracewire] logger disabled:', e); } catch (_) { /* ignore */ } });
  return ready;
}

/** Sends everything queued; resolves when nothing more can be sent now. Never rejects. */
export async function flush() {
  try {
    if (ready) await ready;
    if (!created) return;
    drain();
    await io.flush();
  } catch (_) { /* never reject */ }
}

/** Flushes, then stops timers and sending; stored entries go on the next page load. */
export async function shutdown() {
  await flush();
  closed = true;
  if (io) io.close();
}

/** Batches not yet acknowledged by the collector (diagnostics). */
export function pendingBatches() { try { return created ? pendingCount() : 0; } catch (_) { return 0; } }

export default { init, debug, info, warn, error, critical, captureException, setUser, newTrace, traceHeaders, flush, shutdown, pendingBatches };
