// Two tabs of one app share one offline buffer (localStorage) without sending a batch twice.
// The first tab stores batches it cannot send; the second tab opens while they are stored
// (the page that loads adopts stored batches, so without coordination both tabs would send
// them); both log more while offline; the network comes back. Every log arrives exactly once,
// and the collector never answers `duplicate: true`: no batch_id was sent twice.
// Then takeover: a tab closes with batches it could not send; the tab still open takes them
// over when it gets the outbox lock, and sends them without a reload. The tabs of the first test
// closed online: what a tab sends as it closes (page-hide keepalive) can be stored by the
// collector after the page is gone, so no answer removes the batch from the shared buffer, and
// the tab that drains the buffer next sends it again with its batch_id (the collector answers
// `duplicate: true` and stores it once). Only such leftovers may be answered as duplicates there.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestPage } from '../lib/browser.mjs';
import { expectExactlyOnce } from '../lib/expect.mjs';
import { startStack } from '../lib/stack.mjs';

const PER_STEP = 20;
const PAGE = { batchSize: 10, flushIntervalMs: 100, retryDelayMs: 100, maxRetries: 2 };
let stack;

before(async () => { stack = await startStack(); });
after(async () => { await stack?.close(); });

/**
 * Records every answer of the collector to an ingest POST, as the browser received it;
 * `stop()` resolves to the count, the batch_ids answered `duplicate: true` (sent before) and
 * those answered more than once while watched (sent twice by the tabs watched).
 */
function watchAnswers(context, ingest) {
  const answers = [];
  const onResponse = (res) => {
    if (!res.url().startsWith(ingest) || res.request().method() !== 'POST') return;
    answers.push(res.json().catch(() => null));
  };
  context.on('response', onResponse);
  return {
    async stop() {
      context.off('response', onResponse);
      const bodies = (await Promise.all(answers)).filter(Boolean);
      const ids = bodies.map((b) => b.batch_id);
      return {
        answered: bodies.length,
        duplicates: bodies.filter((b) => b.duplicate === true).map((b) => b.batch_id),
        repeated: [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))],
      };
    },
  };
}

test('two tabs, one offline buffer: every log once, no batch sent twice', { timeout: 120_000 }, async () => {
  const { context } = stack.browser;
  const marker = `tabs-${Date.now().toString(36)}`;
  const ingest = `${stack.collector.base}/api/v1/logging/logs`;
  const watch = watchAnswers(context, ingest);
  // The collector unreachable for the pages (the pages themselves still load from the demo).
  const cut = (route) => route.abort('internetdisconnected');
  await context.route(`${ingest}**`, cut);

  const log = (page, from) => page.evaluate(async ({ marker, from, count }) => {
    for (let i = from; i < from + count; i++) window.tracewire.info(`${marker} #${i}`, { i });
    await window.tracewire.flush(); // cut into stored batches; none can go
    return window.tracewire.pendingBatches();
  }, { marker, from, count: PER_STEP });

  const first = await openTestPage(context, stack.demo.base, stack.collector.base, PAGE);
  assert.ok(await log(first, 0) > 0, 'the first tab stores batches it cannot send');
  // Opens while the first tab's batches are stored.
  const second = await openTestPage(context, stack.demo.base, stack.collector.base, PAGE);
  assert.ok(await log(second, PER_STEP) > 0, 'the second tab stores its own batches');
  await context.setOffline(true);
  await log(first, 2 * PER_STEP);
  await log(second, 3 * PER_STEP);

  await context.unroute(`${ingest}**`, cut);
  await context.setOffline(false);
  const sent = await Promise.all([first, second].map((p) => p.evaluate(() => window.e2e.flushAll())));
  assert.deepEqual(sent, [true, true], 'both tabs sent everything they hold');
  await expectExactlyOnce(stack.query, marker, 4 * PER_STEP);
  // Late sends (timers of either tab) would show here.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const { answered, duplicates } = await watch.stop();
  console.log(`tabs: ${answered} ingest answers, ${duplicates.length} duplicate`);
  assert.ok(answered > 0, 'ingest answers observed');
  assert.deepEqual(duplicates, [], 'no batch_id reached the collector twice');
  await second.close();
  await first.close();
});

test('a tab closes with unsent batches: the open tab sends them, without a reload', { timeout: 120_000 }, async () => {
  const { context } = stack.browser;
  const marker = `takeover-${Date.now().toString(36)}`;
  const ingest = `${stack.collector.base}/api/v1/logging/logs`;
  const watch = watchAnswers(context, ingest);
  // The first tab holds the outbox lock and sends to an address where nothing listens: its
  // batches stay stored, and nothing it sends (beacons at close included) can arrive.
  const first = await openTestPage(context, stack.demo.base, 'http://127.0.0.1:9', PAGE);
  // What the closed tabs of the first test left stored, before this test logs anything.
  const leftover = await first.evaluate(() => Object.keys(localStorage)
    .filter((k) => k.startsWith('tracewire:b:'))
    .map((k) => (/"batch_id":"([^"]+)"/.exec(localStorage.getItem(k)) || [])[1]));
  const stored = await first.evaluate(async ({ marker, count }) => {
    for (let i = 0; i < count; i++) window.tracewire.info(`${marker} #${i}`, { i });
    await window.tracewire.flush();
    return window.tracewire.pendingBatches();
  }, { marker, count: PER_STEP });
  assert.ok(stored > 0, 'the first tab stores batches it cannot send');
  const second = await openTestPage(context, stack.demo.base, stack.collector.base, PAGE);
  // The second tab sends its own entries, but not the first tab's while that one is open.
  const own = `own-${Date.now().toString(36)}`;
  await second.evaluate(async (own) => {
    window.tracewire.info(`${own} #0`);
    await window.tracewire.flush();
  }, own);
  await expectExactlyOnce(stack.query, own, 1, { timeoutMs: 30_000 });
  const early = (await stack.query.logs({ q: marker, source: 'frontend' })).length;
  assert.equal(early, 0, 'no entry of an open tab is sent by another tab');

  await first.close();
  await expectExactlyOnce(stack.query, marker, PER_STEP, { timeoutMs: 30_000 });
  assert.equal(await second.evaluate(() => window.tracewire.pendingBatches()), 0, 'the open tab drained the buffer');
  const { duplicates, repeated } = await watch.stop();
  assert.deepEqual(repeated, [], 'no batch_id reached the collector twice from the tabs of this test');
  assert.deepEqual(duplicates.filter((id) => !leftover.includes(id)), [],
    'only batches that closed tabs left stored were delivered before');
  await second.close();
});
