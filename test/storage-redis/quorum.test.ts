/** A Redlock quorum of three independent servers: a minority down is fine, a majority down is a clear error. */
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import type { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { startRedisGroup, stopAll, type RedisServer } from '../helpers/redis-servers.js';
import { LEASE, adapterPool, sleep, uniquePrefix } from './setup.js';

let http: InflightServer;
let servers: RedisServer[];
const pool = adapterPool();

beforeAll(async () => {
  [http, servers] = await Promise.all([startInflightServer(), startRedisGroup(3)]);
});
afterAll(async () => {
  await pool.closeAll();
  await stopAll(servers ?? []);
  await http?.close();
});

const work = (adapter: RedisStorageAdapter, channel: string, ms = 5) =>
  createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null }).Get<{ ok: boolean }>('/work', {
    params: { channels: channel, ms },
  });

const quorumAdapter = (keyPrefix: string) => pool.make({ quorum: servers.map((s) => s.url), keyPrefix, redlockTTL: LEASE, commandTimeout: 300 });

/** Several adapters (as several processes) each running `count` calls on `channel` at once. */
const contend = async (adapters: RedisStorageAdapter[], channel: string, count = 4) => {
  const results = await Promise.all(
    adapters.map(async (adapter) => {
      let ok = 0;
      for (let i = 0; i < count; i++) if ((await atomize(work(adapter, channel, 10), { channel, timeout: 10_000, interval: 20 })).ok) ok++;
      return ok;
    }),
  );
  return results.reduce((a, b) => a + b, 0);
};

describe('redis quorum of three servers', () => {
  it('keeps working with one server stopped (SIGSTOP), then with one killed; a lock held across the stop is kept alive', async () => {
    const keyPrefix = uniquePrefix('minority');
    // Adapters made, connected to every server and used before the stop: their connections to the
    // stopped server stay open and silent, the hardest case (a fresh adapter would find it refusing).
    const adapters = [0, 1, 2].map(() => quorumAdapter(keyPrefix));
    const watcher = quorumAdapter(keyPrefix);
    for (const adapter of [...adapters, watcher]) {
      const warm = await adapter.locker.tryAcquire('q-warm');
      expect(warm).not.toBeNull();
      await warm!.release();
    }
    const held = await adapters[0]!.locker.tryAcquire('q-held');
    expect(held).not.toBeNull();
    servers[2]!.pause();
    try {
      // Held past several leases while a voter is stopped: every renewal must reach the quorum of the
      // other two without waiting on the stopped one.
      const until = Date.now() + LEASE * 3;
      while (Date.now() < until) {
        expect(await watcher.locker.tryAcquire('q-held')).toBeNull();
        await sleep(LEASE / 5);
      }
      expect(held!.signal.aborted).toBe(false);
      expect(await contend(adapters, 'q-paused')).toBe(12);
      expect(held!.signal.aborted).toBe(false);
      await held!.release();
      const next = await watcher.locker.tryAcquire('q-held');
      expect(next).not.toBeNull();
      await next!.release();
    } finally {
      servers[2]!.resume();
    }
    await servers[2]!.kill();
    expect(await contend(adapters, 'q-killed')).toBe(12);
    expect(http.maxInFlight()['q-paused']).toBe(1);
    expect(http.maxInFlight()['q-killed']).toBe(1);
  });

  it('with two of three killed: a clear error by the deadline, then works again once they are back', async () => {
    const keyPrefix = uniquePrefix('majority');
    const adapter = pool.make({ quorum: servers.map((s) => s.url), keyPrefix, redlockTTL: LEASE, commandTimeout: 300 });
    await Promise.all([servers[1]!.kill(), servers[2]!.kill()]);
    const started = Date.now();
    const error = (await atomize(work(adapter, 'q-down'), { channel: 'q-down', timeout: 800, interval: 100 }).catch((e: unknown) => e)) as Error & {
      cause?: Error & { code?: string };
    };
    expect(Date.now() - started).toBeLessThan(15_000); // a hang bound: the deadline is 800 ms
    expect(error.name).toBe('LockTimeoutError');
    expect(error.cause?.code).toBe('ERR_ATOMIZE_LOCKER_UNAVAILABLE');
    for (const server of servers.slice(1)) expect(error.cause?.message).toContain(`127.0.0.1:${server.port}: unreachable (connect ECONNREFUSED`);
    await Promise.all([servers[1]!.restart(), servers[2]!.restart()]);
    expect((await atomize(work(adapter, 'q-down'), { channel: 'q-down', timeout: 5000 })).ok).toBe(true);
  });
});
