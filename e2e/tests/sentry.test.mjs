// A page instrumented with the real @sentry/browser SDK (from npm, bundled by Vite as an app
// would), its DSN pointing at the collector: a structured log, a fetch of the demo shop's API
// and a captured error under one span all show up in the collector's trace view under the
// span's trace id, next to the shop backend's own request log (the SDK sends W3C
// `traceparent`, which the backend's tracewire middleware continues).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'vite';
import { ROOT } from '../lib/paths.mjs';
import { INGEST_KEY, tempDir, waitFor } from '../lib/procs.mjs';
import { startStack } from '../lib/stack.mjs';

const FIXTURE = path.join(ROOT, 'e2e', 'fixtures', 'sentry-page');
let stack;
let outDir;

before(async () => {
  outDir = tempDir('sentry-page');
  await build({
    root: FIXTURE, configFile: false, logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
    // The fixture lives outside the workspace's node_modules root: resolve from the repository.
    resolve: { alias: { '@sentry/browser': path.join(ROOT, 'node_modules', '@sentry', 'browser') } },
  });
  stack = await startStack({ publicDir: outDir });
});

after(async () => {
  await stack?.close();
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

test('@sentry/browser: a log, a fetch and an error under one trace reach the trace view', { timeout: 120_000 }, async () => {
  const page = await stack.browser.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.url().includes('/envelope/') && r.status() !== 200) problems.push(`${r.status()} ${r.url()}`); });
  const dsn = `http://${INGEST_KEY}@127.0.0.1:${stack.collectorPort}/1`;
  await page.goto(`${stack.demo.base}/index.html?dsn=${encodeURIComponent(dsn)}`);
  await page.waitForFunction(() => window.ready === true);
  const marker = `s${Date.now().toString(36)}`;
  const { traceId, flushed } = await page.evaluate((m) => window.run(m), marker);
  assert.equal(flushed, true, 'the SDK flushed');
  assert.match(traceId, /^[0-9a-f]{32}$/);

  const trace = await waitFor('the trace', async () => {
    const t = await stack.query.trace(traceId);
    const kinds = t.items.map((i) => i.kind);
    const done = kinds.includes('exception')
      && t.items.some((i) => i.kind === 'log' && i.log.source === 'frontend')
      && t.items.some((i) => i.kind === 'log' && i.log.source === 'backend');
    return done ? t : null;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  const logs = trace.items.filter((i) => i.kind === 'log').map((i) => i.log);
  const sdkLog = logs.find((l) => l.message === `sentry log ${marker}`);
  assert.ok(sdkLog, `the SDK's log is in the trace: ${JSON.stringify(logs.map((l) => l.message))}`);
  assert.equal(sdkLog.level, 'WARNING');
  assert.equal(sdkLog.source, 'frontend');
  const backend = logs.filter((l) => l.source === 'backend');
  assert.ok(backend.some((l) => l.request_path === '/api/products'), 'the shop backend logged the fetch under the same trace');
  const exception = trace.items.find((i) => i.kind === 'exception').exception;
  assert.equal(exception.exception_type, 'TypeError');
  assert.match(exception.exception_message, new RegExp(`sentry error ${marker}: 200`));
  assert.match(exception.stack_trace ?? '', /at /, 'the stack frames arrive as text');
  assert.deepEqual(problems, [], 'every envelope was accepted and the page ran cleanly');
  await page.close();
});
