/**
 * Fencing tokens on the request: `fencingHeader` writes the tokens of a send's locks into a header,
 * `beforeSend` sees them (and may put them elsewhere) under the locks, before the request is sent.
 * A small in-process locker hands out tokens; the request adapter records what would go on the wire.
 */
import { createAlova } from 'alova';
import { describe, expect, it } from 'vitest';
import { atomize, type HeldLocks } from '../../src/server/index.js';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { AtomizeAbortError, LockerConfigError } from '../../src/shared/errors.js';

/** A locker whose channels are always free, handing out the next token of a counter (or none). */
const tokenLocker = (withTokens = true) => {
  let next = 41;
  const held = new Set<string>();
  const locker: AtomicLocker = {
    lock: async () => undefined,
    unlock: async () => undefined,
    tryAcquire: async (channel): Promise<LockHandle> => {
      held.add(channel);
      return {
        channel,
        signal: new AbortController().signal,
        ...(withTokens ? { token: ++next } : {}),
        release: async () => void held.delete(channel),
      };
    },
  };
  return { locker, held };
};

const alovaOn = (locker: AtomicLocker) => {
  const sent: Array<{ headers: Record<string, unknown>; data: unknown }> = [];
  const alova = createAlova({
    cacheFor: null,
    l2Cache: { locker, set: () => undefined, get: () => undefined, remove: () => undefined, clear: () => undefined },
    requestAdapter: (_elements, method) => {
      sent.push({ headers: { ...(method.config.headers as Record<string, unknown>) }, data: method.data });
      return { response: async () => ({ ok: true }), headers: async () => ({}), abort: () => undefined };
    },
  });
  return { alova, sent };
};

describe('atomize: fencing tokens', () => {
  it('sends the token of the one channel as a decimal string in `fencingHeader`, a fresh one each send', async () => {
    const { locker } = tokenLocker();
    const { alova, sent } = alovaOn(locker);
    const method = atomize(alova.Post('/x', { a: 1 }), { channel: 'orders', fencingHeader: 'x-fencing-token' });
    await method.send();
    await method.send();
    expect(sent.map((s) => s.headers['x-fencing-token'])).toEqual(['42', '43']);
  });

  it('writes channel=token pairs in channel order for several channels, and tells beforeSend the same', async () => {
    const { locker } = tokenLocker();
    const { alova, sent } = alovaOn(locker);
    const seen: HeldLocks[] = [];
    await atomize(alova.Post('/x', {}), {
      channel: ['stock', 'a b', 'orders'],
      fencingHeader: 'X-Fence',
      beforeSend: (method, lock) => {
        seen.push(lock);
        method.data = { fence: lock.tokens };
      },
    }).send();
    expect(seen).toEqual([{ channels: ['a b', 'orders', 'stock'], tokens: { 'a b': 42, orders: 43, stock: 44 }, fencingToken: 'a%20b=42, orders=43, stock=44' }]);
    expect(sent[0]!.headers['X-Fence']).toBe('a%20b=42, orders=43, stock=44');
    expect(sent[0]!.data).toEqual({ fence: { 'a b': 42, orders: 43, stock: 44 } });
  });

  it('a beforeSend that throws fails the call with its error, sends nothing and releases the locks', async () => {
    const { locker, held } = tokenLocker();
    const { alova, sent } = alovaOn(locker);
    const boom = new Error('boom');
    const call = atomize(alova.Get('/x'), { channel: ['a', 'b'], beforeSend: async () => Promise.reject(boom) }).send();
    await expect(call).rejects.toBe(boom);
    expect(sent).toEqual([]);
    expect([...held]).toEqual([]);
  });

  it('asks a locker without tokens for a fencing header: LockerConfigError, nothing sent, released', async () => {
    const { locker, held } = tokenLocker(false);
    const { alova, sent } = alovaOn(locker);
    const call = atomize(alova.Get('/x'), { channel: 'a', fencingHeader: 'x-fencing-token' }).send();
    await expect(call).rejects.toBeInstanceOf(LockerConfigError);
    expect(sent).toEqual([]);
    expect([...held]).toEqual([]);
    // Without the header the same locker is fine, and beforeSend hears that there are no tokens.
    let lock: HeldLocks | undefined;
    await atomize(alova.Get('/x'), { channel: 'a', beforeSend: (_m, l) => void (lock = l) }).send();
    expect(lock).toEqual({ channels: ['a'], tokens: {}, fencingToken: undefined });
  });

  it.each([['', 'empty'], ['x fencing', 'a space'], [3, 'a number'], ['x:y', 'a colon']])('refuses fencingHeader %j (%s) with a coded TypeError', (value, _what) => {
    const { locker } = tokenLocker();
    const { alova } = alovaOn(locker);
    expect(() => atomize(alova.Get('/x'), { fencingHeader: value as string })).toThrow(expect.objectContaining({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'fencingHeader' }));
  });

  it('refuses a beforeSend that is not a function', () => {
    const { locker } = tokenLocker();
    const { alova } = alovaOn(locker);
    expect(() => atomize(alova.Get('/x'), { beforeSend: 'no' as never })).toThrow(expect.objectContaining({ code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'beforeSend' }));
  });
});

describe('atomize: abort between the locks and the send', () => {
  it('an abort() while beforeSend runs sends nothing, rejects with AtomizeAbortError and releases', async () => {
    const { locker, held } = tokenLocker();
    const { alova, sent } = alovaOn(locker);
    let release!: () => void;
    const hooked = atomize(alova.Get('/x'), { channel: 'a', beforeSend: () => new Promise<void>((resolve) => (release = resolve)) });
    const call = hooked.send().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 10));
    void hooked.abort();
    release();
    expect(await call).toBeInstanceOf(AtomizeAbortError);
    expect(sent).toEqual([]);
    expect([...held]).toEqual([]);
  });
});
