import { createRequire } from 'node:module';
import { createAlova, Method } from 'alova';
import adapterFetch from 'alova/fetch';
import { describe, expect, it, vi } from 'vitest';
import { atomize, HookedMethod, LockerMissingError, type RequestHandler } from '../../src/server/index.js';
import { asAtomic } from '../../src/server/as-atomic.js';
import { hookMethod } from '../../src/server/hooked-method.js';
import { isAtomicLocker } from '../../src/shared/contract.js';
import { fakeAlova } from '../helpers/fake-alova.js';
import { MemoryLocker } from '../helpers/memory-locker.js';

const entity = () => fakeAlova(new MemoryLocker()).alova.Post('/things', { name: 'x' }, { params: { a: 1 }, headers: { h: 'v' }, meta: { m: true } });

/** A handler that records its calls and waits until the test ends them. */
const recordingHandler = () => {
  const calls: Array<{ forceRequest: boolean; signal: AbortSignal; end: (value: unknown) => void }> = [];
  const handler: RequestHandler = (forceRequest, signal) =>
    new Promise((resolve) => calls.push({ forceRequest, signal, end: resolve }));
  return { calls, handler };
};

describe('HookedMethod', () => {
  it('is the same request as its entity: type, url, data, config (a copy), meta, key', () => {
    const original = entity();
    const hooked = new HookedMethod(original, async () => 'x');
    expect(hooked).toBeInstanceOf(Method);
    expect(hooked.type).toBe('POST');
    expect(hooked.url).toBe('/things');
    expect(hooked.data).toEqual({ name: 'x' });
    expect(hooked.config).toEqual(original.config);
    expect(hooked.config).not.toBe(original.config);
    expect(hooked.meta).toEqual({ m: true });
    expect(hooked.key).toBe(original.key);
    expect(hooked.context).toBe(original.context);
  });

  it('shares the progress handlers with its entity, which sends the request', () => {
    const original = entity();
    const hooked = new HookedMethod(original, async () => 'x');
    const onDownload = () => undefined;
    const onUpload = () => undefined;
    hooked.onDownload(onDownload);
    hooked.onUpload(onUpload);
    expect(original.dhs).toContain(onDownload);
    expect(original.uhs).toContain(onUpload);
  });

  it('runs the handler on send, passing forceRequest (false by default), and is awaitable', async () => {
    const { calls, handler } = recordingHandler();
    const hooked = new HookedMethod(entity(), handler);
    const sends = [hooked.send(), hooked.send(true)];
    expect(calls.map((c) => c.forceRequest)).toEqual([false, true]);
    calls[0]!.end('first');
    calls[1]!.end('second');
    expect(await Promise.all(sends)).toEqual(['first', 'second']);
    const awaited = hooked.then((value) => value);
    calls[2]!.end('third');
    expect(await awaited).toBe('third');
  });

  it('abort() (and abort.a(), which alova calls) aborts every send in progress, and the entity', async () => {
    for (const how of ['abort', 'abort.a'] as const) {
      const { calls, handler } = recordingHandler();
      const original = entity();
      const entityAbort = vi.spyOn(original, 'abort');
      const hooked = new HookedMethod(original, handler);
      void hooked.send();
      void hooked.send();
      const aborted = how === 'abort' ? hooked.abort() : (hooked.abort as unknown as { a: () => Promise<void> }).a();
      expect(calls.map((c) => c.signal.aborted)).toEqual([true, true]);
      expect(entityAbort).toHaveBeenCalledTimes(1);
      await expect(aborted).resolves.toBeUndefined();
    }
  });

  it('abort() leaves sends that have finished alone, and reaches later sends only when called again', async () => {
    const { calls, handler } = recordingHandler();
    const hooked = new HookedMethod(entity(), handler);
    const done = hooked.send();
    calls[0]!.end('done');
    await done;
    void hooked.abort();
    expect(calls[0]!.signal.aborted).toBe(false);
    void hooked.send();
    expect(calls[1]!.signal.aborted).toBe(false);
    void hooked.abort();
    expect(calls[1]!.signal.aborted).toBe(true);
  });

  it("extends the entity's own Method class when it comes from another alova copy, one class per copy", () => {
    const cjs = createRequire(import.meta.url)('alova') as typeof import('alova');
    expect(cjs.Method).not.toBe(Method);
    const alova = cjs.createAlova({ requestAdapter: (() => ({})) as never, cacheFor: null });
    const [a, b] = [alova.Get('/a'), alova.Get('/b')].map((m) => hookMethod(m as never, async () => 'x'));
    expect(a).toBeInstanceOf(cjs.Method);
    expect(a).not.toBeInstanceOf(HookedMethod);
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    expect(a!.url).toBe('/a');
    // An entity of this package's alova gets the exported class.
    expect(hookMethod(entity(), async () => 'x')).toBeInstanceOf(HookedMethod);
  });
});

