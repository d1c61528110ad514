// Real processes for a test: the collector over a temporary SQLite database and the demo shop,
// each on a free port, waited for by polling with a deadline and stopped with SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { COLLECTOR_BIN, DEMO_BIN, DEMO_DIR, TEST_PAGE_DIR } from './paths.mjs';

/** The ingest key the collector ensures on start and the demo, the shop page and the test page send. */
export const INGEST_KEY = 'tw_demo_key';
/** Password of the collector's first admin user. */
export const ADMIN_PASSWORD = 'e2e-admin-password';

/** A port nothing listens on right now (the kernel's pick for port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A fresh directory under $TMPDIR (created when missing, as `TMPDIR=$PWD/.tmp` on a fresh
 * clone is), removed by the caller. */
export function tempDir(prefix) {
  fs.mkdirSync(os.tmpdir(), { recursive: true });
  return fs.mkdtempSync(path.join(os.tmpdir(), `tracewire-e2e-${prefix}-`));
}

/**
 * Calls `probe` until it returns a truthy value or `timeoutMs` passes; returns that value.
 * On timeout throws with `what` and the last error or value, so a failure says what it awaited.
 */
export async function waitFor(what, probe, { timeoutMs = 20_000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function answers(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await r.arrayBuffer();
  return r.ok;
}

/**
 * A child process whose output goes to a log file, so a failing test can show it.
 * `exited` resolves with the exit code (or signal) once it is gone.
 */
class Child {
  constructor(name, bin, args, env, logFile) {
    this.name = name;
    this.logFile = logFile;
    const out = fs.openSync(logFile, 'a');
    this.proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve(code ?? signal));
      this.proc.on('error', (e) => resolve(`spawn error: ${e.message}`));
    });
    this.alive = true;
    this.exited.then(() => { this.alive = false; });
  }

  /** The last lines the process printed. */
  tail(lines = 20) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Waits for `url` to answer 2xx; fails early with the output if the process died. */
  async ready(url) {
    try {
      await waitFor(`${this.name} at ${url}`, async () => {
        if (!this.alive) throw new Error(`${this.name} exited: ${await this.exited}`);
        return answers(url);
      });
    } catch (e) {
      e.message += `\n--- ${this.name} output ---\n${this.tail()}`;
      throw e;
    }
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000) {
    if (!this.alive) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL: a crash, nothing flushed. */
  async kill9() {
    if (!this.alive) return this.exited;
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * Starts the collector on `port` over the SQLite file `dbPath` (created on first start) and
 * waits until `/readyz` answers. `args` adds flags (e.g. `--rate-limit`).
 */
export async function startCollector({ port, dbPath, logFile, args = [] }) {
  const base = `http://127.0.0.1:${port}`;
  const child = new Child('collector', COLLECTOR_BIN, [
    '--listen', `127.0.0.1:${port}`,
    '--database-url', `sqlite://${dbPath}`,
    ...args,
  ], {
    TRACEWIRE_INGEST_KEY: INGEST_KEY,
    TRACEWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    RUST_LOG: process.env.RUST_LOG || 'warn',
  }, logFile);
  await child.ready(`${base}/readyz`);
  child.base = base;
  return child;
}

/**
 * Starts the demo shop backend shipping to `collector`, serving `publicDir` (the test page by
 * default) and the logger npm install put into e2e/demo/node_modules under `/vendor`.
 */
export async function startDemo({ port, collector, logFile, publicDir = TEST_PAGE_DIR }) {
  const base = `http://127.0.0.1:${port}`;
  const child = new Child('demo', DEMO_BIN, [
    '--listen', `127.0.0.1:${port}`,
    '--collector', collector,
    '--key', INGEST_KEY,
    '--public-dir', publicDir,
    '--vendor-dir', path.join(DEMO_DIR, 'node_modules'),
  ], { RUST_LOG: process.env.RUST_LOG || 'warn' }, logFile);
  // A static file: it is not traced, so waiting leaves no log in the collector.
  await child.ready(`${base}/index.html`);
  child.base = base;
  return child;
}

/** Fails with a clear message when the build step has not run. */
export function assertBuilt() {
  for (const bin of [COLLECTOR_BIN, DEMO_BIN]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`node e2e/lib/build.mjs\` (npm run e2e does)`);
  }
  if (!fs.existsSync(path.join(DEMO_DIR, 'node_modules', '@tracewire', 'logger', 'package.json'))) {
    throw new Error('@tracewire/logger is not installed in e2e/demo: run `node e2e/lib/build.mjs`');
  }
}
