import { Method } from 'alova';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { atomize, HookedMethod, LockerConfigError, LockLostError, LockTimeoutError } from '../../src/server/index.js';
import { alovaWith, work } from '../helpers/alova.js';
import { fakeAlova } from '../helpers/fake-alova.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';
import { waitFor } from '../helpers/wait.js';
import { settle, track } from '../helpers/track.js';

let server: InflightServer;
beforeAll(async () => {
  server = await startInflightServer();
});
afterAll(() => server.close());
afterEach(() => {
  vi.useRealTimers();
});

/** Records the order of backend calls of a locker. */
const recording = (locker: MemoryLocker, log: string[]) => {
  const tryAcquire = locker.tryAcquire.bind(locker);
  locker.tryAcquire = async (channel) => {
    const handle = await tryAcquire(channel);
    if (!handle) return handle;
    log.push(`take ${channel}`);
    const release = handle.release;
    return { ...handle, channel, signal: handle.signal, release: () => (log.push(`release ${channel}`), release()) };
  };
  return locker;
};

/** Counts the attempts of a locker that found the channel held (proof that callers really contended). */
const countingRefusals = (locker: MemoryLocker, counter: { refused: number }) => {
  const tryAcquire = locker.tryAcquire.bind(locker);
  locker.tryAcquire = async (channel, ticket) => {
    const handle = await tryAcquire(channel, ticket);
    if (!handle) counter.refused++;
    return handle;
  };
  return locker;
};

/** Runs due timers and pending callbacks without moving the fake clock. */

