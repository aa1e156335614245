/**
 * The file cache's write order within one process: writes (set, remove) of one key issued at once land
 * in the order they were issued, whichever of their files is written first; and the order keeps no
 * state for keys nobody writes. Real files; an fs that slows down chosen writes makes the completion
 * order the reverse of the issue order.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WriteOrder } from '../../src/storage-file/cache/write-order.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { cleanup, tempDir } from './helpers.js';

afterAll(cleanup);

type Callback = (error: NodeJS.ErrnoException | null) => void;

/**
 * node:fs, whose `writeFile` of a cache value `{ "count": i }` waits `delayOf(i)` ms first, and whose
 * `unlink` waits `unlinkDelay` ms.
 */
const slowFs = (delayOf: (count: number) => number, unlinkDelay = 0): typeof fs =>
  Object.assign(Object.create(fs) as typeof fs, {
    writeFile: (path: string, data: string, options: fs.WriteFileOptions, done: Callback) => {
      const count = /^\{"count":(\d+)\}$/.exec(String(data))?.[1];
      setTimeout(() => fs.writeFile(path, data, options, done), count === undefined ? 0 : delayOf(Number(count)));
    },
    unlink: (path: string, done: Callback) => setTimeout(() => fs.unlink(path, done), unlinkDelay),
  });

const tmpFilesIn = (directory: string): string[] => fs.readdirSync(`${directory}/cache`).filter((name) => name.endsWith('.tmp'));

describe('FileStorageAdapter cache: write order within one process', () => {
  it('100 set() calls of one key issued at once leave the last one issued (as alova’s own adapter does)', async () => {
    for (let round = 0; round < 5; round++) {
      const directory = tempDir('order');
      const cache = new FileStorageAdapter({ directory });
      await Promise.all(Array.from({ length: 100 }, (_, i) => cache.set('counter', { count: i })));
      expect(await cache.get('counter')).toEqual({ count: 99 });
      expect(tmpFilesIn(directory)).toEqual([]);
    }
  });

  it('the last set issued wins even when its file is written first', async () => {
    const directory = tempDir('order-reversed');
    // The first issued is the slowest: files are written in the reverse order of the calls.
    const cache = new FileStorageAdapter({ directory, lockerOptions: { fs: slowFs((count) => 3 * (20 - count)) } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.set('reversed', { count: i })));
    expect(await cache.get('reversed')).toEqual({ count: 19 });
    expect(tmpFilesIn(directory)).toEqual([]);
  });

  it('a remove issued after a set wins, even when the set lands later', async () => {
    const directory = tempDir('order-remove');
    const cache = new FileStorageAdapter({ directory, lockerOptions: { fs: slowFs(() => 100) } });
    const writing = cache.set('k', { count: 1 });
    await cache.remove('k');
    await writing;
    expect(await cache.get('k')).toBeUndefined();
    expect(tmpFilesIn(directory)).toEqual([]);
  });

  it('a set issued after a remove wins, even when the remove lands later', async () => {
    const directory = tempDir('order-set');
    const cache = new FileStorageAdapter({ directory, lockerOptions: { fs: slowFs(() => 0, 100) } });
    await cache.set('k', { count: 1 });
    const removing = cache.remove('k');
    await cache.set('k', { count: 2 });
    await removing;
    expect(await cache.get('k')).toEqual({ count: 2 });
  });

  it('an expired record written after a set removes the entry (a remove by another name)', async () => {
    const directory = tempDir('order-expired');
    const cache = new FileStorageAdapter({ directory, lockerOptions: { fs: slowFs(() => 100) } });
    const writing = cache.set('k', { count: 1 });
    await cache.set('k', ['data', Date.now() - 1000]);
    await writing;
    expect(await cache.get('k')).toBeUndefined();
  });

  it('two adapters of one process on one directory are ordered together', async () => {
    const directory = tempDir('order-two');
    const slow = new FileStorageAdapter({ directory, lockerOptions: { fs: slowFs(() => 100) } });
    const fast = new FileStorageAdapter({ directory });
    const first = slow.set('shared', { count: 1 });
    await fast.set('shared', { count: 2 });
    await first;
    expect(await slow.get('shared')).toEqual({ count: 2 });
  });

  it('keys are ordered each on their own: a slow key does not hold up another', async () => {
    const directory = tempDir('order-keys');
    const cache = new FileStorageAdapter({ directory, lockerOptions: { fs: slowFs((count) => (count === 1 ? 1000 : 0)) } });
    const slow = cache.set('slow', { count: 1 });
    const started = Date.now();
    await cache.set('fast', { count: 2 });
    expect(Date.now() - started).toBeLessThan(900);
    await slow;
    expect(await cache.get('slow')).toEqual({ count: 1 });
  });

  it('a later write that fails does not stop an earlier one from landing', async () => {
    const directory = tempDir('order-failed');
    const failing = Object.assign(slowFs((count) => (count === 1 ? 100 : 0)), {
      rename: (from: string, to: string, done: Callback) =>
        from.includes(`${process.pid}-1-`) ? done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })) : fs.rename(from, to, done),
    });
    const cache = new FileStorageAdapter({ directory, lockerOptions: { fs: failing } });
    const first = cache.set('k', { count: 1 });
    await expect(cache.set('k', { count: 2 })).rejects.toMatchObject({ code: 'ERR_ATOMIZE_CACHE' });
    await first;
    expect(await cache.get('k')).toEqual({ count: 1 });
    expect(tmpFilesIn(directory)).toEqual([]);
  });
});

describe('WriteOrder', () => {
  it('lands writes of one entry in issue order, skipping any overtaken by a later one', async () => {
    const order = new WriteOrder();
    const landed: number[] = [];
    const gates = [0, 1, 2].map(() => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    });
    const turns = [0, 1, 2].map(() => order.issue('e'));
    const results = turns.map(async (turn, i) => {
      await gates[i]!.promise;
      const ran = await turn.land(async () => void landed.push(i));
      turn.done();
      return ran;
    });
    gates[2]!.resolve();
    gates[0]!.resolve();
    gates[1]!.resolve();
    expect(await Promise.all(results)).toEqual([false, false, true]);
    expect(landed).toEqual([2]);
    expect(order.size).toBe(0);
  });

  it('keeps no state for entries whose writes are over', async () => {
    const order = new WriteOrder();
    const turns = Array.from({ length: 1000 }, (_, i) => order.issue(`entry-${i % 250}`));
    expect(order.size).toBe(250);
    await Promise.all(turns.map((turn) => turn.land(async () => undefined).finally(() => turn.done())));
    expect(order.size).toBe(0);
    // done() twice counts once.
    const a = order.issue('x');
    const b = order.issue('x');
    a.done();
    a.done();
    expect(order.size).toBe(1);
    b.done();
    expect(order.size).toBe(0);
  });

  it('a landing step that fails lets the next one run, and leaves the entry to it', async () => {
    const order = new WriteOrder();
    const [first, second] = [order.issue('e'), order.issue('e')];
    await expect(first.land(async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(await second.land(async () => undefined)).toBe(true);
    // The failed one, tried again after the later one landed, is overtaken.
    expect(await first.land(async () => undefined)).toBe(false);
  });
});
