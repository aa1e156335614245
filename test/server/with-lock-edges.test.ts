/** withLock's argument checks, its scope's tokens, and reentry across nested calls (fake timers, in process). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atomize, LockerConfigError, LockerMissingError, LockReentryError, withLock } from '../../src/server/index.js';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { fakeAlova } from '../helpers/fake-alova.js';
import { MemoryLocker } from '../helpers/memory-locker.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A locker whose handles carry fencing tokens 1, 2, 3, ... */
const tokenLocker = (): AtomicLocker => {
  let next = 0;
  return {
    lock: async () => undefined,
    unlock: async () => undefined,
    tryAcquire: async (channel) => ({ channel, signal: new AbortController().signal, token: ++next, release: async () => undefined }) as LockHandle,
  };
};

const thrownBy = async (run: () => Promise<unknown>): Promise<any> => run().then(() => undefined, (error: unknown) => error);

describe('withLock edges', () => {
  it('explains a bad call in a coded TypeError', async () => {
    const locker = new MemoryLocker();
    expect(await thrownBy(() => withLock(locker, 'c', {} as never))).toMatchObject({
      name: 'TypeError',
      code: 'ERR_ATOMIZE_INVALID_OPTION',
      message: 'withLock: expected a function to run under the lock, got undefined',
    });
    expect(await withLock(locker, 'c', null as never, () => 'null is no options')).toBe('null is no options');
    for (const options of ['fast', 42]) {
      expect(await thrownBy(() => withLock(locker, 'c', options as never, () => 1))).toMatchObject({
        code: 'ERR_ATOMIZE_INVALID_OPTION',
        option: 'options',
        message: 'withLock: invalid options: expected an object',
      });
    }
    expect(await thrownBy(() => withLock(locker, 'c', { signal: 'x' as never }, () => 1))).toMatchObject({
      option: 'signal',
      message: 'withLock: invalid option `signal`: expected an AbortSignal',
    });
    expect((await thrownBy(() => withLock(locker, 'c', { timout: 5 } as never, () => 1))).message).toMatch(/^withLock: unknown option `timout` 5\. Did you mean `timeout`\?$/);
    expect((await thrownBy(() => withLock(locker, 'c', { fencingHeader: 'x' } as never, () => 1))).message).toMatch(/^withLock: unknown option `fencingHeader`/);
    expect(locker.backend.tries).toBe(1); // the call with null options only
  });

  it("takes atomize's waiting options", async () => {
    const locker = new MemoryLocker();
    expect(await withLock(locker, 'c', { timeout: 100, interval: 10, queue: false, signal: new AbortController().signal }, () => 'ok')).toBe('ok');
  });

  it('refuses a target that offers no locker with LockerMissingError', async () => {
    for (const target of [null, undefined, {}, { l2Cache: {} }]) {
      expect(await thrownBy(() => withLock(target as never, 'c', () => 1))).toBeInstanceOf(LockerMissingError);
    }
  });

  it("gives fn the channel's token for one channel; for several, the tokens by channel and no single token", async () => {
    const one = await withLock(tokenLocker(), 'a', (scope) => ({ token: scope.token, tokens: scope.tokens, fencingToken: scope.fencingToken }));
    expect(one).toEqual({ token: 1, tokens: { a: 1 }, fencingToken: '1' });
    const two = await withLock(tokenLocker(), ['b', 'a'], (scope) => ({ token: scope.token, tokens: scope.tokens, fencingToken: scope.fencingToken }));
    expect(two).toEqual({ token: undefined, tokens: { a: 1, b: 2 }, fencingToken: 'a=1, b=2' });
    const none = await withLock(new MemoryLocker(), 'a', (scope) => ({ token: scope.token, tokens: scope.tokens, fencingToken: scope.fencingToken }));
    expect(none).toEqual({ token: undefined, tokens: {}, fencingToken: undefined });
  });

  it('detects reentry through a nested call on another locker', async () => {
    const [outer, inner] = [new MemoryLocker(), new MemoryLocker()];
    const error = await thrownBy(() => withLock(outer, 'x', () => withLock(inner, 'y', () => withLock(outer, 'x', { timeout: 60_000 }, () => 'never'))));
    expect(error).toBeInstanceOf(LockReentryError);
    expect(error.channel).toBe('x');
  });

  it('work that outlives the locks (a timer started inside) may take them again', async () => {
    const locker = new MemoryLocker();
    let later: Promise<string> | undefined;
    await withLock(locker, 'x', () => {
      later = new Promise<string>((resolve, reject) => setTimeout(() => withLock(locker, 'x', () => 'taken again').then(resolve, reject), 10));
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(await later).toBe('taken again');
  });
});

describe('atomize fencingHeader', () => {
  it('names the channel whose locker gives no tokens', async () => {
    const error = await thrownBy(() => atomize(fakeAlova(new MemoryLocker(), { autoAnswer: true }).work('c'), { channel: 'c', fencingHeader: 'x-fencing-token' }).send());
    expect(error).toBeInstanceOf(LockerConfigError);
    expect(error.message).toBe('atomize: `fencingHeader` needs fencing tokens, and the locker of channel "c" gives none (a Redlock quorum, or a plain alova locker)');
  });
});
