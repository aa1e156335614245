/**
 * The adapter trusts nothing inside its directory: a symbolic link planted there is never followed,
 * out of the directory or within it (entries opened with O_NOFOLLOW, lstat/lutimes, and its folders
 * `cache/`, `locks/`, `lines/`, `fences/` checked to be real folders before use), and what it
 * creates is owner-only by default (files 0600, folders 0700) or has the modes given.
 */
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  lutimesSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { CacheError, LockerConfigError, LockLostError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { alovaWith, work } from '../helpers/alova.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { cleanup, sleep, tempDir, waitFor } from './helpers.js';

let server: InflightServer;
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  cleanup();
});

/** A wait ticket as atomize makes one: `end()` aborts it (the wait is over). */
const newTicket = () => {
  const ending = new AbortController();
  return { id: randomUUID(), signal: ending.signal, interval: 50, end: () => ending.abort() };
};

/** A folder outside the adapter's directory, with a file in it (named like a cache entry) that must survive. */
const outsideWith = (label: string) => {
  const outside = tempDir(`outside-${label}`);
  writeFileSync(join(outside, 'e-victim.json'), '"not yours"');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(outside, old, old);
  utimesSync(join(outside, 'e-victim.json'), old, old);
  const untouched = (): void => {
    expect(readdirSync(outside)).toEqual(['e-victim.json']);
    expect(readFileSync(join(outside, 'e-victim.json'), 'utf8')).toBe('"not yours"');
    expect(Math.round(statSync(join(outside, 'e-victim.json')).mtimeMs)).toBe(old.getTime());
  };
  return { outside, untouched };
};

const modeOf = (path: string): number => lstatSync(path).mode & 0o777;

