/**
 * The diagnostics_channel events of atomize, in process under fake timers (test/observability.test.ts
 * has them on real backends, and the NODE_DEBUG log of a real child process).
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atomize, EVENTS, LockLostError, LockTimeoutError } from '../../src/server/index.js';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { fakeAlova } from '../helpers/fake-alova.js';
import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';
import { settle, track } from '../helpers/track.js';

const T0 = 1_000_000;

/** Every event of the lock channels, in order, as [short name, message]. */
const heard: Array<[string, Record<string, unknown>]> = [];
const listeners = Object.entries(EVENTS)
  .filter(([name]) => name !== 'send')
  .map(([name, channel]) => [channel, (message: unknown) => heard.push([name, message as Record<string, unknown>])] as const);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  heard.length = 0;
  for (const [channel, listener] of listeners) subscribe(channel, listener);
});
afterEach(() => {
  for (const [channel, listener] of listeners) unsubscribe(channel, listener);
  vi.useRealTimers();
});

describe('atomize events (diagnostics_channel)', () => {
  it('names its channels', () => {
    expect(EVENTS).toEqual({
      wait: 'alova-atomize:wait',
      acquire: 'alova-atomize:acquire',
      release: 'alova-atomize:release',
      lost: 'alova-atomize:lost',
      timeout: 'alova-atomize:timeout',
      send: 'alova-atomize:send',
    });
    expect(Object.isFrozen(EVENTS)).toBe(true);
  });

  it('a contended call: wait once, acquire with the time waited and the attempts, release with the time held', async () => {
    const backend = new MemoryBackend();
    const holder = await new MemoryLocker(backend).tryAcquire('e');
    const { work, requests } = fakeAlova(new MemoryLocker(backend));
    const call = track(atomize(work('e'), { channel: 'e', interval: 100, timeout: 10_000 }).send());
    await vi.advanceTimersByTimeAsync(250);
    expect(heard).toEqual([['wait', { channel: 'e' }]]);
    await holder!.release();
    await settle();
    expect(heard.at(-1)).toStrictEqual(['acquire', { channel: 'e', waitedMs: 250, attempts: 4 }]); // no token key at all
    await vi.advanceTimersByTimeAsync(150);
    requests[0]!.answer();
    await settle();
    expect(call.value).toMatchObject({ ok: true });
    expect(heard).toEqual([
      ['wait', { channel: 'e' }],
      ['acquire', { channel: 'e', waitedMs: 250, attempts: 4 }],
      ['release', { channel: 'e', heldMs: 150 }],
    ]);
  });

  it('a free channel: no wait, one attempt, and the fencing token of the handle', async () => {
    const locker: AtomicLocker = {
      lock: async () => undefined,
      unlock: async () => undefined,
      tryAcquire: async (channel) => ({ channel, signal: new AbortController().signal, token: 7, release: async () => undefined }) as LockHandle,
    };
    await atomize(fakeAlova(locker, { autoAnswer: true }).work('t'), { channel: 't' }).send();
    expect(heard).toEqual([
      ['acquire', { channel: 't', waitedMs: 0, attempts: 1, token: 7 }],
      ['release', { channel: 't', heldMs: 0 }],
    ]);
  });

  it('a backend error is no wait; a timeout tells the time waited', async () => {
    const locker = new MemoryLocker();
    locker.faults.fail = new Error('down');
    const call = track(atomize(fakeAlova(locker).work('x'), { channel: 'x', interval: 100, timeout: 300 }).send());
    await vi.advanceTimersByTimeAsync(300);
    expect(call.error).toBeInstanceOf(LockTimeoutError);
    expect(heard).toEqual([['timeout', { channel: 'x', waitedMs: 300 }]]);
  });

  it('a caller that times out in the in-process line tells it too; an aborted one tells nothing', async () => {
    const locker = new MemoryLocker();
    const { work, requests } = fakeAlova(locker);
    track(atomize(work('q'), { channel: 'q' }).send());
    await settle();
    heard.length = 0;
    const lined = track(atomize(work('q'), { channel: 'q', timeout: 200 }).send());
    const hooked = atomize(work('q'), { channel: 'q', timeout: 60_000 });
    const aborted = track(hooked.send());
    await vi.advanceTimersByTimeAsync(100);
    void hooked.abort();
    await vi.advanceTimersByTimeAsync(101);
    expect(lined.error).toBeInstanceOf(LockTimeoutError);
    expect(aborted.error).toMatchObject({ name: 'AbortError' });
    expect(heard).toEqual([['timeout', { channel: 'q', waitedMs: 201 }]]);
    requests[0]!.answer();
    await settle();
  });

  it('a lock lost while held tells lost with the reason; one lost after its release tells nothing', async () => {
    const backend = new MemoryBackend();
    const { work, requests } = fakeAlova(new MemoryLocker(backend));
    const call = track(atomize(work('l'), { channel: 'l' }).send());
    await settle();
    backend.steal('l');
    await settle();
    expect(call.error).toBeInstanceOf(LockLostError);
    const lost = heard.find(([name]) => name === 'lost');
    expect(lost?.[1]).toMatchObject({ channel: 'l' });
    expect(lost?.[1].error).toBe(call.error);
    expect(requests[0]!.aborted).toBe(true);

    // Held, released, then its signal aborts: not a loss of a held lock.
    heard.length = 0;
    const controller = new AbortController();
    const locker: AtomicLocker = {
      lock: async () => undefined,
      unlock: async () => undefined,
      tryAcquire: async (channel) => ({ channel, signal: controller.signal, release: async () => undefined }),
    };
    await atomize(fakeAlova(locker, { autoAnswer: true }).work('r'), { channel: 'r' }).send();
    controller.abort(new Error('after the release'));
    expect(heard.map(([name]) => name)).toEqual(['acquire', 'release']);
  });

  it('traces each send on alova-atomize:send, with the channels and the method, to its outcome', async () => {
    const seen: string[] = [];
    const contexts: Array<{ channels: readonly string[]; method: unknown; result?: unknown; error?: unknown }> = [];
    const handlers = {
      start: (context: any) => (seen.push('start'), contexts.push(context)),
      end: () => seen.push('end'),
      asyncStart: () => seen.push('asyncStart'),
      asyncEnd: () => seen.push('asyncEnd'),
      error: () => seen.push('error'),
    };
    const tracing = tracingChannel(EVENTS.send);
    tracing.subscribe(handlers);
    try {
      const method = fakeAlova(new MemoryLocker(), { autoAnswer: true }).work(['b', 'a']);
      const response = await atomize(method, { channel: ['b', 'a'] }).send();
      expect(seen).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      expect(contexts[0]).toMatchObject({ channels: ['a', 'b'], method, result: response });

      seen.length = 0;
      const failing = new MemoryLocker();
      failing.faults.fail = new LockTimeoutError('c', 0, 0);
      const error = await atomize(fakeAlova(failing).work('c'), { channel: 'c', timeout: 0 }).send().catch((e: unknown) => e);
      expect(seen).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      expect(contexts[1]!.error).toBe(error);
    } finally {
      tracing.unsubscribe(handlers);
    }
  });
});
