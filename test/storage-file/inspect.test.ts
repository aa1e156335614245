/**
 * `adapter.inspect(channel)` on real files: a free channel (also in a directory not made yet), a held
 * one (lease left by `stale`, fencing token), live and dead tickets in its line, an abandoned lock, the
 * adapter's own `stale`, hostile channel names that must not lead outside the directory, links, bad
 * channels. Read-only: nothing is made, removed or renewed.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WaitTicket } from '../../src/shared/contract.js';
import { InvalidChannelError, LockerConfigError } from '../../src/shared/errors.js';
import { FileStorageAdapter, type LockInspection } from '../../src/storage-file/index.js';
import { cleanup, tempDir } from './helpers.js';

afterAll(cleanup);

const newTicket = (): WaitTicket & { end: () => void } => {
  const ending = new AbortController();
  return { id: randomUUID(), signal: ending.signal, end: () => ending.abort() };
};

/** Every entry under `root` with its mtime: what inspecting must leave exactly as it was. */
const snapshot = (root: string): string[] => {
  if (!existsSync(root)) return [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      const line = `${relative(root, path)} ${statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 'link'}`;
      return entry.isDirectory() ? [line, ...walk(path)] : [line];
    });
  return walk(root).sort();
};

/** The line folder of `channel` (a channel of [a-z0-9_-] only). */
const lineOf = (directory: string, channel: string) => join(directory, 'lines', `e-${channel}.lock`);

