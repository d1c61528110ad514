// @tracewire/logger — the platform side of the wasm core: localStorage and crypto for the core
// (storageHost, imported by the module as host* functions), and the driver that performs what the core asks for (fetch, sendBeacon,
// timers, the promise of flush). The core itself is synchronous and does no I/O: it answers
// poll() with a request string and is told the outcome. Used by the entry (index.js) and by
// the browser tests (tests/web.rs). Nothing here throws: every platform call is guarded.

/** `localStorage`, or null where the page may not use it (private mode, sandbox, settings). */
function localStore() {
  try { return globalThis.localStorage || null; } catch (_) { return null; }
}

/** Random bytes from crypto.getRandomValues, or Math.random where it is missing. */
function random(b) {
  try { globalThis.crypto.getRandomValues(b); } catch (_) { for (let i = 0; i < b.length; i++) b[i] = Math.random() * 256; }
}

// ---- one drainer of the shared buffer across tabs -----------------------------------------
// Every tab writes its batches and its drop counters under its own keys
// (tracewire:b:<time><seq><tab>, tracewire:d:<tab>). Where navigator.locks exists, only the tab
// holding `tracewire-outbox-<key hash>` adopts records it did not write, and never those of a
// tab still open: each tab holds `…-tab-<suffix>` from before its core exists (it chooses the
// suffix itself, see claimOutbox), so no record of an open tab is ever listed to another.
// Every stored batch then has exactly one sender, and every drop is counted once. The other
// tabs wait for the outbox lock; when the holder closes, the next one takes over and adopts
// what the closed tab left, without a reload. Without navigator.locks every tab adopts all,
// at load.
/** Which stored keys (batches, drop counters) the core may adopt; null for all. */
let mayAdopt = null;

function webLocks() {
  try { const l = globalThis.navigator.locks; return l && typeof l.request === 'function' ? l : null; } catch (_) { return null; }
}

/** Requests lock `name` and keeps it for the page's life: true held, false taken, null error. */
function hold(name, opts) {
  return new Promise((resolve) => {
    try {
      webLocks().request(name, opts, (lock) => { resolve(!!lock); return lock ? new Promise(() => {}) : undefined; })
        .catch(() => resolve(null));
    } catch (_) { resolve(null); }
  });
}

/** Lets the core adopt the batches of every tab not open now (held `…-tab-` locks). */
async function adoptClosedTabs(l, name) {
  const live = new Set();
  const tab = name + '-tab-';
  try { for (const x of (await l.query()).held || []) if (x.name && x.name.startsWith(tab)) live.add(x.name.slice(tab.length)); } catch (_) { /* none known */ }
  mayAdopt = (k) => !live.has(k.slice(-4));
}

/**
 * Decides, before the core is constructed, which stored batches this page may adopt, and
 * resolves (never rejects) to this page's tab suffix (0–65535: the last four hex digits of
 * every key the core writes), whose lock it holds from then on. `appKey` scopes the locks to
 * one app's ingest key. A tab that does not get the outbox lock waits for it and calls
 * `takeOver` once it holds it: the core should then adopt the stored records again (the
 * closed holder's are now its to send).
 */
export async function claimOutbox(appKey, takeOver) {
  const b = new Uint16Array(1);
  const pick = () => { random(new Uint8Array(b.buffer)); return b[0]; };
  let tab = pick();
  try {
    const l = webLocks();
    if (!l) return tab;
    let h = 0x811c9dc5; // FNV-1a
    for (const c of String(appKey || '')) h = Math.imul(h ^ c.codePointAt(0), 0x01000193);
    const name = 'tracewire-outbox-' + (h >>> 0).toString(16);
    // Held before the core can write a key; another suffix if an open tab has this one.
    for (let i = 0; i < 8; i++, tab = pick()) {
      const mine = await hold(name + '-tab-' + tab.toString(16).padStart(4, '0'), { ifAvailable: true });
      if (mine === null) return tab;
      if (mine) break;
    }
    const got = await hold(name, { ifAvailable: true });
    if (got === null) return tab; // unusable (opaque origin…): every tab adopts all
    if (got) { await adoptClosedTabs(l, name); return tab; }
    mayAdopt = () => false;
    hold(name, {}).then(async (now) => {
      if (!now) return;
      await adoptClosedTabs(l, name);
      try { takeOver(); } catch (_) { /* never throw */ }
    });
  } catch (_) { /* adopt all */ }
  return tab;
}

/** Keys in ascending order (code units; the core's keys are ASCII), one per line: the core loads
 * stored batches in key order and carries no sort routine of its own. */
function sorted(keys) { return keys.sort().join('\n'); }

/**
 * Storage for the core (src/web/host.rs). Backed by localStorage,
 * or with `persist` false (offlineStorage: false, or no usable localStorage) by a Map that
 * lives as long as the page: unsent batches then stay in memory only.
 */
