/**
 * Filesystem faults: the adapter's directory removed (and made again) under a waiting call, a full
 * disk (a real tmpfs with no inode left when this runs as root, and an injected fs that fails the way
 * node:fs does there), and a waiter whose ticket cannot be written.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs, { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { CacheError, LockTimeoutError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { ReleaseNotifier } from '../../src/storage-file/notify/release-notifier.js';
import { alovaWith, work } from '../helpers/alova.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { cleanup, sleep, spawnFixture, tempDir, waitFor } from './helpers.js';

let server: InflightServer;
const mounted: string[] = [];
beforeAll(async () => (server = await startInflightServer()));
afterAll(async () => {
  await server.close();
  for (const point of mounted.splice(0)) execFileSync('umount', [point], { stdio: 'ignore' });
  cleanup();
});

/** Makes and removes the lock directory `name`: one release, as the file locker does it. */
const takeAndRelease = (folder: string, name: string): void => {
  mkdirSync(join(folder, name));
  rmdirSync(join(folder, name));
};

const ticketOf = (interval = 50) => {
  const ending = new AbortController();
  return { ticket: { id: randomUUID(), signal: ending.signal, interval }, end: () => ending.abort() };
};

/** The errors along `error`'s cause chain. */
const causes = (error: unknown): unknown[] => {
  const chain: unknown[] = [];
  for (let at = error; at !== undefined && at !== null && chain.length < 10; at = (at as { cause?: unknown }).cause) chain.push(at);
  return chain;
};
const codesOf = (error: unknown): unknown[] => causes(error).map((at) => (at as { code?: unknown }).code);

describe('FileStorageAdapter wake-ups after its directory was removed', () => {
  it.each([
    ['removed with its directory', (folder: string) => rmSync(dirname(folder), { recursive: true })],
    ['renamed away', (folder: string) => renameSync(folder, `${folder}.old`)],
  ])('the notifier notices its folder %s, and watches the new one as soon as it is made again', async (_, remove) => {
    const folder = join(tempDir('renotify'), 'locks');
    const notifier = new ReleaseNotifier(folder, 5000, { reopenMs: 50 });
    let heard = 0;
    const off = notifier.subscribe('x.lock', () => heard++);
    takeAndRelease(folder, 'x.lock');
    await waitFor(() => heard >= 1, 'a release');
    await sleep(100); // (both events of that release: made, removed)
    const beforeRemoval = heard;
    remove(folder);
    await waitFor(() => heard > beforeRemoval, 'the wake-up when the folder went (its locks went with it)', 5000);
    // Someone makes it again (the next lock attempt of any process): watched again, and everyone is woken once more.
    const reopened = heard;
    mkdirSync(folder, { recursive: true });
    await waitFor(() => notifier.watching && heard > reopened, 'the new folder to be watched', 5000);
    const before = heard;
    takeAndRelease(folder, 'x.lock');
    await waitFor(() => heard > before, 'a release in the new folder', 5000);
    off();
    notifier.close();
  });

  it('an atomize call waiting in this process is woken at once by a release after the directory was removed and made again (holder in another process)', async () => {
    const directory = tempDir('renotify-adapter');
    const holder = spawnFixture('file-holder.mjs', { directory, channel: 'c', holdMs: 60_000 });
    await holder.line((line) => line === 'locked');
    const adapter = new FileStorageAdapter({ directory });
    let settled = false;
    const call = atomize(work(alovaWith(server.url, adapter.locker), 'c', 1), { channel: 'c', interval: 60_000, timeout: 120_000 })
      .send()
      .finally(() => (settled = true));
    const line = join(directory, 'lines', 'e-c.lock');
    await waitFor(() => existsSync(line) && readdirSync(line).length === 1, 'the call to wait in line');
    // The directory goes and comes back in one step, the channel held again (a lock made by hand
    // stands for a new holder): the waiter wakes, finds it held, and waits on.
    rmSync(directory, { recursive: true });
    mkdirSync(join(directory, 'locks', 'e-c.lock'), { recursive: true });
    await sleep(600);
    expect(settled).toBe(false);
    // The release: heard by the watcher on the new folder, long before the 60 s poll.
    rmdirSync(join(directory, 'locks', 'e-c.lock'));
    const released = Date.now();
    const outcome = await Promise.race([call.then(() => 'resolved'), sleep(10_000).then(() => 'still waiting after 10 s')]);
    expect(outcome).toBe('resolved');
    expect(Date.now() - released).toBeLessThan(10_000);
    holder.process.kill('SIGKILL');
    await holder.exited;
    await adapter.close();
  });
});

