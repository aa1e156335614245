/**
 * The cache at its edges, by the same rules as the file adapter: values JSON cannot represent are
 * refused and leave the entry as it was; alova records with an expire time in the past remove the
 * entry, one too far for Redis is stored without expiry; an entry someone else wrote that is not JSON
 * reads as a miss; failures of Redis are CacheErrors that keep the ioredis error; a large value gets
 * the time it needs and never costs a held lock.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheError } from '../../src/shared/errors.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { adapterPool } from './setup.js';

let server: RedisServer;
let raw: Redis;
const pool = adapterPool();
const make = (keyPrefix = 'edge:', more: object = {}) => pool.make({ host: server.host, port: server.port, keyPrefix, ...more });
const warnings: Array<Error & { code?: string }> = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(server.port, server.host);
  process.on('warning', onWarning);
});
afterEach(async () => {
  await pool.closeAll();
  await raw.flushall();
  warnings.length = 0;
});
afterAll(async () => {
  process.off('warning', onWarning);
  raw?.disconnect();
  await server?.stop();
});

const circular = (): object => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
};

describe('redis cache: values', () => {
  it.each<[string, () => unknown]>([
    ['a function', () => () => 1],
    ['a symbol', () => Symbol('s')],
    ['undefined', () => undefined],
    ['a bigint', () => 10n],
    ['a bigint inside an object', () => ({ n: 10n })],
    ['a circular structure', circular],
  ])('refuses %s with ERR_ATOMIZE_INVALID_VALUE and leaves the entry as it was', async (_, value) => {
    const adapter = make();
    await adapter.set('k', { kept: true });
    const error = await adapter.set('k', value()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_VALUE' });
    expect(await adapter.get('k')).toEqual({ kept: true });
    expect(await raw.pttl('edge:cache:k')).toBe(-1);
  });

  it('an array whose second element is a finite number is a record: [1, 2] expired long ago, so it removes the entry', async () => {
    const adapter = make();
    await adapter.set('k', 'before');
    await adapter.set('k', [1, 2]);
    expect(await adapter.get('k')).toBeUndefined();
    expect(await raw.exists('edge:cache:k')).toBe(0);
    await adapter.set('k', [1, -Infinity]); // not finite: no record, stored as it is
    expect(await adapter.get('k')).toEqual([1, null]);
  });

  it.each([
    ['1e300', 1e300],
    ['Number.MAX_VALUE', Number.MAX_VALUE],
    ['2^47 ms from now and a little more', Date.now() + 2 ** 47 + 60_000],
  ])('an expire time too far for Redis (%s) is stored without expiry', async (_, expire) => {
    const adapter = make();
    await adapter.set('far', [{ v: 1 }, expire]);
    expect(await adapter.get('far')).toEqual([{ v: 1 }, expire]);
    expect(await raw.pttl('edge:cache:far')).toBe(-1);
  });

  it('an expire time far, but within 2^47 ms, still expires then', async () => {
    const adapter = make();
    const expire = Date.now() + 2 ** 46;
    await adapter.set('far', [{ v: 1 }, expire]);
    const pttl = await raw.pttl('edge:cache:far');
    expect(pttl).toBeGreaterThan(2 ** 46 - 60_000);
    expect(pttl).toBeLessThanOrEqual(2 ** 46);
  });

  it('an entry someone else wrote that is not JSON (or not a string) reads as a miss, with a warning; set replaces it', async () => {
    const adapter = make();
    await raw.set('edge:cache:text', 'not json {');
    await raw.hset('edge:cache:hash', 'field', 'value');
    expect(await adapter.get('text')).toBeUndefined();
    expect(await adapter.get('hash')).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(warnings.map((warning) => warning.code)).toEqual(['ERR_ATOMIZE_CACHE_ENTRY', 'ERR_ATOMIZE_CACHE_ENTRY']);
    await adapter.set('text', { v: 1 });
    await adapter.set('hash', { v: 2 });
    expect([await adapter.get('text'), await adapter.get('hash')]).toEqual([{ v: 1 }, { v: 2 }]);
  });
});

describe('redis cache: failures of Redis', () => {
  it('get, set, remove and clear reject with CacheError: operation, key, and the ioredis error as cause', async () => {
    const stopped = await startRedis();
    try {
      const adapter = pool.make({ host: stopped.host, port: stopped.port, keyPrefix: 'fail:', commandTimeout: 200 });
      await adapter.set('k', 1); // connected
      stopped.pause();
      const outcomes = await Promise.all([adapter.get('k'), adapter.set('k', 2), adapter.remove('k'), adapter.clear()].map((p) => p.then(() => undefined, (e: unknown) => e)));
      stopped.resume();
      expect(outcomes.map((e) => e instanceof CacheError)).toEqual([true, true, true, true]);
      expect(outcomes.map((e) => [(e as CacheError).operation, (e as CacheError).key])).toEqual([
        ['get', 'k'],
        ['set', 'k'],
        ['remove', 'k'],
        ['clear', undefined],
      ]);
      for (const error of outcomes as CacheError[]) {
        expect(error.code).toBe('ERR_ATOMIZE_CACHE');
        expect((error.cause as Error).message).toBe('Command timed out');
      }
    } finally {
      await stopped.stop();
    }
  });
});

describe('redis cache: large values', () => {
  it('a 50 MB value is written in the time its size needs (not commandTimeout), and a held lock is not lost meanwhile', async () => {
    // A short commandTimeout: the write takes longer than that anywhere, so only a bound for its size
    // lets it finish. A lease of 3 s, renewed every second: renewals fall during or right after the write.
    const lease = 3000;
    const adapter = make('big:', { commandTimeout: 300, redlockTTL: lease });
    const rival = make('big:', { commandTimeout: 300, redlockTTL: lease });
    const handle = await adapter.locker.tryAcquire('held');
    const acquired = Date.now();
    expect(handle).not.toBeNull();
    const value = 'x'.repeat(50 * 1024 * 1024);
    await adapter.set('big', value);
    console.log(`a 50 MB value written in ${Date.now() - acquired} ms`);
    expect(await raw.strlen('big:cache:big')).toBe(value.length + 2); // its JSON, quotes included
    // Past the end of the first lease: the lock is held only if it was renewed meanwhile.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, acquired + lease * 1.2 - Date.now())));
    expect(handle!.signal.aborted).toBe(false);
    expect(await rival.locker.tryAcquire('held')).toBeNull();
    await handle!.release();
    await adapter.remove('big');
  });
});
