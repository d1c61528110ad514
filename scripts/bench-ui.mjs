#!/usr/bin/env node
// Times the admin UI's log explorer in headless Chromium against a collector on loopback:
// from navigation start (a fresh tab, the wasm already in the HTTP cache as for any returning
// user, and once with an empty cache) until the first page of rows is on screen, and until the
// volume histogram is drawn. Beside it, the same API calls timed alone from Node (the floor the
// page cannot beat), and the same page over an empty database (the UI's own cost).
//
// usage: node scripts/bench-ui.mjs --bin target/release/tracewire --db FILLED.db [--runs 7]
//   FILLED.db: a SQLite file from `tracewire-query-bench --rows 1000000 --db FILLED.db`
//   (1 M logs over the last 30 days). The file is used in place (the collector adds its admin
//   user on the first start).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'e2e', 'package.json'));
const { chromium } = require('playwright-core');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const BIN = arg('bin', 'target/release/tracewire');
const DB = arg('db');
const RUNS = Number(arg('runs', '7'));
const PASSWORD = 'bench-admin-password';
if (!DB) throw new Error('--db FILE is required');

async function startCollector(db, port) {
  const child = spawn(BIN, ['--listen', `127.0.0.1:${port}`, '--database-url', `sqlite://${db}`, '--retention-interval-secs', '0'], {
    env: { ...process.env, TRACEWIRE_ADMIN_PASSWORD: PASSWORD, RUST_LOG: 'warn' }, stdio: 'ignore',
  });
  for (let i = 0; i < 600; i += 1) {
    try { if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('collector did not start');
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const fmt = (xs) => `median ${pct(xs, 0.5).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;

async function measure(label, db, port) {
  const collector = await startCollector(db, port);
  const base = `http://127.0.0.1:${port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ui-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TRACEWIRE_CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1366, height: 768 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { username: 'admin', password: PASSWORD } });
  if (!login.ok()) throw new Error(`login: ${login.status()}`);
  const token = (await login.json()).token;
  const result = { label, rows: [], hist: [], cold: null, api: [], apiStats: [] };
  for (let i = 0; i <= RUNS; i += 1) {
    const page = await context.newPage();
    await page.goto(`${base}/logs`);
    const rowsAt = await page.waitForFunction(() => document.querySelector('table.logs tbody tr, .results .empty') && performance.now(), null, { polling: 'raf', timeout: 60_000 });
    const histAt = await page.waitForFunction(() => document.querySelector('.histogram svg, .histogram .error') && performance.now(), null, { polling: 'raf', timeout: 60_000 });
    const [r, h] = [await rowsAt.jsonValue(), await histAt.jsonValue()];
    if (i === 0) result.cold = { rows: r, hist: h }; else { result.rows.push(r); result.hist.push(h); }
    await page.close();
  }
  const to = new Date();
  const from = new Date(to.getTime() - 86_400_000);
  const q = `from=${from.toISOString()}&to=${to.toISOString()}`;
  for (let i = 0; i < RUNS; i += 1) {
    let t = performance.now();
    await (await fetch(`${base}/api/v1/logging/logs?${q}&limit=100`, { headers: { authorization: `Bearer ${token}` } })).json();
    result.api.push(performance.now() - t);
    t = performance.now();
    await (await fetch(`${base}/api/v1/logging/logs/statistics?${q}&bucket=30m`, { headers: { authorization: `Bearer ${token}` } })).json();
    result.apiStats.push(performance.now() - t);
  }
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  collector.kill('SIGTERM');
  await new Promise((r) => collector.on('exit', r));
  return result;
}

const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ui-db-')), 'empty.db');
for (const [label, db, port] of [['1 M logs', DB, 18931], ['empty database', empty, 18932]]) {
  const r = await measure(label, db, port);
  console.log(`${r.label}: default view (last 24 h), ${RUNS} runs`);
  console.log(`  first page of rows on screen: ${fmt(r.rows)} (empty HTTP cache: ${r.cold.rows.toFixed(0)} ms)`);
  console.log(`  histogram drawn:              ${fmt(r.hist)} (empty HTTP cache: ${r.cold.hist.toFixed(0)} ms)`);
  console.log(`  API alone, logs page + total: ${fmt(r.api)}; statistics: ${fmt(r.apiStats)}`);
}
fs.rmSync(path.dirname(empty), { recursive: true, force: true });
