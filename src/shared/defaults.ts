/** Every option default of this package, declared once. */

/** `atomize` options, as alova documents them. */
export const ATOMIZE_DEFAULTS = Object.freeze({
  /** @default 'default' */
  channel: 'default',
  /** Milliseconds to wait for the lock. @default 5000 */
  timeout: 5000,
  /** Milliseconds between tries while the channel is held. @default 100 */
  interval: 100,
  /** Line up waiting callers of one process locally (not an alova option). @default true */
  queue: true,
});

/** `FileStorageAdapter` options (`lockerOptions` and `notify`). */
export const FILE_STORAGE_DEFAULTS = Object.freeze({
  /**
   * Milliseconds after its last renewal when a lock counts as abandoned (its holder died) and may be
   * taken over. proper-lockfile's minimum is 2000.
   * @default 5000
   */
  stale: 5000,
  /**
   * Milliseconds between renewals of a held lock (its mtime is refreshed). proper-lockfile keeps it
   * between 1000 and `stale / 2`.
   * @default 1000
   */
  update: 1000,
  /**
   * Wake waiting `atomize` calls as soon as a channel is released (fs.watch on the lock folder).
   * When false, `locker.onRelease` is undefined and waiters poll every `interval`.
   * @default true
   */
  notify: true,
});
