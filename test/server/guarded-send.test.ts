/** The request under the locks: sent once all are held, aborted when one is lost or the call is aborted. */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atomize, LockLostError } from '../../src/server/index.js';
import type { AtomicLocker, LockHandle } from '../../src/shared/contract.js';
import { fakeAlova } from '../helpers/fake-alova.js';
import { MemoryBackend, MemoryLocker } from '../helpers/memory-locker.js';
import { settle, track } from '../helpers/track.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});


/** A locker that hands out handles whose loss the test controls; it counts releases. */
const controlledLocker = () => {
  const handles = new Map<string, { controller: AbortController; handle: LockHandle }>();
  const released: string[] = [];
  const locker: AtomicLocker = {
    lock: async () => undefined,
    unlock: async () => undefined,
    tryAcquire: async (channel) => {
      const controller = new AbortController();
      const handle = { channel, signal: controller.signal, release: async () => void released.push(channel) };
      handles.set(channel, { controller, handle });
      return handle;
    },
  };
  return { locker, handles, released };
};

describe('the request under the locks', () => {
  it('rejects with the LockLostError the locker gave, and aborts the request, when a lock is lost', async () => {
    const locker = new MemoryLocker();
    const { work, requests } = fakeAlova(locker);
    const call = track(atomize(work('l'), { channel: 'l' }).send());
    await settle();
    expect(requests).toHaveLength(1);
    locker.backend.steal('l');
    await settle();
    expect(requests[0]!.aborted).toBe(true);
    expect(call.error).toBeInstanceOf(LockLostError);
    expect(call.error).toMatchObject({ code: 'ERR_ATOMIZE_LOCK_LOST', channel: 'l' });
    expect(call.error.message).toBe('Lock on channel "l" was lost while the request ran');
    expect(call.error.cause).toEqual(new Error('stolen by the test'));
  });

  it('wraps another reason for the loss in a LockLostError', async () => {
    const { locker, handles, released } = controlledLocker();
    const { work, requests } = fakeAlova(locker);
    const call = track(atomize(work('w'), { channel: 'w' }).send());
    await settle();
    const reason = new Error('lease expired');
    handles.get('w')!.controller.abort(reason);
    await settle();
    expect(requests[0]!.aborted).toBe(true);
    expect(call.error).toBeInstanceOf(LockLostError);
    expect(call.error).toMatchObject({ channel: 'w', cause: reason });
    expect(released).toEqual(['w']);
  });

  it('a lost lock wins over a response that comes after it', async () => {
    const { locker, handles } = controlledLocker();
    const { work, requests } = fakeAlova(locker);
    const call = track(atomize(work('r'), { channel: 'r' }).send());
    await settle();
    handles.get('r')!.controller.abort(new Error('lost'));
    requests[0]!.answer();
    await settle();
    expect(call.error).toBeInstanceOf(LockLostError);
  });

  it('never sends the request when a lock was lost before it could be sent', async () => {
    const { locker, handles, released } = controlledLocker();
    const tryAcquire = locker.tryAcquire.bind(locker);
    // The first channel's lock is lost while the second is taken.
    locker.tryAcquire = async (channel, ticket) => {
      if (channel === 'b') handles.get('a')!.controller.abort(new Error('lost meanwhile'));
      return tryAcquire(channel, ticket);
    };
    const { work, requests } = fakeAlova(locker);
    const call = track(atomize(work(['a', 'b']), { channel: ['a', 'b'] }).send());
    await settle();
    expect(call.error).toBeInstanceOf(LockLostError);
    expect(call.error.channel).toBe('a');
    expect(requests).toHaveLength(0);
    expect(released).toEqual(['b', 'a']);
  });

  it('passes the response on, and stops listening to the lock signals once the request settled', async () => {
    const { locker, handles, released } = controlledLocker();
    const { work, requests } = fakeAlova(locker);
    const hooked = atomize(work(['x', 'y']), { channel: ['x', 'y'] });
    const call = track(hooked.send());
    await settle();
    const signals = [...handles.values()].map(({ handle }) => handle.signal);
    // The send's own listener, and the one that reports a loss as `alova-atomize:lost`.
    expect(signals.map((s) => getEventListeners(s, 'abort').length)).toEqual([2, 2]);
    requests[0]!.answer();
    await settle();
    expect(call.value).toMatchObject({ ok: true });
    expect(signals.map((s) => getEventListeners(s, 'abort').length)).toEqual([0, 0]);
    expect(released).toEqual(['y', 'x']);
    // A loss after the response changes nothing.
    handles.get('x')!.controller.abort(new Error('late'));
    await settle();
    expect(call.value).toMatchObject({ ok: true });
  });

  it("passes the request's own failure on, and releases", async () => {
    const backend = new MemoryBackend();
    const { work, requests } = fakeAlova(new MemoryLocker(backend));
    const call = track(atomize(work('f'), { channel: 'f' }).send());
    await settle();
    const failure = new Error('502');
    requests[0]!.fail(failure);
    await settle();
    expect(call.error).toBe(failure);
    expect(backend.holders.size).toBe(0);
  });

  it('abort() while the request runs aborts the request, and releases', async () => {
    const backend = new MemoryBackend();
    const { work, requests } = fakeAlova(new MemoryLocker(backend));
    const hooked = atomize(work('ab'), { channel: 'ab' });
    const call = track(hooked.send());
    await settle();
    void hooked.abort();
    await settle();
    expect(requests[0]!.aborted).toBe(true);
    expect(call.error).toMatchObject({ name: 'AbortError' });
    expect(call.error).not.toBeInstanceOf(LockLostError);
    expect(backend.holders.size).toBe(0);
  });
});
