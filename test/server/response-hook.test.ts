/**
 * When a send lets go of its locks: by default when the send settles (as alova's own atomize); with
 * `releaseOnResponse`, once its response has been handled (alova's `responded` and the method's
 * `transform` returned), before alova's own cache bookkeeping, except when alova writes the response to
 * the l2 cache. The in-process turn lasts until the send settles.
 */
import { createAlova, type Method } from 'alova';
import { describe, expect, it } from 'vitest';
import { atomize } from '../../src/server/index.js';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { waitFor } from '../helpers/wait.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An alova instance whose requests are answered at once, whose l2Cache's locker grants every lock,
 * and whose `responded` hook, l2Cache reads and writes and locker all write to one `log`.
 * `slowL2` makes every l2Cache call take that many ms; l2Cache reads also wait for `l2Gate`.
 */
const logged = ({ slowL2 = 0, respondedMs = 0, l2Gate = Promise.resolve() } = {}) => {
  const log: string[] = [];
  const free = new Set<string>();
  /** The lock signal of each channel's last handle: aborting one is the lock lost. */
  const losses = new Map<string, AbortController>();
  const locker: AtomicLocker = {
    lock: async () => undefined,
    unlock: async () => undefined,
    tryAcquire: async (channel): Promise<LockHandle | null> => {
      log.push(`try ${channel}`);
      if (free.has(channel)) return null;
      free.add(channel);
      const lost = new AbortController();
      losses.set(channel, lost);
      return {
        channel,
        signal: lost.signal,
        release: async () => {
          log.push(`release ${channel}`);
          free.delete(channel);
        },
      };
    },
    onRelease: () => () => undefined,
  };
  const store = new Map<string, unknown>();
  const l2Cache = {
    locker,
    get: async <T>(key: string): Promise<T | undefined> => {
      await pause(slowL2);
      await l2Gate;
      log.push(`l2 get ${key.split('.')[0]}`);
      return store.get(key) as T | undefined;
    },
    set: async (key: string, value: unknown) => {
      await pause(slowL2);
      log.push(`l2 set`);
      store.set(key, value);
    },
    remove: async () => undefined,
    clear: async () => undefined,
  };
  let n = 0;
  const alova = createAlova({
    baseURL: 'http://fake.invalid',
    cacheFor: null,
    l2Cache,
    requestAdapter: () => {
      const i = ++n;
      log.push(`request ${i}`);
      return { response: async () => ({ i }), headers: async () => ({}), abort: () => undefined, onDownload: () => undefined, onUpload: () => undefined };
    },
    responded: async (response: { i: number }) => {
      await pause(respondedMs);
      log.push(`responded ${response.i}`);
      return response;
    },
  });
  return { alova, log, losses };
};

const after = (log: string[], later: string, earlier: string) => {
  expect(log).toContain(later);
  expect(log).toContain(earlier);
  expect(log.indexOf(later), `${later} after ${earlier} in ${JSON.stringify(log)}`).toBeGreaterThan(log.indexOf(earlier));
};

