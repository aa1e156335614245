/**
 * `adapter.inspect(channel)` on a real Redis: a free channel, a held one (holder, lease left, fencing
 * token), waiters in line, a lock handed to a waiter that has not confirmed it, the locks' own database,
 * channel names that must not share keys, bad channels, a closed adapter, an unreachable server, and a
 * quorum (what a majority agrees on). Read-only: no key is written.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockHandle, WaitTicket } from '../../src/shared/contract.js';
import { InvalidChannelError, LockerClosedError, LockerUnavailableError } from '../../src/shared/errors.js';
import { fenceKey, lockKey } from '../../src/storage-redis/cache/keys.js';
import type { LockInspection } from '../../src/storage-redis/index.js';
import { freePort, sharedRedis, startRedisGroup, stopAll, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { LEASE, adapterPool, optionsOf, uniquePrefix } from './setup.js';

let redis: Awaited<ReturnType<typeof sharedRedis>>;
let raw: Redis;
const pool = adapterPool();

beforeAll(async () => {
  redis = await sharedRedis();
  raw = new Redis(optionsOf(redis.url));
});
afterAll(async () => {
  raw?.disconnect();
  await pool.closeAll();
  await redis?.stop();
});

const ticket = (interval = 1000) => {
  const ending = new AbortController();
  return { ticket: { id: crypto.randomUUID(), signal: ending.signal, interval } as WaitTicket, end: () => ending.abort() };
};

/** Every key under `prefix`, in every database the tests use. */
const keysOf = async (prefix: string): Promise<string[]> => {
  const found: string[] = [];
  for (const db of [0, 2]) {
    const client = new Redis({ ...optionsOf(redis.url), db });
    try {
      found.push(...(await client.keys(`${prefix}*`)).map((key) => `${db}/${key}`));
    } finally {
      client.disconnect();
    }
  }
  return found.sort();
};

