import type { Method } from 'alova';
import { AtomizeAbortError, LockLostError } from '../shared/errors.js';
import type { Held } from './acquire.js';
import { sendNoticingResponse } from './response-hook.js';

/**
 * Sends the method while the locks are held. When a lock is lost, or the call is aborted, the request
 * is aborted; a lost lock makes the call reject with `LockLostError`, never a silent success.
 * `onResponded` (optional) is called once the response has been handled (see response-hook.ts), when
 * the request is over: from then on the locks are no longer watched, and may be released.
 */
export const guardedSend = <T>(method: Method, forceRequest: boolean, held: readonly Held[], signal: AbortSignal, onResponded?: () => void): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const cleanups: Array<() => void> = [];
    let settled = false;
    const unlisten = (): void => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    };
    const settle = (fn: () => void): void => {
      settled = true;
      unlisten();
      fn();
    };
    const listen = (target: AbortSignal, onAbort: () => void): void => {
      if (target.aborted) return onAbort();
      target.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => target.removeEventListener('abort', onAbort));
    };
    for (const { handle } of held) {
      listen(handle.signal, () => {
        void method.abort();
        const reason: unknown = handle.signal.reason;
        settle(() => reject(reason instanceof LockLostError ? reason : new LockLostError(handle.channel, reason)));
      });
    }
    listen(signal, () => void method.abort());
    // A lock lost while later channels were awaited: the request is never sent.
    if (settled) return;
    // Aborted after the locks answered but before the send (e.g. during beforeSend): never sent either.
    if (signal.aborted) return settle(() => reject(new AtomizeAbortError(held[0]?.handle.channel ?? '', signal.reason)));
    const responded = (): void => {
      if (settled) return;
      unlisten();
      onResponded?.();
    };
    const sent: Promise<T> = onResponded ? sendNoticingResponse(method, forceRequest, responded) : (method.send(forceRequest) as Promise<T>);
    sent.then(
      (value: T) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
