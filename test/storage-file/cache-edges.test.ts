/**
 * Edge inputs of the file cache, by the rules the Redis adapter follows too: a value JSON cannot
 * represent is refused (TypeError, ERR_ATOMIZE_INVALID_VALUE) and the entry left as it was; an
 * expired alova record stores nothing and removes the entry; an entry that is not JSON (or not a
 * regular file) reads as a miss; a failing filesystem is a `CacheError` (operation, key, cause: the fs
 * error), and a failed write leaves the previous value and no temporary file.
 */
import fs, { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { cleanup, tempDir } from './helpers.js';

afterAll(cleanup);

const cacheFiles = (directory: string): string[] => readdirSync(join(directory, 'cache')).sort();

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;

/** Settles `promise` within `ms`, or fails (instead of hanging the suite). */
const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms).unref())]);

describe('FileStorageAdapter cache: edge inputs', () => {
  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['undefined', undefined],
    ['a bigint', 10n],
    ['an object holding a bigint', { n: 1n }],
    ['a circular structure', circular],
  ])('refuses %s with a TypeError (ERR_ATOMIZE_INVALID_VALUE) and leaves the entry as it was', async (_, value) => {
    const directory = tempDir('invalid-value');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.set('k', { before: true });
    const failure = await adapter.set('k', value).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_VALUE' });
    expect(await adapter.get('k')).toEqual({ before: true });
    expect(cacheFiles(directory)).toEqual(['e-k.json']);
    await adapter.close();
  });

  it('an alova record that has expired stores nothing and removes the entry; live records and other arrays are stored', async () => {
    const directory = tempDir('expired-set');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.set('k', [{ v: 1 }, Date.now() + 60_000, 'tag']);
    await adapter.set('k', [{ v: 2 }, Date.now() - 1, 'tag']);
    expect(await adapter.get('k')).toBeUndefined();
    await adapter.set('never', [{ v: 3 }, Date.now() - 60_000]);
    await adapter.set('epoch', ['data', 0]);
    expect(cacheFiles(directory)).toEqual([]);
    const kept: Array<[string, unknown]> = [
      ['live', [{ v: 4 }, Date.now() + 60_000]],
      ['no expiry', [{ v: 5 }]],
      ['tag second', [{ v: 6 }, 'tag']],
      ['number list', [1, 2, 3].map((n) => n * 1e15)], // [1e15, 2e15, 3e15]: expires in the year 65000
      ['plain', { at: Date.now() - 1 }],
    ];
    for (const [key, value] of kept) await adapter.set(key, value);
    for (const [key, value] of kept) expect(await adapter.get(key)).toEqual(value);
    await adapter.close();
  });

  it('an entry that is not JSON, or not a regular file (a folder, a FIFO), reads as a miss with a warning; the next set replaces a corrupt one', async () => {
    const directory = tempDir('not-json');
    const adapter = new FileStorageAdapter({ directory });
    await adapter.set('corrupt', 'x');
    writeFileSync(join(directory, 'cache', 'e-corrupt.json'), '{"cut": ');
    mkdirSync(join(directory, 'cache', 'e-folder.json'));
    execFileSync('mkfifo', [join(directory, 'cache', 'e-fifo.json')]);
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      for (const key of ['corrupt', 'folder', 'fifo']) expect(await within(adapter.get(key), 5000), key).toBeUndefined();
    } finally {
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
    }
    expect(warnings.map((warning) => warning.code)).toEqual(['ERR_ATOMIZE_CACHE_ENTRY', 'ERR_ATOMIZE_CACHE_ENTRY', 'ERR_ATOMIZE_CACHE_ENTRY']);
    await adapter.set('corrupt', 'replaced');
    expect(await adapter.get('corrupt')).toBe('replaced');
    await adapter.close();
  });
});

