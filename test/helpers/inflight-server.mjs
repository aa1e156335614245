// A local HTTP server that counts requests in flight per lock channel (tests) and logs every request
// with absolute times (the benchmark). Plain JavaScript so that bench/ can use it too.
import { createServer } from 'node:http';

/** Absolute time in ms with sub-ms precision, comparable across processes of one machine. */
export const clock = () => performance.timeOrigin + performance.now();

/**
 * `GET /work?channels=a,b&ms=5&pid=1&t0=…` holds the request `ms` milliseconds and counts, per listed
 * channel, how many requests are in flight at once. `GET /plain` answers at once and counts nothing.
 */
export const startInflightServer = async () => {
  const now = new Map();
  const most = {};
  const log = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const channels = (url.searchParams.get('channels') ?? '').split(',').filter(Boolean);
    const entry = { pid: url.searchParams.get('pid') ?? '', channels, t0: Number(url.searchParams.get('t0') ?? 0), start: clock(), end: 0 };
    for (const c of channels) {
      now.set(c, (now.get(c) ?? 0) + 1);
      most[c] = Math.max(most[c] ?? 0, now.get(c));
    }
    const finish = () => {
      for (const c of channels) now.set(c, now.get(c) - 1);
      entry.end = clock();
      log.push(entry);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, n: log.length }));
    };
    const ms = Number(url.searchParams.get('ms') ?? 0);
    if (ms > 0) setTimeout(finish, ms);
    else finish();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    maxInFlight: () => ({ ...most }),
    total: () => log.length,
    served: () => log,
    reset: () => {
      log.length = 0;
      for (const key of Object.keys(most)) delete most[key];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
