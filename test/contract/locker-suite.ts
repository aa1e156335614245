/**
 * The one lock contract, as a suite every locker of this package runs (see src/shared/contract.ts).
 * A fixture gives lockers that behave like separate processes sharing one backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { InvalidChannelError, LockTimeoutError } from '../../src/shared/errors.js';

export interface LockerFixture {
  /** A new locker with an identity of its own (as another process would have), on the shared backend. */
  newLocker(): Promise<AtomicLocker> | AtomicLocker;
  /** The lease after which an unrenewed lock would expire, ms; the suite holds locks longer than that. */
  leaseMs: number;
  /** Stops what the fixture started. */
  close?(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let unique = 0;
const channelName = (label: string) => `${label}-${process.pid}-${Date.now()}-${unique++}`;

/** Polls `check` until it is true; false when `ms` passed first. */
const within = async (check: () => boolean, ms: number): Promise<boolean> => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(5);
  }
  return true;
};

/** Retries tryAcquire until it gives a handle (generous bound: only catches hangs). */
const acquireEventually = async (locker: AtomicLocker, channel: string): Promise<LockHandle> => {
  for (let i = 0; i < 2000; i++) {
    const handle = await locker.tryAcquire(channel);
    if (handle) return handle;
    await sleep(5);
  }
  throw new Error(`could not acquire ${channel}`);
};

/**
 * Takes and releases `channel` with `locker` until `heard()` grows, and resolves once it did: a
 * listener that has heard a release is live (a subscription may take a moment to be set up; a release
 * before that is missed, and waiters poll). Bounded generously: only catches hangs.
 */
const releaseUntilHeard = async (locker: AtomicLocker, channel: string, heard: () => number): Promise<void> => {
  const before = heard();
  for (let i = 0; i < 100; i++) {
    const handle = await acquireEventually(locker, channel);
    await handle.release();
    if (await within(() => heard() > before, 200)) return;
  }
  throw new Error(`no release of ${channel} was heard`);
};

