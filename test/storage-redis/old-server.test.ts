/**
 * A server too old for the fair line's scripts (LPOS came with Redis 6.0.6; here it is renamed away
 * on a real redis-server, as if it were missing): atomize fails at once with a LockerConfigError that
 * says which version is needed, instead of retrying until its deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLock } from '../../src/server/index.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { optionsOf } from './setup.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis({ without: ['LPOS'] });
});
afterAll(async () => {
  await server?.stop();
});

describe('redis adapter on a server without LPOS', () => {
  it('a waiter gets a LockerConfigError naming Redis 6.0.6 at its second try, long before its deadline', async () => {
    const holder = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix: 'old:' });
    const waiter = new RedisStorageAdapter({ ...optionsOf(server.url), keyPrefix: 'old:' });
    const held = (await holder.locker.tryAcquire('c'))!;
    expect(held).not.toBeNull();
    const started = Date.now();
    const error = await withLock(waiter, 'c', { timeout: 20_000, interval: 20 }, async () => 'never').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LockerConfigError', code: 'ERR_ATOMIZE_LOCKER_CONFIG' });
    expect((error as Error).message).toMatch(/Unknown Redis command called from (Lua )?script.*\(the lock scripts need Redis 6\.0\.6 or later\)/);
    expect(Date.now() - started).toBeLessThan(10_000); // at once: retries would take the whole 20 s
    await held.release();
    await Promise.all([holder.close(), waiter.close()]);
  });
});
