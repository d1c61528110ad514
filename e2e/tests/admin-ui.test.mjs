// The admin UI in headless Chromium against a real collector serving its embedded build:
// sign-in and session handling, the log explorer (filters in the URL, paging, details,
// filter-for/out as server-side negative filters, context before and after a row, exports of
// every format, each panel's error state, keyboard), hostile log values staying text, the trace
// view, live tail across a collector restart and while scrolled up, the exception tracker
// (status and sort across all groups, sparklines, resolve as admin, read-only as viewer), the
// Content-Security-Policy, axe-core on every page, and screenshots of every page at 1366×768
// and 1920×1080 (e2e/.artifacts/screenshots).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  MAIN_WASM, TRACE, VIEWER_PASSWORD, XSS, chunksFetched, expectAccessible, fetchedSplit, ingest,
  screenshots, signedInPage, startAdmin,
} from '../lib/admin.mjs';

let world;

before(async () => { world = await startAdmin(); });
after(async () => { await world?.close(); });

/** Fails the test if the page ran into errors (or the hostile values ran). */
async function expectClean(page) {
  assert.deepEqual(page.problems.filter((p) => !p.includes('401')), []);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'a stored value ran as script');
}

test('the UI is served with a strict Content-Security-Policy, compressed', async () => {
  for (const path of ['/', '/logs', '/assets/boot.js']) {
    const r = await fetch(`${world.base}${path}`);
    assert.equal(r.status, 200, path);
    const csp = r.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/, path);
    assert.doesNotMatch(csp, /unsafe-inline/, path);
  }
  const wasm = await fetch(`${world.base}${MAIN_WASM}`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal(wasm.headers.get('content-encoding'), 'gzip');
  // The lazy pages' chunks, named by the chunk loader, are served the same way.
  const loader = await fetch(`${world.base}/assets/__wasm_split.js`);
  assert.equal(loader.status, 200);
  assert.match(loader.headers.get('content-type'), /^text\/javascript/);
  const chunks = [...(await loader.text()).matchAll(/"\.\/([0-9a-f]{16}\/[\w.-]+\.wasm)"/g)].map((m) => m[1]);
  for (const name of ['monitoring', 'alerting', 'investigation']) {
    assert.ok(chunks.some((c) => c.endsWith(`/split_${name}.wasm`)), `chunks named by the loader: ${chunks}`);
  }
  for (const chunk of chunks) {
    const r = await fetch(`${world.base}/assets/${chunk}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.status, 200, chunk);
    assert.equal(r.headers.get('content-type'), 'application/wasm', chunk);
    assert.equal(r.headers.get('content-encoding'), 'gzip', chunk);
    assert.match(r.headers.get('content-security-policy') || '', /script-src 'self' 'wasm-unsafe-eval';/, chunk);
  }
  assert.equal((await fetch(`${world.base}/api/v1/nope`)).status, 404);
});

test('signing in returns to the page asked for; a wrong password says so', async () => {
  const page = await world.browser.context.newPage();
  await page.goto(`${world.base}/logs?level=ERROR&range=1h`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  await expectAccessible(page, 'sign-in');
  await screenshots(page, 'signin');
  await page.getByLabel('Password').fill((await import('../lib/admin.mjs')).ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/logs\?level=ERROR&range=1h$/);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], 'no token in localStorage');
  await page.close();
});

test('log explorer: filter, page, details, filter for a value, keyboard', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h' });
  const rows = page.locator('table.logs tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 100, 'first page');
  await page.getByText(/of \d+ logs/).waitFor();
  assert.match(await page.locator('.results-head .count').innerText(), /100 of 245 logs/);
  await page.locator('.histogram svg rect').first().waitFor();
  await expectAccessible(page, 'explorer');
  await screenshots(page, 'explorer');

  // The dark theme follows the system setting.
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshots(page, 'explorer-dark');
  await expectAccessible(page, 'explorer (dark)');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.getByRole('button', { name: 'Older logs' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 200);

  // Export: the current filter as CSV, through the export endpoint.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
  const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
  assert.equal(csv.trim().split('\n').length, 246, 'header + 245 logs');

  // Dragging across the histogram zooms to that span (an absolute range in the URL).
  const chart = await page.locator('.histogram .chart').boundingBox();
  await page.mouse.move(chart.x + chart.width * 0.5, chart.y + 20);
  await page.mouse.down();
  await page.mouse.move(chart.x + chart.width * 0.9, chart.y + 30, { steps: 5 });
  await page.mouse.up();
  await page.waitForURL(/from=.*&to=/);
  await page.getByRole('combobox', { name: 'Time range' }).waitFor();
  assert.equal(await page.locator('#range').inputValue(), 'custom');
  await page.goto(`${world.base}/logs?range=1h`);
  await rows.first().waitFor();

  await page.getByRole('button', { name: 'ERROR', exact: true }).click();
  await page.waitForURL(/level=ERROR/);
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('table.logs tbody tr')];
    return r.length > 0 && r.every((tr) => tr.classList.contains('lvl-error'));
  });

  // `/` focuses the search box; the term is highlighted in the results.
  await page.locator('body').press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'search');
  await page.keyboard.type('payment');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=payment/);
  await page.locator('table.logs mark', { hasText: 'payment' }).first().waitFor();

  // Keyboard: rows are focusable, Enter opens the details, Esc closes them.
  await page.goto(`${world.base}/logs?range=1h&module=orders`);
  await rows.first().waitFor();
  await rows.first().focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: 'Log details' }).waitFor();
  await page.waitForURL(/log=/);
  await page.locator('.details table.fields').waitFor();
  await page.locator('.details .json').first().waitFor();
  await screenshots(page, 'explorer-details');
  await expectAccessible(page, 'explorer details');
  // Context: the logs just before and after this one, from the same source.
  await page.getByRole('button', { name: /Show 10 before and after/ }).click();
  await page.locator('ol.context li.anchor').waitFor();
  assert.ok(await page.locator('ol.context li').count() > 10);
  await page.keyboard.press('Escape');
  await page.waitForURL((u) => !u.search.includes('log='));

  // Filter for a value from the details, then filter it out.
  await rows.first().click();
  await page.getByRole('button', { name: 'Filter for user_id' }).click();
  await page.waitForURL(/user=user-\d/);
  const user = new URL(page.url()).searchParams.get('user');
  await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length > 0);
  await rows.first().click();
  await page.getByRole('button', { name: 'Filter out module' }).click();
  await page.waitForURL(/not\.module=orders/);
  await page.locator('.excludes').getByText('NOT module = orders').waitFor();
  assert.ok(user);
  // The collector leaves them out: of the user's 80 logs, the 20 in `orders` go, on every page.
  await page.locator('.results-head .count', { hasText: 'of 60 logs' }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get('module'), null, 'the equality filter is dropped');
  await expectClean(page);
  await page.close();
});

test('filter out any field: a negative filter on the server, shown as a removable chip', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h&q=request event 61:' });
  const rows = page.locator('table.logs tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  await rows.first().click();
  // Request method and status have no equality filter, but can be filtered out.
  await page.getByRole('button', { name: 'Filter out response_status' }).click();
  await page.waitForURL(/not\.status=200/);
  await page.goto(`${world.base}/logs?range=1h&not.user=user-0`);
  // 245 logs, 80 of them user-0's; logs naming no user stay.
  await page.locator('.results-head .count', { hasText: 'of 165 logs' }).waitFor();
  const chip = page.getByRole('button', { name: 'Remove filter NOT user_id = user-0' });
  await chip.waitFor();
  assert.equal(await chip.innerText(), 'NOT user_id = user-0 ✕');
  await expectAccessible(page, 'explorer with a negative filter');
  await screenshots(page, 'explorer-filtered-out');
  await chip.click();
  await page.waitForURL((u) => !u.search.includes('not.'));
  await page.locator('.results-head .count', { hasText: 'of 245 logs' }).waitFor();
  await page.goto(`${world.base}/logs?range=1h&not.status=500&not.method=GET`);
  // Every seeded GET is left out; of the rest (5 trace logs) the one 500 goes too.
  await page.locator('.results-head .count', { hasText: 'of 4 logs' }).waitFor();
  await expectClean(page);
  await page.close();
});

test('context: the ten logs just before and just after a row, in order', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h&source=backend&q=request event 60:' });
  const rows = page.locator('table.logs tbody tr');
  await rows.first().waitFor();
  await rows.first().click();
  await page.getByRole('button', { name: /Show 10 before and after/ }).click();
  await page.locator('ol.context li.anchor').waitFor();
  const items = await page.locator('ol.context li').allInnerTexts();
  const numbers = items.map((t) => Number((t.match(/request event (\d+):/) || [])[1]));
  // Backend logs 50–59, the anchor 60, then 61–70 (25 s apart, none of them in the trace).
  assert.deepEqual(numbers, Array.from({ length: 21 }, (_, i) => 50 + i));
  assert.match(await page.locator('ol.context li.anchor').innerText(), /request event 60:/);
  await page.close();
});

test('exports carry the current filter in every format', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h&module=search&source=frontend&not.user=user-1' });
  await page.locator('table.logs tbody tr').first().waitFor();
  // Frontend `search` logs: i % 4 == 1, 30 of them; user-1's (i % 3 == 1) are 10 of those.
  const expected = 20;
  const fsp = await import('node:fs/promises');
  const download = async (name) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name, exact: true }).click()]);
    return fsp.readFile(await d.path(), 'utf8');
  };
  const jsonl = (await download('JSON')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(jsonl.length, expected);
  for (const log of jsonl) {
    assert.equal(log.module, 'search');
    assert.equal(log.source, 'frontend');
    assert.notEqual(log.user_id, 'user-1');
    assert.match(log.message, /^page event \d+: search ran$/);
  }
  const txt = (await download('TXT')).trim().split('\n');
  assert.equal(txt.length, expected);
  assert.ok(txt.every((l) => l.includes('search ran') && l.includes('frontend')), txt.join('\n'));
  assert.deepEqual(
    txt.map((l) => (l.match(/page event (\d+):/) || [])[1]).sort(),
    jsonl.map((l) => (l.message.match(/page event (\d+):/) || [])[1]).sort(),
  );
  const csv = (await download('CSV')).trim().split('\n');
  assert.equal(csv.length, expected + 1, 'header + rows');
  assert.match(csv[0], /message/);
  assert.ok(csv.slice(1).every((l) => l.includes('search ran') && !l.includes('user-1')));
  await page.close();
});

test('histogram and table fail independently, each with its own retry', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h' });
  const envelope = JSON.stringify({ error: { code: 'internal_error', message: 'simulated server fault', details: [] } });
  const fail = (route) => route.fulfill({ status: 500, contentType: 'application/json', body: envelope });
  // The chart's request fails; the table still shows its rows.
  const statsOnly = (url) => new URL(url).pathname === '/api/v1/logging/logs/statistics';
  await page.route(statsOnly, fail);
  await page.reload();
  const chart = page.locator('.histogram');
  await chart.getByRole('alert').filter({ hasText: 'Volume chart unavailable' }).waitFor();
  await page.locator('table.logs tbody tr').first().waitFor();
  assert.equal(await page.locator('.results .error-box').count(), 0);
  await screenshots(page, 'explorer-chart-error');
  await expectAccessible(page, 'chart error');
  await page.unroute(statsOnly, fail);
  await chart.getByRole('button', { name: 'Retry chart' }).click();
  await chart.locator('svg rect').first().waitFor();

  // The table's request fails; the chart still draws.
  const listOnly = (url) => new URL(url).pathname === '/api/v1/logging/logs';
  await page.route(listOnly, fail);
  await page.reload();
  const results = page.locator('.results');
  await results.getByRole('alert').filter({ hasText: 'simulated server fault' }).waitFor();
  await chart.locator('svg rect').first().waitFor();
  assert.equal(await chart.getByRole('alert').count(), 0);
  await screenshots(page, 'explorer-table-error');
  await page.unroute(listOnly, fail);
  await results.getByRole('button', { name: 'Retry' }).click();
  await page.locator('table.logs tbody tr').first().waitFor();
  await page.close();
});

test('hostile log values are shown as text and run nothing', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h&q=checkout' });
  const cell = page.locator('table.logs tbody tr', { hasText: '<img src=x' });
  await cell.first().waitFor();
  assert.equal(await page.locator('table.logs img, .details img').count(), 0);
  await cell.first().click();
  const details = page.getByRole('dialog', { name: 'Log details' });
  await details.getByText(XSS.module, { exact: true }).waitFor();
  await details.getByText(XSS.path, { exact: true }).waitFor();
  await details.getByText(`"${XSS.extra}"`).waitFor();
  assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
  assert.equal(await page.locator('.details script, .details b').count(), 0);
  await page.waitForTimeout(300);
  await expectClean(page);
  await page.close();
});

test('trace view: frontend and backend logs and exceptions of one trace on one timeline', async () => {
  const page = await signedInPage(world, { path: `/logs?range=1h&trace=${TRACE}` });
  await page.locator('table.logs tbody tr').first().click();
  // The explorer is in the main module; the trace view is a lazy page, fetched on the way there.
  assert.ok(page.wasm.includes(MAIN_WASM));
  assert.deepEqual(chunksFetched(page), [], 'sign-in and the explorer need only the main module');
  await page.getByRole('link', { name: /View the whole trace/ }).click();
  await page.waitForURL(new RegExp(`/traces/${TRACE}$`));
  const entries = page.locator('table.timeline tbody tr');
  await entries.first().waitFor();
  assert.ok(fetchedSplit(page, 'investigation'), `the trace page's module: ${chunksFetched(page)}`);
  assert.ok(!fetchedSplit(page, 'alerting') && !fetchedSplit(page, 'monitoring'), 'only what the page needs');
  assert.equal(await entries.count(), 7, '5 logs + 2 exceptions');
  const sources = await page.locator('table.timeline .src').allInnerTexts();
  assert.deepEqual([...new Set(sources)].sort(), ['backend', 'frontend']);
  // Each exception names the side it came from: TypeError in the browser, PaymentError in the API.
  for (const [type, source] of [['TypeError', 'frontend'], ['PaymentError', 'backend']]) {
    const row = page.locator('table.timeline tbody tr.exception', { hasText: type });
    assert.equal(await row.locator('.src').innerText(), source, type);
  }
  await page.getByText(/sources: backend, frontend$/).waitFor();
  assert.equal(await entries.first().locator('td').first().innerText(), '+0.00 ms');
  await page.locator('table.timeline .bar:not(.mark)').first().waitFor();
  await expectAccessible(page, 'trace');
  await screenshots(page, 'trace');
  // Also one click away from the trace column of the table.
  await page.goto(`${world.base}/logs?range=1h&q=payment&cols=trace`);
  await page.locator('table.logs tbody tr a', { hasText: TRACE.slice(0, 8) }).first().click();
  await page.waitForURL(new RegExp(`/traces/${TRACE}$`));
  await entries.first().waitFor();
  await expectClean(page);
  await page.close();
});

test('a lazy page whose module does not arrive says so, and loads on the next try', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h' });
  await page.locator('table.logs tbody tr').first().waitFor();
  // As for a tab older than the collector's UI: the module's URL answers 404.
  const nav = (name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const gone = (route) => route.fulfill({ status: 404, body: '' });
  await page.route(/\/split_investigation\.wasm$/, gone);
  await nav('Exceptions').click();
  await page.getByRole('alert').filter({ hasText: 'This page could not be loaded' }).waitFor();
  await page.getByRole('button', { name: 'Reload the page' }).waitFor();
  await expectAccessible(page, 'page not loaded');
  await screenshots(page, 'page-not-loaded');
  // The app keeps running: the explorer still works, and the page loads once the module comes.
  await page.unroute(/\/split_investigation\.wasm$/, gone);
  await nav('Logs').click();
  await page.locator('table.logs tbody tr').first().waitFor();
  await nav('Exceptions').click();
  await page.locator('table.groups tbody tr').first().waitFor();
  assert.equal(await page.getByText('This page could not be loaded').count(), 0);
  await page.close();
});

test('live tail shows new logs and picks up again after a collector restart', async () => {
  const page = await signedInPage(world, { path: '/logs?range=1h' });
  await page.getByLabel('Live tail').check();
  await page.getByText('Live: new logs appear below').waitFor();
  await ingest(world.base, { source: 'backend', logs: [{ level: 'INFO', message: 'tail marker one', timestamp: new Date().toISOString() }] });
  await page.locator('.tail-list tr', { hasText: 'tail marker one' }).waitFor({ timeout: 15_000 });
  await screenshots(page, 'live-tail');
  await expectAccessible(page, 'live tail');

  await world.collector.stop();
  await page.getByText('Connection lost, reconnecting…').waitFor({ timeout: 15_000 });
  await world.restart();
  await page.getByText('Live: new logs appear below').waitFor({ timeout: 30_000 });
  await ingest(world.base, { source: 'backend', logs: [{ level: 'ERROR', message: 'tail marker two', timestamp: new Date().toISOString() }] });
  await page.locator('.tail-list tr', { hasText: 'tail marker two' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.tail-list tr', { hasText: 'tail marker one' }).count(), 1, 'earlier rows kept');

  await page.getByRole('button', { name: 'Pause' }).click();
  await ingest(world.base, { source: 'backend', logs: [{ level: 'INFO', message: 'tail marker three', timestamp: new Date().toISOString() }] });
  await page.getByText(/paused, 1 new waiting/).waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('.tail-list tr', { hasText: 'tail marker three' }).waitFor();
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await page.getByText('Waiting for new logs').waitFor();

  // Scrolled up to read, new rows do not move the list; a button counts them and jumps there.
  const batch = (tag, n) => Array.from({ length: n }, (_, i) => (
    { level: 'INFO', message: `${tag} ${i}`, timestamp: new Date(Date.now() + i).toISOString() }));
  await ingest(world.base, { source: 'backend', logs: batch('scroll filler', 60) });
  await page.locator('.tail-list tr', { hasText: 'scroll filler 59' }).waitFor({ timeout: 15_000 });
  const list = page.locator('.tail-list');
  await list.evaluate((el) => { el.scrollTop = 40; });
  const before = await list.evaluate((el) => el.scrollTop);
  assert.ok(before > 0);
  await ingest(world.base, { source: 'backend', logs: batch('scroll arrival', 3) });
  await page.locator('.tail-list tr', { hasText: 'scroll arrival 2' }).waitFor({ timeout: 15_000 });
  const jump = page.getByRole('button', { name: /3 new below/ });
  await jump.waitFor();
  assert.equal(await list.evaluate((el) => el.scrollTop), before, 'scroll position kept');
  await screenshots(page, 'live-tail-scrolled');
  await jump.click();
  await page.waitForFunction(() => {
    const el = document.querySelector('.tail-list');
    return el && el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
  });
  await jump.waitFor({ state: 'detached' });
  await page.close();
});

test('exceptions: grouped list, stack trace, resolve with notes as admin', async () => {
  const page = await signedInPage(world, { path: '/exceptions' });
  const groups = page.locator('table.groups tbody tr');
  await groups.first().waitFor();
  assert.equal(await groups.count(), 2);
  await page.locator('.spark').first().waitFor();
  await expectAccessible(page, 'exceptions');
  await screenshots(page, 'exceptions');

  await page.getByRole('link', { name: 'TypeError' }).click();
  await page.waitForURL(/\/exceptions\/[0-9a-f-]{36}$/);
  await page.locator('.frames.app .frame', { hasText: 'submitOrder' }).waitFor();
  assert.equal(await page.locator('details.frames.lib[open]').count(), 0, 'library frames start collapsed');
  assert.match(await page.locator('details.frames.lib summary').first().innerText(), /2 library frames/);
  await page.getByRole('link', { name: new RegExp(TRACE.slice(0, 12)) }).first().waitFor();
  await expectAccessible(page, 'exception detail');
  await screenshots(page, 'exception');

  await page.getByLabel('Resolution notes').fill('Fixed in release 2.4.1 (null check in submitOrder)');
  await page.getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.resolution', { hasText: 'Resolved' }).waitFor();
  await page.locator('blockquote', { hasText: 'Fixed in release 2.4.1' }).waitFor();
  await screenshots(page, 'exception-resolved');

  await page.goto(`${world.base}/exceptions?status=resolved`);
  await page.locator('table.groups tbody tr', { hasText: 'TypeError' }).waitFor();
  await expectClean(page);
  await page.close();
});

test('exceptions: regressed tab, sort and sparklines from the server across all groups', async () => {
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const payment = (ms) => ({
    exception_type: 'PaymentError', exception_message: 'card declined (code 51)', timestamp: iso(ms),
    trace_id: TRACE, request_path: '/api/orders', stack_trace: 'PaymentError: card declined\n   at shop::payments::charge (src/payments.rs:88)\n   at tokio::runtime::task::raw::poll (/root/.cargo/registry/src/tokio-1.0/src/runtime/task/raw.rs:1)\n   at shop::orders::create (src/orders.rs:41)',
    exception_details: {}, context_data: {},
  });
  // 25 more PaymentErrors over the last 10 hours (more than the 20 recent occurrences a group's
  // page lists), one earlier than its first; and TypeError (resolved above) comes back.
  await ingest(world.base, { source: 'backend', logs: [], exceptions: Array.from({ length: 25 }, (_, i) => payment(now - (i + 1) * 24 * 60_000)) });
  await ingest(world.base, {
    source: 'frontend', logs: [],
    exceptions: [{ exception_type: 'TypeError', exception_message: "Cannot read properties of undefined (reading 'total')",
      stack_trace: 'TypeError: Cannot read properties of undefined\n    at submitOrder (https://shop.example/app.js:120:14)\n    at HTMLButtonElement.onClick (https://shop.example/app.js:88:5)\n    at callCallback (https://shop.example/node_modules/react-dom/cjs/react-dom.development.js:4164:14)\n    at invokeGuarded (https://shop.example/node_modules/react-dom/cjs/react-dom.development.js:4213:16)\n    at main (https://shop.example/app.js:12:3)',
      timestamp: iso(now), request_path: '/checkout', exception_details: {}, context_data: {} }],
  });
  const page = await signedInPage(world, { path: '/exceptions?status=regressed' });
  const groups = page.locator('table.groups tbody tr');
  await groups.first().waitFor();
  assert.deepEqual(await page.locator('table.groups .exc-type').allInnerTexts(), ['TypeError']);
  await page.locator('table.groups .tag', { hasText: 'Regressed' }).waitFor();
  await screenshots(page, 'exceptions-regressed');

  const order = async (sort) => {
    await page.goto(`${world.base}/exceptions?status=all&sort=${sort}`);
    await groups.first().waitFor();
    return page.locator('table.groups .exc-type').allInnerTexts();
  };
  assert.deepEqual(await order('count'), ['PaymentError', 'TypeError']);
  assert.deepEqual(await order('first'), ['TypeError', 'PaymentError']);
  assert.deepEqual(await order('last'), ['TypeError', 'PaymentError']);
  // Sparklines count every occurrence of the last day, not only the recent ones.
  const spark = page.locator('table.groups tbody tr', { hasText: 'PaymentError' }).locator('svg.spark');
  await spark.waitFor();
  assert.equal(await spark.getAttribute('aria-label'), '26 occurrences in the last 24 hours');
  assert.ok(await spark.locator('rect').count() >= 10, 'one bar per hour with occurrences');
  await expectAccessible(page, 'exceptions sorted');
  await expectClean(page);
  await page.close();
});

test('a viewer sees no edit controls; signing out ends the session', async () => {
  const page = await signedInPage(world, { user: 'viewer', password: VIEWER_PASSWORD, path: '/exceptions?status=all' });
  await page.getByRole('link', { name: 'PaymentError' }).click();
  await page.locator('.frames.app').first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Resolve' }).count(), 0);
  assert.equal(await page.getByLabel('Resolution notes').count(), 0);
  await page.getByText('viewer (viewer)').waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await page.goto(`${world.base}/exceptions?status=all`);
  await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/exceptions?status=all');
  await page.close();
});

test('an expired session sends the user to sign-in with the URL kept', async () => {
  const page = await signedInPage(world, { path: '/logs?range=4h' });
  await page.locator('table.logs tbody tr').first().waitFor();
  await world.browser.context.clearCookies();
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/logs?range=4h');
  await page.getByText('Please sign in to continue where you were.').waitFor();
  await page.close();
});
