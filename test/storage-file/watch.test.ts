import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ReleaseNotifier as ReleaseWatcher } from '../../src/storage-file/notify/release-notifier.js';
import { cleanup, tempDir, waitFor } from './helpers.js';

afterAll(cleanup);
afterEach(() => {
  vi.useRealTimers();
});

/** Makes and removes the lock directory `name`: one release, as the file locker does it. */
const takeAndRelease = (folder: string, name: string): void => {
  mkdirSync(join(folder, name));
  rmdirSync(join(folder, name));
};

describe('release watcher', () => {
  it('one watcher for all listeners; calls those of a lock when it is removed, not when it is made', async () => {
    const folder = join(tempDir('watch'), 'locks');
    const watcher = new ReleaseWatcher(folder);
    const heard: string[] = [];
    const offs = [
      watcher.subscribe('x.lock', () => heard.push('x1')),
      watcher.subscribe('x.lock', () => heard.push('x2')),
      watcher.subscribe('y.lock', () => heard.push('y')),
    ];
    expect(watcher.watching).toBe(true);
    mkdirSync(join(folder, 'x.lock'));
    // A barrier instead of a sleep: once y's release is heard, the making of x.lock (earlier) was seen too.
    takeAndRelease(folder, 'y.lock');
    await waitFor(() => heard.includes('y'), "y's release");
    expect(heard.filter((who) => who !== 'y')).toEqual([]);
    rmdirSync(join(folder, 'x.lock'));
    await waitFor(() => heard.filter((who) => who !== 'y').length === 2, "x's release");
    expect(heard.filter((who) => who !== 'y').sort()).toEqual(['x1', 'x2']);
    for (const off of offs) off();
    watcher.close();
  });

  it('stays open while a listener remains and `lingerMs` after the last one left; a new listener in that time keeps it open', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const folder = join(tempDir('linger'), 'locks');
    const watcher = new ReleaseWatcher(folder, 100);
    const first = watcher.subscribe('a.lock', () => undefined);
    const second = watcher.subscribe('b.lock', () => undefined);
    first();
    vi.advanceTimersByTime(1000);
    expect(watcher.watching).toBe(true); // b.lock still has a listener
    second();
    vi.advanceTimersByTime(99);
    expect(watcher.watching).toBe(true);
    const again = watcher.subscribe('c.lock', () => undefined);
    vi.advanceTimersByTime(1000);
    expect(watcher.watching).toBe(true); // the linger was called off
    again();
    vi.advanceTimersByTime(99);
    expect(watcher.watching).toBe(true);
    vi.advanceTimersByTime(1);
    expect(watcher.watching).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() stops every listener, also of a lock that is released afterwards; a new listener opens it again', async () => {
    const folder = join(tempDir('closed'), 'locks');
    const closed = new ReleaseWatcher(folder);
    const witness = new ReleaseWatcher(folder);
    let heardByClosed = 0;
    let heardByWitness = 0;
    closed.subscribe('x.lock', () => heardByClosed++);
    witness.subscribe('x.lock', () => heardByWitness++);
    closed.close();
    expect(closed.watching).toBe(false);
    // Two releases, each waited for on the witness (another watcher of the same folder): by the second,
    // the first has surely reached every watcher there is.
    for (let round = 1; round <= 2; round++) {
      const before = heardByWitness;
      takeAndRelease(folder, 'x.lock');
      await waitFor(() => heardByWitness > before, `release ${round} on the witness`);
    }
    expect(heardByClosed).toBe(0);

    const off = closed.subscribe('x.lock', () => heardByClosed++);
    expect(closed.watching).toBe(true);
    takeAndRelease(folder, 'x.lock');
    await waitFor(() => heardByClosed > 0, 'the release, once open again');
    off();
    closed.close();
    witness.close();
  });

  it('falls back quietly (no wake-ups, waiters poll) when the folder cannot be watched', () => {
    const parent = tempDir('unwatchable');
    writeFileSync(join(parent, 'file'), 'in the way');
    const watcher = new ReleaseWatcher(join(parent, 'file', 'locks'));
    const off = watcher.subscribe('x.lock', () => undefined);
    expect(watcher.watching).toBe(false);
    off();
  });
});
