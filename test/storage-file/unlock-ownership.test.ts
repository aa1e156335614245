/**
 * `locker.unlock()` (alova's interface) releases only what `locker.lock()` took: never a lock taken
 * by `tryAcquire` (this package's `atomize`, `withLock`), so code that mixes alova-style lock/unlock
 * with `atomize` in one process cannot end a running request's lock.
 */
import { createAlova } from 'alova';
import adapterFetch from 'alova/fetch';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { LockTimeoutError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { cleanup, spawnFixture, tempDir, waitFor } from './helpers.js';

let server: InflightServer;
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  cleanup();
});

describe('FileStorageAdapter unlock() releases what lock() took, nothing else', () => {
  it('a stray unlock() of a channel held by tryAcquire leaves the lock, its handle and its holder alone', async () => {
    const directory = tempDir('unlock-own');
    const adapter = new FileStorageAdapter({ directory });
    const other = new FileStorageAdapter({ directory });
    const handle = await adapter.locker.tryAcquire('c');
    expect(handle).not.toBeNull();
    // alova-style code next to it: a lock() that fails (held here), then the unlock() of its finally.
    await expect(adapter.locker.lock('c')).rejects.toBeInstanceOf(LockTimeoutError);
    await expect(adapter.locker.unlock('c')).resolves.toBeUndefined();
    await expect(adapter.locker.unlock(['c', 'never-locked'])).resolves.toBeUndefined();
    expect(existsSync(join(directory, 'locks', 'e-c.lock'))).toBe(true);
    expect(handle!.signal.aborted).toBe(false);
    expect(await other.locker.tryAcquire('c')).toBeNull();
    await handle!.release();
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);

    // lock() and unlock() still pair up, also with arrays, and an unlock() of a released lock is a no-op.
    await adapter.locker.lock(['c', 'd']);
    expect(await other.locker.tryAcquire('d')).toBeNull();
    await adapter.locker.unlock(['c', 'd']);
    await adapter.locker.unlock('c');
    expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    // What lock() took is not released by a handle-holder's code path either: only unlock() or close().
    await adapter.locker.lock('e');
    const again = await other.locker.tryAcquire('e');
    expect(again).toBeNull();
    await adapter.close();
    const free = await other.locker.tryAcquire('e');
    expect(free).not.toBeNull();
    await free!.release();
    await other.close();
  });

  it("a running atomize request keeps its lock through a stray unlock(): another process gets the channel only after it", async () => {
    const directory = tempDir('unlock-atomize');
    const adapter = new FileStorageAdapter({ directory });
    const alova = createAlova({ baseURL: server.url, requestAdapter: adapterFetch(), l2Cache: adapter, cacheFor: null });
    let finishedAt = 0;
    const call = atomize(alova.Get<{ ok: boolean }>('/work', { params: { channels: 'stray', ms: 1500 } }), { channel: 'stray' })
      .send()
      .then((response) => ((finishedAt = Date.now()), response));
    const lockDir = join(directory, 'locks', 'e-stray.lock');
    await waitFor(() => existsSync(lockDir), 'the request to hold its lock');
    await adapter.locker.lock('stray').catch(() => undefined);
    await adapter.locker.unlock('stray');
    // Another process polls for the channel (every 10 ms) from now on.
    const child = spawnFixture('file-holder.mjs', { directory, channel: 'stray' });
    await child.line((line) => line === 'locked');
    const finishedBeforeTaken = finishedAt;
    expect(await call).toMatchObject({ ok: true });
    expect(finishedBeforeTaken, 'the other process took the channel while the request ran').toBeGreaterThan(0);
    expect((await child.exited).code).toBe(0);
    await adapter.close();
  });
});
