import type { Held, Wait } from './acquire.js';
import { acquireAll } from './acquire.js';
import { refuseReentry } from './held-here.js';
import { releaseAll } from './release.js';

/**
 * The machinery `atomize` and `withLock` share: waits for every channel in order (local line, fair
 * line, wake-ups, one deadline, abort), runs `body` while all are held, and releases them whatever
 * the outcome (in reverse order; a failed release is a process warning).
 */
export const runLocked = async <T>(wait: Wait, channels: readonly string[], body: (held: readonly Held[]) => Promise<T>): Promise<T> => {
  refuseReentry(wait.lineKey, channels);
  const held = await acquireAll(wait, channels, releaseAll);
  try {
    return await body(held);
  } finally {
    await releaseAll(held);
  }
};
