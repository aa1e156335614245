import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FILE_STORAGE_DEFAULTS } from '../../src/shared/defaults.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { cleanup, sleep, spawnFixture, tempDir } from './helpers.js';

afterAll(cleanup);

const STALE = 2000;
const lockerOptions = { stale: STALE };

/** Polls tryAcquire until it gives a handle; resolves it with the time it took. */
const acquireEventually = async (adapter: FileStorageAdapter, channel: string, boundMs: number) => {
  const started = Date.now();
  while (Date.now() - started < boundMs) {
    const handle = await adapter.locker.tryAcquire(channel);
    if (handle) return { handle, after: Date.now() - started };
    await sleep(25);
  }
  throw new Error(`${channel} not acquired within ${boundMs} ms`);
};

describe('FileStorageAdapter faults, across processes', () => {
  it('a holder killed with SIGKILL is taken over after about the stale time', async () => {
    const directory = tempDir('kill');
    const holder = spawnFixture('file-holder.mjs', { directory, channel: 'crash', lockerOptions, holdMs: 60_000 });
    await holder.line((line) => line === 'locked');
    const adapter = new FileStorageAdapter({ directory, lockerOptions });
    expect(await adapter.locker.tryAcquire('crash')).toBeNull();
    holder.process.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    const { handle, after } = await acquireEventually(adapter, 'crash', STALE + 5000);
    // Renewed at most `update` (1000 ms) before the kill; its first mtime may be up to 1 s ahead.
    expect(after).toBeGreaterThan(STALE - 1000 - 200);
    expect(after).toBeLessThan(STALE + 1500);
    await handle.release();
    await adapter.close();
  });

  it('a process that exits without releasing frees its locks on the way out', async () => {
    const directory = tempDir('exit');
    const holder = spawnFixture('file-holder.mjs', { directory, channel: 'exit', holdMs: 100, exitWithoutRelease: true });
    await holder.line((line) => line === 'locked');
    expect((await holder.exited).code).toBe(0);
    const adapter = new FileStorageAdapter({ directory });
    const handle = await adapter.locker.tryAcquire('exit');
    expect(handle).not.toBeNull();
    await adapter.close();
  });

  it('a holder keeps its lock for much longer than the stale time (lease renewal)', async () => {
    const directory = tempDir('long');
    const holder = spawnFixture('file-holder.mjs', { directory, channel: 'long', lockerOptions, holdMs: STALE * 2.5 });
    await holder.line((line) => line === 'locked');
    const adapter = new FileStorageAdapter({ directory, lockerOptions });
    const started = Date.now();
    let refusals = 0;
    while (!holder.lines.some((line) => line.startsWith('{'))) {
      const handle = await adapter.locker.tryAcquire('long');
      if (handle) {
        const during = !holder.lines.some((line) => line.startsWith('{'));
        await handle.release();
        expect(during, 'taken while the other process held it').toBe(false);
        break;
      }
      refusals++;
      await sleep(50);
    }
    expect(Date.now() - started).toBeGreaterThan(STALE * 2);
    expect(refusals).toBeGreaterThan(20);
    expect(JSON.parse(holder.lines.at(-1)!)).toEqual({ aborted: false, releaseError: null });
    const { handle } = await acquireEventually(adapter, 'long', 5000);
    await handle.release();
    await adapter.close();
  });

  it("a stalled holder that was taken over never removes the new holder's lock", async () => {
    const directory = tempDir('stall');
    // One releases in the same tick its stall ends (before its lease timer can tell it the lock is
    // lost), the other lets its timer run first.
    const cases = [
      { channel: 'at-once', holdMs: undefined, expected: { aborted: false, releaseError: 'LockLostError' } },
      { channel: 'later', holdMs: 100, expected: { aborted: true, releaseError: null } },
    ];
    const adapter = new FileStorageAdapter({ directory, lockerOptions });
    const other = new FileStorageAdapter({ directory, lockerOptions });
    await Promise.all(
      cases.map(async ({ channel, holdMs, expected }) => {
        const holder = spawnFixture('file-holder.mjs', { directory, channel, lockerOptions, holdMs, blockMs: STALE + 2500 });
        await holder.line((line) => line === 'locked');
        const { handle: mine } = await acquireEventually(adapter, channel, STALE + 2000);
        expect(holder.lines.some((line) => line.startsWith('{')), 'taken over while the holder was stalled').toBe(false);
        expect((await holder.exited).code).toBe(0);
        expect(JSON.parse(holder.lines.at(-1)!)).toEqual(expected);
        expect(existsSync(join(directory, 'locks', `e-${channel}.lock`))).toBe(true);
        expect(await other.locker.tryAcquire(channel)).toBeNull();
        expect(mine.signal.aborted).toBe(false);
        await mine.release();
      }),
    );
    await Promise.all([adapter.close(), other.close()]);
  });

  it('documents its defaults', () => {
    expect(FILE_STORAGE_DEFAULTS).toEqual({ stale: 5000, update: 1000, notify: true, fair: true, fileMode: 0o600, dirMode: 0o700, sweepInterval: 5000, sweepBatch: 200 });
    expect(Object.isFrozen(FILE_STORAGE_DEFAULTS)).toBe(true);
  });
});
