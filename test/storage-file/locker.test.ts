import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { InvalidChannelError, LockerClosedError, LockerConfigError, LockLostError, LockTimeoutError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { cleanup, sleep, spawnFixture, tempDir, waitFor } from './helpers.js';

let server: InflightServer;
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  cleanup();
});

const alovaOn = (adapter: FileStorageAdapter) =>
  createAlova({ baseURL: server.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null });
const work = (adapter: FileStorageAdapter, channel: string, ms: number) =>
  alovaOn(adapter).Get<{ ok: boolean }>('/work', { params: { channels: channel, ms } });
/** Resolves the reason once `signal` aborts (bounded generously: only catches hangs). */
const abortReason = (signal: AbortSignal, ms = 20_000): Promise<unknown> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`the signal did not abort within ${ms} ms`)), ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(signal.reason)), { once: true });
  });

describe('FileStorageAdapter locker', () => {
  it('has one holder per channel within an adapter, also under concurrent attempts', async () => {
    const adapter = new FileStorageAdapter({ directory: tempDir('one') });
    const handles = await Promise.all(Array.from({ length: 10 }, () => adapter.locker.tryAcquire('c')));
    expect(handles.filter(Boolean)).toHaveLength(1);
    await adapter.close();
  });

  it('lock() of an array is all-or-nothing; unlock() frees what this adapter holds', async () => {
    const directory = tempDir('array');
    const [a, b, c] = [0, 1, 2].map(() => new FileStorageAdapter({ directory }));
    await a!.locker.lock('q');
    await expect(b!.locker.lock(['p', 'q'])).rejects.toMatchObject({ code: 'ERR_ATOMIZE_LOCK_TIMEOUT' });
    await c!.locker.lock('p');
    await expect(b!.locker.lock(['r', 'r'])).resolves.toBeUndefined();
    // Held already, by this very adapter: refused at once with a LockTimeoutError (not a backend failure).
    const again = await a!.locker.lock('q').catch((error: unknown) => error);
    expect(again).toBeInstanceOf(LockTimeoutError);
    expect(again).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_TIMEOUT', channel: 'q', timeout: 0 });
    await Promise.all([a!.locker.unlock('q'), b!.locker.unlock(['r']), c!.locker.unlock('p')]);
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    await expect(a!.locker.lock('')).rejects.toBeInstanceOf(InvalidChannelError);
  });

  it('renewal finds a lock removed under its holder: the handle signal aborts with LockLostError before any release', async () => {
    const directory = tempDir('lost-renewal');
    const adapter = new FileStorageAdapter({ directory });
    const handle = await adapter.locker.tryAcquire('lost');
    rmSync(join(directory, 'locks', 'e-lost.lock'), { recursive: true });
    // Nothing but the renewal (every 1000 ms) can notice it: nobody calls release before the signal aborts.
    const reason = await abortReason(handle!.signal);
    expect(reason).toBeInstanceOf(LockLostError);
    expect(reason).toMatchObject({ channel: 'lost' });
    // Told already through the signal: the release has nothing left to do.
    await expect(handle!.release()).resolves.toBeUndefined();
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    await adapter.close();
  });

  it('unlock() of a lock lost meanwhile rejects with LockLostError (for alova\'s own atomize)', async () => {
    const directory = tempDir('lost-unlock');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.locker.lock(['kept', 'lost']);
    rmSync(join(directory, 'locks', 'e-lost.lock'), { recursive: true });
    // At once, before any renewal: the release itself finds the lock gone.
    await expect(adapter.locker.unlock(['kept', 'lost'])).rejects.toBeInstanceOf(LockLostError);
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    await expect(adapter.locker.tryAcquire('lost')).resolves.not.toBeNull();
    await adapter.close();
  });

  it('without notify, the locker has no onRelease at all', async () => {
    const adapter = new FileStorageAdapter({ directory: tempDir('quiet'), notify: false });
    expect('onRelease' in adapter.locker).toBe(false);
    expect(typeof new FileStorageAdapter({ directory: tempDir('loud') }).locker.onRelease).toBe('function');
    const handle = await adapter.locker.tryAcquire('c');
    await handle!.release();
  });

  it('close() ends live handles (their signal aborts, the lock is released), and refuses new attempts', async () => {
    const directory = tempDir('close');
    const adapter = new FileStorageAdapter({ directory });
    const other = new FileStorageAdapter({ directory });
    const live = await adapter.locker.tryAcquire('x');
    await adapter.locker.lock('y');
    adapter.locker.onRelease!('z', () => undefined);
    expect(await other.locker.tryAcquire('x')).toBeNull();
    await adapter.close();
    expect(live!.signal.aborted).toBe(true);
    expect(live!.signal.reason).toBeInstanceOf(LockLostError);
    expect((live!.signal.reason as LockLostError).cause).toBeInstanceOf(LockerClosedError);
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    // The holder's own release afterwards is a no-op, and the channels are free for others.
    await expect(live!.release()).resolves.toBeUndefined();
    for (const channel of ['x', 'y']) {
      const taken = await other.locker.tryAcquire(channel);
      expect(taken).not.toBeNull();
      await taken!.release();
    }
    await expect(adapter.locker.tryAcquire('x')).rejects.toBeInstanceOf(LockerClosedError);
    await expect(adapter.locker.lock('w')).rejects.toBeInstanceOf(LockerClosedError);
    await other.close();
  });

  it('an unusable directory is a LockerConfigError, and atomize fails at once', async () => {
    const parent = tempDir('config');
    writeFileSync(join(parent, 'file'), 'in the way');
    const adapter = new FileStorageAdapter({ directory: join(parent, 'file', 'sub') });
    await expect(adapter.locker.tryAcquire('c')).rejects.toBeInstanceOf(LockerConfigError);
    const started = Date.now();
    await expect(atomize(work(adapter, 'cfg', 1), { channel: 'c', timeout: 60_000 }).send()).rejects.toBeInstanceOf(LockerConfigError);
    expect(Date.now() - started).toBeLessThan(30_000); // a hang bound, far below the 60 s deadline that retries would take
    await expect(adapter.set('k', 1)).rejects.toMatchObject({ name: 'CacheError', code: 'ERR_ATOMIZE_CACHE', cause: { code: 'ENOTDIR' } });
  });

  it('takes hostile channels and keys inside its directory only, each its own lock and entry', async () => {
    const parent = tempDir('hostile');
    const directory = join(parent, 'store');
    const adapter = new FileStorageAdapter({ directory });
    const other = new FileStorageAdapter({ directory });
    const names = ['../../x', '../x', '/abs', 'a/b', 'a\\b', '..', '.', '~', 'ü ☃ 🦊', 'ctl\u0000\n\t', 'x'.repeat(300), 'CON', '\uD800'];
    // Every name is really taken, all at once, each a lock of its own that another adapter cannot take.
    await adapter.locker.lock(names);
    expect(readdirSync(join(directory, 'locks'))).toHaveLength(names.length);
    for (const name of names) expect(await other.locker.tryAcquire(name)).toBeNull();
    await adapter.locker.unlock(names);
    for (const name of names) {
      const taken = await other.locker.tryAcquire(name);
      expect(taken).not.toBeNull();
      await taken!.release();
    }
    for (const name of names) await adapter.set(name, name);
    expect(readdirSync(join(directory, 'cache'))).toHaveLength(names.length);
    for (const name of names) {
      expect(await adapter.get(name)).toBe(name);
      await adapter.remove(name);
      expect(await adapter.get(name)).toBeUndefined();
    }
    await expect(adapter.locker.tryAcquire('')).rejects.toBeInstanceOf(InvalidChannelError);
    expect(readdirSync(parent)).toEqual(['store']);
    expect(readdirSync(directory).sort()).toEqual(['cache', 'fences', 'locks']);
    // One fencing-token file per hostile channel, named like its lock: never outside `fences/`.
    expect(readdirSync(join(directory, 'fences'))).toHaveLength(new Set(names).size);
    expect(readdirSync(join(directory, 'cache'))).toEqual([]);
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    expect(existsSync(join(parent, 'x'))).toBe(false);
  });

  it('a lock removed under its holder aborts the request with LockLostError, and nothing crashes', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const directory = tempDir('removed');
      const adapter = new FileStorageAdapter({ directory, lockerOptions: { stale: 2000 } });
      const call = atomize(work(adapter, 'removed', 30_000), { channel: 'removed' }).send();
      const outcome = call.then(() => 'resolved', (error: unknown) => error);
      const lockDir = join(directory, 'locks', 'e-removed.lock');
      await waitFor(() => existsSync(lockDir), 'the lock');
      rmSync(lockDir, { recursive: true });
      const error = await outcome;
      expect(error).toBeInstanceOf(LockLostError);
      // (Not the request's answer, which would take 30 s: the lost lock aborted it.)
      expect((error as LockLostError).channel).toBe('removed');
      // The process carries on: the channel can be taken again.
      await expect(atomize(work(adapter, 'removed', 1), { channel: 'removed' }).send()).resolves.toMatchObject({ ok: true });
      await sleep(1500);
      expect(uncaught).toEqual([]);
      await adapter.close();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('wakes an atomize call waiting in another process at release, long before its poll interval', async () => {
    const directory = tempDir('wake');
    const holder = spawnFixture('file-holder.mjs', { directory, channel: 'wake', holdMs: 800 });
    await holder.line((line) => line === 'locked');
    const adapter = new FileStorageAdapter({ directory });
    const started = Date.now();
    await atomize(work(adapter, 'wake', 1), { channel: 'wake', interval: 60_000, timeout: 120_000 }).send();
    expect(holder.lines.some((line) => line.startsWith('{'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000); // a hang bound: a poll would come only after 60 s
    expect(server.maxInFlight().wake).toBe(1);
    await adapter.close();
  });
});