/** A fresh tmpfs with no inode left, when this runs as root on Linux and `mount` works (no shell); undefined otherwise. */
const fullTmpfs = (): string | undefined => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const point = tempDir('tmpfs');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=64', 'tmpfs', point], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  mounted.push(point);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(point, `fill-${i}`), '');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return point;
      throw error;
    }
  }
};

const enospc = (syscall: string, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`ENOSPC: no space left on device, ${syscall} '${path}'`), { code: 'ENOSPC', errno: -28, syscall, path });
const enoent = (syscall: string, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`ENOENT: no such file or directory, ${syscall} '${path}'`), { code: 'ENOENT', errno: -2, syscall, path });

/**
 * node:fs, but the disk under `root` (which does not exist yet) is full, as node:fs reports it: a
 * `mkdir` fails with ENOSPC, a recursive one with ENOENT (node's recursive mkdir reports the stat it
 * makes after the failure), a new file with ENOSPC.
 */
const fullDiskUnder = (root: string) => {
  const under = (path: unknown): boolean => String(path) === root || String(path).startsWith(root + sep);
  const mkdir = (path: string, ...rest: unknown[]): void => {
    if (!under(path)) return (fs.mkdir as (...args: unknown[]) => void)(path, ...rest);
    const options = rest.length > 1 ? (rest[0] as fs.MakeDirectoryOptions | undefined) : undefined;
    const done = rest.at(-1) as (error: NodeJS.ErrnoException | null) => void;
    done(options?.recursive ? enoent('mkdir', root) : enospc('mkdir', path));
  };
  const writeFile = (path: string, ...rest: unknown[]): void => {
    if (!under(path)) return (fs.writeFile as (...args: unknown[]) => void)(path, ...rest);
    (rest.at(-1) as (error: NodeJS.ErrnoException) => void)(existsSync(dirname(path)) ? enospc('open', path) : enoent('open', path));
  };
  return { ...fs, mkdir, writeFile };
};

describe('FileStorageAdapter on a full disk reports ENOSPC, not the ENOENT of a recursive mkdir', () => {
  const check = async (directory: string, options: { lockerOptions?: { fs: unknown } } = {}) => {
    const adapter = new FileStorageAdapter({ directory, ...options });
    const failure = await atomize(work(alovaWith(server.url, adapter.locker), 'c', 1), { channel: 'c', timeout: 300, interval: 50 })
      .send()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect(codesOf(failure)).toContain('ENOSPC');
    expect(codesOf(failure)).not.toContain('ENOENT');
    const cacheFailure = await adapter.set('k', 1).catch((error: unknown) => error);
    expect(cacheFailure).toBeInstanceOf(CacheError);
    expect(cacheFailure).toMatchObject({ cause: { code: 'ENOSPC' } });
    return adapter;
  };

  // This machine kind (and CI on it) runs as root on Linux, where mounting a tmpfs works: the test
  // requires it rather than skipping itself (the injected-fs test above covers the same paths anywhere).
  it('a real full tmpfs: the timeout says ENOSPC, and all works once there is room', async () => {
    const point = fullTmpfs();
    if (!point) throw new Error('this test mounts a tmpfs: it needs root on Linux (mount -t tmpfs)');
    const directory = join(point, 'store');
    const adapter = await check(directory);
    for (let i = 0; i < 20; i++) rmSync(join(point, `fill-${i}`));
    await expect(atomize(work(alovaWith(server.url, adapter.locker), 'c', 1), { channel: 'c', timeout: 2000 }).send()).resolves.toMatchObject({ ok: true });
    await adapter.set('k', 1);
    expect(await adapter.get('k')).toBe(1);
    await adapter.close();
  });

  it('an injected fs that fails as node:fs does on a full disk: the timeout says ENOSPC', async () => {
    const directory = join(tempDir('full-injected'), 'store');
    const adapter = await check(directory, { lockerOptions: { fs: fullDiskUnder(directory) } });
    await adapter.close();
  });
});

