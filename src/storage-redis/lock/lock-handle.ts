import type { Lock } from '@sesamecare-oss/redlock';
import type { LockHandle } from '../../shared/contract.js';
import { LockerClosedError, LockLostError } from '../../shared/errors.js';
import { reasonOf } from '../connection/server-errors.js';
import { keepAlive, type Lease, type LeaseSpec } from './keep-alive.js';
import type { LockContext } from './lock-context.js';
import { releaseKey } from './release-key.js';
import { explainLoss, isGone } from './verdict.js';

/**
 * One held Redis lock: its lease kept alive until `release()`, its loss signalled. The adapter can
 * also end it: `lose` aborts its signal (as when the lock is lost).
 */
export class RedisLockHandle implements LockHandle {
  readonly #lost = new AbortController();
  readonly #lease: Lease;
  #released: Promise<void> | undefined;

  /**
   * @param free releases the key (default: delete it where it still holds the lock's value, and notify)
   * @param token the acquisition's fencing token, when the locker gives one
   * @param renewal how a renewal is tried and judged (default: Redlock's, over the voters)
   */
  constructor(
    private readonly ctx: LockContext,
    readonly channel: string,
    key: string,
    lock: Lock,
    private readonly free: () => Promise<unknown> = () => releaseKey(ctx, channel, key, lock.value),
    readonly token?: number,
    renewal: Pick<LeaseSpec, 'extend' | 'isGone'> = {
      extend: (current) => ctx.redlock.extend(current, ctx.ttl, { retryCount: 0 }),
      isGone: (error, current) => isGone(ctx, error, current),
    },
  ) {
    this.#lease = keepAlive(lock, {
      ttl: ctx.ttl,
      ...renewal,
      explain: (error, current, gone) => explainLoss(ctx, error, current, gone),
      unanswered: (error) => ctx.voters.map((voter) => reasonOf(voter, error)).join('; '),
      onLost: ({ cause, reason }) => this.lose(cause, reason),
    });
    ctx.live.add(this);
  }

  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /**
   * The lock is lost (or the adapter closes): stops the lease, aborts `signal` with a `LockLostError`
   * that says why (`reason`). Never throws.
   */
  lose(cause: unknown, reason = cause instanceof LockerClosedError ? 'the adapter was closed (adapter.close())' : undefined): void {
    this.#lease.stop();
    if (!this.#lost.signal.aborted) this.#lost.abort(new LockLostError(this.channel, cause, reason));
  }

  release(): Promise<void> {
    return (this.#released ??= this.#release());
  }

  async #release(): Promise<void> {
    this.#lease.stop();
    this.ctx.live.delete(this);
    await this.free();
  }
}
