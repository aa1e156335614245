/**
 * A grant is a message, not a lock: a grantee whose event loop stalls between the grant and its
 * pickup must not get a handle for a lock that someone else holds by then. G waits first and stalls
 * 1.5 s on hearing its grant; X waits behind it. Before the fix, G built a handle from the message it
 * had heard and ran beside X. Real processes and a real redis-server.
 */
import { describe, expect, it } from 'vitest';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { redisProbe } from '../helpers/probes.js';
import { spawnFixture, waitFor } from '../storage-file/helpers.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';
import { useBackends } from './setup.js';

const env = useBackends();

describe('redis adapter: a grantee that stalls before it picks up its grant', () => {
  it('loses the grant to the next waiter, and never runs beside it', async () => {
    const channel = 'stall';
    const keyPrefix = uniquePrefix('stall');
    const adapterOptions = { ...optionsOf(env.redis.url), keyPrefix, redlockTTL: 1000 };
    const probe = redisProbe(env.raw, keyPrefix, channel);
    const holder = new RedisStorageAdapter(adapterOptions);
    const held = await holder.locker.tryAcquire(channel);
    expect(held).not.toBeNull();
    const g = spawnFixture('stalling-waiter.mjs', { adapterOptions, url: env.http.url, channel, ms: 500, stallMs: 1500, timeout: 20_000 });
    await g.line((line) => line === 'ready');
    await waitFor(async () => (await probe.waiting()) === 1, 'G to queue');
    const x = spawnFixture('atomize-worker.mjs', { adapter: 'redis', adapterOptions, url: env.http.url, jobs: [{ channel, count: 1 }], ms: 500, timeout: 20_000 });
    await waitFor(async () => (await probe.waiting()) === 2, 'X to queue');
    await held!.release();
    await g.line((line) => line === 'stalled');
    const [gExit, xExit] = await Promise.all([g.exited, x.exited]);
    await holder.close();
    expect([gExit.code, xExit.code]).toEqual([0, 0]);
    expect(JSON.parse(g.lines.at(-1)!)).toEqual({ done: 1, errors: [] });
    expect(JSON.parse(x.lines.at(-1)!)).toEqual({ done: 1, errors: [] });
    const order = env.http
      .served()
      .filter((entry) => entry.channels.includes(channel))
      .sort((a, b) => a.start - b.start)
      .map((entry) => entry.pid);
    // X took the channel while G was stalled; G went after X.
    expect(order).toEqual([String(x.process.pid), String(g.process.pid)]);
    expect(env.http.maxInFlight()[channel]).toBe(1);
  });
});
