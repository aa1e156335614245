import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { takeTurn } from '../../src/server/local-queue.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

type Turn = (() => void) | null;

/** Joins the line and records when the turn (or null) comes. */
const join = (locker: object, channel: string, ms = 60_000, signal = new AbortController().signal) => {
  const state: { done: boolean; turn?: Turn } = { done: false };
  void takeTurn(locker, channel, signal, ms).then((turn) => Object.assign(state, { done: true, turn }));
  return state;
};

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('the in-process line', () => {
  it('gives a free line at once, without a timer', async () => {
    const locker = {};
    const end = await takeTurn(locker, 'c', new AbortController().signal, 100);
    expect(end).toBeTypeOf('function');
    expect(vi.getTimerCount()).toBe(0);
    end!();
  });

  it('serves waiters in arrival order, one at a time', async () => {
    const locker = {};
    const first = join(locker, 'c');
    const second = join(locker, 'c');
    const third = join(locker, 'c');
    await settle();
    expect([first.done, second.done, third.done]).toEqual([true, false, false]);
    first.turn!();
    await settle();
    expect([second.done, third.done]).toEqual([true, false]);
    second.turn!();
    await settle();
    expect(third.done).toBe(true);
    third.turn!();
    // The line is free again: the next caller goes at once.
    const next = join(locker, 'c');
    await settle();
    expect(next.done).toBe(true);
    next.turn!();
  });

  it('ending a turn twice passes it on once', async () => {
    const locker = {};
    const first = join(locker, 'c');
    const second = join(locker, 'c');
    const third = join(locker, 'c');
    await settle();
    first.turn!();
    first.turn!();
    await settle();
    expect([second.done, third.done]).toEqual([true, false]);
    second.turn!();
    await settle();
    third.turn!();
  });

  it('keeps a line per locker and per channel', async () => {
    const [a, b] = [{}, {}];
    const turns = [join(a, 'x'), join(a, 'y'), join(b, 'x')];
    await settle();
    expect(turns.map((t) => t.done)).toEqual([true, true, true]);
    for (const t of turns) t.turn!();
  });

  it('gives null after `ms` and leaves the line; the waiter after it is served next', async () => {
    const locker = {};
    const head = join(locker, 'c');
    const quitter = join(locker, 'c', 100);
    const stayer = join(locker, 'c');
    await vi.advanceTimersByTimeAsync(99);
    expect(quitter.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(quitter).toEqual({ done: true, turn: null });
    head.turn!();
    await settle();
    expect(stayer.done).toBe(true);
    stayer.turn!();
    // Nobody is left waiting: the next caller goes at once.
    const next = join(locker, 'c');
    await settle();
    expect(next.done).toBe(true);
    next.turn!();
  });

  it('gives null at once when the signal aborts, or had aborted (without joining the line)', async () => {
    const locker = {};
    const head = join(locker, 'c');
    const controller = new AbortController();
    const quitter = join(locker, 'c', 60_000, controller.signal);
    const stayer = join(locker, 'c');
    await settle();
    controller.abort();
    await settle();
    expect(quitter).toEqual({ done: true, turn: null });
    expect(vi.getTimerCount()).toBe(1); // the stayer's own bound only

    const late = join(locker, 'c', 60_000, controller.signal);
    await settle();
    expect(late).toEqual({ done: true, turn: null });
    expect(vi.getTimerCount()).toBe(1);

    head.turn!();
    await settle();
    expect(stayer.done).toBe(true);
    stayer.turn!();
  });

  it('leaves no timer and no abort listener behind once the turn comes', async () => {
    const locker = {};
    const signal = new AbortController().signal;
    const head = join(locker, 'c');
    const waiter = join(locker, 'c', 60_000, signal);
    await settle();
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);
    head.turn!();
    await settle();
    expect(waiter.done).toBe(true);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    waiter.turn!();
  });

  it('leaves no timer and no abort listener behind when it gives up', async () => {
    const locker = {};
    const timedOut = new AbortController().signal;
    const aborted = new AbortController();
    const head = join(locker, 'c');
    join(locker, 'c', 10, timedOut);
    join(locker, 'c', 60_000, aborted.signal);
    await vi.advanceTimersByTimeAsync(10);
    aborted.abort();
    await settle();
    expect(getEventListeners(timedOut, 'abort')).toHaveLength(0);
    expect(getEventListeners(aborted.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    head.turn!();
  });
});
