// Headless Debian Chromium driven by playwright-core (never a downloaded browser): a persistent
// context over a fresh profile directory, so localStorage survives closing a tab exactly as in
// a real browser, and the profile is removed afterwards.
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { tempDir } from './procs.mjs';

const EXECUTABLE = process.env.TRACEWIRE_CHROMIUM || '/usr/bin/chromium';

/** A browser context; `close()` ends Chromium and deletes its profile. */
export async function launchBrowser() {
  const profile = tempDir('profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the test page of `demo` with the logger configured by `options` (query parameters of
 * the page: batchSize, flushIntervalMs, retryDelayMs, maxRetries…) and waits for init().
 * Uncaught page errors are expected in some tests; they are collected, not fatal.
 */
export async function openTestPage(context, demo, collector, options = {}) {
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (e) => page.pageErrors.push(e));
  const q = new URLSearchParams({ collector, ...Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k, String(v)])) });
  await page.goto(`${demo}/index.html?${q}`);
  await page.waitForFunction(() => window.e2e && window.e2e.ready === true, null, { timeout: 20_000 });
  return page;
}
