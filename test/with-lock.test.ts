/**
 * The lost update across two requests (GET the counter, PUT it back plus one), with four processes
 * at once: exact under `withLock` on both adapters, lossy without it. Real processes, a real
 * redis-server, real files, a real HTTP server.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedRedis } from './helpers/redis-servers.js';
import { cleanup, spawnFixture, tempDir } from './storage-file/helpers.js';
import { optionsOf, uniquePrefix } from './storage-redis/setup.js';

let redis: Awaited<ReturnType<typeof sharedRedis>>;
let store: Server;
let url: string;
let counter = 0;

beforeAll(async () => {
  redis = await sharedRedis();
  store = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'PUT') counter = (JSON.parse(body) as { value: number }).value;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ value: counter }));
    });
  });
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(store.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => store.close(() => resolve()));
  await redis?.stop();
  cleanup();
});

const PROCESSES = 4;
const COUNT = 10;

const run = async (adapter: 'redis' | 'file', locked: boolean): Promise<number> => {
  counter = 0;
  const adapterOptions = adapter === 'redis' ? { ...optionsOf(redis.url), keyPrefix: uniquePrefix('rmw') } : { directory: tempDir('rmw') };
  const startAt = Date.now() + 1500;
  const workers = Array.from({ length: PROCESSES }, () => spawnFixture('rmw-worker.mjs', { adapter, adapterOptions, url, count: COUNT, locked, startAt }));
  const exits = await Promise.all(workers.map((worker) => worker.exited));
  expect(exits.map((exit) => exit.code)).toEqual(Array(PROCESSES).fill(0));
  for (const worker of workers) expect(JSON.parse(worker.lines.at(-1)!)).toEqual({ done: COUNT, errors: [] });
  return counter;
};

describe.each(['redis', 'file'] as const)('withLock across processes, %s adapter', (adapter) => {
  it('GET then PUT under withLock: every increment counts', async () => {
    expect(await run(adapter, true)).toBe(PROCESSES * COUNT);
  });

  it('the same without a lock loses updates', async () => {
    expect(await run(adapter, false)).toBeLessThan(PROCESSES * COUNT);
  });
});