describe('atomize', () => {
  it('returns an alova Method that sends under the lock and releases it', async () => {
    const locker = new MemoryLocker();
    const hooked = atomize(work(alovaWith(server.url, locker), 'm1'), { channel: 'm1' });
    expect(hooked).toBeInstanceOf(Method);
    expect(hooked).toBeInstanceOf(HookedMethod);
    const res = await hooked;
    expect(res.ok).toBe(true);
    expect((await hooked.send(true)).ok).toBe(true);
    expect(locker.backend.holders.size).toBe(0);
  });

  it('locks channels sorted and once each, releases in reverse', async () => {
    const log: string[] = [];
    const locker = recording(new MemoryLocker(), log);
    await atomize(work(alovaWith(server.url, locker), 'x'), { channel: ['b', 'a', 'b'] });
    expect(log).toEqual(['take a', 'take b', 'release b', 'release a']);
  });

  it('never lets two requests of a channel run at once, across lockers and overlapping sets', async () => {
    const backend = new MemoryBackend();
    const contention = { refused: 0 };
    const sets = [['o1', 'o2'], 'o1', ['o2', 'o1'], 'o2'];
    const results = await Promise.all(
      sets.flatMap((channel) =>
        [0, 1].map(async () => {
          const alova = alovaWith(server.url, countingRefusals(new MemoryLocker(backend), contention));
          for (let i = 0; i < 5; i++) await atomize(work(alova, channel, 3), { channel, interval: 5 });
          return true;
        }),
      ),
    );
    expect(results).toHaveLength(8);
    expect(contention.refused).toBeGreaterThan(0); // the callers really met at the lock
    expect(server.maxInFlight().o1).toBe(1);
    expect(server.maxInFlight().o2).toBe(1);
    expect(backend.holders.size).toBe(0);
  });

  it('times out with alova wording and fields, releasing channels already taken', async () => {
    vi.useFakeTimers();
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('t-b');
    const locker = new MemoryLocker(backend);
    const call = track(atomize(fakeAlova(locker).work('t'), { channel: ['t-a', 't-b'], timeout: 200, interval: 20 }).send());
    await vi.advanceTimersByTimeAsync(199);
    expect(call.done).toBe(false);
    expect(backend.holders.has('t-a')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error).toMatchObject({ name: 'LockTimeoutError', code: 'ERR_ATOMIZE_LOCK_TIMEOUT', channel: 't-b', timeout: 200, waited: 200 });
    expect(call.error.message).toContain('Failed to acquire lock within 200ms');
    expect(backend.holders.has('t-a')).toBe(false);
    await other!.release();
  });

  it('settles by the deadline when the backend hangs, and releases a late acquisition', async () => {
    vi.useFakeTimers();
    const locker = new MemoryLocker();
    let answer!: () => void;
    locker.faults.hang = new Promise<void>((resolve) => (answer = resolve));
    const call = track(atomize(fakeAlova(locker).work('h'), { channel: 'h', timeout: 150, interval: 50 }).send());
    await vi.advanceTimersByTimeAsync(199);
    expect(call.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error.cause).toBeInstanceOf(Error);
    expect(locker.backend.tries).toBe(1);
    // The backend answers after all, granting the lock: atomize gives it back at once.
    const released: string[] = [];
    locker.backend.listeners.set('h', new Set([() => released.push('h')]));
    answer();
    await settle();
    expect(released).toEqual(['h']);
    expect(locker.backend.holders.size).toBe(0);
  });

  it('keeps the last backend error as cause when the backend fails until the deadline', async () => {
    vi.useFakeTimers();
    const locker = new MemoryLocker();
    const down = new Error('connection refused');
    locker.faults.fail = down;
    const call = track(atomize(fakeAlova(locker).work('f'), { channel: 'f', timeout: 100, interval: 10 }).send());
    await vi.advanceTimersByTimeAsync(100);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error.cause).toBe(down);
    expect(locker.backend.tries).toBe(11);
  });

  it('fails at once on a misconfiguration no retry can mend', async () => {
    const locker = new MemoryLocker();
    locker.faults.fail = new LockerConfigError('wrong password');
    const error = await atomize(work(alovaWith(server.url, locker), 'c'), { channel: 'c', timeout: 60_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(LockerConfigError);
    expect(locker.backend.tries).toBe(1);
  });

  it("releases after the request's own failure and passes that failure on", async () => {
    const locker = new MemoryLocker();
    const alova = alovaWith('http://127.0.0.1:1', locker);
    const error = await atomize(alova.Get('/nothing-listens'), { channel: 'rf' }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(LockTimeoutError);
    expect(locker.backend.holders.size).toBe(0);
  });

  it('returns the response when release fails, and reports the failure as a warning', async () => {
    const locker = new MemoryLocker();
    const failure = new Error('release went wrong');
    locker.faults.failRelease = failure;
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const res = await atomize(work(alovaWith(server.url, locker), 'rw'), { channel: 'rw' });
      expect(res.ok).toBe(true);
      // process.emitWarning emits on the next tick: wait for it, not for a guessed time.
      await waitFor(() => warnings.length > 0, 'the warning');
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: 'LockReleaseError', code: 'ERR_ATOMIZE_RELEASE', channel: 'rw', cause: failure });
  });

  it('abort() while waiting rejects promptly, sends nothing and holds nothing', async () => {
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('ab');
    const hooked = atomize(work(alovaWith(server.url, new MemoryLocker(backend)), 'ab'), { channel: ['aa', 'ab'], interval: 50 });
    const before = server.total();
    const triesBefore = backend.tries;
    const pending = hooked.send().catch((e) => e);
    // The call holds 'aa' and has been refused 'ab' at least once: it is waiting.
    await waitFor(() => backend.holders.has('aa') && backend.tries - triesBefore >= 2, 'the call to wait for ab');
    const aborted = Date.now();
    hooked.abort();
    const error = await pending;
    expect(error).toMatchObject({ name: 'AbortError', code: 'ERR_ATOMIZE_ABORTED', channel: 'ab' });
    expect(Date.now() - aborted).toBeLessThan(5000); // a hang bound: the interval is 50 ms
    expect(server.total()).toBe(before);
    expect([...backend.holders.keys()]).toEqual(['ab']);
    await other!.release();
  });

  it('abort() while the request runs aborts it and still releases', async () => {
    const locker = new MemoryLocker();
    const hooked = atomize(work(alovaWith(server.url, locker), 'ar', 30_000), { channel: 'ar' });
    const pending = hooked.send().catch((e) => e);
    await waitFor(() => locker.backend.holders.has('ar'), 'the lock');
    const aborted = Date.now();
    hooked.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(LockLostError);
    expect(Date.now() - aborted).toBeLessThan(20_000); // the request would take 30 s
    expect(locker.backend.holders.size).toBe(0);
  });

  it('rejects with LockLostError and aborts the request when the lock is lost', async () => {
    const locker = new MemoryLocker();
    const pending = atomize(work(alovaWith(server.url, locker), 'lost', 30_000), { channel: 'lost' }).send().catch((e) => e);
    await waitFor(() => locker.backend.holders.has('lost'), 'the lock');
    const started = Date.now();
    locker.backend.steal('lost');
    const error = await pending;
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_LOST', channel: 'lost' });
    expect(Date.now() - started).toBeLessThan(20_000); // the request would take 30 s
  });

  it('never sends the request when a lock taken earlier was lost while a later channel was awaited', async () => {
    vi.useFakeTimers();
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('lb');
    const { work: fakeWork, requests } = fakeAlova(new MemoryLocker(backend));
    const call = track(atomize(fakeWork(['la', 'lb']), { channel: ['la', 'lb'], interval: 10 }).send());
    await vi.advanceTimersByTimeAsync(25);
    expect(backend.holders.has('la')).toBe(true);
    backend.steal('la');
    await other!.release();
    await settle();
    expect(call.error).toBeInstanceOf(LockLostError);
    expect(call.error.channel).toBe('la');
    expect(requests).toHaveLength(0);
    expect(backend.holders.size).toBe(0);
  });

  it("works with a locker that has only alova's lock/unlock, retrying its rejections", async () => {
    const backend = new MemoryBackend();
    const rejections = { count: 0 };
    const plain = (inner: MemoryLocker) => ({
      lock: (r: string | string[]) => inner.lock(r).catch((error: unknown) => (rejections.count++, Promise.reject(error))),
      unlock: (r: string | string[]) => inner.unlock(r),
    });
    const first = atomize(work(alovaWith(server.url, plain(new MemoryLocker(backend))), 'pl', 150), { channel: 'pl', interval: 10 });
    const second = atomize(work(alovaWith(server.url, plain(new MemoryLocker(backend))), 'pl', 150), { channel: 'pl', interval: 10 });
    await Promise.all([first, second]);
    expect(rejections.count).toBeGreaterThan(0); // one of them really waited for the other
    expect(server.maxInFlight().pl).toBe(1);
    expect(backend.holders.size).toBe(0);
    const held = new MemoryLocker(backend);
    await held.lock('pl');
    const error = await atomize(work(alovaWith(server.url, plain(new MemoryLocker(backend))), 'pl'), { channel: 'pl', timeout: 50, interval: 10 }).catch((e) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.cause).toBeInstanceOf(LockTimeoutError); // the plain lock's own refusal, kept as cause
    expect(error.cause).toMatchObject({ channel: 'pl', timeout: 0 });
  });

  it('wakes a waiter on release instead of sleeping out the interval', async () => {
    vi.useFakeTimers();
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('wk');
    const waiter = new MemoryLocker(backend);
    const { work: fakeWork, requests } = fakeAlova(waiter, { autoAnswer: true });
    const call = track(atomize(fakeWork('wk'), { channel: 'wk', interval: 60_000, timeout: 120_000 }).send());
    // The waiter has tried once, found the channel held, and waits.
    await vi.advanceTimersByTimeAsync(1000);
    expect(backend.tries).toBe(2);
    expect(call.done).toBe(false);
    await holder!.release();
    await settle(); // no time passes: only the release can have woken it
    expect(call.value).toMatchObject({ ok: true });
    expect(backend.tries).toBe(3);
    expect(requests).toHaveLength(1);
  });

  it('with a fair locker, takes handoffs in arrival order and does not try when another was named', async () => {
    const backend = new MemoryBackend(true);
    const holder = await new MemoryLocker(backend).tryAcquire('fair');
    const order: number[] = [];
    const waiters: Promise<unknown>[] = [];
    for (const i of [1, 2, 3]) {
      const alova = alovaWith(server.url, new MemoryLocker(backend));
      waiters.push(atomize(work(alova, 'fair', 5), { channel: 'fair', interval: 60_000, timeout: 120_000 }).send().then(() => order.push(i)));
      await waitFor(() => backend.lines.get('fair')?.length === i, `waiter ${i} in the line`);
    }
    const triesBefore = backend.tries;
    expect(triesBefore).toBe(4);
    await holder!.release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(backend.tries - triesBefore).toBe(3);
    expect(backend.holders.size).toBe(0);
  });

  it('with a fair locker, a waiter that gives up leaves the line', async () => {
    vi.useFakeTimers();
    const backend = new MemoryBackend(true);
    const holder = await new MemoryLocker(backend).tryAcquire('gu');
    const quitter = track(atomize(fakeAlova(new MemoryLocker(backend)).work('gu'), { channel: 'gu', timeout: 50, interval: 10 }).send());
    await settle();
    const { work: fakeWork } = fakeAlova(new MemoryLocker(backend), { autoAnswer: true });
    const stayer = track(atomize(fakeWork('gu'), { channel: 'gu', timeout: 60_000, interval: 60_000 }).send());
    await settle();
    expect(backend.lines.get('gu')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(quitter.error).toBeInstanceOf(LockTimeoutError);
    expect(backend.lines.get('gu')).toHaveLength(1);
    await holder!.release();
    await settle();
    expect(stayer.value).toMatchObject({ ok: true });
    expect(backend.holders.size).toBe(0);
  });

  it('queues callers of one locker locally: in order, one backend attempt each', async () => {
    const locker = new MemoryLocker();
    const alova = alovaWith(server.url, locker);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => atomize(work(alova, 'q', 10), { channel: 'q', interval: 5 }).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(locker.backend.tries).toBe(5);
  });

  it('with queue: false every caller polls the backend itself', async () => {
    const locker = new MemoryLocker();
    const alova = alovaWith(server.url, locker);
    await Promise.all([0, 1, 2, 3, 4].map(() => atomize(work(alova, 'nq', 10), { channel: 'nq', interval: 5, queue: false })));
    expect(server.maxInFlight().nq).toBe(1);
    expect(locker.backend.tries).toBeGreaterThan(5);
  });

  it('extends the Method class of another alova copy (CommonJS and ESM builds)', async () => {
    const { createRequire } = await import('node:module');
    const cjs = createRequire(import.meta.url)('alova') as typeof import('alova');
    const adapterFetch = createRequire(import.meta.url)('alova/fetch') as () => never;
    const alova = cjs.createAlova({
      baseURL: server.url,
      requestAdapter: adapterFetch(),
      cacheFor: null,
      l2Cache: { locker: new MemoryLocker(), set: () => undefined, get: () => undefined, remove: () => undefined, clear: () => undefined },
    });
    expect(cjs.Method).not.toBe(Method);
    const hooked = atomize(alova.Get('/work', { params: { channels: 'cjs', ms: 1 } }) as never, { channel: 'cjs' });
    expect(hooked).toBeInstanceOf(cjs.Method);
    expect(await hooked).toMatchObject({ ok: true });
  });
});
