import type { Alova, AlovaGenerics } from 'alova';
import type { Locker } from '../shared/contract.js';
import { describe, LockLostError } from '../shared/errors.js';
import { asAtomic } from './as-atomic.js';
import { heldLocks } from './fencing.js';
import { runHolding } from './held-here.js';
import { refuseUnknownOptions } from '../shared/known-options.js';
import { lockerOf } from './locker-of.js';
import { runLocked } from './locked.js';
import { resolveOptions } from './options.js';

/** Options of {@link withLock}: `atomize`'s waiting options, and a signal to stop waiting. */
export interface WithLockOptions {
  /** @default 5000 */
  timeout?: number;
  /** @default 100 */
  interval?: number;
  /** @default true */
  queue?: boolean;
  /** Aborting it stops the wait (`AtomizeAbortError`), and aborts `fn`'s signal while it runs. */
  signal?: AbortSignal;
}

/** What `fn` gets while it holds the locks. */
export interface LockScope {
  /** Aborted when a lock is lost (reason: `LockLostError`) or `options.signal` aborts: pass it to your requests. */
  readonly signal: AbortSignal;
  /** The fencing token of the one channel; undefined for several channels, or a locker without tokens. */
  readonly token: number | undefined;
  /** Each channel's fencing token (empty for a locker without tokens). */
  readonly tokens: Readonly<Record<string, number>>;
  /** The tokens as `atomize`'s `fencingHeader` writes them. */
  readonly fencingToken: string | undefined;
}

/** Where the lock comes from: an alova instance (its `l2Cache`), a storage adapter, or a locker. */
export type LockTarget = Alova<AlovaGenerics> | { readonly locker: Locker } | Locker;

const lockerFrom = (target: unknown): Locker => {
  const t = target as { l2Cache?: unknown; options?: { l2Cache?: unknown }; lock?: unknown } | null;
  if (t && typeof t === 'object' && typeof t.lock === 'function') return target as Locker;
  return lockerOf(t?.l2Cache ?? t?.options?.l2Cache ?? target);
};

const never = new AbortController().signal;

/**
 * Runs `fn` while every channel is held, across processes: waits for them as `atomize` does (local
 * line, fair line, wake-ups, one deadline), then releases them when `fn` settles, whatever the
 * outcome. Resolves `fn`'s result; rejects with `LockLostError` when a lock was lost while `fn` ran,
 * even if `fn` resolved. Calling it again for a channel the current call already holds fails at
 * once with `LockReentryError`.
 */
export function withLock<T>(target: LockTarget, channel: string | string[], fn: (scope: LockScope) => T | Promise<T>): Promise<T>;
export function withLock<T>(target: LockTarget, channel: string | string[], options: WithLockOptions, fn: (scope: LockScope) => T | Promise<T>): Promise<T>;
export async function withLock<T>(
  target: LockTarget,
  channel: string | string[],
  optionsOrFn: WithLockOptions | ((scope: LockScope) => T | Promise<T>),
  maybeFn?: (scope: LockScope) => T | Promise<T>,
): Promise<T> {
  const [options, fn] = typeof optionsOrFn === 'function' ? [{}, optionsOrFn] : [optionsOrFn ?? {}, maybeFn];
  if (typeof fn !== 'function') throw Object.assign(new TypeError(`withLock: expected a function to run under the lock, got ${describe(fn)}`), { code: 'ERR_ATOMIZE_INVALID_OPTION' });
  if (options === null || typeof options !== 'object') throw Object.assign(new TypeError('withLock: invalid options: expected an object'), { code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'options' });
  refuseUnknownOptions('withLock', options, ['timeout', 'interval', 'queue', 'signal']);
  const { signal = never, ...waiting } = options as WithLockOptions;
  if (!(signal instanceof AbortSignal)) throw Object.assign(new TypeError('withLock: invalid option `signal`: expected an AbortSignal'), { code: 'ERR_ATOMIZE_INVALID_OPTION', option: 'signal' });
  const { channels, timeout, interval, queue } = resolveOptions({ ...waiting, channel }, 'withLock');
  const lineKey = lockerFrom(target);
  const wait = { locker: asAtomic(lineKey), lineKey, started: Date.now(), timeout, interval, queue, signal };
  return runLocked(wait, channels, async (held) => {
    const signals = [signal, ...held.map(({ handle }) => handle.signal)];
    const scopeSignal = AbortSignal.any(signals);
    const { tokens, fencingToken } = heldLocks(held);
    const scope: LockScope = { signal: scopeSignal, token: channels.length === 1 ? tokens[channels[0]!] : undefined, tokens, fencingToken };
    // A lost lock decides the outcome: fn's own result or error came without exclusivity.
    const lostError = (): Error | undefined => {
      const lost = held.find(({ handle }) => handle.signal.aborted);
      const reason: unknown = lost?.handle.signal.reason;
      return lost && (reason instanceof LockLostError ? reason : new LockLostError(lost.handle.channel, reason));
    };
    let result: T;
    try {
      result = await runHolding(lineKey, channels, async () => fn(scope));
    } catch (error) {
      throw lostError() ?? error;
    }
    const lost = lostError();
    if (lost) throw lost;
    return result;
  });
}
