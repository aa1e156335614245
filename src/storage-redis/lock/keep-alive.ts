import type { Lock } from '@sesamecare-oss/redlock';
import { NoAnswerError, within } from '../connection/within.js';

/** Why a lock was lost: in words (what `LockLostError` says), and the error underneath, if any. */
export interface Loss {
  readonly reason: string;
  readonly cause?: unknown;
}

export interface LeaseSpec {
  /** Lease length, ms: renewed every third of it. */
  readonly ttl: number;
  /** One renewal attempt; resolves the renewed lock. */
  extend(lock: Lock): Promise<Lock>;
  /** True when the failure shows the lock is no longer ours (removed, or taken by another holder). */
  isGone(error: unknown, lock: Lock): Promise<boolean>;
  /**
   * Why a renewal failed, in words: when `gone`, what became of the lock (deleted, taken over); else
   * what the servers answered (unreachable, timed out, refused).
   */
  explain(error: unknown, lock: Lock, gone: boolean): Promise<Loss>;
  /** Which servers left a renewal unanswered, in words. */
  unanswered(error: NoAnswerError): string;
  /** Called once when the lock is lost. */
  onLost(loss: Loss): void;
}

export interface Lease {
  /** Stops renewing (an attempt in flight is left to finish: it can never revive a released key). */
  stop(): void;
}

/**
 * Keeps a lock alive: renews it when a third of its lease has passed (counted from the confirmed
 * expiry, so a lock confirmed late is renewed at once), then every `ttl / 3`; after a failed renewal
 * tries again sooner, as long as the lease lasts. The lock is lost when it is found gone, or when the
 * lease runs out unrenewed (a renewal still unanswered then counts as failed); the loss says which,
 * and why (`explain`, bounded by its caller: it delays the lost signal).
 * Timers do not keep the process alive.
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
  const lose = (loss: Loss): void => {
    if (stopped) return;
    stopped = true;
    spec.onLost(loss);
  };
  const renew = async (): Promise<void> => {
    const left = lock.expiration - Date.now();
    if (stopped) return;
    if (left <= 0) {
      return lose({
        reason: `its lease had run out ${Math.round(-left)} ms before this process could renew it (the process was stalled: a blocked event loop, a long pause, SIGSTOP)`,
      });
    }
    try {
      const renewed = await within(spec.extend(lock), left);
      if (!stopped) {
        lock = renewed;
        schedule(period);
      }
    } catch (error) {
      if (stopped) return;
      if (error instanceof NoAnswerError) return lose({ reason: `its lease ran out while its renewal was unanswered: ${spec.unanswered(error)}`, cause: error });
      const gone = await spec.isGone(error, lock);
      const remaining = lock.expiration - Date.now();
      if (!gone && remaining > 0) return schedule(Math.max(5, Math.min(period, remaining / 2)));
      if (stopped) return;
      const loss = await spec.explain(error, lock, gone);
      lose(gone ? loss : { reason: `its lease ran out before a renewal succeeded: ${loss.reason}`, cause: loss.cause });
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
