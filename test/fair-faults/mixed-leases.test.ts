/**
 * Processes with different lease lengths on one Redis channel must never hold it at once. R (lease
 * 1 s, renewed) holds for 2.5 s, G (lease 30 s) waits to run a 3 s request, X (lease 1 s) waits behind G.
 * Before the fix the release handed G the lock under R's 1 s lease, G renewed only after 10 s, and X
 * ran beside G, all three calls "ok". Real processes and a real redis-server.
 */
import { describe, expect, it } from 'vitest';
import { redisProbe } from '../helpers/probes.js';
import { spawnFixture, waitFor } from '../storage-file/helpers.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';
import { useBackends } from './setup.js';

const env = useBackends();

describe('redis adapter: mixed lease lengths', () => {
  it('a grantee with a long lease holds the channel alone until it releases', async () => {
    const channel = 'mixed';
    const keyPrefix = uniquePrefix('mixed');
    const probe = redisProbe(env.raw, keyPrefix, channel);
    const worker = (redlockTTL: number, ms: number) =>
      spawnFixture('atomize-worker.mjs', {
        adapter: 'redis',
        adapterOptions: { ...optionsOf(env.redis.url), keyPrefix, redlockTTL },
        url: env.http.url,
        jobs: [{ channel, count: 1 }],
        ms,
        timeout: 20_000,
      });
    const r = worker(1000, 2500);
    await waitFor(() => probe.held(), 'R to take the lock');
    const g = worker(30_000, 3000);
    await waitFor(async () => (await probe.waiting()) === 1, 'G to queue');
    const x = worker(1000, 1);
    await waitFor(async () => (await probe.waiting()) === 2, 'X to queue');
    const results = await Promise.all([r, g, x].map((child) => child.exited));
    expect(results.map((result) => result.code)).toEqual([0, 0, 0]);
    for (const child of [r, g, x]) expect(JSON.parse(child.lines.at(-1)!)).toEqual({ done: 1, errors: [] });
    const order = env.http
      .served()
      .filter((entry) => entry.channels.includes(channel))
      .sort((a, b) => a.start - b.start)
      .map((entry) => entry.pid);
    expect(order).toEqual([r, g, x].map((child) => String(child.process.pid)));
    expect(env.http.maxInFlight()[channel]).toBe(1);
  });
});
