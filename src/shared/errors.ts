/** Every error this package throws: a class with `name`, `code` and the fields that explain it. */

/**
 * Every `code` this package gives an error or a warning, by name: stable across versions. The
 * `ERR_ATOMIZE_INVALID_*` codes are on `TypeError`s (a bad option, key or value), the others on the
 * classes below, except `CACHE_ENTRY` (a process warning for an unreadable cache entry).
 */
export const ERROR_CODES = Object.freeze({
  INVALID_OPTION: 'ERR_ATOMIZE_INVALID_OPTION',
  INVALID_KEY: 'ERR_ATOMIZE_INVALID_KEY',
  INVALID_VALUE: 'ERR_ATOMIZE_INVALID_VALUE',
  NO_LOCKER: 'ERR_ATOMIZE_NO_LOCKER',
  LOCK_TIMEOUT: 'ERR_ATOMIZE_LOCK_TIMEOUT',
  ABORTED: 'ERR_ATOMIZE_ABORTED',
  LOCK_LOST: 'ERR_ATOMIZE_LOCK_LOST',
  LOCKER_CONFIG: 'ERR_ATOMIZE_LOCKER_CONFIG',
  LOCKER_UNAVAILABLE: 'ERR_ATOMIZE_LOCKER_UNAVAILABLE',
  LOCKER_CLOSED: 'ERR_ATOMIZE_LOCKER_CLOSED',
  REENTRANT: 'ERR_ATOMIZE_REENTRANT',
  INVALID_FENCING_TOKEN: 'ERR_ATOMIZE_INVALID_FENCING_TOKEN',
  CACHE: 'ERR_ATOMIZE_CACHE',
  CACHE_ENTRY: 'ERR_ATOMIZE_CACHE_ENTRY',
  INVALID_CHANNEL: 'ERR_ATOMIZE_INVALID_CHANNEL',
  RELEASE: 'ERR_ATOMIZE_RELEASE',
  /** The `alova-atomize` command line was given wrong arguments. */
  USAGE: 'ERR_ATOMIZE_USAGE',
} as const);

