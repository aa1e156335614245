/**
 * The file cache forgets: alova's expired records (`[data, expireTimestamp, ...]`) are removed when
 * read, and by a bounded sweep (at most `sweepBatch` entries per sweep, at most one sweep every
 * `sweepInterval` ms, started by `set`), so that a long-running process's cache folder does not grow
 * without bound. `close()` stops the sweep.
 */
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStem } from '../../src/storage-file/cache/file-names.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { cleanup, sleep, spawnFixture, tempDir, waitFor } from './helpers.js';

afterAll(cleanup);

const entryOf = (directory: string, key: string): string => join(directory, 'cache', `${fileStem(key)}.json`);
const entries = (directory: string): string[] => readdirSync(join(directory, 'cache')).filter((name) => name.endsWith('.json'));

/** A cache folder with `expired` expired records and the live entries a sweep must keep; see the test. */
const seeded = async (expired: number) => {
  const directory = tempDir('expiry');
  const outside = tempDir('expiry-outside');
  const writer = new FileStorageAdapter({ directory, sweepBatch: 0 });
  const live: Record<string, unknown> = {
    fresh: [{ id: 1 }, Date.now() + 3_600_000, 'tag'],
    'no expiry': [{ id: 2 }],
    'tag only': [{ id: 3 }, 'tag'],
    plain: { n: 1 },
    number: 42,
  };
  for (const [key, value] of Object.entries(live)) await writer.set(key, value);
  // Expired records, written as files (the adapter itself refuses to store one that has expired).
  const past = Date.now() - 60_000;
  for (let i = 0; i < expired; i++) writeFileSync(entryOf(directory, `expired ${i}`), JSON.stringify([{ i }, past - i, 'tag']));
  // Unreadable, foreign and linked entries are never the sweep's to remove.
  writeFileSync(entryOf(directory, 'garbage'), '[{"cut short": ');
  writeFileSync(join(directory, 'cache', 'notes.json'), JSON.stringify([1, past]));
  writeFileSync(join(outside, 'expired.json'), JSON.stringify([{ outside: true }, past]));
  symlinkSync(join(outside, 'expired.json'), entryOf(directory, 'linked'));
  await writer.close();
  const kept = Object.keys(live).length + 3 + 1; // live, garbage, notes, linked; + the key the test writes
  return { directory, outside, live, kept };
};

describe('FileStorageAdapter cache expiry', () => {
  it('get removes an expired record and reads it as a miss; a live record is read as it is', async () => {
    const directory = tempDir('expiry-get');
    const adapter = new FileStorageAdapter({ directory });
    const soon = Date.now() + 300;
    await adapter.set('soon', [{ v: 1 }, soon, 'tag']);
    expect(await adapter.get('soon')).toEqual([{ v: 1 }, soon, 'tag']);
    await sleep(soon - Date.now() + 20);
    expect(existsSync(entryOf(directory, 'soon'))).toBe(true);
    expect(await adapter.get('soon')).toBeUndefined();
    expect(existsSync(entryOf(directory, 'soon'))).toBe(false);
    await adapter.close();
  });

  it('sweeps 2,000 expired records a bounded batch at a time, each sweep started by a set, keeping everything else', async () => {
    const { directory, outside, live, kept } = await seeded(2000);
    expect(entries(directory)).toHaveLength(2000 + kept - 1);
    const adapter = new FileStorageAdapter({ directory, sweepInterval: 150, sweepBatch: 500 });
    // One write, one sweep of at most 500 entries (a few of them are kept ones).
    await adapter.set('writes', 0);
    const before = 2000 + kept;
    await waitFor(() => entries(directory).length <= before - 490, 'the first sweep');
    await sleep(400); // no write, no further sweep
    const afterOne = entries(directory).length;
    expect(afterOne).toBeGreaterThanOrEqual(before - 500);
    // A write starts the next sweep; another within `sweepInterval` (150 ms) of it starts none.
    await adapter.set('writes', 1);
    await adapter.set('writes', 2);
    await waitFor(() => entries(directory).length <= afterOne - 490, 'the second sweep');
    await sleep(400);
    expect(entries(directory).length).toBeGreaterThanOrEqual(afterOne - 500);
    // Each write after that starts one, until the folder holds only what is kept.
    let sweeps = 2;
    for (let i = 3; entries(directory).length > kept; i++) {
      await sleep(160);
      await adapter.set('writes', i);
      sweeps++;
      expect(sweeps, 'sweeps').toBeLessThan(30);
    }
    expect(sweeps).toBeGreaterThanOrEqual(4); // 2,000 at 500 a sweep
    for (const [key, value] of Object.entries(live)) expect(await adapter.get(key)).toEqual(value);
    expect(existsSync(entryOf(directory, 'garbage'))).toBe(true);
    expect(existsSync(join(directory, 'cache', 'notes.json'))).toBe(true);
    expect(existsSync(join(outside, 'expired.json'))).toBe(true);
    await adapter.close();
  });

  it('close() stops a sweep under way, and no write starts one afterwards', async () => {
    const { directory, kept } = await seeded(2000);
    const adapter = new FileStorageAdapter({ directory, sweepInterval: 1, sweepBatch: 2000 });
    await adapter.set('writes', 0);
    await adapter.close();
    const atClose = entries(directory).length;
    expect(atClose).toBeGreaterThan(kept + 1000); // stopped well before it was done
    await adapter.set('writes', 1); // the cache keeps working, without sweeping
    await sleep(300);
    expect(entries(directory).length).toBe(atClose);
    expect(await adapter.get('writes')).toBe(1);
  });

  it('sweepBatch 0: no sweep (expired entries go when read)', async () => {
    const { directory, kept } = await seeded(100);
    const adapter = new FileStorageAdapter({ directory, sweepInterval: 1, sweepBatch: 0 });
    for (let i = 0; i < 5; i++) {
      await adapter.set('writes', i);
      await sleep(20);
    }
    expect(entries(directory)).toHaveLength(100 + kept);
    expect(await adapter.get('expired 7')).toBeUndefined();
    expect(entries(directory)).toHaveLength(99 + kept);
    await adapter.close();
  });

  it('another process (the built package, default options) sweeps one batch of 200 at its first write, then exits without close()', async () => {
    const { directory, kept } = await seeded(300);
    const started = Date.now();
    const writer = spawnFixture('file-cache.mjs', { directory, key: 'k', role: 'writer', id: 0, count: 3 });
    const { code, stderr } = await writer.exited;
    expect(code, stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000); // nothing (no sweep timer) kept it alive
    const removed = 300 + kept - entries(directory).length;
    expect(removed).toBeGreaterThanOrEqual(200 - kept);
    expect(removed).toBeLessThanOrEqual(200);
  });
});
