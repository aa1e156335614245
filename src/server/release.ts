import { LockReleaseError } from '../shared/errors.js';
import type { Held } from './acquire.js';
import { publishRelease } from './events.js';

/**
 * Releases the locks in reverse order of taking; the in-process turns stay taken. Never rejects: a
 * failed release never replaces the request's outcome, it is reported as a process warning
 * (`process.on('warning')`, code `ERR_ATOMIZE_RELEASE`), and the lock ends when its lease expires.
 */
export const releaseLocks = async (held: readonly Held[]): Promise<void> => {
  for (let i = held.length - 1; i >= 0; i--) {
    const { handle, since, unwatch } = held[i]!;
    unwatch();
    try {
      await handle.release();
      publishRelease(handle.channel, Date.now() - since);
    } catch (error) {
      process.emitWarning(new LockReleaseError(handle.channel, error));
    }
  }
};

/** Ends the in-process turns, in reverse order: the next caller of this process may go. */
export const endTurns = (held: readonly Held[]): void => {
  for (let i = held.length - 1; i >= 0; i--) held[i]!.endTurn();
};

/** Releases the locks, then ends the turns. */
export const releaseAll = async (held: readonly Held[]): Promise<void> => {
  await releaseLocks(held);
  endTurns(held);
};