/** node:fs where `method` fails with `code` for paths under `folder` (the callback's error, as a real fs gives it). */
const failing = (folder: string, method: 'rename' | 'readFile' | 'readdir' | 'unlink' | 'writeFile', code: string) => {
  const error = Object.assign(new Error(`${code}: injected, ${method}`), { code, syscall: method });
  const original = fs[method] as unknown as (...args: unknown[]) => void;
  const replaced = (path: string, ...rest: unknown[]): void => {
    if (!String(path).startsWith(folder + sep) && String(path) !== folder) return original(path, ...rest);
    (rest.at(-1) as (error: Error) => void)(error);
  };
  return { fs: { ...fs, [method]: replaced }, error };
};

describe('FileStorageAdapter cache: a failing filesystem is a CacheError', () => {
  it('ENOTDIR (a file where a folder should be): every cache method rejects with CacheError, cause the fs error', async () => {
    const parent = tempDir('enotdir');
    writeFileSync(join(parent, 'file'), 'in the way');
    const adapter = new FileStorageAdapter({ directory: join(parent, 'file', 'store') });
    for (const [operation, call, key] of [
      ['set', () => adapter.set('k', 1), 'k'],
      ['get', () => adapter.get('k'), 'k'],
      ['remove', () => adapter.remove('k'), 'k'],
      ['clear', () => adapter.clear(), undefined],
    ] as const) {
      const failure = await (call as () => Promise<unknown>)().catch((error: unknown) => error);
      expect(failure, operation).toBeInstanceOf(CacheError);
      expect(failure).toMatchObject({ name: 'CacheError', code: 'ERR_ATOMIZE_CACHE', operation, key, cause: { code: 'ENOTDIR' } });
      expect((failure as CacheError).message).toContain('ENOTDIR');
    }
  });

  it('EACCES on the write: CacheError with that very error as cause; the previous value stays and no temporary file is left', async () => {
    const directory = tempDir('eacces-set');
    await new FileStorageAdapter({ directory }).set('k', 'before');
    const { fs: injected, error } = failing(join(directory, 'cache'), 'rename', 'EACCES');
    const adapter = new FileStorageAdapter({ directory, lockerOptions: { fs: injected } });
    const failure = await adapter.set('k', 'after').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CacheError);
    expect(failure).toMatchObject({ operation: 'set', key: 'k' });
    expect((failure as CacheError).cause).toBe(error);
    expect(cacheFiles(directory)).toEqual(['e-k.json']);
    expect(await adapter.get('k')).toBe('before');
    await adapter.close();
  });

  it.each([
    ['get', 'readFile', (adapter: FileStorageAdapter) => adapter.get('k'), 'k'],
    ['remove', 'unlink', (adapter: FileStorageAdapter) => adapter.remove('k'), 'k'],
    ['clear', 'readdir', (adapter: FileStorageAdapter) => adapter.clear(), undefined],
  ] as const)('EACCES in %s: CacheError with that very error as cause', async (operation, method, call, key) => {
    const directory = tempDir(`eacces-${operation}`);
    await new FileStorageAdapter({ directory }).set('k', 'kept');
    const { fs: injected, error } = failing(join(directory, 'cache'), method, 'EACCES');
    const adapter = new FileStorageAdapter({ directory, lockerOptions: { fs: injected } });
    const failure = await call(adapter).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CacheError);
    expect(failure).toMatchObject({ operation, key });
    expect((failure as CacheError).cause).toBe(error);
    expect(await new FileStorageAdapter({ directory }).get('k')).toBe('kept');
    await adapter.close();
  });

  it('a key that is not a string and a value JSON cannot represent stay TypeErrors (a caller error, not a backend failure)', async () => {
    const adapter = new FileStorageAdapter({ directory: tempDir('type-errors') });
    await expect(adapter.get(42 as unknown as string)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_KEY' });
    const failure = await adapter.set('k', () => 1).catch((e: unknown) => e);
    expect(failure).not.toBeInstanceOf(CacheError);
  });
});