describe('atomize entry checks', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'GET /x'],
    ['an object without send', { context: {} }],
    ['an object whose send is not a function', { send: true }],
    ['a function with a send method', Object.assign(() => undefined, { send: () => undefined, context: {} })],
  ])('throws a TypeError with a code for %s as the method', (_what, value) => {
    let thrown: any;
    try {
      atomize(value as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_OPTION' });
    expect(thrown.message).toMatch(/^atomize: expected an alova Method as the first argument, got /);
  });

  // What it got, and what to do instead (issue 14): a mistake is named, not only refused.
  const alova = createAlova({ requestAdapter: adapterFetch(), cacheFor: null });
  class Client {}
  it.each<[string, unknown, string]>([
    ['alova.Get, not called', alova.Get, 'got a function named Get: did you mean alova.Get(...)? (call it: atomize takes the method it makes)'],
    ['alova.Post, bound', alova.Post.bind(alova), 'got a function named Post: did you mean alova.Post(...)?'],
    ['another named function', function makeUser() {}, 'got a function named makeUser: pass the alova Method it makes, not the function'],
    ['an anonymous function', (() => () => undefined)(), 'got an anonymous function: make one with the alova instance, e.g. alova.Get(url)'],
    ['a URL string', '/api/user', 'got the string "/api/user": make one with the alova instance, e.g. alova.Get(url)'],
    ['a number', 42, 'got the number 42: '],
    ['undefined', undefined, 'got undefined: make one'],
    ['null', null, 'got null: make one'],
    ['a plain object', { url: '/api/user', method: 'GET' }, 'got a plain object with keys url, method: make one with the alova instance, e.g. alova.Get(url) or alova.Post(url, data) (alova.Request(config) takes a config object)'],
    ['an empty object', {}, 'got a plain object with no keys: '],
    ['the promise of a send', Promise.resolve(1), 'got a Promise: pass the method itself (alova.Get(url)), not what its send() or await gives'],
    ['an array of methods', [alova.Get('/a'), alova.Get('/b')], 'got an array of 2: atomize takes one method'],
    ['an instance of another class', new Client(), 'got an instance of Client that has no send() method: '],
    ['an object whose prototype inherits its constructor', Object.create({}), 'got an instance of Object that has no send() method: make one'],
    ['an object of a prototype with no constructor', Object.create(Object.create(null)), 'got an object that has no send() method: make one'],
    ['an object without a prototype', Object.assign(Object.create(null), { url: '/x' }), 'got a plain object with keys url: make one'],
    ['a plain object of many keys', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, 'got a plain object with keys a, b, c, d, e, …: make one'],
    ['a plain object of five keys', { a: 1, b: 2, c: 3, d: 4, e: 5 }, 'got a plain object with keys a, b, c, d, e: make one'],
    ['a boolean', true, 'got the boolean true: make one'],
    ['a function whose name starts like a bound one', Object.defineProperty(() => undefined, 'name', { value: 'xbound Get' }), 'got a function named xbound Get: pass the alova Method'],
  ])('says what it got instead of a method: %s', (_what, value, expected) => {
    expect(() => atomize(value as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_ATOMIZE_INVALID_OPTION' }));
    try {
      atomize(value as never);
    } catch (error) {
      expect((error as Error).message).toContain(`atomize: expected an alova Method as the first argument, ${expected}`);
    }
  });

  const noop = (): void => undefined;
  it.each<[string, unknown]>([
    ['no context', { send: noop }],
    ['no l2Cache', { send: noop, context: {} }],
    ['a locker without lock', { send: noop, context: { l2Cache: { locker: { unlock: noop } } } }],
    ['a locker without unlock', { send: noop, context: { l2Cache: { locker: { lock: noop } } } }],
    ['a locker whose lock is not a function', { send: noop, context: { l2Cache: { locker: { lock: 1, unlock: noop } } } }],
    ['a locker whose unlock is not a function', { send: noop, context: { l2Cache: { locker: { lock: noop, unlock: 1 } } } }],
  ])('throws LockerMissingError for a method with %s', (_what, method) => {
    let thrown: any;
    try {
      atomize(method as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LockerMissingError);
    expect(thrown.code).toBe('ERR_ATOMIZE_NO_LOCKER');
  });
});

describe('asAtomic', () => {
  it('passes an atomic locker through as it is', () => {
    const locker = new MemoryLocker();
    expect(asAtomic(locker)).toBe(locker);
  });

  it("gives a plain alova locker the richer contract: lock / unlock pass through, a handle releases once", async () => {
    const calls: string[] = [];
    const plain = {
      lock: async (r: string | string[]) => void calls.push(`lock ${r}`),
      unlock: async (r: string | string[]) => void calls.push(`unlock ${r}`),
    };
    const atomic = asAtomic(plain);
    expect(isAtomicLocker(atomic)).toBe(true);
    await atomic.lock(['a', 'b']);
    await atomic.unlock('a');
    const handle = await atomic.tryAcquire('c');
    expect(handle!.channel).toBe('c');
    expect(handle!.signal.aborted).toBe(false);
    const [first, second] = [handle!.release(), handle!.release()];
    expect(first).toBe(second);
    await first;
    expect(calls).toEqual(['lock a,b', 'unlock a', 'lock c', 'unlock c']);
    expect(atomic.onRelease).toBeUndefined();
  });

  it("rejects an attempt when the plain locker's lock rejects", async () => {
    const busy = new Error('busy');
    const atomic = asAtomic({ lock: () => Promise.reject(busy), unlock: async () => undefined });
    await expect(atomic.tryAcquire('c')).rejects.toBe(busy);
  });
});
