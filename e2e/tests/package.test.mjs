// The logger reaches the demo app the way a user installs it: from the packed tarball, through
// `npm install`, served from the app's node_modules — and the shop page itself works against a
// real collector (the README's "Checkout (fails)" story).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEMO_DIR, INSTALLED_TARBALL, SHOP_PAGE_DIR } from '../lib/paths.mjs';
import { tempDir, waitFor } from '../lib/procs.mjs';
import { startStack } from '../lib/stack.mjs';

let stack;
let unpacked;

before(async () => {
  stack = await startStack({ publicDir: SHOP_PAGE_DIR });
  unpacked = tempDir('tarball');
  // The tarball the build step packed and installed (copied aside, as logger-wasm/pkg may be
  // rebuilt meanwhile).
  execFileSync('tar', ['-xzf', INSTALLED_TARBALL, '-C', unpacked]);
});

after(async () => {
  await stack?.close();
  if (unpacked) fs.rmSync(unpacked, { recursive: true, force: true });
});

async function served(file) {
  const r = await fetch(`${stack.demo.base}/vendor/@tracewire/logger/${file}`);
  assert.equal(r.status, 200, `/vendor/@tracewire/logger/${file}`);
  return Buffer.from(await r.arrayBuffer());
}

test('the demo serves @tracewire/logger as installed from the packed tarball', async () => {
  const demoManifest = JSON.parse(fs.readFileSync(path.join(DEMO_DIR, 'package.json'), 'utf8'));
  assert.equal(demoManifest.dependencies['@tracewire/logger'], 'file:../../logger-wasm/pkg/tracewire-logger.tgz');
  const installed = path.join(DEMO_DIR, 'node_modules', '@tracewire', 'logger');
  assert.ok(!fs.lstatSync(installed).isSymbolicLink(), 'installed as a copy, not linked to the build output');

  const packedManifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'package', 'package.json'), 'utf8'));
  const servedManifest = JSON.parse((await served('package.json')).toString('utf8'));
  assert.equal(packedManifest.name, '@tracewire/logger');
  assert.deepEqual(servedManifest, packedManifest);
  // The tarball holds exactly the package's files, and the page gets those bytes.
  for (const file of packedManifest.files) {
    const packed = fs.readFileSync(path.join(unpacked, 'package', file));
    assert.ok((await served(file)).equals(packed), `${file} served as packed`);
    assert.ok(packed.equals(fs.readFileSync(path.join(installed, file))), `${file} installed as packed`);
  }
});

test('shop page: a failing checkout joins the browser exception and the backend logs under one trace', async () => {
  const page = await stack.browser.context.newPage();
  page.on('pageerror', () => {}); // the click handler throws on purpose
  await page.goto(`${stack.demo.base}/?collector=${encodeURIComponent(stack.collector.base)}`);
  await page.waitForSelector('#products button'); // products loaded through the traced API
  await page.click('#checkout-fail');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('checkout answered 502'));
  const traceId = await page.textContent('#trace-id');
  assert.match(traceId, /^[0-9a-f]{32}$/);
  const want = [
    'exception frontend Error: checkout failed: payment declined (HTTP 502)',
    'log backend ERROR POST /api/checkout/fail 502',
    'log backend ERROR payment provider declined the card',
    'log frontend INFO clicked Checkout (fails)',
  ];
  let got;
  await waitFor(`the records of trace ${traceId}`, async () => {
    got = (await stack.query.trace(traceId)).items.map((i) => (i.kind === 'log'
      ? `log ${i.log.source} ${i.log.level} ${i.log.message}`
      : `exception ${i.exception.exception_type === 'http_5xx' ? 'backend' : 'frontend'} ${i.exception.exception_type}: ${i.exception.exception_message}`));
    return want.every((w) => got.includes(w));
  }, { timeoutMs: 20_000, intervalMs: 200 }).catch(() => {});
  for (const w of want) assert.ok(got.includes(w), `${w}\nin ${JSON.stringify(got, null, 1)}`);
  await page.close();
});

