import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pause, settleWithin, type Settled, type Wake } from '../../src/server/timing.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Tracks whether a promise has settled, to look at it while fake time stands still. */
const track = <T>(promise: Promise<T>) => {
  const state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => Object.assign(state, { done: true, value }));
  return state;
};

const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('pause', () => {
  it('waits `ms`, and leaves no timer nor abort listener behind', async () => {
    const signal = new AbortController().signal;
    const paused = track(pause(100, Date.now() + 10_000, signal));
    expect(abortListeners(signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(paused.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(paused.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(signal)).toBe(0);
  });

  it('never waits past `until`, and not at all when `until` has passed', async () => {
    const signal = new AbortController().signal;
    const short = track(pause(100, Date.now() + 30, signal));
    await vi.advanceTimersByTimeAsync(29);
    expect(short.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(short.done).toBe(true);

    const past = track(pause(100, Date.now() - 50, signal));
    await vi.advanceTimersByTimeAsync(0);
    expect(past.done).toBe(true);
  });

  it('ends at once when the signal aborts, or has aborted already (then no wake-up is asked for)', async () => {
    const controller = new AbortController();
    const onWake = vi.fn(() => () => undefined);
    const paused = track(pause(60_000, Date.now() + 60_000, controller.signal, onWake));
    expect(onWake).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(paused.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    const onWakeLate = vi.fn(() => () => undefined);
    const already = track(pause(60_000, Date.now() + 60_000, controller.signal, onWakeLate));
    await vi.advanceTimersByTimeAsync(0);
    expect(already.done).toBe(true);
    expect(onWakeLate).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('ends at once on wake(), and then stops listening for wake-ups', async () => {
    const signal = new AbortController().signal;
    let wake: Wake | undefined;
    const off = vi.fn(() => (wake = undefined));
    const paused = track(
      pause(60_000, Date.now() + 60_000, signal, (w) => {
        wake = w;
        return off;
      }),
    );
    await vi.advanceTimersByTimeAsync(10);
    expect(paused.done).toBe(false);
    expect(off).not.toHaveBeenCalled();
    wake!();
    await vi.advanceTimersByTimeAsync(0);
    expect(paused.done).toBe(true);
    expect(off).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(signal)).toBe(0);
  });

  it('stops listening for wake-ups when its time is up', async () => {
    const off = vi.fn();
    await Promise.all([pause(50, Date.now() + 1000, new AbortController().signal, () => off), vi.advanceTimersByTimeAsync(50)]);
    expect(off).toHaveBeenCalledTimes(1);
  });
});

describe('settleWithin', () => {
  const noLate = () => {
    throw new Error('onLate must not be called');
  };

  it('gives the value, or the error, when the promise settles in time; no timer or listener is left', async () => {
    const signal = new AbortController().signal;
    const value = settleWithin(Promise.resolve('v'), 100, signal, noLate);
    const error = new Error('e');
    const failed = settleWithin(Promise.reject(error), 100, signal, noLate);
    expect(await value).toEqual({ ok: true, value: 'v' });
    expect(await failed).toEqual({ ok: false, error });
    expect(vi.getTimerCount()).toBe(0);
    expect(abortListeners(signal)).toBe(0);
  });

  it('answers late after `ms`, and hands a value that comes later to onLate', async () => {
    const signal = new AbortController().signal;
    let resolve!: (value: string) => void;
    const onLate = vi.fn();
    const outcome = track(settleWithin(new Promise<string>((r) => (resolve = r)), 100, signal, onLate));
    await vi.advanceTimersByTimeAsync(99);
    expect(outcome.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome.value).toEqual({ late: true });
    expect(abortListeners(signal)).toBe(0);
    expect(onLate).not.toHaveBeenCalled();
    resolve('later');
    await vi.advanceTimersByTimeAsync(0);
    expect(onLate).toHaveBeenCalledWith('later');
  });

  it('ignores an error that comes late', async () => {
    let reject!: (error: Error) => void;
    const onLate = vi.fn();
    const outcome = settleWithin(new Promise<string>((_, r) => (reject = r)), 10, new AbortController().signal, onLate);
    await vi.advanceTimersByTimeAsync(10);
    expect(await outcome).toEqual({ late: true });
    reject(new Error('too late'));
    await vi.advanceTimersByTimeAsync(0);
    expect(onLate).not.toHaveBeenCalled();
  });

  it('answers late at once for a negative `ms`', async () => {
    const outcome = track(settleWithin(new Promise(() => undefined), -50, new AbortController().signal, noLate));
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome.value).toEqual({ late: true });
  });

  it('answers late when the signal aborts, or has aborted; a value after that goes to onLate', async () => {
    const controller = new AbortController();
    let resolve!: (value: string) => void;
    const onLate = vi.fn();
    const outcome = track(settleWithin(new Promise<string>((r) => (resolve = r)), 60_000, controller.signal, onLate));
    await vi.advanceTimersByTimeAsync(5);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome.value).toEqual({ late: true } satisfies Settled<string>);
    expect(vi.getTimerCount()).toBe(0);
    resolve('after abort');
    await vi.advanceTimersByTimeAsync(0);
    expect(onLate).toHaveBeenCalledWith('after abort');

    const already = track(settleWithin(Promise.resolve('ready'), 60_000, controller.signal, onLate));
    await vi.advanceTimersByTimeAsync(0);
    expect(already.value).toEqual({ late: true });
    expect(onLate).toHaveBeenLastCalledWith('ready');
    expect(vi.getTimerCount()).toBe(0);
  });
});
