// The admin UI's monitoring and alerting pages in headless Chromium against a real collector
// (evaluating alerts every second) and the real demo shop shipping to it: an alert rule created
// through the form (field messages from the form's own checks and from the collector's 422)
// against a webhook receiver started here, the demo's failing checkout driven until the rule
// fires, the rule seen firing on the rules page, the overview and in the history with its
// delivery status, a test notification, the preview, muting; the metrics dashboard (charts,
// shared read-out, click-through to the log explorer, slow requests linking to their trace);
// viewers read-only; axe-core on every new page; screenshots at 1366×768 and 1920×1080.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  VIEWER_PASSWORD, chunksFetched, expectAccessible, fetchedSplit, screenshots, signedInPage,
} from '../lib/admin.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { COLLECTOR_BIN } from '../lib/paths.mjs';
import { assertBuilt, freePort, startCollector, startDemo, tempDir, waitFor } from '../lib/procs.mjs';

let world;

/** A webhook receiver on loopback that keeps every request it gets. */
async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ headers: req.headers, body: body ? JSON.parse(body) : null });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  assertBuilt();
  const dir = tempDir('alerts');
  const dbPath = path.join(dir, 'tracewire.db');
  const port = await freePort();
  world = { dir };
  world.collector = await startCollector({
    port, dbPath, logFile: path.join(dir, 'collector.log'), args: ['--alert-interval-secs', '1'],
  });
  world.base = world.collector.base;
  execFileSync(COLLECTOR_BIN, ['--database-url', `sqlite://${dbPath}`, 'user', 'add', 'viewer', '--role', 'viewer'], {
    env: { ...process.env, TRACEWIRE_USER_PASSWORD: VIEWER_PASSWORD }, stdio: 'ignore',
  });
  world.demo = await startDemo({ port: await freePort(), collector: world.base, logFile: path.join(dir, 'demo.log') });
  world.hook = await startReceiver();
  world.browser = await launchBrowser();
  world.close = async () => {
    await world.browser?.close();
    await world.hook?.close();
    await world.demo?.stop();
    await world.collector?.stop();
    if (!process.env.TRACEWIRE_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };
});
after(async () => { await world?.close(); });

/** Fails the test if the page ran into errors. */
function expectClean(page) {
  assert.deepEqual(page.problems.filter((p) => !p.includes('401') && !p.includes('422')), []);
}

/** Drives the demo shop: healthy requests, failing checkouts and a slow request. */
async function driveDemo({ failures = 6, healthy = 10, slow = true } = {}) {
  const calls = [];
  for (let i = 0; i < healthy; i += 1) calls.push(fetch(`${world.demo.base}/api/products`).then((r) => r.text()));
  for (let i = 0; i < failures; i += 1) {
    calls.push(fetch(`${world.demo.base}/api/checkout/fail`, { method: 'POST' }).then((r) => r.text()));
  }
  if (slow) calls.push(fetch(`${world.demo.base}/api/slow?ms=1200`).then((r) => r.text()));
  await Promise.all(calls);
}

