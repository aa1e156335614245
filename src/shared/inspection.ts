import { InvalidChannelError } from './errors.js';

/**
 * What `adapter.inspect(channel)` reads about one lock channel, at one moment, without changing
 * anything (no key, file or folder is written).
 */
export interface LockInspection {
  readonly channel: string;
  /**
   * Someone holds the channel now. On Redis this includes a lock handed to the first waiter that has not
   * confirmed it yet; on files, a lock not renewed for `stale` counts as free (the next attempt takes it over).
   */
  readonly held: boolean;
  /**
   * Who holds it, as the backend knows it: on Redis the lock's value (the holder's random token, or
   * with fair handoff the ticket id of its `atomize` call, also while a grant is not confirmed yet).
   * The file adapter records no holder: always absent there.
   */
  readonly holder?: string;
  /**
   * Ms until the lock ends unless its holder renews it (Redis: the key's TTL, for an unconfirmed grant
   * what is left of it; files: `stale` after the lock's last renewal). Absent when not held.
   */
  readonly expiresInMs?: number;
  /** Waiters in the channel's fair line (0 without fair handoff). */
  readonly waiters: number;
  /**
   * The channel's last fencing token, when one was ever given (held or not): a number, or the
   * backend's decimal string when it is not a safe integer.
   */
  readonly token?: number | string;
}

/** The channel, checked as the lockers check it: a non-empty string, or an `InvalidChannelError`. */
export const inspectable = (channel: unknown): string => {
  if (typeof channel !== 'string' || channel === '') throw new InvalidChannelError(channel);
  return channel;
};

/**
 * A stored fencing token as `LockInspection.token`: a number when it is a safe integer, else its
 * decimal text; none when there is no decimal integer (nothing stored, or something else).
 */
export const tokenOf = (text: string | null | undefined): number | string | undefined => {
  const digits = text?.trim();
  if (!digits || !/^\d+$/.test(digits)) return undefined;
  return Number.isSafeInteger(Number(digits)) ? Number(digits) : digits;
};
