/**
 * withLock on the in-process memory locker: what runs under the lock, what ends it, and what it
 * returns. (Across processes on both adapters: test/with-lock.test.ts.)
 */
import { createAlova } from 'alova';
import { describe, expect, it } from 'vitest';
import { atomize, withLock, type LockScope } from '../../src/server/index.js';
import { AtomizeAbortError, LockLostError, LockReentryError, LockTimeoutError } from '../../src/shared/errors.js';
import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';

const adapterOf = (locker: MemoryLocker) => ({ locker, set: () => undefined, get: () => undefined, remove: () => undefined, clear: () => undefined });

describe('withLock', () => {
  it('runs fn while the channel is held, returns its result, and releases after it settles', async () => {
    const backend = new MemoryBackend();
    const locker = new MemoryLocker(backend);
    let heldInside = false;
    const result = await withLock(adapterOf(locker), 'stock', async () => {
      heldInside = backend.holders.has('stock');
      return 42;
    });
    expect(result).toBe(42);
    expect(heldInside).toBe(true);
    expect(backend.holders.has('stock')).toBe(false);
  });

  it('takes the locker from an alova instance, an adapter or the locker itself', async () => {
    const locker = new MemoryLocker();
    const alova = createAlova({ cacheFor: null, l2Cache: adapterOf(locker), requestAdapter: () => ({ response: async () => ({}), headers: async () => ({}), abort: () => undefined }) });
    for (const target of [alova, adapterOf(locker), locker]) expect(await withLock(target, 'c', () => 'ok')).toBe('ok');
    await expect(withLock({} as never, 'c', () => 1)).rejects.toMatchObject({ code: 'ERR_ATOMIZE_NO_LOCKER' });
  });

  it('excludes another caller of the same channel until fn settles', async () => {
    const locker = new MemoryLocker();
    const order: string[] = [];
    let release!: () => void;
    const first = withLock(locker, 'c', async () => {
      order.push('first in');
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first out');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = withLock(locker, 'c', { interval: 5 }, () => void order.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(['first in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second']);
  });

  it('releases after fn throws, and rejects with fn’s error', async () => {
    const backend = new MemoryBackend();
    const boom = new Error('boom');
    await expect(withLock(new MemoryLocker(backend), 'c', () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(withLock(new MemoryLocker(backend), 'c', () => { throw boom; })).rejects.toBe(boom);
    expect(backend.holders.size).toBe(0);
  });

  it('a lock lost while fn runs aborts its signal and rejects with LockLostError, even when fn resolves', async () => {
    const backend = new MemoryBackend();
    let scope!: LockScope;
    const call = withLock(new MemoryLocker(backend), 'c', async (s) => {
      scope = s;
      backend.steal('c');
      return 'looked fine';
    });
    await expect(call).rejects.toBeInstanceOf(LockLostError);
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toBeInstanceOf(LockLostError);
    // fn failing because of the abort still reports the loss.
    await expect(
      withLock(new MemoryLocker(backend), 'c', async (s) => {
        backend.steal('c');
        s.signal.throwIfAborted();
      }),
    ).rejects.toBeInstanceOf(LockLostError);
  });

  it('times out with LockTimeoutError, and stops waiting on its signal with AtomizeAbortError', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('c');
    let ran = false;
    await expect(withLock(new MemoryLocker(backend), 'c', { timeout: 60, interval: 10 }, () => void (ran = true))).rejects.toBeInstanceOf(LockTimeoutError);
    const stop = new AbortController();
    const waiting = withLock(new MemoryLocker(backend), 'c', { signal: stop.signal, timeout: 10_000 }, () => void (ran = true));
    setTimeout(() => stop.abort(), 30);
    await expect(waiting).rejects.toBeInstanceOf(AtomizeAbortError);
    expect(ran).toBe(false);
    await holder!.release();
  });

  it('aborts fn’s signal when options.signal aborts while it runs', async () => {
    const stop = new AbortController();
    const seen = await withLock(new MemoryLocker(), 'c', { signal: stop.signal }, async ({ signal }) => {
      stop.abort(new Error('enough'));
      return signal.aborted;
    });
    expect(seen).toBe(true);
  });

  it('takes several channels in sorted order, holds all of them during fn, and releases all', async () => {
    const backend = new MemoryBackend();
    let inside: string[] = [];
    await withLock(new MemoryLocker(backend), ['b', 'a', 'b'], () => void (inside = [...backend.holders.keys()]));
    expect(inside).toEqual(['a', 'b']);
    expect(backend.holders.size).toBe(0);
  });

  it('nested use of a held channel fails at once with LockReentryError; other channels and other lockers are fine', async () => {
    const locker = new MemoryLocker();
    const alova = createAlova({ cacheFor: null, l2Cache: adapterOf(locker), requestAdapter: () => ({ response: async () => ({}), headers: async () => ({}), abort: () => undefined }) });
    const started = Date.now();
    const outcome = await withLock(locker, ['a', 'b'], { timeout: 5000 }, async () => {
      const nested = await withLock(locker, 'b', { timeout: 5000 }, () => 'no').catch((error: unknown) => error);
      const viaAtomize = await atomize(alova.Get('/x'), { channel: 'a', timeout: 5000 }).send().catch((error: unknown) => error);
      const other = await withLock(locker, 'c', () => 'c ok');
      const otherLocker = await withLock(new MemoryLocker(), 'a', () => 'other locker ok');
      return { nested, viaAtomize, other, otherLocker };
    });
    expect(outcome.nested).toBeInstanceOf(LockReentryError);
    expect(outcome.nested).toMatchObject({ code: 'ERR_ATOMIZE_REENTRANT', channel: 'b' });
    expect(outcome.viaAtomize).toBeInstanceOf(LockReentryError);
    expect(outcome.other).toBe('c ok');
    expect(outcome.otherLocker).toBe('other locker ok');
    expect(Date.now() - started).toBeLessThan(2000);
    // After the locks were released, the same context may take them again.
    expect(await withLock(locker, 'a', () => 'again')).toBe('again');
  });

  it('refuses a missing fn and a bad signal with a coded TypeError', async () => {
    await expect(withLock(new MemoryLocker(), 'c', {} as never)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_OPTION' });
    await expect(withLock(new MemoryLocker(), 'c', { signal: 'x' as never }, () => 1)).rejects.toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'signal' });
    await expect(withLock(new MemoryLocker(), '', () => 1)).rejects.toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'channel' });
  });
});

describe('withLock option errors', () => {
  it('names withLock, not atomize, in the message of a bad waiting option', async () => {
    await expect(withLock(new MemoryLocker(), 'c', { timeout: -1 }, () => 1)).rejects.toThrow(/^withLock: invalid option `timeout`/);
    await expect(withLock(new MemoryLocker(), [], () => 1)).rejects.toThrow(/^withLock: invalid option `channel`/);
  });
});