describe('FileStorageAdapter: inspect(channel)', () => {
  it('tells a free channel apart from a held one: lease left by stale, live waiters, fencing token; no holder recorded', async () => {
    const directory = tempDir('inspect');
    const [holder, waiter, observer] = [1, 2, 3].map(() => new FileStorageAdapter({ directory }));
    expect(await observer!.inspect('stock')).toEqual({ channel: 'stock', held: false, waiters: 0 });

    const handle = (await holder!.locker.tryAcquire('stock'))!;
    expect(handle).not.toBeNull();
    const ticket = newTicket();
    expect(await waiter!.locker.tryAcquire('stock', ticket)).toBeNull();
    const held: LockInspection = await observer!.inspect('stock');
    expect(held).toMatchObject({ channel: 'stock', held: true, waiters: 1, token: handle.token });
    expect(held).not.toHaveProperty('holder');
    // Default stale 5000 ms after the lock's last renewal (every second; proper-lockfile may round its
    // mtime up to the next second).
    expect(held.expiresInMs).toBeGreaterThan(2500);
    expect(held.expiresInMs).toBeLessThanOrEqual(6000);
    expect(await observer!.inspect('other')).toEqual({ channel: 'other', held: false, waiters: 0 });

    ticket.end();
    await handle.release();
    expect(await observer!.inspect('stock')).toEqual({ channel: 'stock', held: false, waiters: 0, token: handle.token });
    await Promise.all([holder!.close(), waiter!.close()]);
    // It keeps working after close() (the cache methods do too).
    await observer!.close();
    expect((await observer!.inspect('stock')).token).toBe(handle.token);
  });

  it('makes nothing: a directory not made yet stays unmade', async () => {
    const directory = join(tempDir('inspect-unmade'), 'not', 'yet');
    const adapter = new FileStorageAdapter({ directory });
    expect(await adapter.inspect('x')).toEqual({ channel: 'x', held: false, waiters: 0 });
    expect(existsSync(dirname(dirname(directory)))).toBe(true);
    expect(existsSync(dirname(directory))).toBe(false);
  });

  it('counts only live tickets, and leaves dead ones where they are', async () => {
    const directory = tempDir('inspect-line');
    const [holder, waiter, observer] = [1, 2, 3].map(() => new FileStorageAdapter({ directory }));
    const handle = (await holder!.locker.tryAcquire('line'))!;
    const ticket = newTicket();
    expect(await waiter!.locker.tryAcquire('line', ticket)).toBeNull();
    const [live] = readdirSync(lineOf(directory, 'line'));
    // A ticket of a process that has exited (same pid namespace), and one not renewed for `stale`.
    const exited = spawnSync(process.execPath, ['-e', '']).pid!;
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1];
    const dead = `00000000000000001-${exited}.${namespace}-e-dead`;
    const stale = `00000000000000002-${process.pid}.${namespace}-e-stale`;
    writeFileSync(join(lineOf(directory, 'line'), dead), '');
    writeFileSync(join(lineOf(directory, 'line'), stale), '');
    utimesSync(join(lineOf(directory, 'line'), stale), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(join(lineOf(directory, 'line'), 'not-a-ticket'), '');
    const before = snapshot(directory);
    expect(await observer!.inspect('line')).toMatchObject({ held: true, waiters: 1 });
    expect(readdirSync(lineOf(directory, 'line')).sort()).toEqual([dead, stale, live, 'not-a-ticket'].sort());
    expect(snapshot(directory)).toEqual(before);
    ticket.end();
    await handle.release();
    await Promise.all([holder!.close(), waiter!.close()]);
  });

  it("judges a lock with the adapter's own stale: one not renewed for stale is free (and left in place)", async () => {
    const directory = tempDir('inspect-stale');
    const holder = new FileStorageAdapter({ directory, lockerOptions: { stale: 20_000, update: 5000 } });
    const handle = (await holder.locker.tryAcquire('s'))!;
    const patient = new FileStorageAdapter({ directory, lockerOptions: { stale: 20_000 } });
    const held = await patient.inspect('s');
    expect(held.expiresInMs).toBeGreaterThan(15_000);
    expect(held.expiresInMs).toBeLessThanOrEqual(21_000);
    // The holder stopped renewing 10 s ago: abandoned for an adapter whose stale is 5 s, not for one of 20 s.
    const lock = join(directory, 'locks', 'e-s.lock');
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    utimesSync(lock, tenSecondsAgo, tenSecondsAgo);
    const hasty = new FileStorageAdapter({ directory });
    expect(await hasty.inspect('s')).toEqual({ channel: 's', held: false, waiters: 0, token: handle.token });
    const stillHeld = await patient.inspect('s');
    expect(stillHeld.held).toBe(true);
    expect(stillHeld.expiresInMs).toBeLessThanOrEqual(10_000);
    expect(existsSync(lock)).toBe(true);
    await holder.close().catch(() => undefined);
  });

  it('never leaves the directory, whatever the channel name', async () => {
    const outside = tempDir('inspect-hostile');
    const directory = join(outside, 'adapter');
    const adapter = new FileStorageAdapter({ directory });
    const warmUp = (await adapter.locker.tryAcquire('warm'))!; // makes locks/ and fences/
    await warmUp.release();
    mkdirSync(join(directory, 'lines'));
    // Traps where a name used as a path would lead: a fresh lock, a line with a live ticket, a fence.
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1];
    for (const trap of ['outside', 'x']) {
      mkdirSync(join(outside, `${trap}.lock`));
      mkdirSync(join(outside, trap));
      writeFileSync(join(outside, trap, `00000000000000001-${process.pid}.${namespace}-e-trap`), '');
      writeFileSync(join(outside, `${trap}.fence`), '123');
    }
    mkdirSync(join(directory, 'locks', '..%2F..%2Foutside.lock')); // decoy of a half-escaping scheme
    const before = snapshot(outside);
    const hostile = ['../../outside', '../../../x', '..', '.', '/', '/etc/passwd', 'a/../../../outside', 'C:\\x', 'nul', 'x'.repeat(300), '\u0000', 'É/../..'];
    for (const channel of hostile) {
      expect(await adapter.inspect(channel)).toEqual({ channel, held: false, waiters: 0 });
    }
    expect(snapshot(outside)).toEqual(before);
  });

  it('refuses a link in place of one of its folders (LockerConfigError), never following it', async () => {
    const directory = tempDir('inspect-links');
    const elsewhere = tempDir('inspect-elsewhere');
    const holder = new FileStorageAdapter({ directory: elsewhere });
    const handle = (await holder.locker.tryAcquire('l'))!;
    mkdirSync(directory, { recursive: true });
    symlinkSync(join(elsewhere, 'locks'), join(directory, 'locks'));
    const adapter = new FileStorageAdapter({ directory });
    const error = await adapter.inspect('l').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockerConfigError);
    expect((error as LockerConfigError).cause).toMatchObject({ code: 'ELOOP' });
    // The same for the fences' folder.
    renameSync(join(directory, 'locks'), join(directory, 'unused'));
    symlinkSync(join(elsewhere, 'fences'), join(directory, 'fences'));
    await expect(adapter.inspect('l')).rejects.toBeInstanceOf(LockerConfigError);
    await handle.release();
    await holder.close();
  });

  it('refuses a channel the lockers refuse', async () => {
    const adapter = new FileStorageAdapter({ directory: tempDir('inspect-bad') });
    for (const bad of ['', 42, null]) {
      const error = await adapter.inspect(bad as string).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidChannelError);
      expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_CHANNEL' });
    }
  });
});
