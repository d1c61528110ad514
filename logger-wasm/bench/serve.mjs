// Static server for the browser benchmark and smoke test: serves the built package under
// /pkg/, the Datadog bundle under /dd/, the pages in this folder, and a stand-in ingest
// endpoint that records every batch (POST /api/v1/logging/logs) for the smoke test.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const roots = {
  '/pkg/': path.join(here, '..', 'pkg'),
  '/dd/': path.join(here, 'node_modules', '@datadog', 'browser-logs', 'bundle'),
  '/': here,
};
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

/** Starts the server on a free port; resolves to { url, batches, requests, close }. */
export function start() {
  const batches = [];
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    if (req.url.startsWith('/api/v1/logging/logs')) {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        try { batches.push(JSON.parse(body)); } catch (_) { batches.push({ invalid: body }); }
        res.writeHead(200, { 'content-type': 'application/json' });
        const b = batches[batches.length - 1];
        res.end(JSON.stringify({ batch_id: b.batch_id, accepted: { logs: (b.logs || []).length, exceptions: 0, metrics: 0 }, duplicate: false }));
      });
      return;
    }
    if (req.url.startsWith('/api/') || req.url === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    const prefix = Object.keys(roots).find((p) => req.url.startsWith(p));
    const file = path.join(roots[prefix], decodeURIComponent(req.url.slice(prefix.length).split('?')[0]));
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    resolve({ url: `http://127.0.0.1:${port}`, batches, requests, close: () => server.close() });
  }));
}
