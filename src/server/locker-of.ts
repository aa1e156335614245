import type { Locker } from '../shared/contract.js';
import { LockerMissingError } from '../shared/errors.js';

/** The locker a storage adapter (an alova `l2Cache`) offers, or `LockerMissingError`. */
export const lockerOf = (storage: unknown): Locker => {
  const locker = (storage as { locker?: Locker } | null | undefined)?.locker;
  if (!locker || typeof locker.lock !== 'function' || typeof locker.unlock !== 'function') throw new LockerMissingError();
  return locker;
};
