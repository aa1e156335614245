import { isAtomicLocker, type AlovaLocker, type AtomicLocker, type LockHandle, type Locker } from '../shared/contract.js';

/** A lock taken through alova's plain interface: no lease keep-alive, no lost signal. */
const plainHandle = (locker: AlovaLocker, channel: string): LockHandle => {
  let released: Promise<void> | undefined;
  return {
    channel,
    signal: new AbortController().signal,
    release: () => (released ??= locker.unlock(channel)),
  };
};

/**
 * Presents any locker through the richer contract. A plain alova locker's `lock` cannot tell "held by
 * someone else" from a failure, so its rejections are retried until the deadline and kept as cause.
 */
export const asAtomic = (locker: Locker): AtomicLocker => {
  if (isAtomicLocker(locker)) return locker;
  return {
    lock: (resource) => locker.lock(resource),
    unlock: (resource) => locker.unlock(resource),
    tryAcquire: async (channel) => {
      await locker.lock(channel);
      return plainHandle(locker, channel);
    },
  };
};
