/** Tickets of this process still in a line are removed when the process exits normally. */
import { unlinkSync } from 'node:fs';

/** The tickets of every adapter of this process that are in a line. */
const waiting = new Set<{ readonly path: string }>();
let exitHook = false;
/**
 * A process that exits (normally or by `process.exit`) while waiting takes its tickets with it.
 * Killed by a signal, its tickets go stale instead.
 */
export const removeAtExit = (place: { readonly path: string }): void => {
  waiting.add(place);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const { path } of waiting) {
      try {
        unlinkSync(path);
      } catch {
        // gone already, or left to go stale
      }
    }
  });
};

/** The ticket left its line: nothing to remove at exit. */
export const forgetAtExit = (place: { readonly path: string }): void => {
  waiting.delete(place);
};