export function storageHost(persist) {
  const ls = persist ? localStore() : null;
  if (!ls) {
    const m = new Map();
    return {
      get: (k) => m.get(k),
      set: (k, v) => { m.set(k, v); return 0; },
      remove: (k) => { m.delete(k); },
      keys: (p) => sorted([...m.keys()].filter((k) => k.startsWith(p))),
    };
  }
  return {
    get(k) { try { const v = ls.getItem(k); return v == null ? undefined : v; } catch (_) { return undefined; } },
    // 0 stored, 1 quota exceeded, 2 unavailable.
    set(k, v) {
      try { ls.setItem(k, v); return 0; } catch (e) { return e && (e.name === 'QuotaExceededError' || e.code === 22) ? 1 : 2; }
    },
    remove(k) { try { ls.removeItem(k); } catch (_) { /* gone either way */ } },
    keys(p) {
      const a = [];
      try { for (let i = 0; i < ls.length; i++) { const k = ls.key(i); if (k && k.startsWith(p) && (!mayAdopt || mayAdopt(k))) a.push(k); } } catch (_) { /* none */ }
      return sorted(a);
    },
  };
}

/** The storage the wasm core's imports below use. */
let current = storageHost(false);
/** Selects localStorage (`persist`) or a fresh in-memory map for the core; the entry calls it
 * before the module's create() (here rather than from the module: one import less). */
export function hostOpen(persist) { current = storageHost(persist); }

// The wasm module imports these free functions (src/web/host.rs) instead of calling methods
// on a host object: no JS object crosses into wasm, so wasm-bindgen needs no externref glue.
/** The value under `k`, or with `list` the keys starting with `k` (one import for both reads). */
export function hostGet(k, list) { return list ? current.keys(k) : current.get(k); }
/** Stores `v` under `k`, or removes `k` when `v` is undefined (one import for both writes). */
export function hostSet(k, v) { if (v === undefined) { current.remove(k); return 0; } return current.set(k, v); }
export { random as hostRandom };

/**
 * One POST; a string body (text/plain) and the key in the URL keep it a CORS-simple request.
 * Resolves to [status, retryAfterMs]: status 0 for no answer, retryAfterMs NaN when absent
 * (delay-seconds form only; an HTTP-date falls back to the backoff schedule).
 */
export async function send(url, body, keepalive) {
  try {
    const r = await globalThis.fetch(url, { method: 'POST', body, keepalive });
    const ra = r.headers.get('retry-after');
    return [r.status, ra && /^\s*\d+\s*$/.test(ra) ? Math.min(+ra, 4294967295) * 1000 : NaN];
  } catch (_) {
    // Over the keepalive quota or refused: a beacon may still be accepted. Either way the fate
    // is unknown: the batch stays stored and goes again later with the same batch_id.
    if (keepalive) try { globalThis.navigator.sendBeacon(url, body); } catch (_) { /* ignore */ }
    return [0, NaN];
  }
}

/** Longest sleep between wake-ups; also bounds the effect of a clock jump. */
const MAX_SLEEP_MS = 60000;

/**
 * Drives a core ({ poll, outcome, nextWake, flush, pendingBatches }: the module's exports, with
 * outcome(id, status, retryAfterMs, now) and flush(now) handing it an OUTCOME or FLUSH call):
 * one send loop at a time, in order, and a timer for the core's next wake-up.
 * Returns { wake, flush, pageHide, close }.
 */
export function driver(core) {
  /** True while a send loop runs; `loop` is its promise. */
  let running = false;
  let loop = null;
  let timer = null;
  let due = 0;
  let closed = false;

  // A request string from the core: id \x1f keepalive \x1f url \x1f body.
  async function perform(req) {
    try {
      const f = req.split('\x1f');
      const [status, retryAfter] = await send(f[2], f.slice(3).join('\x1f'), f[1] === '1');
      core.outcome(+f[0], status, retryAfter, Date.now());
    } catch (_) { /* never throw */ }
  }

  async function pump() {
    // Set here, not by the caller: a loop with nothing to send finishes before pump() returns.
    running = true;
    try {
      for (let r; !closed && (r = core.poll(Date.now(), false));) await perform(r);
    } catch (_) { /* never throw */ }
    running = false;
    arm();
  }

  function arm() {
    if (closed) return;
    try {
      const next = core.nextWake();
      if (next !== next) return; // NaN: nothing pending
      const t = Date.now();
      const at = Math.min(Math.max(next, t), t + MAX_SLEEP_MS);
      if (timer !== null && due <= at) return;
      clearTimeout(timer);
      due = at;
      timer = setTimeout(() => { timer = null; wake(); }, at - t);
    } catch (_) { /* never throw */ }
  }

  /** Starts the send loop if none runs, and (re)arms the timer. */
  function wake() {
    if (closed) return;
    if (running) arm();
    else loop = pump();
  }

  /** Cuts everything and sends until nothing more can go now; resolves to pending batches. */
  async function flush() {
    try {
      core.flush(Date.now());
      // Let a running loop finish its request (bounded), then run our own.
      if (running) await Promise.race([loop, new Promise((r) => setTimeout(r, 1000))]);
      await (loop = pump());
      return core.pendingBatches();
    } catch (_) { return 0; }
  }

  /** The page is hiding: keepalive sends within the browser's budget. */
  function pageHide() {
    try {
      const reqs = core.poll(Date.now(), true);
      if (reqs) for (const r of reqs.split('\x1e')) perform(r);
    } catch (_) { /* never throw */ }
  }

  /** Stops timers and sending; what is stored stays for the next page load. */
  function close() { closed = true; clearTimeout(timer); timer = null; }

  return { wake, flush, pageHide, close };
}
