import { LockReleaseError } from '../shared/errors.js';
import type { Held } from './acquire.js';
import { publishRelease } from './events.js';

/**
 * Releases in reverse order of taking. A failed release never replaces the request's outcome: it is
 * reported as a process warning (`process.on('warning')`, code `ERR_ATOMIZE_RELEASE`), and the lock
 * ends when its lease expires.
 */
export const releaseAll = async (held: readonly Held[]): Promise<void> => {
  for (let i = held.length - 1; i >= 0; i--) {
    const { handle, endTurn, since, unwatch } = held[i]!;
    unwatch();
    try {
      await handle.release();
      publishRelease(handle.channel, Date.now() - since);
    } catch (error) {
      process.emitWarning(new LockReleaseError(handle.channel, error));
    } finally {
      endTurn();
    }
  }
};
