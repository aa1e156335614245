/**
 * A directory the adapter cannot use says which path is at fault, why, and what to do (issue 14), on
 * real files: a file where a folder is expected (ENOTDIR), a read-only filesystem (EROFS: a tmpfs
 * mounted read-only), a folder this process may not write in (EACCES: a child process running as
 * `nobody`, since these tests run as root, for whom permissions do not apply).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import { LockerConfigError } from '../../src/shared/errors.js';
import { FileStorageAdapter } from '../../src/storage-file/index.js';
import { alovaWith } from '../helpers/alova.js';
import { cleanup, tempDir } from './helpers.js';

const mounted: string[] = [];
afterAll(() => {
  for (const point of mounted.splice(0)) execFileSync('umount', [point], { stdio: 'ignore' });
  cleanup();
});

/** The error of one lock attempt, with a ticket (the fair line's path) or without (the lock's). */
const failureOf = async (directory: string, ticketed: boolean): Promise<LockerConfigError> => {
  const adapter = new FileStorageAdapter({ directory });
  const ticket = { id: 'waiter', signal: new AbortController().signal, interval: 100 };
  const error = await adapter.locker.tryAcquire('c', ticketed ? ticket : undefined).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  await adapter.close();
  expect(error).toBeInstanceOf(LockerConfigError);
  return error as LockerConfigError;
};

describe('FileStorageAdapter on a directory it cannot use', () => {
  it.each([false, true])('a file where a folder is expected: names the file, ENOTDIR, and what to do (ticket: %s)', async (ticketed) => {
    const parent = tempDir('enotdir');
    writeFileSync(join(parent, 'file'), 'in the way');
    const directory = join(parent, 'file', 'sub');
    const error = await failureOf(directory, ticketed);
    expect(error.message).toMatch(new RegExp(`^FileStorageAdapter cannot (take locks|keep its lines of waiters) in its directory ${directory}: `));
    expect(error.message).toContain(`${join(parent, 'file')} is a file, not a folder (ENOTDIR): give \`directory\` a path whose parents are folders, or move ${join(parent, 'file')} away`);
    expect(error.cause).toMatchObject({ code: 'ENOTDIR' });
  });

  it('the same error reaches the caller of atomize, at once', async () => {
    const parent = tempDir('enotdir-atomize');
    writeFileSync(join(parent, 'file'), 'in the way');
    const adapter = new FileStorageAdapter({ directory: join(parent, 'file', 'sub') });
    const alova = alovaWith('http://127.0.0.1:9', adapter.locker);
    const error = await atomize(alova.Get('/never-sent'), { channel: 'c', timeout: 60_000 }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(LockerConfigError);
    expect((error as Error).message).toContain(`${join(parent, 'file')} is a file, not a folder (ENOTDIR)`);
    await adapter.close();
  });

  // These tests run as root on Linux (this machine kind, and CI on it): mounting a tmpfs works there.
  it('a read-only filesystem: names the mount, EROFS, and what to do', () => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: it needs root on Linux');
    const point = tempDir('erofs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', point], { stdio: 'ignore' });
    mounted.push(point);
    return Promise.all(
      [false, true].map(async (ticketed) => {
        const error = await failureOf(join(point, 'store'), ticketed);
        expect(error.message).toContain(`${point} is on a read-only filesystem (EROFS): give \`directory\` a folder on a writable filesystem`);
        expect(error.cause).toMatchObject({ code: 'EROFS' });
      }),
    );
  });

  it('a folder this process may not write in: names it, EACCES, the user, and what to do', () => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('this test runs a child as nobody: it needs root on Linux');
    const parent = tempDir('eacces');
    chmodSync(parent, 0o755); // nobody may pass through, not write
    const locked = join(parent, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    const directory = join(locked, 'store');
    const dist = fileURLToPath(new URL('../../dist/storage-file/index.js', import.meta.url));
    const script = `
      const { default: FileStorageAdapter } = await import(${JSON.stringify(dist)});
      for (const ticket of [undefined, { id: 'w', signal: new AbortController().signal, interval: 100 }]) {
        const adapter = new FileStorageAdapter({ directory: ${JSON.stringify(directory)} });
        await adapter.locker.tryAcquire('c', ticket).then(() => console.log('taken'), (error) => console.log(JSON.stringify({ name: error.name, message: error.message, cause: error.cause?.code })));
        await adapter.close();
      }`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    const results = child.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; message: string; cause: string });
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatchObject({ name: 'LockerConfigError', cause: 'EACCES' });
      expect(result.message).toContain(`permission denied on ${directory} (EACCES): this process (uid 65534) may not write in ${locked}; give it write access there (chown, chmod), or choose a \`directory\` it owns`);
    }
  });
});
