/**
 * The channels the current async context holds through `withLock`, per locker, so that asking for one
 * of them again (a nested `withLock` or `atomize` on the same locker and channel) fails at once with
 * `LockReentryError` instead of waiting for itself. Cleared when the locks are released, so work that
 * outlives them (a timer started inside) is not taken for reentry.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LockReentryError } from '../shared/errors.js';

type Holdings = Map<object, Set<string>>;

const context = new AsyncLocalStorage<Holdings>();

/** Throws `LockReentryError` when the current context holds one of `channels` of `locker`. */
export const refuseReentry = (locker: object, channels: readonly string[]): void => {
  const mine = context.getStore()?.get(locker);
  const again = mine ? channels.find((channel) => mine.has(channel)) : undefined;
  if (again !== undefined) throw new LockReentryError(again);
};

/** Runs `fn` in a context that holds `channels` of `locker` (besides what the current one holds) until `fn` settles. */
export const runHolding = async <T>(locker: object, channels: readonly string[], fn: () => Promise<T>): Promise<T> => {
  const holdings: Holdings = new Map([...(context.getStore() ?? new Map<object, Set<string>>())].map(([key, set]) => [key, new Set(set)]));
  const mine = holdings.get(locker) ?? new Set<string>();
  for (const channel of channels) mine.add(channel);
  holdings.set(locker, mine);
  try {
    return await context.run(holdings, fn);
  } finally {
    for (const channel of channels) mine.delete(channel);
  }
};
