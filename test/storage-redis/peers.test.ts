/**
 * ioredis and Redlock are loaded when an adapter is made: a missing one is a coded LockerConfigError
 * that says what to install; a module that is there but fails to load keeps its own error. (The
 * packed package without ioredis is run by test/package.test.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LockerConfigError } from '../../src/shared/errors.js';
import { loadPeer, redisPeers } from '../../src/storage-redis/peers.js';

const folder = mkdtempSync(join(tmpdir(), 'atomize-peers-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A module file in `folder`, to resolve from, beside a module `working` and a package `broken` whose own require fails. */
const from = (): URL => {
  mkdirSync(join(folder, 'node_modules/broken'), { recursive: true });
  writeFileSync(join(folder, 'node_modules/broken/index.js'), "require('a-module-nobody-installed');\n");
  writeFileSync(join(folder, 'node_modules/working.js'), 'module.exports = 42;\n');
  writeFileSync(join(folder, 'here.js'), '');
  return pathToFileURL(join(folder, 'here.js'));
};

describe('loading the Redis peers', () => {
  it('a missing package is a LockerConfigError that says to install it, with the resolution error as cause', () => {
    let error: unknown;
    try {
      loadPeer('ioredis', from());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockerConfigError);
    expect(error).toMatchObject({ name: 'LockerConfigError', code: 'ERR_ATOMIZE_LOCKER_CONFIG', cause: expect.objectContaining({ code: 'MODULE_NOT_FOUND' }) });
    expect((error as Error).message).toMatch(/^RedisStorageAdapter needs the package ioredis, which is not installed: .*npm install ioredis/);
  });

  it('a package that is there but fails to load keeps its own error', () => {
    expect(() => loadPeer('broken', from())).toThrow(expect.objectContaining({ code: 'MODULE_NOT_FOUND', message: expect.stringMatching(/a-module-nobody-installed/) }));
    expect(() => loadPeer('broken', from())).not.toThrow(LockerConfigError);
  });

  it('loads what is there, relative to the given module', () => {
    expect(loadPeer('working', from())).toBe(42);
  });

  it('finds ioredis and Redlock next to the package', () => {
    const { ioredis, redlock } = redisPeers();
    expect(typeof ioredis.Redis).toBe('function');
    expect(typeof ioredis.Command).toBe('function');
    expect(typeof redlock.Redlock).toBe('function');
    expect(redisPeers().ioredis).toBe(ioredis);
  });
});
