import type { Lock } from '@sesamecare-oss/redlock';
import type { LockHandle } from '../shared/contract.js';
import { LockLostError } from '../shared/errors.js';
import { votesOf, type LockContext } from './context.js';
import { isHeldVote } from './failures.js';
import { keepAlive } from './lease.js';
import { releaseKey } from './release.js';

/** True when so many voters no longer hold our value that no quorum can: the lock is gone. */
const isGone = async (ctx: LockContext, error: unknown, lock: Lock): Promise<boolean> => {
  const votes = await votesOf(ctx, error, Math.max(0, lock.expiration - Date.now()));
  const gone = votes?.filter((vote) => isHeldVote(vote.error)).length ?? 0;
  return gone > ctx.voters.length - ctx.quorum;
};

/** A handle the adapter can also end: `lose` aborts its signal (as when the lock is lost). */
export interface OwnedHandle extends LockHandle {
  lose(cause: unknown): void;
}

/**
 * A handle on a lock just taken: its lease kept alive until `release()`, its loss signalled. `free`
 * releases the key (default: delete it where it still holds the lock's value, and notify).
 */
export const openHandle = (
  ctx: LockContext,
  channel: string,
  key: string,
  lock: Lock,
  free: () => Promise<unknown> = () => releaseKey(ctx, channel, key, lock.value),
): LockHandle => {
  const controller = new AbortController();
  let released: Promise<void> | undefined;
  const lease = keepAlive(lock, {
    ttl: ctx.ttl,
    extend: (current) => ctx.redlock.extend(current, ctx.ttl, { retryCount: 0 }),
    isGone: (error, current) => isGone(ctx, error, current),
    onLost: (cause) => lose(cause),
  });
  const lose = (cause: unknown): void => {
    lease.stop();
    if (!controller.signal.aborted) controller.abort(new LockLostError(channel, cause));
  };
  const handle: OwnedHandle = {
    channel,
    signal: controller.signal,
    lose,
    release: () =>
      (released ??= (async () => {
        lease.stop();
        ctx.live.delete(handle);
        await free();
      })()),
  };
  ctx.live.add(handle);
  return handle;
};
