// One test file's world: a collector over its own SQLite file, the demo shop shipping to it,
// a logged-in query client and a Chromium context; `close()` stops and removes all of it.
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { assertBuilt, freePort, startCollector, startDemo, tempDir } from './procs.mjs';
import { QueryClient } from './query.mjs';

/**
 * `collectorArgs`: extra collector flags. `publicDir`: the page the demo serves.
 * `browser: false` skips Chromium.
 */
export async function startStack({ collectorArgs = [], publicDir, browser = true } = {}) {
  assertBuilt();
  const dir = tempDir('stack');
  const stack = { dir, dbPath: path.join(dir, 'tracewire.db'), collectorArgs };
  stack.collectorPort = await freePort();
  stack.collector = await startCollector({
    port: stack.collectorPort, dbPath: stack.dbPath, logFile: path.join(dir, 'collector.log'), args: collectorArgs,
  });
  stack.demo = await startDemo({
    port: await freePort(), collector: stack.collector.base, logFile: path.join(dir, 'demo.log'), publicDir,
  });
  stack.query = await new QueryClient(stack.collector.base).login();
  if (browser) stack.browser = await launchBrowser();

  /** Starts the collector again on the same port and database (after a stop or a kill). */
  stack.restartCollector = async () => {
    stack.collector = await startCollector({
      port: stack.collectorPort, dbPath: stack.dbPath, logFile: path.join(dir, 'collector.log'), args: collectorArgs,
    });
    return stack.collector;
  };

  /** The collector's and the demo's last output, for failure messages. */
  stack.output = () => `--- collector ---\n${stack.collector.tail()}\n--- demo ---\n${stack.demo.tail()}`;

  stack.close = async () => {
    if (stack.browser) await stack.browser.close();
    await stack.demo.stop();
    await stack.collector.stop();
    if (!process.env.TRACEWIRE_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  };
  return stack;
}
