import type { Lock } from '@sesamecare-oss/redlock';
import { NoAnswerError, within } from '../connection/within.js';

export interface LeaseSpec {
  /** Lease length, ms: renewed every third of it. */
  readonly ttl: number;
  /** One renewal attempt; resolves the renewed lock. */
  extend(lock: Lock): Promise<Lock>;
  /** True when the failure shows the lock is no longer ours (removed, or taken by another holder). */
  isGone(error: unknown, lock: Lock): Promise<boolean>;
  /** Called once when the lock is lost. */
  onLost(cause: unknown): void;
}

export interface Lease {
  /** Stops renewing (an attempt in flight is left to finish: it can never revive a released key). */
  stop(): void;
}

/**
 * Keeps a lock alive: renews it when a third of its lease has passed (counted from the confirmed
 * expiry, so a lock confirmed late is renewed at once), then every `ttl / 3`; after a failed renewal
 * tries again sooner, as long as the lease lasts. The lock is lost when it is found gone, or when the
 * lease runs out unrenewed (a renewal still unanswered then counts as failed). Timers do not keep the
 * process alive.
 */
export const keepAlive = (first: Lock, spec: LeaseSpec): Lease => {
  const period = Math.max(1, Math.floor(spec.ttl / 3));
  let lock = first;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number): void => {
    timer = setTimeout(() => void renew(), ms);
    timer.unref?.();
  };
  const lose = (cause: unknown): void => {
    if (stopped) return;
    stopped = true;
    spec.onLost(cause);
  };
  const renew = async (): Promise<void> => {
    const left = lock.expiration - Date.now();
    if (stopped) return;
    if (left <= 0) return lose(new Error('the lease ran out before it could be renewed'));
    try {
      const renewed = await within(spec.extend(lock), left);
      if (!stopped) {
        lock = renewed;
        schedule(period);
      }
    } catch (error) {
      if (stopped) return;
      if (error instanceof NoAnswerError) return lose(new Error(`the lease ran out while its renewal was unanswered (${error.message})`));
      if (await spec.isGone(error, lock)) return lose(error);
      const remaining = lock.expiration - Date.now();
      if (remaining <= 0) return lose(error);
      schedule(Math.max(5, Math.min(period, remaining / 2)));
    }
  };
  schedule(Math.max(0, first.expiration - Date.now() - (spec.ttl - period)));
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
};
