// Seed properties 1–4 end to end, as a fast-check property over random sequences of app actions
// in one Chromium page: fetch and XHR to the demo's own API (allow-listed, same origin) with
// 2xx/4xx/5xx answers and a panic, fetch and XHR to a second origin that is not allow-listed,
// logs at random levels (repeated, to exercise dedup), uncaught errors and unhandled
// rejections, and newTrace() calls. After each run the page flushes and the collector's query
// API must show, for every trace the run used:
//   1. every request to the API left exactly one backend request log (counted with dedup);
//   2. every backend log of those requests (request logs, handler events, 5xx and panic
//      exceptions) carries the trace id the page had when it sent the request — counts are exact
//      per trace, so a log under a wrong trace leaves its own trace short;
//   3. a message logged k times arrives as one row with dedup_count k;
//   4. every uncaught error is an exception occurrence of that trace, with its stack;
// and the second origin never saw traceparent, tracestate or x-trace-id (nor a preflight asking
// for them).
// E2E_RUNS (default 100) and E2E_SEED replay a run; the seed is printed, and a failure prints
// the shrunk counterexample.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { openTestPage } from '../lib/browser.mjs';
import { waitFor } from '../lib/procs.mjs';
import { startRecorder } from '../lib/recorder.mjs';
import { startStack } from '../lib/stack.mjs';

const RUNS = Number(process.env.E2E_RUNS || 100);
const SEED = Number(process.env.E2E_SEED || (Date.now() % 0x7fffffff));
const REQUEST_MODULE = 'tracewire_middleware::request';
const BACKEND_EXCEPTION_TYPES = new Set(['http_5xx', 'panic']);
const LEVELS = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', critical: 'CRITICAL' };

/** What the demo's API answers and logs for each kind of request (see e2e/demo/src/api.rs). */
const API = {
  products: { status: 200, event: 'listing products' },
  order: { status: 201, event: 'order placed' },
  orderUnknown: { status: 404 },
  orderInvalid: { status: 400 },
  checkoutFail: {
    status: 502,
    event: 'payment provider declined the card',
    exception: 'http_5xx: POST /api/checkout/fail answered 502',
  },
  panic: { status: 500, exception: 'panic: inventory index out of range (demo panic)' },
  slow: { status: 200, event: 'slow request done' },
};

const transport = fc.constantFrom('fetch', 'xhr');
const action = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('api'), kind: fc.constantFrom(...Object.keys(API)), transport }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('other'), status: fc.constantFrom(200, 404, 500), method: fc.constantFrom('GET', 'POST'), transport,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('log'), level: fc.constantFrom(...Object.keys(LEVELS)), msg: fc.integer({ min: 0, max: 2 }),
      times: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('throw'), how: fc.constantFrom('error', 'rejection'), errorType: fc.constantFrom('Error', 'TypeError', 'RangeError'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('newTrace') }) },
);

let stack;
let recorder;
let page;
let runCounter = 0;

before(async () => {
  stack = await startStack();
  recorder = await startRecorder();
  page = await openTestPage(stack.browser.context, stack.demo.base, stack.collector.base,
    { batchSize: 20, flushIntervalMs: 50 });
});

after(async () => {
  await recorder?.close();
  await stack?.close();
});

/** Gives the generated actions the run's unique names (messages, request ids). */
function materialize(actions, tag, recorderBase) {
  return actions.map((a, i) => {
    switch (a.type) {
      case 'other': return { ...a, base: recorderBase, rid: `${tag}-${i}` };
      case 'log': return { ...a, message: `${tag} m${a.msg}` };
      case 'throw': return { ...a, message: `${tag} boom ${i}` };
      default: return a;
    }
  });
}

const bump = (map, key, n = 1) => { map[key] = (map[key] || 0) + n; };
const emptySummary = () => ({ requests: {}, events: {}, backendExceptions: {}, frontendExceptions: {}, logs: {} });

/** What the collector must hold per trace after the actions `done` (as the page reports them). */
function expectedSummaries(done, firstTrace) {
  const byTrace = new Map([[firstTrace, emptySummary()]]);
  const of = (trace) => { if (!byTrace.has(trace)) byTrace.set(trace, emptySummary()); return byTrace.get(trace); };
  for (const d of done) {
    const s = of(d.trace);
    if (d.type === 'api') {
      const spec = API[d.kind];
      bump(s.requests, `${d.method} ${d.path} ${spec.status}`);
      if (spec.event) bump(s.events, spec.event);
      if (spec.exception) bump(s.backendExceptions, spec.exception);
    } else if (d.type === 'log') {
      bump(s.logs, `${LEVELS[d.level]} ${d.message}`, d.times);
    } else if (d.type === 'throw') {
      bump(s.frontendExceptions, `${d.errorType}: ${d.message}`);
    }
  }
  return byTrace;
}

