/**
 * The lock contract shared by `atomize` and every storage adapter of this package.
 *
 * A locker has alova's interface (`lock` / `unlock`), so alova's own `atomize` can use it, and may
 * offer the richer {@link AtomicLocker} contract, which this package's `atomize` uses part by part.
 */

/** alova's locker interface (`l2Cache.locker`), as alova's own adapters have it. */
export interface AlovaLocker {
  /** Takes the lock, or rejects promptly when another holder has it (no waiting). */
  lock(resource: string | string[]): Promise<void>;
  /** Releases what this holder took with `lock`. */
  unlock(resource: string | string[]): Promise<void>;
}

/** One acquisition of one channel: release it exactly once. */
export interface LockHandle {
  /** The channel this handle holds. */
  readonly channel: string;
  /**
   * Aborted when the lock is lost while held (its lease could not be renewed, its record was
   * removed or taken over). The reason is a `LockLostError`. Never aborted by `release()` itself.
   */
  readonly signal: AbortSignal;
  /**
   * Stops keeping the lease alive and releases the lock. Idempotent. Rejects when the backend could
   * not confirm the release; the lock then ends by its lease.
   */
  release(): Promise<void>;
}

/** The richer contract: acquisitions with handles, kept-alive leases, lost and released signals. */
export interface AtomicLocker extends AlovaLocker {
  /**
   * One attempt, no waiting. Resolves a handle whose lease is kept alive until `release()`, or `null`
   * when another holder has the channel. Rejects on a backend error; a `LockerConfigError` means no
   * retry can succeed.
   */
  tryAcquire(channel: string): Promise<LockHandle | null>;
  /**
   * Calls `listener` whenever `channel` may have been released, by any holder in any process.
   * Returns the unsubscribe function. Optional: without it waiters poll every `interval`.
   */
  onRelease?(channel: string, listener: () => void): () => void;
}

/** What `atomize` finds at `alova.l2Cache.locker`. */
export type Locker = AlovaLocker | AtomicLocker;

/** True when the locker offers the richer contract. */
export const isAtomicLocker = (locker: Locker): locker is AtomicLocker =>
  typeof (locker as AtomicLocker).tryAcquire === 'function';