/** One of {@link ERROR_CODES}: what `err.code` of an error of this package can be. */
export type AtomizeErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * Base class: `err.code` is stable across versions (typed as the subclass's own code), `err.cause`
 * keeps the underlying error.
 */
export class AtomizeError<Code extends AtomizeErrorCode = AtomizeErrorCode> extends Error {
  readonly code: Code;
  constructor(message: string, code: Code, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The lock could not be taken before the deadline. Keeps alova's message wording. */
export class LockTimeoutError extends AtomizeError<'ERR_ATOMIZE_LOCK_TIMEOUT'> {
  constructor(
    readonly channel: string,
    readonly timeout: number,
    readonly waited: number,
    cause?: unknown,
  ) {
    super(`Failed to acquire lock within ${timeout}ms (channel "${channel}", waited ${waited}ms)`, 'ERR_ATOMIZE_LOCK_TIMEOUT', { cause });
  }
}

/**
 * A held lock was lost (its lease could not be kept, or it was removed or taken over). `reason` says
 * why in words when the locker knows (the key deleted, taken over by another holder, the backend
 * unreachable, the adapter closed), and ends the message.
 */
export class LockLostError extends AtomizeError<'ERR_ATOMIZE_LOCK_LOST'> {
  constructor(
    readonly channel: string,
    cause?: unknown,
    readonly reason?: string,
  ) {
    super(`Lock on channel "${channel}" was lost while the request ran${reason ? `: ${reason}` : ''}`, 'ERR_ATOMIZE_LOCK_LOST', { cause });
  }
}

/** The call was aborted (by `abort()`) before the request was sent. */
export class AtomizeAbortError extends AtomizeError<'ERR_ATOMIZE_ABORTED'> {
  constructor(readonly channel: string, cause?: unknown) {
    super(`Aborted while waiting for the lock on channel "${channel}"`, 'ERR_ATOMIZE_ABORTED', { cause });
    this.name = 'AbortError';
  }
}

/** The alova instance has no usable `l2Cache.locker`. */
export class LockerMissingError extends AtomizeError<'ERR_ATOMIZE_NO_LOCKER'> {
  constructor() {
    super(
      // alova's own sentence first, verbatim: code and tests written for alova match it.
      'expect set `@alova/storage-redis` or `@alova/storage-file` as l2Cache of alova instance. ' +
        'With this package: set a RedisStorageAdapter (alova-atomize/storage-redis) or a FileStorageAdapter ' +
        '(alova-atomize/storage-file) as the l2Cache of the alova instance',
      'ERR_ATOMIZE_NO_LOCKER',
    );
  }
}

/** A misconfiguration that no retry can mend (wrong password, unwritable directory, ...). */
export class LockerConfigError extends AtomizeError<'ERR_ATOMIZE_LOCKER_CONFIG'> {
  constructor(message: string, cause?: unknown) {
    super(message, 'ERR_ATOMIZE_LOCKER_CONFIG', { cause });
  }
}

/** The lock backend could not answer (unreachable, timed out, no quorum); atomize retries until its deadline. */
export class LockerUnavailableError extends AtomizeError<'ERR_ATOMIZE_LOCKER_UNAVAILABLE'> {
  constructor(message: string, cause?: unknown) {
    super(message, 'ERR_ATOMIZE_LOCKER_UNAVAILABLE', { cause });
  }
}

/**
 * The adapter was closed: no retry can succeed, so `atomize` fails at once. Both adapters throw it
 * for every lock call after `close()`, and for a lock won while `close()` ran (it is given back).
 */
export class LockerClosedError extends AtomizeError<'ERR_ATOMIZE_LOCKER_CLOSED'> {
  constructor(readonly adapter: string) {
    super(`${adapter} is closed: create a new adapter to take locks again`, 'ERR_ATOMIZE_LOCKER_CLOSED');
  }
}

/** A fencing token that is not a non-negative integer (or a fencing header that holds none): never admitted. */
export class InvalidFencingTokenError extends AtomizeError<'ERR_ATOMIZE_INVALID_FENCING_TOKEN'> {
  constructor(readonly token: unknown) {
    super(`Invalid fencing token ${describe(token)}: expected a non-negative integer (decimal string, number or bigint)`, 'ERR_ATOMIZE_INVALID_FENCING_TOKEN');
  }
}

/**
 * A call that already holds `channel` (inside `withLock`'s function) asked for it again: locks are not
 * reentrant, so it would wait for itself until its deadline. It fails at once instead.
 */
export class LockReentryError extends AtomizeError<'ERR_ATOMIZE_REENTRANT'> {
  constructor(readonly channel: string) {
    super(`Channel "${channel}" is already held by this call (locks are not reentrant): it would wait for itself`, 'ERR_ATOMIZE_REENTRANT');
  }
}

/**
 * A cache operation (`get`, `set`, `remove`, `clear`) failed in the backend (a timeout, a full disk,
 * a folder in the way): `cause` is the backend's own error. The cache entry is left as it was.
 */
export class CacheError extends AtomizeError<'ERR_ATOMIZE_CACHE'> {
  constructor(
    readonly operation: 'get' | 'set' | 'remove' | 'clear',
    readonly key: string | undefined,
    cause: unknown,
  ) {
    super(`Cache ${operation}${key === undefined ? '' : ` of key ${describe(key)}`} failed: ${(cause as Error | null)?.message ?? String(cause)}`, 'ERR_ATOMIZE_CACHE', { cause });
  }
}

/** A channel name a locker cannot take (empty, not a string). */
export class InvalidChannelError extends AtomizeError<'ERR_ATOMIZE_INVALID_CHANNEL'> {
  constructor(readonly channel: unknown) {
    super(`Invalid lock channel ${describe(channel)}: expected a non-empty string`, 'ERR_ATOMIZE_INVALID_CHANNEL');
  }
}

/** Releasing a lock failed: reported as a process warning, never thrown at the caller of atomize. */
export class LockReleaseError extends AtomizeError<'ERR_ATOMIZE_RELEASE'> {
  constructor(readonly channel: string, cause?: unknown) {
    super(`Failed to release the lock on channel "${channel}"; it ends when its lease expires`, 'ERR_ATOMIZE_RELEASE', { cause });
  }
}

/** A short, safe rendering of a user value for error messages (internal: not exported by the package's entries). */
export const describe = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return String(value);
  return Array.isArray(value) ? `array(${value.length})` : typeof value;
};
