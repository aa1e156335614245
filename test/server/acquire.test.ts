/**
 * How atomize waits for a lock, under fake timers: when it tries, what wakes it, when it gives up,
 * what it releases. The backend is the in-memory locker, or a scripted one whose every attempt the
 * test answers itself.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atomize, AtomizeAbortError, LockerClosedError, LockerConfigError, LockTimeoutError } from '../../src/server/index.js';
import type { AtomicLocker, LockHandle, ReleaseEvent, WaitTicket } from '../../src/shared/contract.js';
import { InvalidChannelError } from '../../src/shared/errors.js';
import { fakeAlova } from '../helpers/fake-alova.js';
import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';
import { settle, track } from '../helpers/track.js';

const T0 = 1_000_000;
beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const elapsed = () => Date.now() - T0;

/** Records when (ms since T0) each attempt of `locker` was made, and with which ticket. */
const timed = (locker: MemoryLocker) => {
  const at: number[] = [];
  const tickets: (WaitTicket | undefined)[] = [];
  const tryAcquire = locker.tryAcquire.bind(locker);
  locker.tryAcquire = (channel, ticket) => {
    at.push(elapsed());
    tickets.push(ticket);
    return tryAcquire(channel, ticket);
  };
  return { locker, at, tickets };
};

interface Attempt {
  readonly channel: string;
  readonly ticket: WaitTicket | undefined;
  readonly at: number;
  resolve(handle: LockHandle | null): void;
  reject(error: unknown): void;
}

/** A locker whose every attempt stays open until the test answers it; it tells release events on demand. */
class ScriptedLocker implements AtomicLocker {
  readonly attempts: Attempt[] = [];
  readonly listeners = new Set<(event?: ReleaseEvent) => void>();

  tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    return new Promise((resolve, reject) => this.attempts.push({ channel, ticket, at: elapsed(), resolve, reject }));
  }

  /** The tickets `onRelease` was given, by subscription. */
  readonly subscribedWith: (WaitTicket | undefined)[] = [];

  onRelease(_channel: string, listener: (event?: ReleaseEvent) => void, ticket?: WaitTicket): () => void {
    this.subscribedWith.push(ticket);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  tell(event?: ReleaseEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  get last(): Attempt {
    return this.attempts.at(-1)!;
  }

  lock(): Promise<void> {
    throw new Error('not used');
  }

  unlock(): Promise<void> {
    throw new Error('not used');
  }
}

/** A handle that counts its releases. */
const handleOf = (channel: string) => {
  const handle = { channel, signal: new AbortController().signal, releases: 0, release: async () => void handle.releases++ };
  return handle;
};

describe('atomize waiting for a lock (fake timers)', () => {
  it('tries once per interval while the channel is held, then gives up at the deadline', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('c');
    const { locker, at } = timed(new MemoryLocker(backend));
    const { work } = fakeAlova(locker);
    const call = track(atomize(work('c'), { channel: 'c', timeout: 1000, interval: 300 }).send());
    await vi.advanceTimersByTimeAsync(999);
    expect(at).toEqual([0, 300, 600, 900]);
    expect(call.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(at).toEqual([0, 300, 600, 900, 1000]);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error).toMatchObject({ channel: 'c', timeout: 1000, waited: 1000, cause: undefined });
    expect(call.error.message).toBe('Failed to acquire lock within 1000ms (channel "c", waited 1000ms)');
    expect(backend.listeners.get('c')?.size ?? 0).toBe(0);
    await holder!.release();
  });

  it('counts the wait from the send, not from the call to atomize', async () => {
    const backend = new MemoryBackend();
    await new MemoryLocker(backend).tryAcquire('c');
    const { locker, at } = timed(new MemoryLocker(backend));
    const hooked = atomize(fakeAlova(locker).work('c'), { channel: 'c', timeout: 500, interval: 200 });
    await vi.advanceTimersByTimeAsync(10_000);
    const call = track(hooked.send());
    await vi.advanceTimersByTimeAsync(500);
    expect(at).toEqual([10_000, 10_200, 10_400, 10_500]);
    expect(call.error).toMatchObject({ name: 'LockTimeoutError', waited: 500 });
  });

  it('timeout 0 makes exactly one attempt: taken when free, a LockTimeoutError at once when held', async () => {
    const backend = new MemoryBackend();
    const { work, requests } = fakeAlova(new MemoryLocker(backend), { autoAnswer: true });
    expect(await atomize(work('z'), { channel: 'z', timeout: 0 }).send()).toMatchObject({ ok: true });
    expect(backend.tries).toBe(1);

    const holder = await new MemoryLocker(backend).tryAcquire('z');
    const triesBefore = backend.tries;
    const call = track(atomize(work('z'), { channel: 'z', timeout: 0 }).send());
    await settle(); // no time passes: the one attempt, and the answer
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error).toMatchObject({ timeout: 0, waited: 0 });
    expect(backend.tries - triesBefore).toBe(1);
    expect(requests).toHaveLength(1);
    await holder!.release();
  });

  it('timeout 0 with queue: false makes one attempt too, and keeps the backend error as cause', async () => {
    const locker = new MemoryLocker();
    const down = new Error('down');
    locker.faults.fail = down;
    const call = track(atomize(fakeAlova(locker).work('z'), { channel: 'z', timeout: 0, queue: false }).send());
    await settle();
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error.cause).toBe(down);
    expect(locker.backend.tries).toBe(1);
  });

  it('a release wakes the waiter at once, long before its interval', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('w');
    const { locker, at } = timed(new MemoryLocker(backend));
    const { work, requests } = fakeAlova(locker, { autoAnswer: true });
    const call = track(atomize(work('w'), { channel: 'w', timeout: 120_000, interval: 60_000 }).send());
    await vi.advanceTimersByTimeAsync(5000);
    expect(at).toEqual([0]);
    await holder!.release();
    await settle();
    expect(at).toEqual([0, 5000]);
    expect(call.value).toMatchObject({ ok: true });
    expect(requests).toHaveLength(1);
  });

  it('a release heard while an attempt is on its way makes it try again at once; later tries keep the interval', async () => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker, { autoAnswer: true }).work('r'), { channel: 'r', timeout: 10_000, interval: 1000 }).send());
    await settle();
    expect(locker.attempts).toHaveLength(1);
    locker.tell();
    locker.last.resolve(null);
    await settle();
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 0]);
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(999);
    expect(locker.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 0, 1000]);
    locker.last.resolve(handleOf('r'));
    await settle();
    expect(call.value).toMatchObject({ ok: true });
  });

  it("subscribes to releases with its wait's ticket, the one every attempt passes (a fair locker may leave a release alone while it is behind)", async () => {
    const locker = new ScriptedLocker();
    const { work } = fakeAlova(locker, { autoAnswer: true });
    const call = track(atomize(work('t'), { channel: 't', timeout: 60_000, interval: 100 }).send());
    await settle();
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(100);
    expect(locker.attempts).toHaveLength(2);
    expect(locker.subscribedWith).toHaveLength(1);
    expect(locker.subscribedWith[0]).toBeDefined();
    for (const attempt of locker.attempts) expect(attempt.ticket).toBe(locker.subscribedWith[0]);
    locker.last.resolve(handleOf('t'));
    await settle();
    expect(call.value).toMatchObject({ ok: true });
  });

  it('a handoff to this waiter wakes it at once; one to another waiter does not', async () => {
    const locker = new ScriptedLocker();
    const { work } = fakeAlova(locker, { autoAnswer: true });
    const call = track(atomize(work('g'), { channel: 'g', timeout: 60_000, interval: 10_000 }).send());
    await settle();
    const { ticket } = locker.last;
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(100);
    locker.tell({ grantedTo: 'somebody else' });
    await settle();
    expect(locker.attempts).toHaveLength(1);
    locker.tell({ grantedTo: ticket!.id });
    await settle();
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 100]);
    expect(locker.last.ticket).toBe(ticket);
    locker.last.resolve(handleOf('g'));
    await settle();
    expect(call.value).toMatchObject({ ok: true });
  });

  // Needs the change of src/server/acquire.ts and timing.ts where a handoff to another waiter no longer
  // restarts the interval (it fails on the code before that change, which waits for a quiet interval).
  it('tries at least once per interval even when it keeps hearing handoffs to other waiters', async () => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker, { autoAnswer: true }).work('busy'), { channel: 'busy', timeout: 60_000, interval: 1000 }).send());
    await settle();
    locker.last.resolve(null);
    // A busy channel: the lock goes to somebody else every 100 ms, for 3.5 s.
    for (let t = 100; t <= 3500; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      locker.tell({ grantedTo: `other-${t}` });
      if (locker.last.at === elapsed()) locker.last.resolve(null);
    }
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 1000, 2000, 3000]);
    await vi.advanceTimersByTimeAsync(500);
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 1000, 2000, 3000, 4000]);
    locker.last.resolve(handleOf('busy'));
    await settle();
    expect(call.value).toMatchObject({ ok: true });
  });

  it("waits the locker's retryAfter instead of the interval when it is longer, set anew by every attempt; a grant still wakes it", async () => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker, { autoAnswer: true }).work('paced'), { channel: 'paced', timeout: 60_000, interval: 100 }).send());
    await settle();
    const { ticket } = locker.last;
    ticket!.retryAfter = 800; // eighth in line, told of its turn
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(799);
    expect(locker.attempts.map((a) => a.at)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 800]);
    expect(ticket!.retryAfter).toBeUndefined(); // cleared before each attempt: a hint lasts one pause
    ticket!.retryAfter = 50; // shorter than the interval: the interval wins
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(100);
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 800, 900]);
    ticket!.retryAfter = 5000;
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(300);
    locker.tell({ grantedTo: ticket!.id });
    await settle();
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 800, 900, 1200]);
    locker.last.resolve(handleOf('paced'));
    await settle();
    expect(call.value).toMatchObject({ ok: true });
  });

  it('gives every attempt of one wait the same ticket, with its interval; aborts the ticket when the wait ends', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('t');
    const { locker, tickets } = timed(new MemoryLocker(backend));
    const { work } = fakeAlova(locker, { autoAnswer: true });
    const first = track(atomize(work('t'), { channel: 't', timeout: 10_000, interval: 250 }).send());
    await vi.advanceTimersByTimeAsync(600);
    expect(tickets).toHaveLength(3);
    expect(new Set(tickets).size).toBe(1);
    const ticket = tickets[0]!;
    expect(ticket.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ticket.signal.aborted).toBe(false);
    expect((ticket as { interval?: number }).interval).toBe(250);
    await holder!.release();
    await settle();
    expect(first.value).toMatchObject({ ok: true });
    expect(ticket.signal.aborted).toBe(true);

    // Another wait has a ticket of its own, aborted when that wait fails too.
    const again = await new MemoryLocker(backend).tryAcquire('t');
    const second = track(atomize(work('t'), { channel: 't', timeout: 100, interval: 250 }).send());
    await vi.advanceTimersByTimeAsync(100);
    expect(second.error).toBeInstanceOf(LockTimeoutError);
    expect(tickets.at(-1)!.id).not.toBe(ticket.id);
    expect(tickets.at(-1)!.signal.aborted).toBe(true);
    expect(backend.listeners.get('t')?.size ?? 0).toBe(0);
    await again!.release();
  });

  it('retries backend errors until the deadline, keeping the last one as cause', async () => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker).work('e'), { channel: 'e', timeout: 1000, interval: 400 }).send());
    const errors = [new Error('first'), new Error('second'), new Error('third'), new Error('last')];
    for (const error of errors) {
      await settle();
      locker.last.reject(error);
      await vi.advanceTimersByTimeAsync(400);
    }
    expect(locker.attempts.map((a) => a.at)).toEqual([0, 400, 800, 1000]);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error.cause).toBe(errors[3]);
  });

  it.each([null, undefined, 'a string'])('retries a backend rejection with %o, which has no code', async (rejection) => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker).work('n'), { channel: 'n', timeout: 500, interval: 200 }).send());
    await settle();
    locker.last.reject(rejection);
    await vi.advanceTimersByTimeAsync(200);
    expect(locker.attempts).toHaveLength(2);
    locker.last.resolve(null);
    await vi.advanceTimersByTimeAsync(300);
    locker.last.resolve(null);
    await settle();
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error.cause).toBe(rejection);
  });

  it.each([
    ['LockerConfigError', () => new LockerConfigError('wrong password')],
    ['LockerClosedError', () => new LockerClosedError('FileStorageAdapter')],
    ['InvalidChannelError', () => new InvalidChannelError('bad')],
  ])('fails at once, with the error itself, on a %s (no retry can mend it)', async (_name, make) => {
    const locker = new MemoryLocker();
    const fatal = make();
    locker.faults.fail = fatal;
    const error = await atomize(fakeAlova(locker).work('f'), { channel: 'f', timeout: 60_000 }).send().catch((e: unknown) => e);
    expect(error).toBe(fatal);
    expect(locker.backend.tries).toBe(1);
    expect(elapsed()).toBe(0);
  });

  it('settles at deadline + interval when the backend never answers, and releases a lock it grants later', async () => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker).work('h'), { channel: 'h', timeout: 1000, interval: 300 }).send());
    await vi.advanceTimersByTimeAsync(1299);
    expect(call.done).toBe(false);
    expect(locker.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(call.error.waited).toBe(1300);
    expect(call.error.cause).toEqual(new Error('the lock backend did not answer in time'));
    const late = handleOf('h');
    locker.last.resolve(late);
    await settle();
    expect(late.releases).toBe(1);
  });

  it('keeps the last backend error as cause when the attempt after it never answers', async () => {
    const locker = new ScriptedLocker();
    const call = track(atomize(fakeAlova(locker).work('h'), { channel: 'h', timeout: 1000, interval: 300 }).send());
    await settle();
    const refused = new Error('refused');
    locker.last.reject(refused);
    await vi.advanceTimersByTimeAsync(1300);
    expect(locker.attempts).toHaveLength(2);
    expect(call.error.cause).toBe(refused);
    locker.last.resolve(null); // a late "held" answer needs no release
    await settle();
  });

  it('a late acquisition whose release fails is given up quietly', async () => {
    const locker = new ScriptedLocker();
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const call = track(atomize(fakeAlova(locker).work('h'), { channel: 'h', timeout: 100, interval: 100 }).send());
      await vi.advanceTimersByTimeAsync(200);
      expect(call.error).toBeInstanceOf(LockTimeoutError);
      let releases = 0;
      locker.last.resolve({ channel: 'h', signal: new AbortController().signal, release: () => (releases++, Promise.reject(new Error('gone'))) });
      await vi.advanceTimersByTimeAsync(0);
      await vi.waitFor(() => expect(releases).toBe(1));
      vi.useRealTimers();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('abort() during the pause ends the wait at once with an AbortError, and tries no more', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('a');
    const { locker, at } = timed(new MemoryLocker(backend));
    const { work, requests } = fakeAlova(locker);
    const hooked = atomize(work('a'), { channel: 'a', timeout: 60_000, interval: 1000 });
    const call = track(hooked.send());
    await vi.advanceTimersByTimeAsync(1500);
    void hooked.abort();
    await settle();
    expect(call.error).toBeInstanceOf(AtomizeAbortError);
    expect(call.error).toMatchObject({ name: 'AbortError', code: 'ERR_ATOMIZE_ABORTED', channel: 'a' });
    expect(call.error.message).toBe('Aborted while waiting for the lock on channel "a"');
    expect(call.error.cause).toMatchObject({ name: 'AbortError' });
    expect(at).toEqual([0, 1000]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(at).toEqual([0, 1000]);
    expect(requests).toHaveLength(0);
    expect(backend.listeners.get('a')?.size ?? 0).toBe(0);
    await holder!.release();
  });

  it('abort() during an attempt ends the wait at once, and releases what that attempt takes', async () => {
    const locker = new ScriptedLocker();
    const { work, requests } = fakeAlova(locker);
    const hooked = atomize(work('a'), { channel: 'a', timeout: 60_000, interval: 1000 });
    const call = track(hooked.send());
    await settle();
    void hooked.abort();
    await settle();
    expect(call.error).toBeInstanceOf(AtomizeAbortError);
    const late = handleOf('a');
    locker.last.resolve(late);
    await settle();
    expect(late.releases).toBe(1);
    expect(locker.attempts).toHaveLength(1);
    expect(requests).toHaveLength(0);
  });

  it('takes several channels in order, and releases those taken when a later one times out', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('m2');
    const locker = new MemoryLocker(backend);
    const call = track(atomize(fakeAlova(locker).work(['m2', 'm1']), { channel: ['m2', 'm1'], timeout: 300, interval: 100 }).send());
    await settle();
    expect([...backend.holders.keys()].sort()).toEqual(['m1', 'm2']);
    await vi.advanceTimersByTimeAsync(300);
    expect(call.error).toMatchObject({ name: 'LockTimeoutError', channel: 'm2' });
    expect([...backend.holders.keys()]).toEqual(['m2']);
    await holder!.release();
  });
});