export const lockerSuite = (name: string, setup: () => Promise<LockerFixture>): void => {
  describe(`locker contract: ${name}`, () => {
    let fixture: LockerFixture;
    let a: AtomicLocker;
    let b: AtomicLocker;

    beforeAll(async () => {
      fixture = await setup();
      a = await fixture.newLocker();
      b = await fixture.newLocker();
    });
    afterAll(async () => {
      await fixture?.close?.();
    });

    it('gives a handle for a free channel, and null to anyone else while it is held', async () => {
      const channel = channelName('basic');
      const handle = await a.tryAcquire(channel);
      expect(handle?.channel).toBe(channel);
      expect(handle?.signal.aborted).toBe(false);
      expect(await b.tryAcquire(channel)).toBeNull();
      expect(await a.tryAcquire(channel)).toBeNull();
      await handle!.release();
      const again = await b.tryAcquire(channel);
      expect(again).not.toBeNull();
      await again!.release();
    });

    it('keeps channels apart, also names that look like lists of others', async () => {
      const base = channelName('apart');
      const ab = await a.tryAcquire(`${base}a-b`);
      const plainA = await b.tryAcquire(`${base}a`);
      const plainB = await b.tryAcquire(`${base}b`);
      expect([ab, plainA, plainB].every(Boolean)).toBe(true);
      await Promise.all([ab!.release(), plainA!.release(), plainB!.release()]);
    });

    it('release is idempotent and never aborts the handle signal', async () => {
      const handle = await a.tryAcquire(channelName('idem'));
      await handle!.release();
      await handle!.release();
      expect(handle!.signal.aborted).toBe(false);
    });

    it('keeps the lease alive while held, past several lease times', async () => {
      const channel = channelName('lease');
      const handle = await a.tryAcquire(channel);
      const until = Date.now() + fixture.leaseMs * 2.5;
      while (Date.now() < until) {
        expect(await b.tryAcquire(channel)).toBeNull();
        await sleep(Math.max(20, fixture.leaseMs / 5));
      }
      expect(handle!.signal.aborted).toBe(false);
      await handle!.release();
      const next = await acquireEventually(b, channel);
      await next.release();
    });

    it('tells listeners of another locker when the channel is released, until they unsubscribe', async () => {
      if (!b.onRelease) return expect(a.onRelease).toBeUndefined();
      const channel = channelName('notify');
      let heard = 0;
      let heardByOther = 0;
      const off = b.onRelease(channel, () => heard++);
      const offOther = b.onRelease(channel, () => heardByOther++);
      await releaseUntilHeard(a, channel, () => heard);
      // A lock taken and released while the listener is live: heard.
      const handle = await acquireEventually(a, channel);
      const beforeRelease = heard;
      await handle.release();
      expect(await within(() => heard > beforeRelease, 20_000)).toBe(true);
      // Unsubscribed: the next release reaches the other listener (same locker, same delivery), not this one.
      off();
      const atOff = heard;
      const otherAtOff = heardByOther;
      const again = await acquireEventually(a, channel);
      await again.release();
      expect(await within(() => heardByOther > otherAtOff, 20_000)).toBe(true);
      expect(heard).toBe(atOff);
      offOther();
    });

    it("has alova's interface: lock rejects promptly when held, unlock frees, arrays work", async () => {
      const [p, q] = [channelName('p'), channelName('q')];
      await a.lock([p, q]);
      // Held by another: a LockTimeoutError with timeout 0 (no waiting), never a backend failure.
      const refusal = await b.lock(q).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(LockTimeoutError);
      expect(refusal).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_TIMEOUT', channel: q, timeout: 0 });
      // All or nothing: `free` is free, q is not, so b keeps neither.
      const free = channelName('free');
      const partial = await b.lock([free, q]).catch((error: unknown) => error);
      expect(partial).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_TIMEOUT', channel: q });
      const freeAgain = await a.tryAcquire(free);
      expect(freeAgain).not.toBeNull();
      await freeAgain!.release();
      expect(await b.tryAcquire(p)).toBeNull();
      await a.unlock([p, q]);
      await b.lock(p);
      await b.unlock(p);
      await expect(b.unlock(channelName('never-locked'))).resolves.toBeUndefined();
    });

    it('takes hostile channel names safely, each its own lock', async () => {
      const names = ['../../escape', 'a/b', '..', '.', 'ü ☃ 🦊', 'x'.repeat(300), 'ctl\u0000\n\t', 'CON', 'a'.repeat(4096)];
      const handles = await Promise.all(names.map((n) => a.tryAcquire(n)));
      expect(handles.every(Boolean)).toBe(true);
      for (const n of names) expect(await b.tryAcquire(n)).toBeNull();
      await Promise.all(handles.map((h) => h!.release()));
      const again = await Promise.all(names.map((n) => b.tryAcquire(n)));
      expect(again.every(Boolean)).toBe(true);
      await Promise.all(again.map((h) => h!.release()));
    });

    it('rejects an empty channel with a coded error', async () => {
      const error = await a.tryAcquire('').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidChannelError);
      expect(error).toMatchObject({ code: 'ERR_ATOMIZE_INVALID_CHANNEL', channel: '' });
      await expect(a.lock('')).rejects.toBeInstanceOf(InvalidChannelError);
    });

    it('never has two holders under concurrent attempts', async () => {
      const channel = channelName('race');
      const lockers = [a, b, await fixture.newLocker(), await fixture.newLocker()];
      let inside = 0;
      let most = 0;
      let turns = 0;
      let refused = 0;
      await Promise.all(
        lockers.map(async (locker) => {
          for (let i = 0; i < 10; i++) {
            let handle: LockHandle | null;
            while (!(handle = await locker.tryAcquire(channel))) {
              refused++;
              await sleep(1);
            }
            inside++;
            most = Math.max(most, inside);
            turns++;
            await sleep(2);
            inside--;
            await handle.release();
          }
        }),
      );
      expect(turns).toBe(40);
      expect(refused).toBeGreaterThan(0); // the lockers really met at the lock
      expect(most).toBe(1);
    });
  });
};
