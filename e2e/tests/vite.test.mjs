// The package in a Vite app, as a user bundles it: installed from the packed tarball into an
// app of its own, then served by Vite's dev server and by a production build (`vite build`,
// served by `vite preview`). In both, the module loads (the `.wasm` file found through
// `new URL(…, import.meta.url)`) and a log reaches the collector.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { build, createServer, preview } from 'vite';
import { INSTALLED_TARBALL, ROOT } from '../lib/paths.mjs';
import { freePort, INGEST_KEY, tempDir } from '../lib/procs.mjs';
import { expectExactlyOnce } from '../lib/expect.mjs';
import { startStack } from '../lib/stack.mjs';

const FIXTURE = path.join(ROOT, 'e2e', 'fixtures', 'vite-app');
let stack;
let app;

before(async () => {
  stack = await startStack();
  app = tempDir('vite-app');
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(app, f));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'vite-app', private: true, type: 'module',
    dependencies: { '@tracewire/logger': `file:${INSTALLED_TARBALL}` },
  }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', '--no-package-lock'], { cwd: app, stdio: 'inherit' });
});

after(async () => {
  await stack?.close();
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

/** Opens the app at `base`, which logs one entry; checks it loaded cleanly and the entry arrived. */
async function expectLogged(base, marker) {
  const page = await stack.browser.context.newPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text()); });
  page.on('pageerror', (e) => warnings.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) warnings.push(`${r.status()} ${r.url()}`); });
  const q = new URLSearchParams({ collector: stack.collector.base, key: INGEST_KEY, message: `${marker} #0` });
  await page.goto(`${base}/?${q}`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
  const result = await page.evaluate(() => window.result);
  await page.close();
  assert.deepEqual(warnings, [], 'no warning: the logger loaded');
  assert.equal(result.pending, 0, 'everything was sent');
  await expectExactlyOnce(stack.query, marker, 1);
}

test('the dev server serves the package and its module', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const server = await createServer({
    root: app, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port, strictPort: true },
  });
  await server.listen();
  try {
    await expectLogged(`http://127.0.0.1:${port}`, `vite-dev-${Date.now().toString(36)}`);
  } finally {
    await server.close();
  }
});

test('a production build bundles the package and emits its module', { timeout: 120_000 }, async () => {
  const outDir = path.join(app, 'dist');
  await build({ root: app, configFile: false, logLevel: 'warn', build: { outDir } });
  const assets = fs.readdirSync(path.join(outDir, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the .wasm is emitted: ${assets.join(', ')}`);
  const port = await freePort();
  const server = await preview({
    root: app, configFile: false, logLevel: 'warn', build: { outDir },
    preview: { host: '127.0.0.1', port, strictPort: true },
  });
  try {
    await expectLogged(`http://127.0.0.1:${port}`, `vite-build-${Date.now().toString(36)}`);
  } finally {
    await server.close();
  }
});
