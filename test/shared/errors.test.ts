import { describe, expect, it } from 'vitest';
import * as server from '../../src/server/index.js';
import {
  AtomizeAbortError,
  AtomizeError,
  CacheError,
  describe as describeValue,
  InvalidFencingTokenError,
  InvalidChannelError,
  LockerClosedError,
  LockerConfigError,
  LockerMissingError,
  LockerUnavailableError,
  LockLostError,
  LockReentryError,
  LockReleaseError,
  LockTimeoutError,
} from '../../src/shared/errors.js';

const cause = new Error('underlying');

describe('errors', () => {
  // Made inside each test (not while the tests are collected), so that each test is the one that makes it.
  it.each([
    ['LockTimeoutError', () => new LockTimeoutError('c', 500, 512, cause), 'ERR_ATOMIZE_LOCK_TIMEOUT', 'Failed to acquire lock within 500ms (channel "c", waited 512ms)', { channel: 'c', timeout: 500, waited: 512 }],
    ['LockLostError', () => new LockLostError('c', cause), 'ERR_ATOMIZE_LOCK_LOST', 'Lock on channel "c" was lost while the request ran', { channel: 'c' }],
    ['AbortError', () => new AtomizeAbortError('c', cause), 'ERR_ATOMIZE_ABORTED', 'Aborted while waiting for the lock on channel "c"', { channel: 'c' }],
    ['LockerConfigError', () => new LockerConfigError('wrong password', cause), 'ERR_ATOMIZE_LOCKER_CONFIG', 'wrong password', {}],
    ['LockerUnavailableError', () => new LockerUnavailableError('no quorum', cause), 'ERR_ATOMIZE_LOCKER_UNAVAILABLE', 'no quorum', {}],
    ['LockReleaseError', () => new LockReleaseError('c', cause), 'ERR_ATOMIZE_RELEASE', 'Failed to release the lock on channel "c"; it ends when its lease expires', { channel: 'c' }],
    ['CacheError', () => new CacheError('get', 'k', cause), 'ERR_ATOMIZE_CACHE', 'Cache get of key "k" failed: underlying', { operation: 'get', key: 'k' }],
    ['CacheError', () => new CacheError('clear', undefined, cause), 'ERR_ATOMIZE_CACHE', 'Cache clear failed: underlying', { operation: 'clear', key: undefined }],
  ])('%s: name, code, message, fields and cause', (name, make, code, message, fields) => {
    const error = make();
    expect(error).toBeInstanceOf(AtomizeError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error).toMatchObject(fields);
    expect(error.cause).toBe(cause);
  });

  it.each([
    ['LockerMissingError', () => new LockerMissingError(), 'ERR_ATOMIZE_NO_LOCKER', 'expect set `@alova/storage-redis` or `@alova/storage-file` as l2Cache of alova instance. With this package: set a RedisStorageAdapter (alova-atomize/storage-redis) or a FileStorageAdapter (alova-atomize/storage-file) as the l2Cache of the alova instance'],
    ['LockerClosedError', () => new LockerClosedError('FileStorageAdapter'), 'ERR_ATOMIZE_LOCKER_CLOSED', 'FileStorageAdapter is closed: create a new adapter to take locks again'],
    ['InvalidChannelError', () => new InvalidChannelError(''), 'ERR_ATOMIZE_INVALID_CHANNEL', 'Invalid lock channel "": expected a non-empty string'],
    ['InvalidFencingTokenError', () => new InvalidFencingTokenError('x1'), 'ERR_ATOMIZE_INVALID_FENCING_TOKEN', 'Invalid fencing token "x1": expected a non-negative integer (decimal string, number or bigint)'],
    ['LockReentryError', () => new LockReentryError('c'), 'ERR_ATOMIZE_REENTRANT', 'Channel "c" is already held by this call (locks are not reentrant): it would wait for itself'],
  ])('%s: name, code and message, no cause', (name, make, code, message) => {
    const error = make();
    expect(error).toBeInstanceOf(AtomizeError);
    expect(error).toMatchObject({ name, code, message });
    expect('cause' in error && error.cause !== undefined).toBe(false);
  });

  it('names a cause that is not an Error by its text', () => {
    expect(new CacheError('set', 'k', 'disk full').message).toBe('Cache set of key "k" failed: disk full');
    expect(new CacheError('remove', 'k', null).message).toBe('Cache remove of key "k" failed: null');
  });

  it('keeps the fields that explain an error', () => {
    expect(new LockerClosedError('RedisStorageAdapter').adapter).toBe('RedisStorageAdapter');
    expect(new InvalidChannelError(42).channel).toBe(42);
    expect(new LockTimeoutError('c', 1, 2).cause).toBeUndefined();
  });

  it('are all exported by alova-atomize/server', () => {
    for (const error of [AtomizeError, LockTimeoutError, LockLostError, AtomizeAbortError, LockerMissingError, LockerConfigError, LockerUnavailableError, LockerClosedError, InvalidChannelError, LockReleaseError, InvalidFencingTokenError, LockReentryError, CacheError]) {
      expect(server[error.name as keyof typeof server]).toBe(error);
    }
  });
});

describe('describe (a user value in an error message)', () => {
  it.each([
    ['text', '"text"'],
    ['quote " and \n', '"quote \\" and \\n"'],
    ['x'.repeat(80), JSON.stringify('x'.repeat(80))],
    ['x'.repeat(81), JSON.stringify(`${'x'.repeat(80)}…`)],
    [42, '42'],
    [-1.5, '-1.5'],
    [Number.NaN, 'NaN'],
    [10n, '10'],
    [true, 'true'],
    [false, 'false'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[], 'array(0)'],
    [['a', 'b', 'c'], 'array(3)'],
    [{ secret: 'not shown' }, 'object'],
    [() => 'not shown', 'function'],
    [Symbol('s'), 'symbol'],
  ])('%o → %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });
});
