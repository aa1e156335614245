import type { Method } from 'alova';
import { LockerConfigError } from '../shared/errors.js';
import { formatFencingHeader } from '../shared/fencing-header.js';
import type { Held } from './acquire.js';
import type { HeldLocks, ResolvedOptions } from './options.js';

/** What the locks of a send tell `beforeSend` and the fencing header. */
export const heldLocks = (held: readonly Held[]): HeldLocks => {
  const pairs = held.flatMap(({ handle }) => (handle.token === undefined ? [] : [[handle.channel, handle.token] as const]));
  const complete = pairs.length === held.length && held.length > 0;
  return {
    channels: held.map(({ handle }) => handle.channel),
    tokens: Object.fromEntries(pairs),
    fencingToken: complete ? formatFencingHeader(pairs) : undefined,
  };
};

/**
 * Runs under the locks, before the request is sent: writes the fencing header (when asked for) and
 * calls `beforeSend`. Rejects when a fencing header is asked of a locker that gives no tokens.
 */
export const beforeSend = async (method: Method, held: readonly Held[], options: Pick<ResolvedOptions, 'fencingHeader' | 'beforeSend'>): Promise<void> => {
  if (!options.fencingHeader && !options.beforeSend) return;
  const lock = heldLocks(held);
  if (options.fencingHeader) {
    if (lock.fencingToken === undefined) {
      throw new LockerConfigError(`atomize: \`fencingHeader\` needs fencing tokens, and the locker of channel "${held[0]?.handle.channel}" gives none (a Redlock quorum, or a plain alova locker)`);
    }
    method.config.headers = { ...(method.config.headers as object), [options.fencingHeader]: lock.fencingToken };
  }
  await options.beforeSend?.(method, lock);
};
