/**
 * The one lock contract, as a suite every locker of this package runs (see src/shared/contract.ts).
 * A fixture gives lockers that behave like separate processes sharing one backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';

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

/** Retries tryAcquire until it gives a handle (generous bound: only catches hangs). */
const acquireEventually = async (locker: AtomicLocker, channel: string): Promise<LockHandle> => {
  for (let i = 0; i < 2000; i++) {
    const handle = await locker.tryAcquire(channel);
    if (handle) return handle;
    await sleep(5);
  }
  throw new Error(`could not acquire ${channel}`);
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

    it('tells listeners of another locker when the channel is released', async () => {
      if (!b.onRelease) return expect(a.onRelease).toBeUndefined();
      const channel = channelName('notify');
      const handle = await a.tryAcquire(channel);
      let heard = 0;
      const heardOnce = new Promise<void>((resolve) => {
        const off = b.onRelease!(channel, () => {
          heard++;
          off();
          resolve();
        });
      });
      await sleep(50);
      await handle!.release();
      await heardOnce;
      expect(heard).toBe(1);
    });

    it("has alova's interface: lock rejects promptly when held, unlock frees, arrays work", async () => {
      const [p, q] = [channelName('p'), channelName('q')];
      await a.lock([p, q]);
      const started = Date.now();
      await expect(b.lock(q)).rejects.toBeTruthy();
      expect(Date.now() - started).toBeLessThan(5000);
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
      await expect(a.tryAcquire('')).rejects.toMatchObject({ code: 'ERR_ATOMIZE_INVALID_CHANNEL' });
    });

    it('never has two holders under concurrent attempts', async () => {
      const channel = channelName('race');
      const lockers = [a, b, await fixture.newLocker(), await fixture.newLocker()];
      let inside = 0;
      let most = 0;
      let turns = 0;
      await Promise.all(
        lockers.map(async (locker) => {
          for (let i = 0; i < 10; i++) {
            const handle = await acquireEventually(locker, channel);
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
      expect(most).toBe(1);
    });
  });
};
