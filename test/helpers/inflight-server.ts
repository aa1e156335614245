import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One served request, as the server saw it (for ordering and handoff checks). */
export interface Served {
  pid: string;
  channels: string[];
  start: number;
  end: number;
}

export interface InflightServer {
  url: string;
  /** The most requests that were in flight at once, per channel. */
  maxInFlight(): Record<string, number>;
  /** Requests served so far. */
  total(): number;
  served(): readonly Served[];
  close(): Promise<void>;
}

/**
 * A local HTTP server on a free loopback port. `GET /work?channels=a,b&ms=5&pid=1` holds the request
 * `ms` milliseconds and counts, per listed channel, how many requests are in flight at once.
 */
export const startInflightServer = async (): Promise<InflightServer> => {
  const now = new Map<string, number>();
  const most: Record<string, number> = {};
  const log: Served[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const channels = (url.searchParams.get('channels') ?? '').split(',').filter(Boolean);
    const ms = Number(url.searchParams.get('ms') ?? 0);
    const entry: Served = { pid: url.searchParams.get('pid') ?? '', channels, start: performance.now(), end: 0 };
    for (const c of channels) {
      now.set(c, (now.get(c) ?? 0) + 1);
      most[c] = Math.max(most[c] ?? 0, now.get(c)!);
    }
    setTimeout(() => {
      for (const c of channels) now.set(c, now.get(c)! - 1);
      entry.end = performance.now();
      log.push(entry);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, n: log.length }));
    }, ms);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    maxInFlight: () => ({ ...most }),
    total: () => log.length,
    served: () => log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
