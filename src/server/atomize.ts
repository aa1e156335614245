import type { AlovaGenerics, Method } from 'alova';
import { type Locker } from '../shared/contract.js';
import { LockerMissingError } from '../shared/errors.js';
import { acquireAll } from './acquire.js';
import { asAtomic } from './as-atomic.js';
import { guardedSend } from './guarded-send.js';
import { hookMethod, type HookedMethod } from './hooked-method.js';
import { resolveOptions, type AtomizeOptions } from './options.js';
import { releaseAll } from './release.js';

const findLocker = (method: Method): Locker => {
  if (!method || typeof method !== 'object' || typeof method.send !== 'function') {
    throw Object.assign(new TypeError('atomize: expected an alova Method as the first argument'), { code: 'ERR_ATOMIZE_INVALID_OPTION' });
  }
  const locker = (method.context?.l2Cache as { locker?: Locker } | undefined)?.locker;
  if (!locker || typeof locker.lock !== 'function' || typeof locker.unlock !== 'function') throw new LockerMissingError();
  return locker;
};

/**
 * Makes `method` atomic across processes: each send waits for the lock of every channel (from the
 * alova instance's `l2Cache.locker`), sends the request, and releases the locks whatever the outcome.
 */
export const atomize = <AG extends AlovaGenerics>(method: Method<AG>, options?: AtomizeOptions): HookedMethod<AG> => {
  const { channels, timeout, interval, queue } = resolveOptions(options);
  const lineKey = findLocker(method);
  const locker = asAtomic(lineKey);
  return hookMethod(method, async (forceRequest, signal) => {
    const wait = { locker, lineKey, started: Date.now(), timeout, interval, queue, signal };
    const held = await acquireAll(wait, channels, releaseAll);
    try {
      return await guardedSend(method, forceRequest, held, signal);
    } finally {
      await releaseAll(held);
    }
  });
};