describe('the release point of a send', () => {
  it('by default releases when the send settles: after alova has read its l2 cache for hitSource', async () => {
    const { alova, log } = logged({ slowL2: 5 });
    await atomize(alova.Get('/d'), { channel: 'd' }).send();
    after(log, 'release d', 'l2 get hss');
    expect(log.filter((line) => line === 'release d')).toHaveLength(1);
  });

  it('releases once the response is handled, before alova looks at its l2 cache for hitSource', async () => {
    const { alova, log } = logged({ respondedMs: 20 });
    const value = await atomize(alova.Get('/a'), { channel: 'c', releaseOnResponse: true }).send();
    expect(value).toEqual({ i: 1 });
    after(log, 'release c', 'responded 1');
    // alova's cache invalidation by `hitSource` reads `hss.<key>` from the l2 cache after every response.
    after(log, 'l2 get hss', 'release c');
    expect(log.filter((line) => line === 'release c')).toHaveLength(1);
  });

  it("runs the method's transform inside the lock, and leaves the caller's method as it was", async () => {
    const { alova, log } = logged();
    const transform = async (data: { i: number }) => {
      await pause(20);
      log.push('transform');
      return { doubled: data.i * 2 };
    };
    const method = alova.Get('/t', { transform });
    expect(await atomize(method, { channel: 't', releaseOnResponse: true }).send()).toEqual({ doubled: 2 });
    after(log, 'release t', 'transform');
    expect(method.config.transform).toBe(transform);
    expect(method.fromCache).toBe(false);
  });

  it('a lock lost while the response is handled still fails the call; one lost after the release does not', async () => {
    let open!: () => void;
    const { alova, log, losses } = logged({ l2Gate: new Promise<void>((resolve) => (open = resolve)) });
    const lostInTransform = alova.Get('/lt', {
      transform: async (data: unknown) => {
        losses.get('lt')!.abort(new Error('lease ran out'));
        await pause(5);
        return data;
      },
    });
    const failed = atomize(lostInTransform, { channel: 'lt', releaseOnResponse: true }).send();
    await expect(failed).rejects.toMatchObject({ code: 'ERR_ATOMIZE_LOCK_LOST', channel: 'lt' });
    expect(log).toContain('release lt');
    const call = atomize(alova.Get('/la'), { channel: 'la', releaseOnResponse: true }).send();
    // alova's bookkeeping (the l2 read, held at the gate) runs after the release: a loss reported then changes nothing.
    await waitFor(() => log.includes('release la'), 'the early release');
    losses.get('la')!.abort(new Error('too late to matter'));
    open();
    await expect(call).resolves.toEqual({ i: 2 });
  });

  it.each([
    ['a memory cache', { cacheFor: { mode: 'memory', expire: 60_000 } }],
    ['cacheFor null', { cacheFor: null }],
    ['an empty name', { name: '' }],
    ['a null name', { name: null }],
  ])('releases early for a method with %s (alova writes no l2 entry and keeps no snapshot of it)', async (_, config) => {
    const { alova, log } = logged({ slowL2: 5 });
    await atomize(alova.Get('/m', config as never), { channel: 'm', releaseOnResponse: true }).send();
    after(log, 'l2 get hss', 'release m');
  });

  it('keeps the lock while alova writes the response to the l2 cache (cacheFor mode restore)', async () => {
    const { alova, log } = logged({ slowL2: 5 });
    await atomize(alova.Get('/s', { cacheFor: { mode: 'restore', expire: 60_000 } }), { channel: 's', releaseOnResponse: true }).send();
    after(log, 'release s', 'l2 set');
  });

  it('sends a method with a name as it is: the snapshot alova keeps for its matchers is the caller\'s method', async () => {
    const { alova, log } = logged({ slowL2: 5 });
    const method = alova.Get('/named', { name: 'named' });
    await atomize(method, { channel: 'n', releaseOnResponse: true }).send();
    await atomize(method, { channel: 'n', releaseOnResponse: true }).send();
    expect(alova.snapshots.match('named')).toEqual([method]);
    expect(alova.snapshots.match('named')[0]).toBe(method);
    after(log, 'release n', 'l2 get hss');
  });

  it("ends the in-process turn only when the send settles: the next caller of this process starts after alova's bookkeeping", async () => {
    const { alova, log } = logged({ slowL2: 20 });
    const first = atomize(alova.Get('/q', { params: { n: 1 } }), { channel: 'q', releaseOnResponse: true }).send();
    const second = atomize(alova.Get('/q', { params: { n: 2 } }), { channel: 'q', releaseOnResponse: true }).send();
    await Promise.all([first, second]);
    expect(log.filter((line) => line === 'try q')).toHaveLength(2);
    const secondTry = log.indexOf('try q', log.indexOf('try q') + 1);
    expect(secondTry, JSON.stringify(log)).toBeGreaterThan(log.indexOf('l2 get hss'));
    expect(log.indexOf('release q')).toBeLessThan(log.indexOf('l2 get hss'));
  });

  it('sends an atomized method as it is (its own send takes and releases its own locks)', async () => {
    const { alova, log } = logged();
    const inner = atomize(alova.Get('/n'), { channel: 'inner', releaseOnResponse: true });
    const value = await atomize(inner as unknown as Method, { channel: 'outer', releaseOnResponse: true }).send();
    expect(value).toEqual({ i: 1 });
    after(log, 'release outer', 'release inner');
    after(log, 'release inner', 'responded 1');
  });

  it('releases after a response handler that fails, and passes its error on', async () => {
    const { alova, log } = logged();
    const failing = alova.Get('/f', {
      transform: () => {
        log.push('transform failed');
        throw new Error('bad body');
      },
    });
    await expect(atomize(failing, { channel: 'f', releaseOnResponse: true }).send()).rejects.toThrow('bad body');
    after(log, 'release f', 'transform failed');
  });
});
