/** Error codes: one frozen table of them all, each class's `code` typed as its own literal, no helper in the entries. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as root from '../../src/index.js';
import * as server from '../../src/server/index.js';
import {
  AtomizeAbortError,
  AtomizeError,
  CacheError,
  ERROR_CODES,
  InvalidChannelError,
  InvalidFencingTokenError,
  LockerClosedError,
  LockerConfigError,
  LockerMissingError,
  LockerUnavailableError,
  LockLostError,
  LockReentryError,
  LockReleaseError,
  LockTimeoutError,
  type AtomizeErrorCode,
} from '../../src/shared/errors.js';

const errors = (): AtomizeError[] => [
  new LockTimeoutError('c', 1, 1),
  new LockLostError('c'),
  new AtomizeAbortError('c'),
  new LockerMissingError(),
  new LockerConfigError('m'),
  new LockerUnavailableError('m'),
  new LockerClosedError('A'),
  new InvalidFencingTokenError('x'),
  new LockReentryError('c'),
  new CacheError('get', 'k', new Error('x')),
  new InvalidChannelError(''),
  new LockReleaseError('c'),
];

describe('ERROR_CODES', () => {
  it('is frozen, and holds every code an error class gives, each once', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    const codes = Object.values(ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const error of errors()) expect(codes).toContain(error.code);
    for (const [name, code] of Object.entries(ERROR_CODES)) expect(code).toBe(`ERR_ATOMIZE_${name}`);
  });

  it('is exported with the errors by the server and root entries, and the message helper is not', () => {
    expect(server.ERROR_CODES).toBe(ERROR_CODES);
    expect(root.ERROR_CODES).toBe(ERROR_CODES);
    expect('describe' in server).toBe(false);
    expect('describe' in root).toBe(false);
  });

  it('types each class\'s code as its literal, and every code as AtomizeErrorCode', () => {
    expectTypeOf(new LockTimeoutError('c', 1, 1).code).toEqualTypeOf<'ERR_ATOMIZE_LOCK_TIMEOUT'>();
    expectTypeOf(new CacheError('get', 'k', null).code).toEqualTypeOf<'ERR_ATOMIZE_CACHE'>();
    expectTypeOf<AtomizeError['code']>().toEqualTypeOf<AtomizeErrorCode>();
    expectTypeOf<typeof ERROR_CODES.LOCK_LOST>().toEqualTypeOf<'ERR_ATOMIZE_LOCK_LOST'>();
    expect(new LockTimeoutError('c', 1, 1).code).toBe(ERROR_CODES.LOCK_TIMEOUT);
  });
});
