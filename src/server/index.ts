export { atomize } from './atomize.js';
export { EVENTS } from './events.js';
export { withLock, type LockScope, type LockTarget, type WithLockOptions } from './with-lock.js';
export { HookedMethod, type RequestHandler } from './hooked-method.js';
export type { AtomizeOptions, HeldLocks } from './options.js';
export { ATOMIZE_DEFAULTS, FILE_STORAGE_DEFAULTS, REDIS_STORAGE_DEFAULTS } from '../shared/defaults.js';
export {
  AtomizeAbortError,
  AtomizeError,
  CacheError,
  ERROR_CODES,
  InvalidChannelError,
  InvalidFencingTokenError,
  LockerClosedError,
  LockerConfigError,
  LockerMissingError,
  LockerUnavailableError,
  LockLostError,
  LockReentryError,
  LockReleaseError,
  LockTimeoutError,
  type AtomizeErrorCode,
} from '../shared/errors.js';
export {
  isAtomicLocker,
  type AlovaLocker,
  type AtomicLocker,
  type LockHandle,
  type Locker,
  type ReleaseEvent,
  type WaitTicket,
} from '../shared/contract.js';
