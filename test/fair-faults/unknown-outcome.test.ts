/**
 * An attempt whose answer never came (ioredis' commandTimeout rejected it first) may still join the
 * line when Redis gets to it. The wait must treat it as "maybe queued" and leave when it ends; before
 * the fix the ticket stayed in line and was later handed the lock. A real redis-server, paused.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { LockTimeoutError } from '../../src/shared/errors.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { waitFor } from '../helpers/wait.js';
import { lockKey } from '../../src/storage-redis/cache/keys.js';
import { createAlova } from 'alova';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { optionsOf, uniquePrefix } from '../storage-redis/setup.js';

/** An alova instance on `adapter` whose requests never leave the process. */
const alovaOn = (adapter: RedisStorageAdapter) =>
  createAlova({
    requestAdapter: () => ({ response: async () => ({}), headers: async () => ({}), abort: () => undefined }),
    l2Cache: adapter,
    cacheFor: null,
  });

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

describe('redis adapter: attempts with no answer', () => {
  it('a wait whose every attempt timed out leaves the line once Redis answers again', async () => {
    const channel = 'unknown';
    const keyPrefix = uniquePrefix('unknown');
    const holder = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix, redlockTTL: 5000 });
    const waiter = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix, redlockTTL: 5000, commandTimeout: 150 });
    const held = await holder.locker.tryAcquire(channel);
    expect(held).not.toBeNull();
    await waiter.get('warm-up');
    server.pause();
    try {
      const call = atomize(alovaOn(waiter).Get('/x'), { channel, timeout: 600, interval: 100 }).send();
      await expect(call).rejects.toBeInstanceOf(LockTimeoutError);
    } finally {
      server.resume();
    }
    // Redis now runs the attempts it had received, then the leave sent when the wait ended (on the
    // lock's connection; the cache has one of its own, so no read of ours can tell when they ran).
    // The lock's list ends with its holder only: nobody left in line behind it, while it is still held.
    await waitFor(async () => (await raw.llen(lockKey(keyPrefix, channel))) === 1, 'the line to hold the holder only');
    expect(held!.signal.aborted).toBe(false);
    await held!.release();
    expect(await raw.exists(lockKey(keyPrefix, channel))).toBe(0);
    await Promise.all([holder.close(), waiter.close()]);
  });
});
