/**
 * Option names of FileStorageAdapter: an unknown name (at the top level or in `lockerOptions`) is a
 * TypeError (`ERR_ATOMIZE_INVALID_OPTION`) naming it and, for a typo, the closest known name: a typo
 * never falls back to a default silently.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FileStorageAdapter, type FileStorageAdapterOptions } from '../../src/storage-file/index.js';
import { cleanup, tempDir } from './helpers.js';

afterAll(cleanup);

const refusal = (options: object): Error & { code?: string; option?: string; suggestion?: string } => {
  try {
    void new FileStorageAdapter({ directory: tempDir('option-names'), ...options } as FileStorageAdapterOptions).close();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
};

describe('FileStorageAdapter option names', () => {
  it.each<[string, object, string, string | undefined]>([
    ['a typo at the top level', { notfy: false }, 'notfy', 'notify'],
    ['another', { sweepInterva: 1000 }, 'sweepInterva', 'sweepInterval'],
    ['a typo in lockerOptions', { lockerOptions: { stael: 5000 } }, 'lockerOptions.stael', 'lockerOptions.stale'],
    ['a name nothing is close to', { lockerOptions: { frobnicate: true } }, 'lockerOptions.frobnicate', undefined],
  ])('refuses %s, naming it and the closest known name', (_, options, option, suggestion) => {
    const error = refusal(options);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option });
    expect(error.suggestion).toBe(suggestion);
    expect(error.message).toContain(`FileStorageAdapter: unknown option \`${option}\``);
    expect(error.message).toContain(suggestion ? `Did you mean \`${suggestion}\`?` : 'Known options: `lockerOptions.stale`, `lockerOptions.update`, `lockerOptions.fs`');
  });

  it('a misspelt `directory` is named as such', () => {
    expect(() => new FileStorageAdapter({ directroy: tempDir('option-names') } as unknown as FileStorageAdapterOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'directroy', suggestion: 'directory' }),
    );
  });

  it('accepts every documented option', async () => {
    const adapter = new FileStorageAdapter({
      directory: tempDir('option-names'),
      lockerOptions: { stale: 5000, update: 1000 },
      notify: false,
      fair: false,
      fileMode: 0o600,
      dirMode: 0o700,
      sweepInterval: 5000,
      sweepBatch: 0,
    });
    await adapter.close();
  });
});
