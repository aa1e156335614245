/**
 * `lockerOptions.fs` reaches the fair line and the cache, not only proper-lockfile: an fs whose
 * `writeFile` fails with ENOSPC (a full disk) shows how each surfaces the error, and that nothing is
 * left locked or queued behind it.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { CacheError, LockTimeoutError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { alovaWith, work } from '../helpers/alova.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { fileProbe } from '../helpers/probes.js';
import { cleanup, tempDir, waitFor } from './helpers.js';

let server: InflightServer;
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  cleanup();
});

const enospc = (): NodeJS.ErrnoException => Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC', errno: -28, syscall: 'open' });

/** node:fs, but a full disk under `folder`: writing a file there fails with `error` (ENOENT first when its folder is missing, as a real fs does). */
const fullUnder = (folder: string, error: NodeJS.ErrnoException) => {
  const writes: string[] = [];
  const writeFile = (path: string, ...rest: unknown[]): void => {
    if (!String(path).startsWith(folder + sep)) return (fs.writeFile as (...args: unknown[]) => void)(path, ...rest);
    writes.push(String(path));
    const done = rest.at(-1) as (error: NodeJS.ErrnoException | null) => void;
    fs.stat(dirname(path), (missing) => done(missing ?? error));
  };
  return { fs: { ...fs, writeFile }, writes };
};

const ticketOf = (interval = 50) => {
  const ending = new AbortController();
  return { ticket: { id: randomUUID(), signal: ending.signal, interval }, end: () => ending.abort() };
};

/**
 * Channel 'c' held by a healthy adapter, and a waiter adapter whose disk is full under `lines/`.
 * `nothingLeft()` releases the holder, then checks that no ticket or lock is left: the waiter takes 'c'.
 */
const contended = async (label: string) => {
  const directory = tempDir(label);
  const error = enospc();
  const full = fullUnder(join(directory, 'lines'), error);
  const holder = new FileStorageAdapter({ directory });
  const waiter = new FileStorageAdapter({ directory, lockerOptions: { fs: full.fs } });
  const held = await holder.locker.tryAcquire('c');
  expect(held).not.toBeNull();
  const nothingLeft = async (): Promise<void> => {
    await held!.release();
    const probe = fileProbe(directory, 'c');
    await waitFor(async () => (await probe.waiting()) === 0, 'the line to be empty');
    expect(await probe.held()).toBe(false);
    const next = await waiter.locker.tryAcquire('c');
    expect(next).not.toBeNull();
    await next!.release();
    await waiter.close();
    await holder.close();
  };
  return { error, full, waiter, nothingLeft };
};

describe('FileStorageAdapter with an injected fs that fails writes (ENOSPC)', () => {
  it('cache: set rejects with a CacheError whose cause is the ENOSPC error, leaves no temporary file and keeps the value before', async () => {
    const directory = tempDir('enospc-cache');
    const healthy = new FileStorageAdapter({ directory });
    await healthy.set('k', 'before');
    const error = enospc();
    const full = fullUnder(join(directory, 'cache'), error);
    const adapter = new FileStorageAdapter({ directory, lockerOptions: { fs: full.fs } });
    const failure = await adapter.set('k', 'after').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CacheError);
    expect(failure).toMatchObject({ code: 'ERR_ATOMIZE_CACHE', operation: 'set', key: 'k', cause: error });
    expect(full.writes).toHaveLength(1);
    expect(fs.readdirSync(join(directory, 'cache')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(await adapter.get('k')).toBe('before');
    await adapter.close();
    await healthy.close();
  });

  it('line: an attempt whose ticket cannot be written rejects with the ENOSPC error; nothing is left locked or queued', async () => {
    const { error, full, waiter, nothingLeft } = await contended('enospc-line');
    // A free channel is taken without writing a ticket (the uncontended path).
    const free = ticketOf();
    const handle = await waiter.locker.tryAcquire('free', free.ticket);
    expect(handle).not.toBeNull();
    expect(full.writes).toEqual([]);
    free.end();
    await handle!.release();

    const { ticket, end } = ticketOf();
    await expect(waiter.locker.tryAcquire('c', ticket)).rejects.toBe(error);
    await expect(waiter.locker.tryAcquire('c', ticket)).rejects.toBe(error);
    expect(full.writes.length).toBeGreaterThanOrEqual(2);
    end();
    await nothingLeft();
  });

  it('atomize: waits out its timeout, then rejects with LockTimeoutError whose cause is the ENOSPC error; nothing is left locked or queued', async () => {
    const { error, full, waiter, nothingLeft } = await contended('enospc-atomize');
    const before = server.total();
    const failure = await atomize(work(alovaWith(server.url, waiter.locker), 'c'), { channel: 'c', timeout: 300, interval: 50 })
      .send()
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect(failure).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_TIMEOUT', channel: 'c', cause: error });
    expect(full.writes.length).toBeGreaterThanOrEqual(2); // every attempt met the full disk
    expect(server.total()).toBe(before);
    await nothingLeft();
  });
});
