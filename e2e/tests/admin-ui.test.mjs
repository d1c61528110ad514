// The admin UI in headless Chromium against a real collector serving its embedded build:
// sign-in and session handling, the log explorer (filters in the URL, paging, details,
// filter-for/out, keyboard), hostile log values staying text, the trace view, live tail across
// a collector restart, the exception tracker (resolve as admin, read-only as viewer), the
// Content-Security-Policy, axe-core on every page, and screenshots of every page at 1366×768
// and 1920×1080 (e2e/.artifacts/screenshots).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  TRACE, VIEWER_PASSWORD, XSS, expectAccessible, ingest, screenshots, signedInPage, startAdmin,
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
  const wasm = await fetch(`${world.base}/assets/tracewire_admin_bg.wasm`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
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
  await page.locator('.excludes').getByText('module ≠ orders').waitFor();
  assert.ok(user);
  await expectClean(page);
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
  await page.getByRole('link', { name: /View the whole trace/ }).click();
  await page.waitForURL(new RegExp(`/traces/${TRACE}$`));
  const entries = page.locator('table.timeline tbody tr');
  await entries.first().waitFor();
  assert.equal(await entries.count(), 7, '5 logs + 2 exceptions');
  const sources = await page.locator('table.timeline .src').allInnerTexts();
  assert.deepEqual([...new Set(sources)].sort(), ['backend', 'exception', 'frontend']);
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
