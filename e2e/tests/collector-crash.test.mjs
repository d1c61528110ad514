// No loss across a collector crash: the collector is killed with SIGKILL while the page is
// logging (requests in flight), then started again on the same database and port. Batches the
// collector committed but could not acknowledge are sent again with their batch_id and stored
// once; the rest are retried until acknowledged — every log arrives exactly once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestPage } from '../lib/browser.mjs';
import { expectExactlyOnce } from '../lib/expect.mjs';
import { waitFor } from '../lib/procs.mjs';
import { startStack } from '../lib/stack.mjs';

const COUNT = 200;
const PAGE = { batchSize: 5, flushIntervalMs: 50, retryDelayMs: 100, maxRetries: 30 };
let stack;

before(async () => { stack = await startStack(); });
after(async () => { await stack?.close(); });

test('collector killed -9 and restarted while the page logs: every log exactly once', { timeout: 120_000 }, async () => {
  const marker = `crash-${Date.now().toString(36)}`;
  const page = await openTestPage(stack.browser.context, stack.demo.base, stack.collector.base, PAGE);
  // About 2 s of logging; the logger sends a batch of 5 about every 50 ms on its own.
  await page.evaluate(({ marker, count }) => {
    window.logging = window.e2e.logMany(marker, count, 10);
  }, { marker, count: COUNT });
  const before = await waitFor('the first batches stored', async () => {
    const n = (await stack.query.logs({ q: marker })).length;
    return n >= 20 && n;
  }, { timeoutMs: 20_000 });
  await stack.collector.kill9();
  await new Promise((resolve) => setTimeout(resolve, 700));
  await stack.restartCollector();
  assert.ok(await page.evaluate(async () => { await window.logging; return window.e2e.flushAll(); }),
    'every batch acknowledged after the restart');
  assert.ok(before < COUNT, `the kill came mid-run (${before} of ${COUNT} stored before it)`);
  await expectExactlyOnce(stack.query, marker, COUNT);
  await page.close();
});
