import type { Held, Wait } from './acquire.js';
import { acquireAll } from './acquire.js';
import { refuseReentry } from './held-here.js';
import { endTurns, releaseAll, releaseLocks } from './release.js';

/**
 * The machinery `atomize` and `withLock` share: waits for every channel in order (local line, fair
 * line, wake-ups, one deadline, abort), runs `body` while all are held, and releases them whatever
 * the outcome (in reverse order; a failed release is a process warning). `body` may release the locks
 * before it settles (`releaseEarly`, once its critical part is over); the in-process turns end when it
 * settles, so the next caller of this process starts after it, as before.
 */
export const runLocked = async <T>(
  wait: Wait,
  channels: readonly string[],
  body: (held: readonly Held[], releaseEarly: () => void) => Promise<T>,
): Promise<T> => {
  refuseReentry(wait.lineKey, channels);
  const held = await acquireAll(wait, channels, releaseAll);
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => (released ??= releaseLocks(held));
  try {
    return await body(held, () => void release());
  } finally {
    await release();
    endTurns(held);
  }
};
