// No loss under rate limiting: the collector allows 2 entries/s with bursts of 10, the page
// queues 60 entries in batches of 10. Refused batches come back 429 with Retry-After; the
// logger waits at least that long before sending the batch again, and every log arrives
// exactly once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestPage } from '../lib/browser.mjs';
import { expectExactlyOnce } from '../lib/expect.mjs';
import { startStack } from '../lib/stack.mjs';

const COUNT = 60;
const PAGE = { batchSize: 10, flushIntervalMs: 50, retryDelayMs: 100, maxRetries: 50 };
let stack;

before(async () => { stack = await startStack({ collectorArgs: ['--rate-limit', '2', '--rate-burst', '10'] }); });
after(async () => { await stack?.close(); });

test('429 with Retry-After: the logger waits as told and nothing is lost', { timeout: 120_000 }, async () => {
  const marker = `ratelimit-${Date.now().toString(36)}`;
  const page = await openTestPage(stack.browser.context, stack.demo.base, stack.collector.base, PAGE);
  // Every ingest attempt as the browser made it: when, which batch, what came back.
  const attempts = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(`${stack.collector.base}/api/v1/logging/logs`) || req.method() !== 'POST') return;
    const attempt = { at: Date.now(), batch: JSON.parse(req.postData()).batch_id };
    attempts.push(attempt);
    req.response().then((res) => {
      // The browser's own start time of the request: events reach us with a variable delay.
      attempt.at = req.timing().startTime;
      attempt.status = res?.status();
      attempt.retryAfter = res?.headers()['retry-after'];
    }, () => {});
  });
  // A flush() after every 10 logs cuts 6 batches; those calls all run before the first answer
  // comes back, so from then on only the logger's own timers send: every wait between attempts
  // is the logger's.
  await page.evaluate(async ({ marker, count }) => {
    await window.e2e.logMany(marker, count, 0, 10);
    await window.tracewire.flush();
  }, { marker, count: COUNT });
  await expectExactlyOnce(stack.query, marker, COUNT, { timeoutMs: 90_000 });

  const limited = attempts.filter((a) => a.status === 429);
  const waits = limited.map((a) => {
    const next = attempts.find((b) => b.batch === a.batch && b.at > a.at);
    return `${next ? Math.round(next.at - a.at) : '-'} ms after Retry-After ${a.retryAfter} s`;
  });
  console.log(`rate limit: ${attempts.length} ingest attempts, ${limited.length} answered 429; retried ${waits.join(', ')}`);
  assert.ok(limited.length >= 1, `some batches were refused with 429 (attempts: ${JSON.stringify(attempts)})`);
  for (const a of limited) {
    assert.match(a.retryAfter || '', /^\d+$/, 'a 429 carries Retry-After in seconds');
    const next = attempts.find((b) => b.batch === a.batch && b.at > a.at);
    assert.ok(next, `batch ${a.batch} was sent again after its 429`);
    // Measured between the two requests' starts in the browser, which is at most the wait the
    // logger chose; the margin covers timer granularity (ignoring Retry-After would mean ~0.1 s).
    assert.ok(next.at - a.at >= Number(a.retryAfter) * 1000 - 250,
      `batch ${a.batch} came back after ${next.at - a.at} ms, Retry-After was ${a.retryAfter} s`);
  }
  await page.close();
});
