import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { cleanup, spawnFixture, tempDir, waitFor } from './helpers.js';

afterAll(cleanup);

describe('FileStorageAdapter as l2Cache', () => {
  it('stores JSON values by key; a missing key gives undefined', async () => {
    const adapter = new FileStorageAdapter({ directory: join(tempDir('cache'), 'deep', 'er') });
    expect(await adapter.get('nope')).toBeUndefined();
    const value = [{ data: [1, 'two', null], nested: { ok: true } }, Date.now() + 60_000, 'tag']; // an alova record, not expired
    await adapter.set('["GET","/api/user?id=1",{},null]', value);
    expect(await adapter.get('["GET","/api/user?id=1",{},null]')).toEqual(value);
    await adapter.set('["GET","/api/user?id=1",{},null]', 'replaced');
    expect(await adapter.get('["GET","/api/user?id=1",{},null]')).toBe('replaced');
    await adapter.remove('["GET","/api/user?id=1",{},null]');
    expect(await adapter.get('["GET","/api/user?id=1",{},null]')).toBeUndefined();
    await expect(adapter.remove('never-set')).resolves.toBeUndefined();
    // `undefined` is no JSON value: refused (use remove), the entry left as it was.
    await adapter.set('undefined value', 'kept');
    await expect(adapter.set('undefined value', undefined)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_VALUE' });
    expect(await adapter.get('undefined value')).toBe('kept');
  });

  it('another adapter on the same directory (another process) reads the same entries', async () => {
    const directory = tempDir('shared');
    await new FileStorageAdapter({ directory }).set('k', { n: 1 });
    expect(await new FileStorageAdapter({ directory }).get('k')).toEqual({ n: 1 });
  });

  it('clear removes its entries only: not locks, not foreign files', async () => {
    const directory = tempDir('clear');
    const adapter = new FileStorageAdapter({ directory });
    for (const key of ['a', 'B', 'x'.repeat(500), 'a/b']) await adapter.set(key, key);
    const handle = await adapter.locker.tryAcquire('held');
    writeFileSync(join(directory, 'cache', 'notes.json'), '{}');
    writeFileSync(join(directory, 'cache', 'README'), 'mine');
    writeFileSync(join(directory, 'user.json'), '{}');
    await adapter.clear();
    expect(await adapter.get('a')).toBeUndefined();
    expect(await adapter.get('x'.repeat(500))).toBeUndefined();
    expect(readdirSync(join(directory, 'cache')).sort()).toEqual(['README', 'notes.json']);
    expect(readdirSync(directory).sort()).toEqual(['cache', 'fences', 'locks', 'user.json']);
    expect(readdirSync(join(directory, 'locks'))).toEqual(['e-held.lock']);
    await handle!.release();
    await adapter.close();
  });

  it('makes the directory again when it was removed meanwhile', async () => {
    const directory = tempDir('gone');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.set('k', 1);
    const first = await adapter.locker.tryAcquire('c');
    await first!.release();
    rmSync(directory, { recursive: true });
    await adapter.set('k', 2);
    expect(await adapter.get('k')).toBe(2);
    const again = await adapter.locker.tryAcquire('c');
    expect(again).not.toBeNull();
    await again!.release();
    await adapter.clear();
  });

  it('reads a corrupt entry (garbage, or cut short) as a miss with a warning; the next set replaces it', async () => {
    const directory = tempDir('corrupt');
    const adapter = new FileStorageAdapter({ directory });
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      for (const [i, garbage] of ['{"half": [1, 2', 'not json at all', ''].entries()) {
        const key = `entry ${i}`;
        const before = i === 0 ? [] : readdirSync(join(directory, 'cache'));
        await adapter.set(key, { kept: i });
        const file = readdirSync(join(directory, 'cache')).find((name) => !before.includes(name))!;
        writeFileSync(join(directory, 'cache', file), garbage);
        expect(await adapter.get(key)).toBeUndefined();
        await waitFor(() => warnings.length === i + 1, 'the warning');
        expect(warnings[i]!.code).toBe('ERR_ATOMIZE_CACHE_ENTRY');
        expect(warnings[i]!.message).toContain(file);
        await adapter.set(key, { replaced: i });
        expect(await adapter.get(key)).toEqual({ replaced: i });
      }
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects what JSON cannot store, and non-string keys, with errors', async () => {
    const adapter = new FileStorageAdapter({ directory: tempDir('bad') });
    await expect(adapter.set('k', { n: 1n })).rejects.toThrow(TypeError);
    await expect(adapter.get(42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_ATOMIZE_INVALID_KEY' });
  });

  it('never shows a torn value: many processes write one key, another reads', async () => {
    const directory = tempDir('torn');
    const key = 'shared/"key"';
    // The first value is one a writer could have written too (writer 0, write 0: 'a' x 65536).
    await new FileStorageAdapter({ directory }).set(key, { id: 0, i: 0, body: 'a'.repeat(65536) });
    const writers = [0, 1, 2].map((id) => spawnFixture('file-cache.mjs', { directory, key, role: 'writer', id, count: 150 }));
    const readers = [0, 1].map(() => spawnFixture('file-cache.mjs', { directory, key, role: 'reader', ms: 2500 }));
    const results = await Promise.all([...writers, ...readers].map(async (child) => {
      const { code, stderr } = await child.exited;
      expect(code, stderr).toBe(0);
      return JSON.parse(child.lines.at(-1)!) as { writes?: number; reads?: number; misses?: number; bad: string[] };
    }));
    for (const result of results) expect(result.bad).toEqual([]);
    expect(results.slice(0, 3).map((r) => r.writes)).toEqual([150, 150, 150]);
    for (const reader of results.slice(3)) {
      expect(reader.reads).toBeGreaterThan(50);
      expect(reader.misses).toBe(0);
    }
    // Every temporary file was renamed into place: only the entry is left.
    expect(readdirSync(join(directory, 'cache'))).toHaveLength(1);
  });
});

describe('FileStorageAdapter options', () => {
  it('checks its options', () => {
    expect(() => new FileStorageAdapter(undefined as never)).toThrow(TypeError);
    expect(() => new FileStorageAdapter({} as never)).toThrow(/directory/);
    expect(() => new FileStorageAdapter({ directory: 'x', lockerOptions: { stale: -1 } })).toThrow(/stale/);
    expect(() => new FileStorageAdapter({ directory: 'x', notify: 'yes' as never })).toThrow(/notify/);
  });

  it('creates nothing before its first use', () => {
    const parent = tempDir('lazy');
    new FileStorageAdapter({ directory: join(parent, 'later') });
    expect(readdirSync(parent)).toEqual([]);
  });
});
