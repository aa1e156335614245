import { describe, expect, it } from 'vitest';
import { ATOMIZE_DEFAULTS, FILE_STORAGE_DEFAULTS, REDIS_STORAGE_DEFAULTS } from '../../src/server/index.js';
import { isAtomicLocker } from '../../src/shared/contract.js';

describe('defaults', () => {
  it('documents every option default, frozen', () => {
    expect(ATOMIZE_DEFAULTS).toEqual({ channel: 'default', timeout: 5000, interval: 100, queue: true, releaseOnResponse: false });
    // The adapters' own tests pin their whole sets; here, the lock defaults both share.
    expect(FILE_STORAGE_DEFAULTS).toMatchObject({ stale: 5000, update: 1000, notify: true, fair: true });
    expect(REDIS_STORAGE_DEFAULTS).toMatchObject({ keyPrefix: 'alova:', redlockTTL: 5000, notify: true, fair: true, commandTimeout: 1000 });
    for (const defaults of [ATOMIZE_DEFAULTS, FILE_STORAGE_DEFAULTS, REDIS_STORAGE_DEFAULTS]) expect(Object.isFrozen(defaults)).toBe(true);
  });
});

describe('isAtomicLocker', () => {
  it('tells a locker with tryAcquire from a plain alova locker', () => {
    const plain = { lock: async () => undefined, unlock: async () => undefined };
    expect(isAtomicLocker(plain)).toBe(false);
    expect(isAtomicLocker({ ...plain, tryAcquire: async () => null })).toBe(true);
    expect(isAtomicLocker({ ...plain, tryAcquire: true } as never)).toBe(false);
  });
});
