import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { InvalidChannelError, LockerConfigError, LockLostError } from '../../src/shared/errors.js';
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
const settlesWithin = <T>(promise: Promise<T>, ms: number): Promise<'settled'> =>
  Promise.race([
    promise.then(() => 'settled' as const, () => 'settled' as const),
    sleep(ms).then(() => Promise.reject(new Error(`did not settle within ${ms} ms`))),
  ]);

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
    await expect(a!.locker.lock('q')).rejects.toBeTruthy();
    await Promise.all([a!.locker.unlock('q'), b!.locker.unlock(['r']), c!.locker.unlock('p')]);
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    await expect(a!.locker.lock('')).rejects.toBeInstanceOf(InvalidChannelError);
  });

  it('unlock() of a lock lost meanwhile rejects with LockLostError (for alova\'s own atomize)', async () => {
    const directory = tempDir('lost-unlock');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.locker.lock(['kept', 'lost']);
    rmSync(join(directory, 'locks', 'e-lost.lock'), { recursive: true });
    await sleep(1500); // past one renewal (1000 ms), which finds the lock gone
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

  it('close() releases held locks and refuses new ones', async () => {
    const directory = tempDir('close');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.locker.tryAcquire('x');
    await adapter.locker.lock('y');
    adapter.locker.onRelease!('z', () => undefined);
    await adapter.close();
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    await expect(adapter.locker.tryAcquire('x')).rejects.toBeInstanceOf(LockerConfigError);
  });

  it('an unusable directory is a LockerConfigError, and atomize fails at once', async () => {
    const parent = tempDir('config');
    writeFileSync(join(parent, 'file'), 'in the way');
    const adapter = new FileStorageAdapter({ directory: join(parent, 'file', 'sub') });
    await expect(adapter.locker.tryAcquire('c')).rejects.toBeInstanceOf(LockerConfigError);
    const started = Date.now();
    await expect(atomize(work(adapter, 'cfg', 1), { channel: 'c', timeout: 10_000 }).send()).rejects.toBeInstanceOf(LockerConfigError);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(adapter.set('k', 1)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('takes hostile channels and keys inside its directory only, each call settling', async () => {
    const parent = tempDir('hostile');
    const directory = join(parent, 'store');
    const adapter = new FileStorageAdapter({ directory });
    const names = ['../../x', '../x', '/abs', 'a/b', 'a\\b', '..', '.', '~', 'ü ☃ 🦊', 'ctl\u0000\n\t', 'x'.repeat(300), 'CON', '\uD800'];
    for (const name of names) {
      await settlesWithin(adapter.locker.lock(name), 5000);
      await settlesWithin(adapter.locker.unlock(name), 5000);
      await settlesWithin(adapter.set(name, name), 5000);
      expect(await adapter.get(name)).toBe(name);
      await settlesWithin(adapter.remove(name), 5000);
    }
    await expect(settlesWithin(adapter.locker.tryAcquire(''), 5000)).resolves.toBe('settled');
    expect(readdirSync(parent)).toEqual(['store']);
    expect(readdirSync(directory).sort()).toEqual(['cache', 'locks']);
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
      const started = Date.now();
      const call = atomize(work(adapter, 'removed', 8000), { channel: 'removed' }).send();
      const outcome = call.then(() => 'resolved', (error: unknown) => error);
      const lockDir = join(directory, 'locks', 'e-removed.lock');
      await waitFor(() => existsSync(lockDir), 'the lock');
      rmSync(lockDir, { recursive: true });
      const error = await outcome;
      expect(error).toBeInstanceOf(LockLostError);
      expect((error as LockLostError).channel).toBe('removed');
      expect(Date.now() - started).toBeLessThan(6000);
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
    await atomize(work(adapter, 'wake', 1), { channel: 'wake', interval: 15_000, timeout: 30_000 }).send();
    expect(holder.lines.some((line) => line.startsWith('{'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.maxInFlight().wake).toBe(1);
    await adapter.close();
  });
});
