/**
 * Faults on real servers: a holder killed, a server stopped (SIGSTOP), restarted, gone mid-request;
 * wrong password, wrong port. Clear errors by the deadline, no unhandled rejection, no crash.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { RedisStorageAdapter } from '../../src/storage-redis/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-servers.js';
import { waitFor } from '../helpers/wait.js';
import { LEASE, adapterPool, sleep, uniquePrefix } from './setup.js';

const holderScript = fileURLToPath(new URL('../fixtures/redis-holder.mjs', import.meta.url));
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

let http: InflightServer;
const pool = adapterPool();
const servers: RedisServer[] = [];
const redis = async (password?: string) => {
  const server = await startRedis({ password });
  servers.push(server);
  return server;
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  http = await startInflightServer();
});
afterEach(() => pool.closeAll());
afterAll(async () => {
  await pool.closeAll();
  await Promise.all(servers.map((s) => s.stop()));
  await http?.close();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

const alovaOn = (adapter: RedisStorageAdapter) =>
  createAlova({ baseURL: http.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null });
const work = (adapter: RedisStorageAdapter, channel: string, ms = 5) =>
  alovaOn(adapter).Get<{ ok: boolean }>('/work', { params: { channels: channel, ms } });

/** The lock key of `channel` (a plain name), as docs/storage-redis.md lays the keys out. */
const lockKey = (keyPrefix: string, channel: string): string => `${keyPrefix}lock:{${channel}}`;

/** Generous bound on what should take about a lease: only catches hangs, never decides a race. */
const HANG = LEASE * 10;

/** Resolves the reason once `signal` aborts (bounded by HANG). */
const lostReason = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error('the lock was never reported lost')), HANG);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(signal.reason)), { once: true });
  });

/** Time a promise takes to settle, and how. */
const timed = async <T>(promise: Promise<T>) => {
  const started = Date.now();
  try {
    return { value: await promise, ms: Date.now() - started };
  } catch (error) {
    return { error: error as Error & { code?: string; cause?: Error }, ms: Date.now() - started };
  }
};

