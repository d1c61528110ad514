// Checks shared by the no-loss tests.
import assert from 'node:assert/strict';
import { waitFor } from './procs.mjs';

/**
 * Waits until the collector holds the `count` logs `<marker> #0` … `#count-1`, then checks each
 * arrived exactly once: one row per message, dedup_count 1, nothing else under the marker.
 * A short settle time after the last one lets a late duplicate show.
 */
export async function expectExactlyOnce(query, marker, count, { timeoutMs = 60_000 } = {}) {
  let rows = [];
  await waitFor(`${count} logs "${marker} #…" in the collector`, async () => {
    rows = await query.logs({ q: marker, source: 'frontend' });
    return rows.length >= count;
  }, { timeoutMs, intervalMs: 200 }).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 1000));
  rows = await query.logs({ q: marker, source: 'frontend' });
  const seen = new Map();
  for (const r of rows) seen.set(r.message, (seen.get(r.message) || 0) + r.dedup_count);
  const missing = [];
  const twice = [];
  for (let i = 0; i < count; i++) {
    const n = seen.get(`${marker} #${i}`) || 0;
    if (n === 0) missing.push(i);
    if (n > 1) twice.push(i);
  }
  assert.deepEqual({ missing, twice }, { missing: [], twice: [] }, `${marker}: ${rows.length} rows for ${count} logs`);
  assert.equal(rows.length, count, `${marker}: one row per log`);
}
