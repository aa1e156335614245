import type { Lock } from '@sesamecare-oss/redlock';
import type { LockHandle } from '../../shared/contract.js';
import { LockLostError } from '../../shared/errors.js';
import { keepAlive, type Lease } from './keep-alive.js';
import type { LockContext } from './lock-context.js';
import { releaseKey } from './release-key.js';
import { isGone } from './verdict.js';

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
   */
  constructor(
    private readonly ctx: LockContext,
    readonly channel: string,
    key: string,
    lock: Lock,
    private readonly free: () => Promise<unknown> = () => releaseKey(ctx, channel, key, lock.value),
    readonly token?: number,
  ) {
    this.#lease = keepAlive(lock, {
      ttl: ctx.ttl,
      extend: (current) => ctx.redlock.extend(current, ctx.ttl, { retryCount: 0 }),
      isGone: (error, current) => isGone(ctx, error, current),
      onLost: (cause) => this.lose(cause),
    });
    ctx.live.add(this);
  }

  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** The lock is lost (or the adapter closes): stops the lease, aborts `signal`. Never throws. */
  lose(cause: unknown): void {
    this.#lease.stop();
    if (!this.#lost.signal.aborted) this.#lost.abort(new LockLostError(this.channel, cause));
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