/** The same summary read from the collector, plus the rows that need more than counting. */
async function observedSummary(traceId, tag) {
  const s = emptySummary();
  const logRows = {};
  const stacks = [];
  for (const item of (await stack.query.trace(traceId)).items) {
    if (item.kind === 'log') {
      const l = item.log;
      if (l.source === 'backend') {
        bump(l.module === REQUEST_MODULE ? s.requests : s.events, l.message, l.dedup_count);
      } else if (l.message.startsWith(`${tag} `)) {
        // The page's own logs; its request logs ("GET /api/…") are not part of the model.
        bump(s.logs, `${l.level} ${l.message}`, l.dedup_count);
        bump(logRows, `${l.level} ${l.message}`);
      }
    } else {
      const e = item.exception;
      const key = `${e.exception_type}: ${e.exception_message}`;
      if (BACKEND_EXCEPTION_TYPES.has(e.exception_type)) bump(s.backendExceptions, key);
      else {
        bump(s.frontendExceptions, key);
        stacks.push({ key, stack: e.stack_trace });
      }
    }
  }
  return { summary: s, logRows, stacks };
}

async function checkRun(actions) {
  const tag = `r${++runCounter}x${Math.random().toString(36).slice(2, 8)}`;
  const steps = materialize(actions, tag, recorder.base);
  const { firstTrace, done, flushed } = await page.evaluate(async (steps) => {
    const firstTrace = window.tracewire.newTrace();
    const done = await window.e2e.run(steps);
    return { firstTrace, done, flushed: await window.e2e.flushAll() };
  }, steps);
  assert.ok(flushed, 'the page acknowledged every batch');

  // The demo answered each request as it should (so 2xx, 4xx and 5xx all occur).
  for (const d of done) {
    if (d.type === 'api') assert.equal(d.status, API[d.kind].status, `${d.kind} via ${d.transport}`);
    if (d.type === 'other') assert.equal(d.answered, d.status, `other origin ${d.rid} via ${d.transport}`);
  }

  // Properties 1–4 per trace. Backend logs travel through the demo's middleware (1 s batches),
  // so poll until the collector holds exactly what is expected, then compare.
  const expected = expectedSummaries(done, firstTrace);
  for (const [traceId, want] of expected) {
    let seen;
    try {
      await waitFor(`trace ${traceId}`, async () => {
        seen = await observedSummary(traceId, tag);
        return JSON.stringify(seen.summary) === JSON.stringify(want);
      }, { timeoutMs: 20_000, intervalMs: 100 });
    } catch {
      // Fall through to the assertion, which shows the difference.
    }
    assert.deepStrictEqual(seen.summary, want, `trace ${traceId}: collector contents`);
    for (const [key, rows] of Object.entries(seen.logRows)) {
      const at = done.filter((d) => d.type === 'log' && `${LEVELS[d.level]} ${d.message}` === key).map((d) => d.at);
      // All repetitions fell within the 10 s dedup window, so they collapsed into one row.
      if (Math.max(...at) - Math.min(...at) < 5000) assert.equal(rows, 1, `${key}: one row`);
    }
    for (const { key, stack: trace } of seen.stacks) {
      assert.match(trace || '', /e2e(Thrower|MakeError) \(http:\/\/127\.0\.0\.1:\d+\/page\.js:\d+:\d+\)/, `${key}: stack`);
    }
  }

  // The second origin never got trace headers, nor a preflight asking to send them.
  const mine = recorder.requests.filter((r) => r.url.includes(`rid=${tag}-`));
  for (const d of done.filter((x) => x.type === 'other')) {
    assert.ok(mine.some((r) => r.method === d.method && r.url.endsWith(`rid=${d.rid}`)), `request ${d.rid} reached the other origin`);
  }
  for (const r of mine) {
    for (const h of ['traceparent', 'tracestate', 'x-trace-id']) {
      assert.equal(r.headers[h], undefined, `${r.method} ${r.url} carried ${h}`);
      assert.ok(!(r.headers['access-control-request-headers'] || '').includes(h), `preflight of ${r.url} asked for ${h}`);
    }
  }
}

test(`trace propagation, dedup and exceptions end to end (${RUNS} runs)`, { timeout: 30 * 60_000 }, async () => {
  console.log(`trace propagation property: seed ${SEED}, ${RUNS} runs (replay with E2E_SEED=${SEED})`);
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 8 }), checkRun),
      { numRuns: RUNS, seed: SEED, verbose: fc.VerbosityLevel.Verbose, interruptAfterTimeLimit: 20 * 60_000, markInterruptAsFailure: true },
    );
  } catch (e) {
    // fast-check keeps the failing assertion as `cause`, which the test reporter does not show.
    if (e.cause) e.message += `\nFailure of the shrunk counterexample: ${e.cause.stack || e.cause}`;
    e.message += `\n${stack.output()}`;
    throw e;
  }
  console.log(`trace propagation property: ${RUNS} runs passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
