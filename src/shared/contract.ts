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
   * The fencing token of this acquisition: a safe integer greater than the token of every earlier
   * acquisition of the channel on the same backend. Undefined when the locker gives none (a Redlock
   * quorum, a plain alova locker).
   */
  readonly token?: number;
  /**
   * Stops keeping the lease alive and releases the lock. Idempotent. Rejects when the backend could
   * not confirm the release; the lock then ends by its lease.
   */
  release(): Promise<void>;
}

/** One caller's wait for one channel, so that a fair locker keeps the caller's place in line. */
export interface WaitTicket {
  /** Unique among all waiters of all processes. */
  readonly id: string;
  /**
   * Aborted when the caller stops waiting for this channel: it took the lock, or gave up (deadline,
   * abort). A locker then drops the ticket from its line, and releases at once a lock it hands to the
   * ticket later.
   */
  readonly signal: AbortSignal;
  /**
   * How often the waiter tries again when nobody tells it of its turn (ms; default: atomize's
   * `interval`). A fair locker gives a lock handed to this ticket a few of these to be confirmed.
   */
  readonly interval?: number;
  /**
   * Set by a locker after an attempt that left the ticket waiting in a line whose grants reach this
   * process: how long (ms) the waiter may wait for its turn to be announced before it tries again. A
   * waiter tries again after `max(interval, retryAfter)`, earlier when told, and never past its deadline.
   */
  retryAfter?: number;
}

/** What a release notification tells the waiters of a channel. */
export interface ReleaseEvent {
  /**
   * Set when the locker handed the lock directly to the waiter with this ticket id (fair handoff):
   * that waiter confirms it with its next `tryAcquire` (one round trip); the others need not hurry.
   */
  readonly grantedTo?: string;
}

/** The richer contract: acquisitions with handles, kept-alive leases, lost and released signals. */
export interface AtomicLocker extends AlovaLocker {
  /**
   * One attempt, no waiting. Resolves a handle whose lease is kept alive until `release()`, or `null`
   * when another holder has the channel. Rejects on a backend error; a `LockerConfigError` or
   * `LockerClosedError` means no retry can succeed. The same `ticket` is passed with every attempt of one wait; a fair locker
   * queues it and grants in arrival order.
   */
  tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null>;
  /**
   * Calls `listener` whenever `channel` may have been released, by any holder in any process.
   * Returns the unsubscribe function. Optional: without it waiters poll every `interval`. `ticket`:
   * the wait the listener belongs to (the one its attempts pass). A fair locker may then leave a
   * release alone while that ticket is known to be behind a live waiter (the release is not for it),
   * and must then look again when the ticket becomes first (calling the listener if the channel is
   * free by then). A listener without a ticket hears every release.
   */
  onRelease?(channel: string, listener: (event?: ReleaseEvent) => void, ticket?: WaitTicket): () => void;
}

/** What `atomize` finds at `alova.l2Cache.locker`. */
export type Locker = AlovaLocker | AtomicLocker;

/** True when the locker offers the richer contract. */
export const isAtomicLocker = (locker: Locker): locker is AtomicLocker =>
  typeof (locker as AtomicLocker).tryAcquire === 'function';