/** node:fs, but writing a file under `folder` fails with ENOSPC (ENOENT first when its folder is missing, as a real fs does). */
const fullUnder = (folder: string) => {
  const writes: string[] = [];
  const writeFile = (path: string, ...rest: unknown[]): void => {
    if (!String(path).startsWith(folder + sep)) return (fs.writeFile as (...args: unknown[]) => void)(path, ...rest);
    writes.push(String(path));
    (rest.at(-1) as (error: NodeJS.ErrnoException) => void)(existsSync(dirname(path)) ? enospc('open', path) : enoent('open', path));
  };
  return { fs: { ...fs, writeFile }, writes };
};

describe('FileStorageAdapter: a waiter whose ticket cannot be written (ENOSPC under lines/)', () => {
  it('cannot wait in line, but takes the channel once it is free, and only after those waiting in line', async () => {
    const directory = tempDir('ticketless');
    const full = fullUnder(join(directory, 'lines'));
    const holder = new FileStorageAdapter({ directory });
    const queued = new FileStorageAdapter({ directory });
    const waiter = new FileStorageAdapter({ directory, lockerOptions: { fs: full.fs } });
    const held = await holder.locker.tryAcquire('c');
    const inLine = ticketOf();
    expect(await queued.locker.tryAcquire('c', inLine.ticket)).toBeNull();
    const { ticket, end } = ticketOf();
    // Held: its attempts reject with the reason it cannot wait (atomize retries them).
    await expect(waiter.locker.tryAcquire('c', ticket)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(waiter.locker.tryAcquire('c', ticket)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(full.writes.length).toBeGreaterThanOrEqual(2);
    await held!.release();
    // Free, but another waits in line: not taken ahead of it.
    await expect(waiter.locker.tryAcquire('c', ticket)).rejects.toMatchObject({ code: 'ENOSPC' });
    const next = await queued.locker.tryAcquire('c', inLine.ticket);
    expect(next).not.toBeNull();
    inLine.end();
    await next!.release();
    // Free, and nobody in line: taken.
    const mine = await waiter.locker.tryAcquire('c', ticket);
    expect(mine).not.toBeNull();
    end();
    await mine!.release();
    await Promise.all([holder.close(), queued.close(), waiter.close()]);
  });

  it('atomize: such a waiter gets the channel when its holder (another process) releases it, well before its timeout', async () => {
    const directory = tempDir('ticketless-atomize');
    const full = fullUnder(join(directory, 'lines'));
    const holder = spawnFixture('file-holder.mjs', { directory, channel: 'c', holdMs: 500 });
    await holder.line((line) => line === 'locked');
    const waiter = new FileStorageAdapter({ directory, lockerOptions: { fs: full.fs } });
    const started = Date.now();
    await expect(atomize(work(alovaWith(server.url, waiter.locker), 'c', 1), { channel: 'c', timeout: 10_000, interval: 50 }).send()).resolves.toMatchObject({ ok: true });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(full.writes.length).toBeGreaterThanOrEqual(1); // it did try to queue
    expect((await holder.exited).code).toBe(0);
    await waiter.close();
  });
});
