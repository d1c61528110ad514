// The collector's query API as the tests use it: log in once as admin, then read logs and
// traces with a bearer token.
import { ADMIN_PASSWORD } from './procs.mjs';

export class QueryClient {
  constructor(base) {
    this.base = base;
    this.token = null;
  }

  async login() {
    const r = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    if (!r.ok) throw new Error(`login answered ${r.status}: ${await r.text()}`);
    this.token = (await r.json()).token;
    return this;
  }

  async get(pathAndQuery) {
    const r = await fetch(`${this.base}${pathAndQuery}`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!r.ok) throw new Error(`GET ${pathAndQuery} answered ${r.status}: ${await r.text()}`);
    return r.json();
  }

  /** Every log and exception occurrence of one trace, in time order. */
  trace(traceId) {
    return this.get(`/api/v1/logging/traces/${traceId}`);
  }

  /** Every log matching `filters` (all pages). */
  async logs(filters) {
    const items = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({ ...filters, limit: '1000' });
      if (cursor) q.set('cursor', cursor);
      const page = await this.get(`/api/v1/logging/logs?${q}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }
}