describe('redis adapter: inspect(channel)', () => {
  it('tells a free channel apart from a held one: holder, lease left, waiters in line, fencing token', async () => {
    const keyPrefix = uniquePrefix('inspect');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const observer = make();
    expect(await observer.inspect('stock:42')).toEqual({ channel: 'stock:42', held: false, waiters: 0 });

    const mine = ticket();
    const handle = (await make().locker.tryAcquire('stock:42', mine.ticket))!;
    expect(handle).not.toBeNull();
    const held = await observer.inspect('stock:42');
    expect(held).toMatchObject({ channel: 'stock:42', held: true, waiters: 0, token: handle.token });
    // The lock's value is the holder's: with fair handoff, its ticket.
    expect(held.holder).toContain(mine.ticket.id);
    expect(held.expiresInMs).toBeGreaterThan(0);
    expect(held.expiresInMs).toBeLessThanOrEqual(LEASE);

    const waiting = [ticket(), ticket()];
    for (const w of waiting) expect(await make().locker.tryAcquire('stock:42', w.ticket)).toBeNull();
    expect(await observer.inspect('stock:42')).toMatchObject({ held: true, waiters: 2 });
    // Other channels are not this one.
    expect(await observer.inspect('stock:43')).toEqual({ channel: 'stock:43', held: false, waiters: 0 });

    for (const w of waiting) w.end();
    await waitFor(async () => (await observer.inspect('stock:42')).waiters === 0, 'the waiters to leave the line');
    await handle.release();
    // Free again; the channel's last fencing token stays.
    expect(await observer.inspect('stock:42')).toEqual({ channel: 'stock:42', held: false, waiters: 0, token: handle.token });
  });

  it('shows a lock handed to a waiter as held by that waiter, for what is left of its grant, until it confirms', async () => {
    const keyPrefix = uniquePrefix('inspect-grant');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: 60_000 });
    const observer = make();
    const first = (await make().locker.tryAcquire('g', ticket().ticket))!;
    const next = ticket(200);
    const waiter = make();
    waiter.locker.onRelease!('g', () => undefined); // as atomize does: it hears its grant
    expect(await waiter.locker.tryAcquire('g', next.ticket)).toBeNull();
    await first.release();
    const granted = await observer.inspect('g');
    expect(granted.held).toBe(true);
    expect(granted.holder).toContain(next.ticket.id);
    // A grant lasts a few of the waiter's intervals (200 ms), not the holder's 60 s lease.
    expect(granted.expiresInMs).toBeGreaterThan(0);
    expect(granted.expiresInMs).toBeLessThanOrEqual(3 * 200);
    const confirmed = (await waiter.locker.tryAcquire('g', next.ticket))!;
    expect(confirmed).not.toBeNull();
    expect((await observer.inspect('g')).expiresInMs).toBeGreaterThan(50_000);
    await confirmed.release();
  });

  it('reads each layout of the lock: a string (a quorum) or a list (holder, then waiters), and the counter fence', async () => {
    const keyPrefix = uniquePrefix('inspect-layouts');
    const adapter = pool.make({ ...optionsOf(redis.url), keyPrefix });
    await raw.set(lockKey(keyPrefix, 's'), 'holder-s', 'PX', 10_000);
    await raw.set(fenceKey(keyPrefix, 's'), '1796030217992000');
    const string = await adapter.inspect('s');
    expect(string).toMatchObject({ channel: 's', held: true, holder: 'holder-s', waiters: 0, token: 1796030217992000 });
    expect(string.expiresInMs).toBeGreaterThan(5000);
    expect(string.expiresInMs).toBeLessThanOrEqual(10_000);

    await raw.rpush(lockKey(keyPrefix, 'l'), 'h', 'a', 'b', 'c');
    await raw.pexpire(lockKey(keyPrefix, 'l'), 10_000);
    await raw.set(fenceKey(keyPrefix, 'l'), '99999999999999999999');
    expect(await adapter.inspect('l')).toMatchObject({ channel: 'l', held: true, holder: 'h', waiters: 3, token: '99999999999999999999' });

    // A lock without expiry (set by hand) is held, with no end; a fence of something else is no token.
    await raw.set(lockKey(keyPrefix, 'n'), 'by-hand');
    await raw.set(fenceKey(keyPrefix, 'n'), 'not a token');
    expect(await adapter.inspect('n')).toEqual({ channel: 'n', held: true, holder: 'by-hand', waiters: 0 });
  });

  it("reads the locks' own database (redlockOptions.db), not the connection's, and writes no key", async () => {
    const keyPrefix = uniquePrefix('inspect-db');
    const adapter = pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE, redlockOptions: { db: 2 } });
    const handle = (await adapter.locker.tryAcquire('d'))!;
    expect(handle).not.toBeNull();
    const before = await keysOf(keyPrefix);
    expect(before.every((key) => key.startsWith('2/'))).toBe(true);
    expect(await adapter.inspect('d')).toMatchObject({ held: true, token: handle.token });
    await adapter.inspect('never-locked');
    expect(await keysOf(keyPrefix)).toEqual(before);
    // The connection still uses its own database afterwards.
    await adapter.set('k', { v: 1 });
    expect(await raw.exists(`${keyPrefix}cache:k`)).toBe(1);
    await handle.release();
  });

  it('keeps channels apart whatever their names (hash tags, escapes, lone surrogates)', async () => {
    const keyPrefix = uniquePrefix('inspect-names');
    const make = () => pool.make({ ...optionsOf(redis.url), keyPrefix, redlockTTL: LEASE });
    const observer = make();
    const handles: LockHandle[] = [];
    for (const channel of ['{x}', 'a\uD800', 'p%']) handles.push((await make().locker.tryAcquire(channel))!);
    expect(handles.every(Boolean)).toBe(true);
    const seen = async (channel: string): Promise<boolean> => (await observer.inspect(channel)).held;
    expect(await Promise.all(['{x}', 'a\uD800', 'p%'].map(seen))).toEqual([true, true, true]);
    expect(await Promise.all(['%7Bx%7D', 'x', 'a\uDC00', 'a\uFFFD', 'p%25', 'p'].map(seen))).toEqual([false, false, false, false, false, false]);
    await Promise.all(handles.map((handle) => handle.release()));
  });

  it('refuses a channel the lockers refuse, and rejects after close()', async () => {
    const adapter = pool.make({ ...optionsOf(redis.url), keyPrefix: uniquePrefix('inspect-bad') });
    for (const bad of ['', 42, undefined]) {
      const error = await adapter.inspect(bad as string).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidChannelError);
      expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_CHANNEL' });
    }
    await adapter.close();
    await expect(adapter.inspect('x')).rejects.toBeInstanceOf(LockerClosedError);
  });

  it('rejects with LockerUnavailableError, within its bound, when the server cannot be reached', async () => {
    const port = await freePort();
    const adapter = pool.make({ host: '127.0.0.1', port, keyPrefix: uniquePrefix('inspect-down'), commandTimeout: 300, retryStrategy: () => null });
    const started = Date.now();
    const error = await adapter.inspect('x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockerUnavailableError);
    expect((error as Error).message).toMatch(/^Redis could not inspect channel "x": 127\.0\.0\.1:\d+: /);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('redis adapter: inspect(channel) on a quorum', () => {
  let servers: RedisServer[];
  let clients: Redis[];
  beforeAll(async () => {
    servers = await startRedisGroup(3);
    clients = servers.map((server) => new Redis(server.port, server.host));
  });
  afterAll(async () => {
    for (const client of clients ?? []) client.disconnect();
    await stopAll(servers ?? []);
  });

  it('tells what a majority agrees on: the holder, and how long a majority still holds it', async () => {
    const keyPrefix = uniquePrefix('inspect-quorum');
    const make = () => pool.make({ quorum: servers.map((server) => server.url), keyPrefix, redlockTTL: 30_000, commandTimeout: 500 });
    const observer = make();
    const handle = (await make().locker.tryAcquire('q'))!;
    expect(handle).not.toBeNull();
    const key = `${keyPrefix}lock:{q}`;
    const value = (await clients[0]!.get(key))!;
    expect(await observer.inspect('q')).toMatchObject({ channel: 'q', held: true, holder: value, waiters: 0 });

    // One server holds it far longer, one lost it: a majority holds it only as long as the shorter of the two.
    await clients[0]!.pexpire(key, 3_600_000);
    await clients[2]!.del(key);
    const two: LockInspection = await observer.inspect('q');
    expect(two).toMatchObject({ held: true, holder: value });
    expect(two.expiresInMs).toBeLessThanOrEqual(30_000);
    // One server alone is no majority: free.
    await clients[1]!.del(key);
    expect(await observer.inspect('q')).toEqual({ channel: 'q', held: false, waiters: 0 });

    // Two servers down: no majority can answer.
    await clients[0]!.set(key, value, 'PX', 30_000);
    await clients[1]!.set(key, value, 'PX', 30_000);
    expect((await observer.inspect('q')).held).toBe(true);
    servers[1]!.pause();
    servers[2]!.pause();
    try {
      const error = await observer.inspect('q').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LockerUnavailableError);
      expect((error as Error).message).toContain('Redis could not inspect channel "q"');
    } finally {
      servers[1]!.resume();
      servers[2]!.resume();
    }
    await handle.release().catch(() => undefined);
  });
});