describe('FileStorageAdapter follows no symbolic link inside its directory', () => {
  it('an entry that is a link reads as a miss (never the foreign file), and the next set replaces the link only', async () => {
    const directory = tempDir('link-entry');
    const { outside, untouched } = outsideWith('entry');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.set('k', 'mine');
    const entry = join(directory, 'cache', 'e-k.json');
    unlinkSync(entry);
    symlinkSync(join(outside, 'e-victim.json'), entry);
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      expect(await adapter.get('k')).toBeUndefined();
      await waitFor(() => warnings.length > 0, 'the warning');
      expect(warnings[0]).toMatchObject({ code: 'ERR_ATOMIZE_CACHE_ENTRY' });
    } finally {
      process.off('warning', onWarning);
    }
    await adapter.set('k', 'again');
    expect(lstatSync(entry).isFile()).toBe(true);
    expect(await adapter.get('k')).toBe('again');
    await adapter.remove('k');
    untouched();
    await adapter.close();
  });

  it('a link in place of cache/: every cache method rejects with CacheError (code ELOOP), clear() deletes nothing outside', async () => {
    const directory = tempDir('link-cache');
    const { outside, untouched } = outsideWith('cache');
    mkdirSync(directory, { recursive: true });
    symlinkSync(outside, join(directory, 'cache'));
    const adapter = new FileStorageAdapter({ directory });
    for (const [operation, call] of [
      ['clear', () => adapter.clear()],
      ['get', () => adapter.get('victim')],
      ['set', () => adapter.set('victim', 'overwritten')],
      ['remove', () => adapter.remove('victim')],
    ] as const) {
      const failure = await (call as () => Promise<unknown>)().then(
        () => 'resolved',
        (error: unknown) => error,
      );
      expect(failure, operation).toBeInstanceOf(CacheError);
      expect(failure).toMatchObject({ code: 'ERR_ATOMIZE_CACHE', operation, cause: { code: 'ELOOP' } });
    }
    untouched();
    // Locks are not affected by the cache folder.
    const handle = await adapter.locker.tryAcquire('c');
    expect(handle).not.toBeNull();
    await handle!.release();
    await adapter.close();
  });

  it.each(['locks', 'fences'])('a link in place of %s/: lock attempts fail with LockerConfigError, atomize at once; nothing is written outside', async (name) => {
    const directory = tempDir(`link-${name}`);
    const { outside, untouched } = outsideWith(name);
    mkdirSync(directory, { recursive: true });
    symlinkSync(outside, join(directory, name));
    const adapter = new FileStorageAdapter({ directory });
    const failure = await adapter.locker.tryAcquire('c').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockerConfigError);
    expect((failure as LockerConfigError).cause).toMatchObject({ code: 'ELOOP' });
    const started = Date.now();
    await expect(atomize(work(alovaWith(server.url, adapter.locker), 'c', 1), { channel: 'c', timeout: 60_000 }).send()).rejects.toBeInstanceOf(
      LockerConfigError,
    );
    expect(Date.now() - started).toBeLessThan(30_000); // a hang bound, far below the deadline retries would take
    untouched();
    // No lock was left behind (the fence is made under the lock: the lock is given back).
    if (name === 'fences') expect(readdirSync(join(directory, 'locks'))).toEqual([]);
    await adapter.close();
  });

  it.each(['lines', 'lines/e-c.lock'])('a link in place of %s/: a waiting attempt fails with LockerConfigError; no ticket is written outside', async (name) => {
    const directory = tempDir('link-lines');
    const { outside, untouched } = outsideWith('lines');
    mkdirSync(join(directory, name, '..'), { recursive: true });
    symlinkSync(outside, join(directory, name));
    const holder = new FileStorageAdapter({ directory, fair: false }); // reads no line
    const waiter = new FileStorageAdapter({ directory });
    const held = await holder.locker.tryAcquire('c');
    expect(held).not.toBeNull();
    const ticket = newTicket();
    const failure = await waiter.locker.tryAcquire('c', ticket).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockerConfigError);
    expect((failure as LockerConfigError).cause).toMatchObject({ code: 'ELOOP' });
    // A ticketless attempt reads the line too: refused, not misled by foreign files.
    await expect(waiter.locker.tryAcquire('c')).rejects.toBeInstanceOf(LockerConfigError);
    ticket.end();
    await held!.release();
    untouched();
    await Promise.all([holder.close(), waiter.close()]);
  });

  it("a ticket replaced by a link: its refreshes change the link's own mtime, never the linked file's", async () => {
    const directory = tempDir('link-ticket');
    const { outside, untouched } = outsideWith('ticket');
    const holder = new FileStorageAdapter({ directory });
    const waiter = new FileStorageAdapter({ directory, lockerOptions: { update: 1000 } });
    const held = await holder.locker.tryAcquire('c');
    const ticket = newTicket();
    expect(await waiter.locker.tryAcquire('c', ticket)).toBeNull();
    const line = join(directory, 'lines', 'e-c.lock');
    const [name] = readdirSync(line);
    unlinkSync(join(line, name!));
    symlinkSync(join(outside, 'e-victim.json'), join(line, name!));
    const linkedAt = lstatSync(join(line, name!)).mtimeMs;
    await sleep(2300); // two refreshes (every `update`, 1000 ms)
    untouched();
    expect(lstatSync(join(line, name!)).mtimeMs, "the link's own mtime is refreshed").toBeGreaterThan(linkedAt + 500);
    ticket.end();
    await held!.release();
    await Promise.all([holder.close(), waiter.close()]);
  });

  it('a held lock replaced by a link to a folder with its very mtime: the renewal finds it lost and never touches that folder', async () => {
    const directory = tempDir('link-lock');
    const outside = join(tempDir('outside-lock'), 'lookalike');
    mkdirSync(outside);
    const adapter = new FileStorageAdapter({ directory, lockerOptions: { update: 1000 } });
    const handle = await adapter.locker.tryAcquire('c');
    const lock = join(directory, 'locks', 'e-c.lock');
    const { mtime } = statSync(lock);
    utimesSync(outside, mtime, mtime);
    rmSync(lock, { recursive: true });
    symlinkSync(outside, lock);
    // The first renewal (after `update`, 1000 ms) finds the lock lost; waited for, not timed: a busy
    // machine may run that timer late.
    await waitFor(() => handle!.signal.aborted, 'the renewal to find the lock lost');
    await sleep(1100); // no renewal comes after it either
    expect(Math.round(statSync(outside).mtimeMs)).toBe(Math.round(mtime.getTime()));
    expect(handle!.signal.reason).toBeInstanceOf(LockLostError);
    await handle!.release().catch(() => undefined);
    expect(existsSync(outside)).toBe(true);
    await adapter.close();
  });

  it('a link planted in place of a lock blocks the channel only until it is stale, then goes like an abandoned lock (the link, not its target)', async () => {
    const directory = tempDir('link-planted-lock');
    const target = join(tempDir('outside-planted'), 'folder');
    mkdirSync(target);
    writeFileSync(join(target, 'kept'), 'kept');
    const adapter = new FileStorageAdapter({ directory, lockerOptions: { stale: 2000 } });
    const first = await adapter.locker.tryAcquire('c');
    await first!.release();
    const lock = join(directory, 'locks', 'e-c.lock');
    symlinkSync(target, lock);
    expect(await adapter.locker.tryAcquire('c')).toBeNull(); // fresh: as if held
    const old = new Date(Date.now() - 10_000);
    lutimesSync(lock, old, old);
    const handle = await adapter.locker.tryAcquire('c');
    expect(handle).not.toBeNull();
    expect(lstatSync(lock).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual(['kept']);
    await handle!.release();
    await adapter.close();
  });

  it('a fencing-token file replaced by a link is neither read nor written through it: the rename replaces the link', async () => {
    const directory = tempDir('link-fence');
    const outside = tempDir('outside-fence');
    // A foreign file holding a huge token: read through the link, it would become the channel's last token.
    const foreign = join(outside, 'numbers');
    writeFileSync(foreign, '9007199254740000');
    const adapter = new FileStorageAdapter({ directory });
    const first = await adapter.locker.tryAcquire('c');
    await first!.release();
    const fence = join(directory, 'fences', 'e-c.fence');
    unlinkSync(fence);
    symlinkSync(foreign, fence);
    const second = await adapter.locker.tryAcquire('c');
    expect(second!.token).toBeGreaterThan(first!.token!);
    expect(second!.token).toBeLessThan(9007199254740000);
    await second!.release();
    expect(lstatSync(fence).isFile()).toBe(true);
    expect(Number(readFileSync(fence, 'utf8'))).toBe(second!.token);
    expect(readFileSync(foreign, 'utf8')).toBe('9007199254740000');
    await adapter.close();
  });
});

