/**
 * The adapter under atomize: a request longer than the lease, alova's own atomize (alova/server) with
 * this adapter as a drop-in l2Cache, and worker processes contending on shared and overlapping channels.
 */
import { createRequire } from 'node:module';
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { sharedRedis } from '../helpers/redis-servers.js';
import { runWorkers, type WorkerConfig } from '../helpers/run-workers.js';
import { LEASE, adapterPool, optionsOf, uniquePrefix } from './setup.js';

const require = createRequire(import.meta.url);
let http: InflightServer;
let redis: Awaited<ReturnType<typeof sharedRedis>>;
const pool = adapterPool();

beforeAll(async () => {
  [http, redis] = await Promise.all([startInflightServer(), sharedRedis()]);
});
afterAll(async () => {
  await pool.closeAll();
  await redis?.stop();
  await http?.close();
});

describe('redis adapter under atomize', () => {
  it('a request three times as long as the lease: one holder at a time, and its response comes back', async () => {
    const keyPrefix = uniquePrefix('long');
    const calls = [0, 1].map(async () => {
      const adapter = pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
      const alova = createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null });
      const method = alova.Get<{ ok: boolean; n: number }>('/work', { params: { channels: 'long', ms: LEASE * 3 } });
      return atomize(method, { channel: 'long', timeout: LEASE * 10 });
    });
    const responses = await Promise.all(calls);
    expect(responses.map((r) => r.ok)).toEqual([true, true]);
    expect(http.maxInFlight().long).toBe(1);
  });

  it("works as the l2Cache of alova's own atomize (alova/server), plain lock/unlock", async () => {
    const { atomize: alovaAtomize } = require('alova/server') as typeof import('alova/server');
    const { createAlova: createCjsAlova } = require('alova') as typeof import('alova');
    const cjsFetch = (require('alova/fetch') as { default: typeof adapterFetch }).default;
    const keyPrefix = uniquePrefix('dropin');
    const runs = [0, 1, 2].map(async () => {
      const adapter = pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
      const alova = createCjsAlova({ baseURL: http.url, requestAdapter: cjsFetch(), l2Cache: adapter, cacheFor: null });
      const seen: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const method = alova.Get<{ ok: boolean }>('/work', { params: { channels: 'dropin', ms: 10, i } });
        seen.push((await alovaAtomize(method, { channel: 'dropin', timeout: 10_000, interval: 10 })).ok);
      }
      return seen;
    });
    expect((await Promise.all(runs)).flat()).toEqual(Array(9).fill(true));
    expect(http.maxInFlight().dropin).toBe(1);
  });

  it('worker processes on one channel and on overlapping channel sets: one in flight per channel, no error', async () => {
    const keyPrefix = uniquePrefix('workers');
    const base = { adapter: 'redis' as const, adapterOptions: { ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE }, url: http.url, ms: 5, timeout: 20_000, interval: 20 };
    const configs: WorkerConfig[] = [
      { ...base, jobs: [{ channel: 'w-one', count: 6 }, { channel: ['w-a', 'w-b'], count: 4 }] },
      { ...base, jobs: [{ channel: 'w-one', count: 6 }, { channel: 'w-a', count: 4 }] },
      { ...base, jobs: [{ channel: 'w-one', count: 6 }, { channel: ['w-b', 'w-a'], count: 4 }] },
      { ...base, jobs: [{ channel: 'w-one', count: 6 }, { channel: 'w-b', count: 4 }] },
    ];
    const results = await runWorkers(configs);
    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(result.done).toBe(10);
    }
    const most = http.maxInFlight();
    expect([most['w-one'], most['w-a'], most['w-b']]).toEqual([1, 1, 1]);
  });
});
