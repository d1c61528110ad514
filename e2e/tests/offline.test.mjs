// No loss across a network cut and a closed tab: the page logs while offline, the tab is closed
// while still offline, the network comes back and the app is opened again — every log arrives
// exactly once (from the localStorage buffer, whatever keepalive sends the tab tried on close).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestPage } from '../lib/browser.mjs';
import { expectExactlyOnce } from '../lib/expect.mjs';
import { startStack } from '../lib/stack.mjs';

const COUNT = 60;
const PAGE = { batchSize: 10, flushIntervalMs: 100, retryDelayMs: 100, maxRetries: 2 };
let stack;

before(async () => { stack = await startStack(); });
after(async () => { await stack?.close(); });

test('offline, tab closed while offline, reopened online: every log exactly once', { timeout: 120_000 }, async () => {
  const { context } = stack.browser;
  const marker = `offline-${Date.now().toString(36)}`;
  // Chromium quits when its last tab closes; a blank tab keeps the browser (and the profile's
  // localStorage) while the app's tab is closed.
  const keeper = await context.newPage();
  const first = await openTestPage(context, stack.demo.base, stack.collector.base, PAGE);
  await context.setOffline(true);
  const pending = await first.evaluate(async ({ marker, count }) => {
    await window.e2e.logMany(marker, count, 5);
    await window.tracewire.flush(); // every entry cut into a batch (and stored); none can go
    return window.tracewire.pendingBatches();
  }, { marker, count: COUNT });
  assert.ok(pending > 0, 'batches wait while offline');
  const closed = new Promise((resolve) => first.once('close', resolve));
  await first.close({ runBeforeUnload: true });
  await closed;

  await context.setOffline(false);
  const second = await openTestPage(context, stack.demo.base, stack.collector.base, PAGE);
  assert.ok(await second.evaluate(() => window.e2e.flushAll()), 'the reopened page sent the stored batches');
  await expectExactlyOnce(stack.query, marker, COUNT);
  await second.close();
  await keeper.close();
});
