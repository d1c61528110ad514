// A second origin that is not on the logger's propagateTo list: a tiny HTTP server that records
// the method, URL and headers of every request (preflights included) and answers CORS so the
// page can read its answers. `/status/NNN` answers NNN.
import http from 'node:http';

export async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    req.resume();
    const cors = {
      'access-control-allow-origin': '*',
      // Any header is allowed, so a trace header wrongly added would reach us and be seen.
      'access-control-allow-headers': req.headers['access-control-request-headers'] || '*',
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
    };
    const m = /^\/status\/(\d{3})/.exec(req.url);
    const status = req.method === 'OPTIONS' ? 204 : m ? Number(m[1]) : 200;
    res.writeHead(status, { ...cors, 'content-type': 'application/json' });
    res.end(req.method === 'OPTIONS' ? undefined : JSON.stringify({ ok: status < 400 }));
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
