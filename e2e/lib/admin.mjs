// The admin UI's test world: a collector (whose binary embeds the UI) over a fresh SQLite file,
// seeded through the ingest API with logs of every level and source, a trace that crosses
// frontend and backend with an exception, duplicates, and hostile values; a viewer user; a
// Chromium context; helpers to sign in, run axe-core and save screenshots at two sizes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { COLLECTOR_BIN, ROOT } from './paths.mjs';
import { ADMIN_PASSWORD, INGEST_KEY, freePort, startCollector, tempDir } from './procs.mjs';

export { ADMIN_PASSWORD };
export const VIEWER_PASSWORD = 'e2e-viewer-password';
/** The trace that crosses frontend and backend. */
export const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
/** Values that would run script if the UI ever rendered log values as HTML or followed them. */
export const XSS = {
  message: '<img src=x onerror="window.__xss=1"> checkout <b>bold</b>',
  module: 'javascript:window.__xss=2',
  path: 'javascript:alert(document.domain)',
  extra: '<script>window.__xss=3</script>',
};
/** Where screenshots go (kept as test artifacts). */
export const SHOTS = path.join(ROOT, 'e2e', '.artifacts', 'screenshots');
export const SIZES = [[1366, 768], [1920, 1080]];

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Starts the collector, seeds it, adds a viewer and opens Chromium. */
export async function startAdmin() {
  if (!fs.existsSync(COLLECTOR_BIN)) throw new Error(`${COLLECTOR_BIN} is missing: run \`node e2e/lib/build.mjs\``);
  const dir = tempDir('admin');
  const dbPath = path.join(dir, 'tracewire.db');
  const port = await freePort();
  const logFile = path.join(dir, 'collector.log');
  const world = { dir, dbPath, port };
  world.collector = await startCollector({ port, dbPath, logFile });
  world.base = world.collector.base;
  execFileSync(COLLECTOR_BIN, ['--database-url', `sqlite://${dbPath}`, 'user', 'add', 'viewer', '--role', 'viewer'], {
    env: { ...process.env, TRACEWIRE_USER_PASSWORD: VIEWER_PASSWORD }, stdio: 'ignore',
  });
  world.seededAt = Date.now();
  await seed(world.base, world.seededAt);
  world.browser = await launchBrowser();
  world.restart = async () => {
    world.collector = await startCollector({ port, dbPath, logFile });
    return world.collector;
  };
  world.close = async () => {
    await world.browser?.close();
    await world.collector.stop();
    if (!process.env.TRACEWIRE_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };
  return world;
}

/** Sends one batch to the ingest endpoint. */
export async function ingest(base, body) {
  const r = await fetch(`${base}/api/v1/logging/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tracewire-key': INGEST_KEY },
    body: JSON.stringify({ batch_id: crypto.randomUUID(), sdk: { name: 'e2e', version: '1' }, ...body }),
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARNING', 'ERROR', 'INFO', 'DEBUG', 'CRITICAL', 'INFO'];
const iso = (ms) => new Date(ms).toISOString();

/** 240 ordinary logs over the last 50 minutes, the trace, duplicates, hostile values, exceptions. */
async function seed(base, now) {
  for (const source of ['frontend', 'backend']) {
    const logs = [];
    for (let i = 0; i < 120; i += 1) {
      const t = now - 50 * 60_000 + i * 25_000 + (source === 'backend' ? 7_000 : 0);
      logs.push({
        level: LEVELS[i % LEVELS.length],
        message: `${source === 'frontend' ? 'page' : 'request'} event ${i}: ${['cart updated', 'search ran', 'user signed in', 'order placed'][i % 4]}`,
        timestamp: iso(t),
        module: ['cart', 'search', 'auth', 'orders'][i % 4],
        function: 'handle',
        user_id: `user-${i % 3}`,
        request_method: 'GET',
        request_path: ['/api/cart/items', '/api/search', '/api/login', '/api/orders/17'][i % 4],
        response_status: i % 10 === 5 ? 500 : 200,
        duration_ms: 5 + (i % 7) * 13,
        extra_data: { attempt: i % 3, tags: ['a', 'b'], nested: { ok: i % 2 === 0 } },
      });
    }
    await ingest(base, { source, logs });
  }
  const t0 = now - 5 * 60_000;
  await ingest(base, {
    source: 'frontend',
    logs: [
      { level: 'INFO', message: 'checkout button clicked', timestamp: iso(t0), module: 'checkout', trace_id: TRACE,
        span_id: '00f067aa0ba902b7', user_id: 'user-7', request_path: '/checkout' },
      { level: 'WARNING', message: 'retrying payment widget', timestamp: iso(t0 + 40), module: 'checkout', trace_id: TRACE,
        dedup_count: 4, first_seen_at: iso(t0 + 40), last_seen_at: iso(t0 + 400) },
      { level: 'ERROR', message: XSS.message, timestamp: iso(t0 + 900), module: XSS.module, trace_id: TRACE,
        request_path: XSS.path, extra_data: { html: XSS.extra, link: 'javascript:window.__xss=4' } },
    ],
    exceptions: [
      { exception_type: 'TypeError', exception_message: "Cannot read properties of undefined (reading 'total')",
        stack_trace: 'TypeError: Cannot read properties of undefined\n    at submitOrder (https://shop.example/app.js:120:14)\n    at HTMLButtonElement.onClick (https://shop.example/app.js:88:5)\n    at callCallback (https://shop.example/node_modules/react-dom/cjs/react-dom.development.js:4164:14)\n    at invokeGuarded (https://shop.example/node_modules/react-dom/cjs/react-dom.development.js:4213:16)\n    at main (https://shop.example/app.js:12:3)',
        timestamp: iso(t0 + 950), trace_id: TRACE, request_path: '/checkout', exception_details: {}, context_data: {} },
    ],
  });
  await ingest(base, {
    source: 'backend',
    logs: [
      { level: 'INFO', message: 'POST /api/orders', timestamp: iso(t0 + 120), module: 'http', trace_id: TRACE,
        request_method: 'POST', request_path: '/api/orders', response_status: 500, duration_ms: 640,
        request_data: { items: 3, card: '***REDACTED***', address: { city: 'Lyon', zip: '69001' } } },
      { level: 'ERROR', message: 'payment provider declined the charge', timestamp: iso(t0 + 700), module: 'payments',
        trace_id: TRACE, duration_ms: 55 },
    ],
    exceptions: [
      { exception_type: 'PaymentError', exception_message: 'card declined (code 51)', timestamp: iso(t0 + 720),
        trace_id: TRACE, request_path: '/api/orders', stack_trace: 'PaymentError: card declined\n   at shop::payments::charge (src/payments.rs:88)\n   at tokio::runtime::task::raw::poll (/root/.cargo/registry/src/tokio-1.0/src/runtime/task/raw.rs:1)\n   at shop::orders::create (src/orders.rs:41)',
        exception_details: {}, context_data: {} },
    ],
  });
}

/** The main module's path; every other `.wasm` is a chunk of a lazy page. */
export const MAIN_WASM = '/assets/tracewire_admin_bg.wasm';

/** The chunks `page` fetched so far (see `signedInPage`). */
export function chunksFetched(page) {
  return page.wasm.filter((p) => p !== MAIN_WASM);
}

/** Whether `page` fetched the split module `name` (`monitoring`: overview and metrics;
 * `alerting`: rules, history and the rule form; `investigation`: trace and exceptions), which
 * lives in the build's own directory, `/assets/<build id>/`. */
export function fetchedSplit(page, name) {
  return page.wasm.some((p) => new RegExp(`^/assets/[0-9a-f]{16}/split_${name}\\.wasm$`).test(p));
}

/** A new page signed in as `user` (admin by default), at `size`. */
export async function signedInPage(world, { user = 'admin', password = ADMIN_PASSWORD, size = SIZES[0], path: at = '/logs' } = {}) {
  const page = await world.browser.context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  // Every wasm file the page asked for: the main module, then a lazy page's chunks.
  page.wasm = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) page.wasm.push(new URL(r.url()).pathname); });
  await page.setViewportSize({ width: size[0], height: size[1] });
  await page.goto(`${world.base}/login?next=${encodeURIComponent(at)}`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

/** Runs axe-core in the page (through the DevTools protocol, which the page's CSP allows)
 * and fails on serious or critical violations. */
export async function expectAccessible(page, label) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: axe violations\n${JSON.stringify(bad, null, 2)}`);
}

/** Saves the page at both sizes as `<name>-<w>x<h>.png`. */
export async function screenshots(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const before = page.viewportSize();
  for (const [w, h] of SIZES) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(150);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${w}x${h}.png`) });
  }
  if (before) await page.setViewportSize(before);
}
