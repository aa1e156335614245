/** Every option default of this package, declared once. */

/** `atomize` options, as alova documents them. */
export const ATOMIZE_DEFAULTS = Object.freeze({
  /** @default 'default' */
  channel: 'default',
  /** Milliseconds to wait for the lock. @default 5000 */
  timeout: 5000,
  /** Milliseconds between tries while the channel is held (see `AtomizeOptions.interval`). @default 100 */
  interval: 100,
  /** Line up waiting callers of one process locally (not an alova option). @default true */
  queue: true,
  /**
   * Release once the response has been handled, before alova's cache bookkeeping (not an alova
   * option; see `AtomizeOptions.releaseOnResponse`). @default false
   */
  releaseOnResponse: false,
});

/** `FileStorageAdapter` options (`lockerOptions`, `notify`, `fair`, file modes and the cache sweep). */
export const FILE_STORAGE_DEFAULTS = Object.freeze({
  /**
   * Milliseconds after its last renewal when a lock counts as abandoned (its holder died) and may be
   * taken over. At least 2000, proper-lockfile's minimum: a smaller value is refused (TypeError).
   * @default 5000
   */
  stale: 5000,
  /**
   * Milliseconds between renewals of a held lock (its mtime is refreshed). From 1000 to `stale / 2`,
   * proper-lockfile's bounds: another value is refused (TypeError).
   * @default 1000
   */
  update: 1000,
  /**
   * Wake waiting `atomize` calls as soon as a channel is released (fs.watch on the lock folder).
   * When false, `locker.onRelease` is undefined and waiters poll every `interval`.
   * @default true
   */
  notify: true,
  /**
   * Serve waiting `atomize` calls of all processes in arrival order (a line of ticket files per
   * channel); a process that just released a channel others wait for queues behind them.
   * When false, whoever tries first after a release wins.
   * @default true
   */
  fair: true,
  /**
   * Mode of every file the adapter creates (cache entries, tickets, fencing tokens): owner only, so
   * other users of the machine cannot read the cache. The process umask applies on top.
   * @default 0o600
   */
  fileMode: 0o600,
  /**
   * Mode of every folder the adapter creates (its directory when missing, `cache/`, `locks/`,
   * `lines/`, `fences/` and the folders in them). The process umask applies on top.
   * @default 0o700
   */
  dirMode: 0o700,
  /**
   * Milliseconds between two sweeps of expired cache entries, at least; a sweep starts when the
   * process writes to the cache (`set`), never from a timer.
   * @default 5000
   */
  sweepInterval: 5000,
  /**
   * Cache entries a sweep reads at most (and about 4 MiB); 0 turns the sweep off (expired entries are
   * then removed only when read).
   * @default 200
   */
  sweepBatch: 200,
});

/** `RedisStorageAdapter` options. */
export const REDIS_STORAGE_DEFAULTS = Object.freeze({
  /** Prefix of every key the adapter writes: cache under `${keyPrefix}cache:`, locks under `${keyPrefix}lock:`. @default 'alova:' */
  keyPrefix: 'alova:',
  /** The lease of a lock, ms: a holder that stops renewing it (crash, pause) loses it after this long. @default 5000 */
  redlockTTL: 5000,
  /** Publish a release notification and offer `locker.onRelease`, so waiters wake at once instead of polling. @default true */
  notify: true,
  /**
   * Hand the lock to waiters in arrival order (a line per channel in Redis; a release hands the lock
   * straight to the first waiter). On one server or a cluster; a Redlock quorum is never fair.
   * @default true
   */
  fair: true,
  /**
   * Bound of every Redis command, ms: ioredis `commandTimeout` of the connections the adapter opens, and the
   * bound the locker puts on its own commands on any connection (also one passed as `client`). @default 1000
   */
  commandTimeout: 1000,
  /**
   * Whether quorum entries inherit the top-level `username` / `password`: `'own'` (only what each entry
   * gives itself) or `'inherit'`. @default 'own'
   */
  quorumCredentials: 'own' as 'own' | 'inherit',
});
