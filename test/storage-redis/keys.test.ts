/**
 * Keys that are the adapter's own, and only its own. An empty keyPrefix is refused; clear() removes
 * the cache entries its prefix wrote and nothing else: not a foreign `cache:user:42:profile`, not the
 * keys (locks above all) of an adapter whose prefix starts with `${prefix}cache:`. Two names never
 * share a key, lone UTF-16 surrogates included (UTF-8 would turn them all into U+FFFD).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { cacheKey, fenceKey, fenceKeyOfLock, lockKey } from '../../src/storage-redis/cache/keys.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { LEASE, adapterPool } from './setup.js';

let server: RedisServer;
let raw: Redis;
const pool = adapterPool();
const make = (keyPrefix: string, redlockTTL = LEASE) => pool.make({ host: server.host, port: server.port, keyPrefix, redlockTTL });
const ticket = () => ({ id: crypto.randomUUID(), signal: new AbortController().signal, interval: 1000 });

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(server.port, server.host);
});
afterAll(async () => {
  await pool.closeAll();
  raw?.disconnect();
  await server?.stop();
});

describe('redis adapter: prefixes and clear()', () => {
  it('refuses an empty keyPrefix with a TypeError naming the option', () => {
    let error: unknown;
    try {
      new RedisStorageAdapter({ host: server.host, port: server.port, keyPrefix: '', lazyConnect: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'keyPrefix' });
  });

  it("clear() leaves another application's keys under `${prefix}cache:` that have a `:` after it", async () => {
    const adapter = make('app1:');
    const foreign = ['app1:cache:user:42:profile', 'app1:cache:a:b', 'app1:cache:x{y}', 'app1:cache:50%'];
    for (const key of foreign) await raw.set(key, 'foreign');
    await adapter.set('user:42', { mine: true }); // a name with `:` is still this adapter's
    expect(await raw.get('app1:cache:user%3A42')).toBe('{"mine":true}');
    await adapter.clear();
    expect(await adapter.get('user:42')).toBeUndefined();
    for (const key of foreign) expect(await raw.get(key)).toBe('foreign');
  });

  it('clear() of prefix P leaves the locks, lines, fences and cache of an adapter with prefix `${P}cache:`', async () => {
    const outer = make('nest:');
    const inner = make('nest:cache:', 5000);
    const innerRival = make('nest:cache:', 5000);
    const names = ['plain', 'user:7', 'a{b}', '%41', 'k\uD800', '😀'];
    for (const name of names) await outer.set(name, name);
    await inner.set('kept', 'inner entry');
    // The inner adapter holds a channel and has a waiter in its line (the lock's list and the fence exist).
    const held = await inner.locker.tryAcquire('c');
    expect(held).not.toBeNull();
    expect(await innerRival.locker.tryAcquire('c', ticket())).toBeNull();
    const innerKeys = ['nest:cache:fence:{c}', 'nest:cache:lock:{c}', 'nest:cache:cache:kept'];
    for (const key of innerKeys) expect(await raw.exists(key)).toBe(1);

    await outer.clear();

    for (const name of names) expect(await outer.get(name)).toBeUndefined();
    for (const key of innerKeys) expect(await raw.exists(key)).toBe(1);
    expect(await inner.get('kept')).toBe('inner entry');
    // The lock is still held: nobody else can take it while its holder has it.
    expect(await make('nest:cache:').locker.tryAcquire('c')).toBeNull();
    expect(held!.signal.aborted).toBe(false);
    await held!.release();
  });
});

describe('redis keys: the fence next to a lock', () => {
  it('is found from the lock key alone, for any channel name, and only for a lock key of that prefix', () => {
    for (const channel of ['plain', 'a{b}', 'x:lock:{y}', '%41', 'line\nbreak', 'k\uD800']) {
      expect(fenceKeyOfLock('p:', lockKey('p:', channel))).toBe(fenceKey('p:', channel));
    }
    expect(fenceKeyOfLock('p:', lockKey('q:', 'c'))).toBeUndefined();
    expect(fenceKeyOfLock('p:', cacheKey('p:', 'c'))).toBeUndefined();
  });
});

describe('redis adapter: one key per name', () => {
  it('names that differ only in lone surrogates are different cache entries', async () => {
    const adapter = make('sur:');
    await adapter.set('k\uD800', 'high');
    expect(await adapter.get('k\uDC00')).toBeUndefined();
    expect(await adapter.get('k\uFFFD')).toBeUndefined();
    await adapter.set('k\uDC00', 'low');
    expect(await adapter.get('k\uD800')).toBe('high');
    expect(await adapter.get('k\uDC00')).toBe('low');
    expect(await raw.get('sur:cache:k%D800')).toBe('"high"');
    expect(await raw.get('sur:cache:k%DC00')).toBe('"low"');
    // A well-formed pair is kept as it is; an escape-like name is not an escape.
    await adapter.set('😀', 'pair');
    expect(await raw.get('sur:cache:😀')).toBe('"pair"');
    await adapter.set('%D800', 'text');
    expect(await raw.get('sur:cache:%25D800')).toBe('"text"');
    expect(await adapter.get('k\uD800')).toBe('high');
  });

  it('every name of a tricky set gets its own key, and reads back its own value', async () => {
    const adapter = make('all:');
    const names = ['a', 'a:', 'a%3A', 'a%', '%', '{', '}', '{}', 'x\uD800', 'x\uDBFF', 'x\uDC00', 'x\uDFFF', '\uDFFF\uD800', '\uD800\uDFFF', 'x\uFFFD', ':', '%3A'];
    const keys = names.map((name) => cacheKey('all:', name));
    expect(new Set(keys).size).toBe(names.length);
    for (const name of names) await adapter.set(name, name);
    for (const name of names) expect(await adapter.get(name)).toBe(name);
    expect(await raw.dbsize()).toBeGreaterThanOrEqual(names.length);
  });

  it('channels that differ only in lone surrogates are different locks', async () => {
    const adapter = make('lsur:');
    const other = make('lsur:');
    const held = await adapter.locker.tryAcquire('c\uD800');
    expect(held).not.toBeNull();
    expect(await raw.exists('lsur:lock:{c%D800}')).toBe(1);
    const free = await other.locker.tryAcquire('c\uDFFF');
    expect(free).not.toBeNull();
    expect(await other.locker.tryAcquire('c\uD800')).toBeNull();
    // Notifications follow the lock key: a waiter on one name hears its release only.
    const heard: string[] = [];
    other.locker.onRelease!('c\uD800', () => heard.push('c\\uD800'));
    other.locker.onRelease!('c\uDFFF', () => heard.push('c\\uDFFF'));
    await waitFor(async () => Number(((await raw.pubsub('NUMSUB', 'lsur:lock:{c%D800}')) as [string, number])[1]) === 1, 'the subscription');
    await held!.release();
    await waitFor(() => heard.length > 0, 'the release');
    expect(heard).toEqual(['c\\uD800']);
    await free!.release();
    // Channels keep `:` (lock keys keep their layout); `%`, braces and lone surrogates are encoded.
    expect(lockKey('p:', 'stock:42')).toBe('p:lock:{stock:42}');
    expect(lockKey('p:', '%{x}\uDFFF')).toBe('p:lock:{%25%7Bx%7D%DFFF}');
  });
});
