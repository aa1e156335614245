/** Helpers for tests that run under fake timers. */
import { vi } from 'vitest';

/** Runs due timers and pending callbacks without moving the clock. */
export const settle = () => vi.advanceTimersByTimeAsync(0);

/** Tracks a call, to look at it while fake time stands still. */
export const track = <T>(promise: Promise<T>) => {
  const state: { done: boolean; value?: T; error?: any } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
};
