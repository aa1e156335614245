import type { LockHandle } from '../../shared/contract.js';
import { LockerClosedError, LockLostError } from '../../shared/errors.js';
import { codeOf } from '../fs/fs-errors.js';

/** Why a file lock was lost, in words, from what reported it (proper-lockfile's renewal, the release, `close()`). */
const reasonOf = (cause: unknown): string | undefined => {
  if (cause instanceof LockerClosedError) return 'the adapter was closed (adapter.close())';
  const message = cause instanceof Error ? cause.message : '';
  if (codeOf(cause) === 'ELOST') return message;
  if (codeOf(cause) !== 'ECOMPROMISED') return undefined;
  if (/^ENOENT\b/.test(message)) return 'its lock folder was removed (by another process, or by hand)';
  if (/stale threshold/.test(message)) return 'its lock folder was changed by another process: taken over as stale (not renewed within `stale`), or touched by hand';
  return `it could not be renewed within \`stale\` (${message})`;
};

/**
 * One held file lock; proper-lockfile renews its lease until `release()`. The adapter can also end
 * it: `lose` aborts its signal (as when the lock is lost).
 */
export class FileLockHandle implements LockHandle {
  readonly #lost = new AbortController();
  #released?: Promise<void>;
  /** Work of the acquisition still under way (its ticket leaving the line), which the release waits for. */
  #pending: Promise<void> = Promise.resolve();

  /**
   * @param unlock proper-lockfile's release of this lock
   * @param onEnd called once the release has settled (the adapter forgets the handle)
   * @param token the acquisition's fencing token
   */
  constructor(
    readonly channel: string,
    private readonly unlock: () => Promise<void>,
    private readonly onEnd: () => void,
    readonly token?: number,
  ) {}

  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** The lock was compromised (removed, or taken over): aborts `signal`. Never throws. */
  lose(cause: unknown): void {
    if (this.#released || this.#lost.signal.aborted) return;
    this.#lost.abort(new LockLostError(this.channel, cause, reasonOf(cause)));
  }

  /**
   * `work` (which never rejects) must be done before the lock is released: the ticket that took the
   * lock leaves its line in the background, off the path to the request, yet before the next waiter
   * may find the channel free.
   */
  after(work: Promise<void>): void {
    const before = this.#pending;
    this.#pending = before.then(() => work);
  }

  release(): Promise<void> {
    return (this.#released ??= this.#release());
  }

  async #release(): Promise<void> {
    try {
      await this.#pending;
      await this.unlock();
    } catch (error) {
      // Lost before: already told through `signal`, and there is nothing left to release.
      if (codeOf(error) === 'ERELEASED' && this.#lost.signal.aborted) return;
      // Lost, found out only now: the lock was left to its new holder.
      if (codeOf(error) === 'ELOST') throw new LockLostError(this.channel, error, reasonOf(error));
      throw error;
    } finally {
      this.onEnd();
    }
  }
}