describe('redis faults', () => {
  it('replaces a SIGKILLed holder after at most one lease', async () => {
    const server = await redis();
    const adapterOptions = { host: server.host, port: server.port, keyPrefix: uniquePrefix('kill'), redlockTTL: LEASE };
    const holder = spawn(process.execPath, [holderScript, JSON.stringify({ adapterOptions, channel: 'k' })], { stdio: ['ignore', 'pipe', 'inherit'] });
    const said = await new Promise<string>((resolve) => holder.stdout.once('data', (data) => resolve(String(data).trim())));
    expect(said).toBe('locked');
    const adapter = pool.make(adapterOptions);
    const raw = new Redis(server.port, server.host);
    try {
      await sleep(LEASE * 1.5); // the holder keeps its lease alive past one lease
      expect(await adapter.locker.tryAcquire('k')).toBeNull();
      const tries: number[] = [];
      const tryAcquire = adapter.locker.tryAcquire.bind(adapter.locker);
      adapter.locker.tryAcquire = (channel, ticket) => (tries.push(Date.now()), tryAcquire(channel, ticket));
      const waiting = timed(atomize(work(adapter, 'kill-k'), { channel: 'k', timeout: HANG, interval: 50 }));
      await waitFor(() => tries.length >= 2, 'the call to be refused and wait');
      // The lease left when the holder dies is at most one lease: nobody renews it from now on.
      holder.kill('SIGKILL');
      const left = await raw.pttl(lockKey(adapterOptions.keyPrefix, 'k'));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(LEASE);
      const outcome = await waiting;
      expect(outcome.error).toBeUndefined();
    } finally {
      raw.disconnect();
    }
  });

  it('a SIGSTOPped server: the waiting call rejects by its deadline with LockTimeoutError; a holder loses its lock', async () => {
    const server = await redis();
    const adapter = pool.make({ host: server.host, port: server.port, keyPrefix: uniquePrefix('stop'), redlockTTL: LEASE, commandTimeout: 300 });
    const handle = await adapter.locker.tryAcquire('held');
    server.pause();
    try {
      const outcome = await timed(atomize(work(adapter, 'stop'), { channel: 'other', timeout: 800, interval: 100 }));
      expect(outcome.error?.name).toBe('LockTimeoutError');
      expect(outcome.ms).toBeLessThan(HANG); // by its deadline, never waiting on the stopped server
      expect(String(outcome.error?.cause)).toMatch(/timed out|no answer/i);
      const reason = (await lostReason(handle!.signal)) as Error;
      expect(reason.name).toBe('LockLostError');
    } finally {
      server.resume();
    }
    await handle!.release().catch(() => undefined);
    expect((await atomize(work(adapter, 'stop'), { channel: 'other', timeout: 3000 })).ok).toBe(true);
  });

  it('a server restarted mid-run: the holder learns its lock is gone, the same adapter works again', async () => {
    const server = await redis();
    const adapter = pool.make({ host: server.host, port: server.port, keyPrefix: uniquePrefix('restart'), redlockTTL: LEASE });
    await adapter.set('c', { v: 1 });
    const handle = await adapter.locker.tryAcquire('r');
    await server.restart();
    const reason = (await lostReason(handle!.signal)) as Error;
    expect(reason.name).toBe('LockLostError');
    await handle!.release();
    expect((await atomize(work(adapter, 'restart'), { channel: 'r', timeout: 5000 })).ok).toBe(true);
    expect(await adapter.get('c')).toBeUndefined(); // the restarted server is empty
    await adapter.set('c', { v: 2 });
    expect(await adapter.get('c')).toEqual({ v: 2 });
  });

  it('a server that goes away mid-request: the call rejects with LockLostError, its request aborted', async () => {
    const server = await redis();
    const adapter = pool.make({ host: server.host, port: server.port, keyPrefix: uniquePrefix('gone'), redlockTTL: LEASE, commandTimeout: 300 });
    const call = timed(atomize(work(adapter, 'gone', HANG), { channel: 'g' }));
    const raw = new Redis(server.port, server.host);
    await waitFor(async () => (await raw.exists(lockKey(adapter.keyPrefix, 'g'))) === 1, 'the lock to be taken');
    raw.disconnect();
    await server.kill();
    const outcome = await call;
    // LockLostError, not the response: the request (HANG long) was aborted when the lock was lost.
    expect(outcome.error?.name).toBe('LockLostError');
    await server.restart();
  });

  it('a wrong password: atomize rejects at once with LockerConfigError; so does a missing one', async () => {
    const server = await redis('s3cret');
    for (const password of ['wrong', undefined]) {
      const adapter = pool.make({ host: server.host, port: server.port, password, keyPrefix: uniquePrefix('auth') });
      const outcome = await timed(atomize(work(adapter, 'auth'), { channel: 'a', timeout: 60_000 }));
      expect(outcome.error?.name).toBe('LockerConfigError');
      expect(outcome.error?.message).toMatch(/WRONGPASS|NOAUTH/);
      expect(outcome.ms).toBeLessThan(30_000); // at once: retries would take the whole 60 s deadline
    }
    const right = pool.make({ host: server.host, port: server.port, password: 's3cret', keyPrefix: uniquePrefix('auth') });
    expect((await atomize(work(right, 'auth'), { channel: 'a' })).ok).toBe(true);
  });

  it('a wrong port: atomize rejects by its deadline, the cause names the refused connection', async () => {
    const port = await freePort();
    const adapter = pool.make({ host: '127.0.0.1', port, keyPrefix: uniquePrefix('port') });
    const outcome = await timed(atomize(work(adapter, 'port'), { channel: 'p', timeout: 800, interval: 100 }));
    expect(outcome.error?.name).toBe('LockTimeoutError');
    expect(outcome.ms).toBeLessThan(HANG); // by its deadline (800 ms)
    expect(String(outcome.error?.cause?.message)).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    await expect(adapter.locker.tryAcquire('p')).rejects.toMatchObject({ code: 'ERR_ATOMIZE_LOCKER_UNAVAILABLE' });
  });
});
