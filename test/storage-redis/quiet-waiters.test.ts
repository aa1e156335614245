/**
 * A waiter in the fair line, told of its turn by its adapter's grant channel, does not poll Redis every
 * `interval`: at place p it tries again after p intervals (at most 8). Measured with INFO commandstats
 * on a redis-server of the test's own, where nothing else runs.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLock } from '../../src/server/index.js';
import { lockKey } from '../../src/storage-redis/cache/keys.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { optionsOf, sleep } from './setup.js';

let server: RedisServer;
let raw: Redis;

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(optionsOf(server.url));
});
afterAll(async () => {
  raw?.disconnect();
  await server?.stop();
});

/** Scripts run so far (each try of a waiter is one). */
const scriptRuns = async (): Promise<number> => {
  const stats = (await raw.info('commandstats')) as string;
  return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, [, n]) => sum + Number(n), 0);
};

describe('redis adapter: waiters in line are quiet', () => {
  it('a waiter eighth in line tries about once in 8 intervals, not once per interval', async () => {
    const keyPrefix = 'quiet:';
    const channel = 'q';
    const holder = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix, redlockTTL: 60_000 });
    const waiter = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix, redlockTTL: 60_000 });
    const held = (await holder.locker.tryAcquire(channel))!;
    expect(held).not.toBeNull();
    // Seven tickets ahead of ours (of a polling process that never tries: they only take places).
    for (let i = 0; i < 7; i++) await raw.rpush(lockKey(keyPrefix, channel), `p|60000|ahead-${i}`);
    const interval = 50;
    const wait = withLock(waiter, channel, { timeout: 2500, interval }, async () => 'never').catch((error: Error) => error);
    await waitFor(async () => (await raw.llen(lockKey(keyPrefix, channel))) === 9, 'our waiter to join the line');
    const before = await scriptRuns();
    await sleep(40 * interval);
    const tries = (await scriptRuns()) - before;
    // 40 intervals: every interval that is 40 tries; once in 8, 5 (or fewer on a slow machine).
    expect(tries).toBeLessThanOrEqual(6);
    expect(tries).toBeGreaterThanOrEqual(1); // it does try now and then (to recover a lost line)
    expect(await wait).toMatchObject({ name: 'LockTimeoutError' });
    await held.release();
    await Promise.all([holder.close(), waiter.close()]);
  });
});
