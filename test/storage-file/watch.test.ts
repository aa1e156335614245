import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReleaseWatcher } from '../../src/storage-file/watch.js';
import { cleanup, sleep, tempDir, waitFor } from './helpers.js';

afterAll(cleanup);

describe('release watcher', () => {
  it('one watcher for all listeners, open while one remains (and a while after); calls them when the lock is removed only', async () => {
    const folder = join(tempDir('watch'), 'locks');
    const watcher = new ReleaseWatcher(folder, 100);
    const heard: string[] = [];
    const offs = [
      watcher.subscribe('x.lock', () => heard.push('x1')),
      watcher.subscribe('x.lock', () => heard.push('x2')),
      watcher.subscribe('y.lock', () => heard.push('y')),
    ];
    expect(watcher.watching).toBe(true);
    mkdirSync(join(folder, 'x.lock'));
    await sleep(200);
    expect(heard).toEqual([]);
    rmdirSync(join(folder, 'x.lock'));
    await waitFor(() => heard.length === 2, 'the release');
    expect(heard.sort()).toEqual(['x1', 'x2']);
    offs[0]!();
    offs[1]!();
    expect(watcher.watching).toBe(true);
    offs[2]!();
    expect(watcher.watching).toBe(true);
    const again = watcher.subscribe('z.lock', () => heard.push('z'));
    await sleep(200);
    expect(watcher.watching).toBe(true);
    again();
    await waitFor(() => !watcher.watching, 'the watcher to close after its linger');
    mkdirSync(join(folder, 'y.lock'));
    rmdirSync(join(folder, 'y.lock'));
    await sleep(200);
    expect(heard).toHaveLength(2);
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