test('alert rule: create through the form, fire on the demo checkout, history, test, preview, mute', async () => {
  const page = await signedInPage(world, { path: '/alerts' });
  await page.getByText('No alert rules yet.').waitFor();
  await expectAccessible(page, 'alert rules (empty)');
  await page.getByRole('link', { name: 'New rule' }).click();
  await page.waitForURL(/\/alerts\/new$/);

  // The form's own checks: nothing is sent, each message sits under its field.
  await page.getByLabel('Name').fill('Checkout failing');
  await page.getByLabel('Threshold (%)').fill('150');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.getByText('an error rate is a percentage from 0 to 100').waitFor();
  assert.equal(await page.getByLabel('Threshold (%)').getAttribute('aria-invalid'), 'true');

  // The collector's 422: a regex that does not compile is reported by field path.
  await page.getByLabel('Condition').selectOption('message_regex');
  await page.getByLabel('Regular expression (Rust regex syntax)').fill('payment (declined');
  await page.getByLabel('Threshold (count)').fill('1');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.getByText(/not a valid regular expression/).waitFor();
  await expectAccessible(page, 'rule form with errors');
  await page.getByText('1 field is invalid').waitFor();
  await screenshots(page, 'alert-form-errors');

  // The real rule: the error rate of the failing checkout endpoint, to the webhook receiver.
  // Another condition type leaves no message of the old one behind, summary included.
  await page.getByLabel('Condition').selectOption('error_rate');
  await page.getByText('1 field is invalid').waitFor({ state: 'detached' });
  assert.equal(await page.locator('form [role=alert]').count(), 0);
  await page.getByLabel('Endpoint (route template, empty for all)').fill('/api/checkout/fail');
  await page.getByLabel('Threshold (%)').fill('50');
  await page.getByLabel('Window (minutes)').fill('5');
  await page.getByLabel('Throttle (minutes between notifications)').fill('60');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.getByLabel('Webhook URL').fill(world.hook.url);
  await page.getByLabel('Signing secret (optional, whsec_…)').fill('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  await page.getByLabel('Severity').selectOption('critical');
  await expectAccessible(page, 'rule form');
  await screenshots(page, 'alert-form');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.waitForURL(/\/alerts$/);
  const row = page.locator('table.rules tbody tr').filter({ hasText: 'Checkout failing' });
  await row.waitFor();

  // The secret is write-only: the edit form says one is set and shows no value.
  await row.getByRole('link', { name: 'Checkout failing' }).click();
  await page.getByLabel('Signing secret (set; leave empty to keep it)').waitFor();
  assert.equal(await page.getByLabel('Signing secret (set; leave empty to keep it)').inputValue(), '');
  assert.ok(!(await page.content()).includes('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'the secret never reaches the page');
  await page.getByRole('button', { name: 'Preview the last 24 h' }).click();
  // The evaluator runs every second here, so the preview steps every 5 min and says so.
  await page.getByText(/^Would (not have fired|have fired \d+ times? \(\d+ notifications? sent)/).waitFor();
  await page.getByText('Evaluated every 5 min (288 evaluations). Live the rule is evaluated every 1 s, so this is an approximation').waitFor();
  await screenshots(page, 'alert-preview');
  await page.getByRole('link', { name: 'Back to the rules' }).click();
  await page.waitForURL(/\/alerts$/);

  // Drive the demo until the evaluator (every second) fires the rule.
  await waitFor('the rule to fire', async () => {
    await driveDemo({ slow: false });
    await page.getByRole('button', { name: 'Refresh' }).click();
    return (await row.locator('.tag.bad', { hasText: 'Firing' }).count()) > 0;
  }, { timeoutMs: 60_000, intervalMs: 1500 });
  await waitFor('the webhook', async () => world.hook.received.some((r) => r.body?.rule?.name === 'Checkout failing'), { timeoutMs: 20_000 });
  const delivery = world.hook.received.find((r) => r.body?.rule?.name === 'Checkout failing');
  assert.match(delivery.headers['webhook-signature'], /^v1,/);
  await expectAccessible(page, 'alert rules (firing)');
  await screenshots(page, 'alerts');

  // Test notification: each channel's outcome.
  await row.getByRole('button', { name: 'Send test' }).click();
  await row.locator('.test-result .tag.ok', { hasText: 'Delivered' }).waitFor();

  // History: the firing with its delivery status, then acknowledged.
  await page.getByRole('link', { name: 'History' }).click();
  await page.waitForURL(/\/alerts\/history/);
  const firing = page.locator('table.history-table tbody tr').filter({ has: page.locator('.tag.bad', { hasText: 'Firing' }) }).first();
  await firing.waitFor();
  await firing.locator('.tag.ok', { hasText: 'Delivered' }).waitFor();
  assert.match(await firing.innerText(), /Sent/);
  assert.match(await firing.innerText(), /\/ 50 %/, 'value against the 50 % threshold');
  await page.locator('table.history-table tbody tr .tag', { hasText: 'Test' }).first().waitFor();
  await expectAccessible(page, 'alert history');
  await screenshots(page, 'alert-history');
  await firing.getByRole('button', { name: 'Acknowledge' }).click();
  await page.locator('table.history-table tbody tr').filter({ hasText: 'by admin' }).first().waitFor();
  await page.getByLabel('Severity').selectOption('info');
  await page.getByText('Nothing in the history for these filters.').waitFor();
  assert.match(page.url(), /severity=info/);
  await page.getByLabel('Severity').selectOption('critical');
  await firing.waitFor();

  // The overview lists it as firing, linked to its history.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.waitForURL((u) => u.pathname === '/');
  await page.locator('.card').filter({ hasText: 'Firing alerts' }).getByRole('link', { name: 'Checkout failing' }).waitFor();
  await page.locator('.card').filter({ hasText: 'Errors logged' }).locator('.big').waitFor();
  await expectAccessible(page, 'overview');
  await screenshots(page, 'overview');

  // Mute for an hour: the row says so.
  await page.goto(`${world.base}/alerts`);
  await row.getByLabel('Mute Checkout failing for').selectOption('60');
  await row.getByRole('button', { name: 'Mute', exact: true }).click();
  await row.locator('.tag', { hasText: 'Muted' }).waitFor();
  await row.getByRole('button', { name: 'Unmute' }).waitFor();
  expectClean(page);
  await page.close();
});

test('metrics dashboard: charts, shared read-out, click-through, slow requests and error rates', async () => {
  await driveDemo({ failures: 3, healthy: 20, slow: true });
  const page = await signedInPage(world, { path: '/performance?range=1h' });
  const charts = page.locator('.linechart');
  // The demo ships its logs in batches: refresh until the slow request has arrived too.
  const slowRow = page.locator('section[aria-labelledby="h-slow"] tbody tr').filter({ hasText: '/api/slow' }).first();
  await waitFor('request metrics and the slow request', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('.linechart, .error').first().waitFor();
    return (await page.locator('.linechart polyline, .linechart circle').count()) > 0 && (await slowRow.count()) > 0;
  }, { timeoutMs: 30_000, intervalMs: 1000 });
  assert.equal(await charts.count(), 3);
  // The dashboard is a lazy page: its module came with the first load of its URL.
  assert.ok(fetchedSplit(page, 'monitoring'), `the dashboard's module: ${chunksFetched(page)}`);
  assert.ok(!fetchedSplit(page, 'investigation'), 'the trace page\'s module only when it is visited');

  // One pointer, three read-outs at the same minute.
  const plot = charts.first().locator('.plot');
  const box = await plot.boundingBox();
  await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
  const readouts = page.locator('.linechart .readout .mono');
  await waitFor('read-outs', async () => (await readouts.count()) === 3);
  const times = await readouts.allInnerTexts();
  assert.equal(new Set(times).size, 1, `one cursor across the charts: ${times}`);
  await page.locator('.linechart').nth(2).locator('.readout').getByText(/^p95 /).waitFor();

  // Keyboard: focus the chart, arrows move the read-out.
  await plot.focus();
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await readouts.first().waitFor();

  // Error rate by endpoint, sorted, with sparklines; slow requests link to their trace.
  const errRows = page.locator('section[aria-labelledby="h-err"] tbody tr');
  await errRows.first().waitFor();
  assert.match(await errRows.first().innerText(), /\/api\/checkout\/fail/);
  assert.ok((await page.locator('section[aria-labelledby="h-err"] svg.spark polyline').count()) > 0);
  assert.match(await slowRow.innerText(), /GET \/api\/slow/);
  await expectAccessible(page, 'metrics');
  await screenshots(page, 'metrics');

  // The threshold is in the URL.
  await page.getByLabel('Slower than (ms)').first().fill('5000');
  await page.getByLabel('Slower than (ms)').first().press('Enter');
  await page.waitForURL(/slow_ms=5000/);
  await page.getByText('No request over this threshold in the range.').waitFor();
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes('slow_ms'));
  const trace = page.locator('section[aria-labelledby="h-slow"] tbody tr a').first();
  await trace.click();
  await page.waitForURL(/\/traces\/[0-9a-f]+/);
  await waitFor('the trace page\'s module', async () => fetchedSplit(page, 'investigation'));
  await page.locator('main h1').first().waitFor();
  await page.goBack();

  // One endpoint; a click on the chart opens its logs at that minute.
  await page.getByLabel('Endpoint', { exact: true }).selectOption('/api/checkout/fail');
  await page.waitForURL(/endpoint=%2Fapi%2Fcheckout%2Ffail|endpoint=\/api\/checkout\/fail/);
  await page.locator('.linechart polyline, .linechart circle').first().waitFor();
  const p2 = await charts.first().locator('.plot').boundingBox();
  await page.mouse.click(p2.x + p2.width - 3, p2.y + p2.height / 2);
  await page.waitForURL(/\/logs\?.*path=\/api\/checkout\/fail.*from=/);
  expectClean(page);
  await page.close();
});

test('viewers see rules and history read-only', async () => {
  const page = await signedInPage(world, { user: 'viewer', password: VIEWER_PASSWORD, path: '/alerts' });
  const row = page.locator('table.rules tbody tr').filter({ hasText: 'Checkout failing' });
  await row.waitFor();
  await page.getByText('You are signed in as a viewer: rules are read-only.').waitFor();
  assert.equal(await page.getByRole('link', { name: 'New rule' }).count(), 0);
  assert.equal(await row.getByRole('button').count(), 0, 'no controls for viewers');
  await expectAccessible(page, 'alert rules (viewer)');
  assert.ok(fetchedSplit(page, 'alerting'), `the alerting pages' module: ${chunksFetched(page)}`);
  await row.getByRole('link', { name: 'Checkout failing' }).click();
  await page.getByText('this rule is read-only').waitFor();
  assert.ok(await page.getByLabel('Name').isDisabled());
  assert.equal(await page.getByRole('button', { name: 'Save rule' }).count(), 0);
  await screenshots(page, 'alert-form-viewer');
  await page.goto(`${world.base}/alerts/history`);
  await page.locator('table.history-table tbody tr').first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0);
  expectClean(page);
  await page.close();
});
