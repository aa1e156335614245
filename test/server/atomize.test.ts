import { Method } from 'alova';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomize, HookedMethod, LockerConfigError, LockLostError, LockTimeoutError } from '../../src/server/index.js';
import { alovaWith, work } from '../helpers/alova.js';
import { startInflightServer, type InflightServer } from '../helpers/inflight-server.js';
import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';

let server: InflightServer;
beforeAll(async () => {
  server = await startInflightServer();
});
afterAll(() => server.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    const sets = [['o1', 'o2'], 'o1', ['o2', 'o1'], 'o2'];
    const results = await Promise.all(
      sets.flatMap((channel) =>
        [0, 1].map(async () => {
          const alova = alovaWith(server.url, new MemoryLocker(backend));
          for (let i = 0; i < 5; i++) await atomize(work(alova, channel, 3), { channel, interval: 5 });
          return true;
        }),
      ),
    );
    expect(results).toHaveLength(8);
    expect(server.maxInFlight().o1).toBe(1);
    expect(server.maxInFlight().o2).toBe(1);
    expect(backend.holders.size).toBe(0);
  });

  it('times out with alova wording and fields, releasing channels already taken', async () => {
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('t-b');
    const locker = new MemoryLocker(backend);
    const started = Date.now();
    const error = await atomize(work(alovaWith(server.url, locker), 't'), { channel: ['t-a', 't-b'], timeout: 200, interval: 20 }).catch((e) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ name: 'LockTimeoutError', code: 'ERR_ATOMIZE_LOCK_TIMEOUT', channel: 't-b', timeout: 200 });
    expect(error.message).toContain('Failed to acquire lock within 200ms');
    expect(error.waited).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(backend.holders.has('t-a')).toBe(false);
    await other!.release();
  });

  it('settles by the deadline when the backend hangs, and releases a late acquisition', async () => {
    const locker = new MemoryLocker();
    locker.faults.hang = true;
    const started = Date.now();
    const error = await atomize(work(alovaWith(server.url, locker), 'h'), { channel: 'h', timeout: 150, interval: 50 }).catch((e) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.cause).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(150 + 50 + 1000);
  });

  it('keeps the last backend error as cause when the backend fails until the deadline', async () => {
    const locker = new MemoryLocker();
    const down = new Error('connection refused');
    locker.faults.fail = down;
    const error = await atomize(work(alovaWith(server.url, locker), 'f'), { channel: 'f', timeout: 100, interval: 10 }).catch((e) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.cause).toBe(down);
    expect(locker.backend.tries).toBeGreaterThan(2);
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
    locker.faults.failRelease = new Error('release went wrong');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const res = await atomize(work(alovaWith(server.url, locker), 'rw'), { channel: 'rw' });
      expect(res.ok).toBe(true);
      await sleep(20);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => (w as { code?: string }).code)).toContain('ERR_ATOMIZE_RELEASE');
  });

  it('abort() while waiting rejects promptly, sends nothing and holds nothing', async () => {
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('ab');
    const hooked = atomize(work(alovaWith(server.url, new MemoryLocker(backend)), 'ab'), { channel: ['aa', 'ab'], interval: 50 });
    const before = server.total();
    const pending = hooked.send().catch((e) => e);
    await sleep(120);
    const aborted = Date.now();
    hooked.abort();
    const error = await pending;
    expect(error).toMatchObject({ name: 'AbortError', code: 'ERR_ATOMIZE_ABORTED' });
    expect(Date.now() - aborted).toBeLessThan(1000);
    expect(server.total()).toBe(before);
    expect([...backend.holders.keys()]).toEqual(['ab']);
    await other!.release();
  });

  it('abort() while the request runs aborts it and still releases', async () => {
    const locker = new MemoryLocker();
    const hooked = atomize(work(alovaWith(server.url, locker), 'ar', 2000), { channel: 'ar' });
    const pending = hooked.send().catch((e) => e);
    await sleep(200);
    hooked.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(Error);
    expect(locker.backend.holders.size).toBe(0);
  });

  it('rejects with LockLostError and aborts the request when the lock is lost', async () => {
    const locker = new MemoryLocker();
    const pending = atomize(work(alovaWith(server.url, locker), 'lost', 2000), { channel: 'lost' }).catch((e) => e);
    await sleep(200);
    const started = Date.now();
    locker.backend.steal('lost');
    const error = await pending;
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_LOST', channel: 'lost' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('never sends the request when a lock taken earlier was lost while a later channel was awaited', async () => {
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('lb');
    const before = server.total();
    const pending = atomize(work(alovaWith(server.url, new MemoryLocker(backend)), 'la'), { channel: ['la', 'lb'], interval: 10 }).catch((e) => e);
    await sleep(50);
    backend.steal('la');
    await other!.release();
    const error = await pending;
    expect(error).toBeInstanceOf(LockLostError);
    expect(error.channel).toBe('la');
    await sleep(50);
    expect(server.total()).toBe(before);
    expect(backend.holders.size).toBe(0);
  });

  it("works with a locker that has only alova's lock/unlock, retrying its rejections", async () => {
    const backend = new MemoryBackend();
    const plain = (inner: MemoryLocker) => ({ lock: (r: string | string[]) => inner.lock(r), unlock: (r: string | string[]) => inner.unlock(r) });
    const first = atomize(work(alovaWith(server.url, plain(new MemoryLocker(backend))), 'pl', 150), { channel: 'pl', interval: 10 });
    const second = atomize(work(alovaWith(server.url, plain(new MemoryLocker(backend))), 'pl', 150), { channel: 'pl', interval: 10 });
    await Promise.all([first, second]);
    expect(server.maxInFlight().pl).toBe(1);
    expect(backend.holders.size).toBe(0);
    const held = new MemoryLocker(backend);
    await held.lock('pl');
    const error = await atomize(work(alovaWith(server.url, plain(new MemoryLocker(backend))), 'pl'), { channel: 'pl', timeout: 50, interval: 10 }).catch((e) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.cause.message).toContain('locked');
  });

  it('wakes a waiter on release instead of sleeping out the interval', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('wk');
    const waiter = new MemoryLocker(backend);
    const pending = atomize(work(alovaWith(server.url, waiter), 'wk'), { channel: 'wk', interval: 60_000, timeout: 120_000 });
    await sleep(50);
    const triesBefore = backend.tries;
    await holder!.release();
    await pending;
    expect(backend.tries - triesBefore).toBe(1);
  });

  it('with a fair locker, takes handoffs in arrival order and does not try when another was named', async () => {
    const backend = new MemoryBackend(true);
    const holder = await new MemoryLocker(backend).tryAcquire('fair');
    const order: number[] = [];
    const waiters: Promise<unknown>[] = [];
    for (const i of [1, 2, 3]) {
      const alova = alovaWith(server.url, new MemoryLocker(backend));
      waiters.push(atomize(work(alova, 'fair', 5), { channel: 'fair', interval: 60_000, timeout: 120_000 }).then(() => order.push(i)));
      await sleep(20);
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
    const backend = new MemoryBackend(true);
    const holder = await new MemoryLocker(backend).tryAcquire('gu');
    const quitter = atomize(work(alovaWith(server.url, new MemoryLocker(backend)), 'gu'), { channel: 'gu', timeout: 50, interval: 10 }).catch((e) => e);
    await sleep(10);
    const stayer = atomize(work(alovaWith(server.url, new MemoryLocker(backend)), 'gu'), { channel: 'gu', timeout: 60_000, interval: 60_000 }).send();
    await sleep(10);
    expect(backend.lines.get('gu')).toHaveLength(2);
    expect(await quitter).toBeInstanceOf(LockTimeoutError);
    expect(backend.lines.get('gu')).toHaveLength(1);
    await holder!.release();
    expect((await stayer).ok).toBe(true);
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
