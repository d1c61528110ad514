// @tracewire/logger — hands queued calls to the wasm core as one string plus an array of
// numbers (the format is documented in src/core/encoded.rs; the call kinds and option slots
// come from protocol.js, generated from src/core/protocol.rs). Walking JS objects from Rust would
// cost one wasm-bindgen import per kind of access; this keeps the module's imports to a few.
// Runs at idle time, off the call path. Bounded like the core expects: at most MAX_NODES
// values per object and MAX_DEPTH levels, so huge or cyclic objects cost little.
// Used by the entry (index.js) and the browser tests (tests/web.rs).
import { CRITICAL, INGEST_PATH, OPTIONS } from './protocol.js';

/** Values taken from one object (fields, context); the rest becomes "[truncated]". */
const MAX_NODES = 200;
/** Deepest nesting kept; deeper values become "[depth limit]". */
const MAX_DEPTH = 8;
let text = '';
let nums = [];
let budget = 0;

function str(s) { text += s.length + ':' + s; }
function enc(v, depth) {
  if (budget <= 0) { text += 's'; str('[truncated]'); return; }
  budget--;
  const t = typeof v;
  if (t === 'string') { text += 's'; str(v); }
  else if (t === 'number') {
    // Safe integers (and NaN, ±Infinity) pass as they are; any other number also goes printed
    // by the browser, which is JSON's number text: the module prints only integers itself.
    if (Number.isSafeInteger(v) || !isFinite(v)) text += 'n';
    else { text += 'd'; str(String(v)); }
    nums.push(v);
  }
  else if (t === 'boolean') text += v ? 't' : 'f';
  else if (t === 'bigint') { text += 's'; str(v.toString()); }
  else if (v === null || t !== 'object') text += 'z'; // undefined, functions, symbols
  else if (depth >= MAX_DEPTH) { text += 's'; str('[depth limit]'); }
  else if (v instanceof Error) { text += 'o'; str('name'); text += 's'; str(String(v.name)); str('message'); text += 's'; str(String(v.message)); text += '}'; }
  else if (v instanceof Date) { if (isNaN(v)) text += 'z'; else { text += 's'; str(v.toISOString()); } }
  else if (Array.isArray(v)) {
    text += 'a';
    for (let i = 0, n = Math.min(v.length, budget); i < n; i++) enc(v[i], depth + 1);
    text += ']';
  } else {
    text += 'o';
    for (const k of Object.keys(v)) {
      if (budget <= 0) break;
      let x;
      try { x = v[k]; } catch (_) { x = undefined; } // a throwing getter becomes null
      str(k);
      enc(x, depth + 1);
    }
    text += '}';
  }
}
/** Encodes calls (arrays) for the module's create() and ingest(); a call whose encoding throws is left out. */
export function encode(calls) {
  text = ''; nums = [];
  for (const call of calls) {
    const tl = text.length; const nl = nums.length;
    try {
      text += 'a';
      for (let i = 0; i < call.length; i++) {
        let v = call[i];
        if (i === 1 && call[0] <= CRITICAL && v instanceof Error) v = String(v.message); // message
        budget = MAX_NODES;
        enc(v, 0);
      }
      text += ']';
    } catch (_) { text = text.slice(0, tl); nums.length = nl; }
  }
  const out = [text, nums];
  text = ''; nums = [];
  return out;
}

/** The ingest URL for the `endpoint` option: a collector's base URL or the ingest URL itself
 * (trailing slashes ignored). */
export function ingestUrl(endpoint) {
  const base = String(endpoint || '').replace(/\/+$/, '');
  return base.endsWith(INGEST_PATH) ? base : base + INGEST_PATH;
}

/** `s` as a query value: every UTF-8 byte percent-encoded but RFC 3986's unreserved ones. */
function queryValue(s) {
  let out = '';
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    out += /[\w.~-]/.test(c) ? c : '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}

/**
 * Encodes the init() options positionally, in the slots of protocol.js OPTIONS (as
 * src/core/calls.rs `config_from` reads them): `url` is the ingest URL with the key in its
 * query, and the page's tab suffix (host.js claimOutbox) is in the last.
 */
export function encodeOptions(o, tab) {
  const base = ingestUrl(o.endpoint);
  const key = typeof o.key === 'string' ? o.key : '';
  const url = base + (base.includes('?') ? '&' : '?') + 'key=' + queryValue(key);
  return encode([OPTIONS.map((k) => (k === 'url' ? url : k === 'tab' ? tab
    : k === 'minLevel' && typeof o.minLevel === 'string' ? o.minLevel.trim() : o[k]))]);
}