describe('FileStorageAdapter file and folder modes', () => {
  /** Makes every kind of file and folder: an entry, a lock, a fencing token, a line with a ticket. */
  const makeEverything = async (options: { fileMode?: number; dirMode?: number }) => {
    const directory = join(tempDir('modes'), 'store');
    const holder = new FileStorageAdapter({ directory, ...options });
    const waiter = new FileStorageAdapter({ directory, ...options });
    await holder.set('k', { v: 1 });
    const held = await holder.locker.tryAcquire('c');
    const ticket = newTicket();
    expect(await waiter.locker.tryAcquire('c', ticket)).toBeNull();
    const line = join(directory, 'lines', 'e-c.lock');
    const files = [join(directory, 'cache', 'e-k.json'), join(directory, 'fences', 'e-c.fence'), join(line, readdirSync(line)[0]!)];
    const folders = [directory, ...['cache', 'locks', 'lines', 'fences'].map((name) => join(directory, name)), line, join(directory, 'locks', 'e-c.lock')];
    const modes = { files: files.map(modeOf), folders: folders.map(modeOf) };
    ticket.end();
    await held!.release();
    await Promise.all([holder.close(), waiter.close()]);
    return modes;
  };

  it('creates files 0600 and folders 0700 by default: other users cannot read the cache', async () => {
    expect(await makeEverything({})).toEqual({ files: [0o600, 0o600, 0o600], folders: Array(7).fill(0o700) });
  });

  it('uses the modes given (fileMode, dirMode)', async () => {
    expect(await makeEverything({ fileMode: 0o640, dirMode: 0o750 })).toEqual({ files: [0o640, 0o640, 0o640], folders: Array(7).fill(0o750) });
  });

  it('checks the modes and sweep options', () => {
    const directory = tempDir('mode-options');
    for (const [option, value] of [
      ['fileMode', 0o200],
      ['fileMode', 0o1600],
      ['fileMode', '600'],
      ['fileMode', 384.5],
      ['dirMode', 0o600],
      ['dirMode', -1],
      ['sweepBatch', -1],
      ['sweepBatch', 1.5],
      ['sweepInterval', 0],
      ['sweepInterval', Number.NaN],
    ] as const) {
      expect(() => new FileStorageAdapter({ directory, [option]: value } as never), `${option}: ${String(value)}`).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_OPTION', option }),
      );
    }
    expect(() => new FileStorageAdapter({ directory, fileMode: 0o777, dirMode: 0o777, sweepBatch: 0, sweepInterval: 1 })).not.toThrow();
  });
});
