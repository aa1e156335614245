import type { AlovaGenerics, Method } from 'alova';
import type { Locker } from '../shared/contract.js';
import { asAtomic } from './as-atomic.js';
import { sendTracing } from './events.js';
import { beforeSend } from './fencing.js';
import { lockerOf } from './locker-of.js';
import { guardedSend } from './guarded-send.js';
import { hookMethod, type HookedMethod } from './hooked-method.js';
import { notAMethod } from './not-a-method.js';
import { runLocked } from './locked.js';
import { resolveOptions, type AtomizeOptions } from './options.js';

const findLocker = (method: Method): Locker => {
  if (!method || typeof method !== 'object' || typeof method.send !== 'function') {
    throw Object.assign(new TypeError(`atomize: expected an alova Method as the first argument, ${notAMethod(method)}`), { code: 'ERR_ATOMIZE_INVALID_OPTION' });
  }
  return lockerOf(method.context?.l2Cache);
};

/**
 * Makes `method` atomic across processes: each send waits for the lock of every channel (from the
 * alova instance's `l2Cache.locker`), sends the request, and releases the locks whatever the outcome.
 */
export const atomize = <AG extends AlovaGenerics>(method: Method<AG>, options?: AtomizeOptions<AG>): HookedMethod<AG> => {
  const resolved = resolveOptions(options as AtomizeOptions);
  const { channels, timeout, interval, queue, releaseOnResponse } = resolved;
  const lineKey = findLocker(method);
  const locker = asAtomic(lineKey);
  return hookMethod(method, (forceRequest, signal) => {
    const send = (): Promise<unknown> => {
      const wait = { locker, lineKey, started: Date.now(), timeout, interval, queue, signal };
      return runLocked(wait, channels, async (held, releaseEarly) => {
        await beforeSend(method as Method, held, resolved);
        // With `releaseOnResponse`, the locks go once the response is handled, before alova's cache bookkeeping.
        return guardedSend(method, forceRequest, held, signal, releaseOnResponse ? releaseEarly : undefined);
      });
    };
    // One span per send for APMs (`alova-atomize:send`), at no cost when nobody listens.
    return sendTracing.hasSubscribers ? sendTracing.tracePromise(send, { channels, method }) : send();
  });
};