describe('the in-process line under atomize (fake timers)', () => {
  it('a caller behind another of this process waits without backend attempts, and times out no sooner than its deadline', async () => {
    const locker = new MemoryLocker();
    const { work, requests } = fakeAlova(locker);
    const first = track(atomize(work('q'), { channel: 'q' }).send());
    await settle();
    expect(requests).toHaveLength(1);
    const second = track(atomize(work('q'), { channel: 'q', timeout: 1000, interval: 10 }).send());
    await vi.advanceTimersByTimeAsync(999);
    expect(second.done).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(second.error).toBeInstanceOf(LockTimeoutError);
    expect(second.error.waited).toBeGreaterThanOrEqual(1000);
    expect(second.error.cause).toBeUndefined();
    expect(locker.backend.tries).toBe(1);
    requests[0]!.answer();
    await settle();
    expect(first.value).toMatchObject({ ok: true });
  });

  it('abort() of a caller waiting in the line is an AbortError at once', async () => {
    const locker = new MemoryLocker();
    const { work, requests } = fakeAlova(locker);
    track(atomize(work('q'), { channel: 'q' }).send());
    await settle();
    const hooked = atomize(work('q'), { channel: 'q', timeout: 60_000 });
    const second = track(hooked.send());
    await vi.advanceTimersByTimeAsync(100);
    void hooked.abort();
    await settle();
    expect(second.error).toBeInstanceOf(AtomizeAbortError);
    expect(locker.backend.tries).toBe(1);
    requests[0]!.answer();
    await settle();
  });

  it('a caller that fails hands the turn on: the next one of this process tries', async () => {
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('q');
    const locker = new MemoryLocker(backend);
    const { work, requests } = fakeAlova(locker, { autoAnswer: true });
    const first = track(atomize(work('q'), { channel: 'q', timeout: 200, interval: 100 }).send());
    const second = track(atomize(work('q'), { channel: 'q', timeout: 5000, interval: 100 }).send());
    await vi.advanceTimersByTimeAsync(200);
    expect(first.error).toBeInstanceOf(LockTimeoutError);
    const triesAfterFirst = backend.tries;
    await vi.advanceTimersByTimeAsync(100);
    expect(backend.tries).toBeGreaterThan(triesAfterFirst);
    await other!.release();
    await settle();
    expect(second.value).toMatchObject({ ok: true });
    expect(requests).toHaveLength(1);
  });

  it('with queue: false, callers of one process each try the backend', async () => {
    const backend = new MemoryBackend();
    const other = await new MemoryLocker(backend).tryAcquire('nq');
    const locker = new MemoryLocker(backend);
    const { work } = fakeAlova(locker);
    const calls = [0, 1, 2].map(() => track(atomize(work('nq'), { channel: 'nq', timeout: 100, interval: 100, queue: false }).send()));
    await settle();
    expect(backend.tries).toBe(1 + 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.every((c) => c.error instanceof LockTimeoutError)).toBe(true);
    await other!.release();
  });
});