/**
 * Records the metrics of every batch the page sends, once per batch_id: a batch the page-hide
 * send may not have seen acknowledged is stored and sent again by the next page load, with the
 * same batch_id (the collector takes it once).
 */
function recordMetrics(page) {
  const batches = new Map();
  page.on('request', (r) => {
    if (!r.url().includes('/api/v1/logging/logs') || r.method() !== 'POST') return;
    try {
      const b = JSON.parse(r.postData() || '{}');
      if (b.batch_id) batches.set(b.batch_id, b.metrics || []);
    } catch (_) { /* not a batch */ }
  });
  return (traceId) => [...batches.values()].flat().filter((m) => m.trace_id === traceId);
}

/** The page load's trace, shown by the shop before any action starts a new one. */
async function loadTrace(page) {
  const traceId = (await page.textContent('#log')).match(/\[trace ([0-9a-f]{32})\] loaded/)?.[1];
  assert.match(traceId || '', /^[0-9a-f]{32}$/);
  return traceId;
}

test('web vitals: each of the page load\'s vitals arrives once, with its page, trace and a plausible value', async () => {
  const page = await stack.browser.context.newPage();
  page.on('pageerror', () => {});
  const metricsOf = recordMetrics(page);
  const shop = `${stack.demo.base}/?collector=${encodeURIComponent(stack.collector.base)}`;
  await page.goto(shop);
  await page.waitForSelector('#products button');
  const traceId = await loadTrace(page);
  // An interaction (for INP; it also starts a new trace, which the vitals do not take) and a
  // layout shift (for CLS).
  await page.click('#products button');
  await page.evaluate(() => {
    const p = document.createElement('p');
    p.style.height = '300px';
    p.textContent = 'shifted in';
    document.body.prepend(p);
  });
  await page.waitForTimeout(300);
  // Leaving the page hides it: the final values go with the page-hide (keepalive) send, and
  // the next page load sends them again if that send was not seen through.
  await page.goto('about:blank');
  await page.goto(shop);
  await page.waitForSelector('#products button');
  let metrics = [];
  await waitFor('the web vitals batch', async () => (metrics = metricsOf(traceId)).length >= 5,
    { timeoutMs: 10_000, intervalMs: 100 }).catch(() => {});
  const names = metrics.map((m) => m.metric_name).sort();
  assert.deepEqual(names, ['CLS', 'FCP', 'INP', 'LCP', 'TTFB'], JSON.stringify(metrics, null, 1));
  for (const m of metrics) {
    assert.equal(m.metric_type, 'web_vital');
    assert.equal(m.endpoint, '/');
    assert.equal(m.tags.navigation_type, 'navigate');
    const limit = m.metric_name === 'CLS' ? 1 : 10_000;
    assert.ok(m.value >= 0 && m.value < limit, `${m.metric_name} ${m.value}`);
    assert.equal(m.unit, m.metric_name === 'CLS' ? undefined : 'ms');
  }
  const byName = Object.fromEntries(metrics.map((m) => [m.metric_name, m.value]));
  assert.ok(byName.CLS > 0, 'the shift counted');
  assert.ok(byName.FCP <= byName.LCP, 'first paint before the largest');
  // The collector stored them: the page's vitals are on the monitoring API.
  await waitFor('the page\'s vitals on the collector', async () => {
    const v = await stack.query.get('/api/v1/monitoring/web-vitals');
    return ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'].every((name) =>
      (v.items || []).some((i) => i.page === '/' && i.metric === name && i.count >= 1));
  }, { timeoutMs: 20_000, intervalMs: 250 });
  await page.close();
});

test('web vitals: webVitals: false sends none', async () => {
  const page = await stack.browser.context.newPage();
  const metricsOf = recordMetrics(page);
  const shop = `${stack.demo.base}/?vitals=off&collector=${encodeURIComponent(stack.collector.base)}`;
  await page.goto(shop);
  await page.waitForSelector('#products button');
  const traceId = await loadTrace(page);
  await page.click('#products button');
  await page.goto('about:blank');
  await page.goto(shop);
  await page.waitForSelector('#products button');
  await page.waitForTimeout(1500);
  assert.deepEqual(metricsOf(traceId), []);
  await page.close();
});
