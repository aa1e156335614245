import type { AlovaGenerics, Method } from 'alova';
import { ATOMIZE_DEFAULTS } from '../shared/defaults.js';
import { describe } from '../shared/errors.js';
import { refuseUnknownOptions } from '../shared/known-options.js';

/** Options of `atomize`, as alova documents them. */
export interface AtomizeOptions<AG extends AlovaGenerics = any> {
  /**
   * The channel to lock, or several: they are de-duplicated, sorted and locked in that order.
   * @default 'default'
   */
  channel?: string | string[];
  /**
   * Milliseconds to wait for the lock (all channels together). `0` makes a single attempt.
   * @default 5000
   */
  timeout?: number;
  /**
   * Milliseconds between attempts while a channel is held by someone else, unless a release wakes the
   * waiter earlier. A fair locker that will announce the waiter's turn may ask for longer pauses (the
   * Redis adapter: place in line × `interval`, at most 8 × `interval`).
   * @default 100
   */
  interval?: number;
  /**
   * Callers of this process that wait for the same locker and channel line up in arrival order, and
   * only the head of the line talks to the lock backend. `false` lets every caller poll the backend
   * itself (as alova's own `atomize` does); the benchmark uses it as its baseline.
   * @default true
   */
  queue?: boolean;
  /**
   * Send each locked request with its fencing token in this header (e.g. `'x-fencing-token'`): the
   * token of the call's channel as a decimal string, or `channel=token` pairs for several channels.
   * The upstream refuses tokens older than one it has seen (`alova-atomize/fence`). A locker that gives
   * no tokens (a Redlock quorum) makes the call fail with `LockerConfigError`. No header by default.
   */
  fencingHeader?: string;
  /**
   * Called once every lock of a send is held, right before the request is sent: put the fencing tokens
   * where the upstream reads them (body, params), or anything else that must happen under the lock.
   * A rejection releases the locks and fails the call with it; the request is then not sent.
   */
  beforeSend?: (method: Method<AG>, lock: HeldLocks) => void | Promise<void>;
  /**
   * Release the locks as soon as the response has been handled (alova's `responded` hook and the
   * method's `transform` returned), before alova's own bookkeeping: the `hitSource` cache invalidation,
   * which reads the l2 cache after every response (a Redis round trip with the Redis adapter), and the
   * cache writes. The next process in line starts that much sooner. Off by default, as in alova's own
   * `atomize`, because that bookkeeping then runs outside the lock: a caller on the same channel in
   * another process may read an l2 cache entry the first call's `hitSource` invalidation has not
   * removed yet, or lose a `hitSource` registration to it. Leave it off when methods on the channel use
   * `hitSource` with an l2 cache (`cacheFor: { mode: 'restore' }`). Sends that fail, methods that write
   * their response to the l2 cache and methods with a `name` release when the send settles either way;
   * the next caller of this process starts when the send has settled. Not an alova option.
   * @default false
   */
  releaseOnResponse?: boolean;
}

/** What {@link AtomizeOptions.beforeSend} learns about the locks of a send. */
export interface HeldLocks {
  /** The channels held, in the order they were taken (sorted). */
  readonly channels: readonly string[];
  /** Each channel's fencing token; empty when the locker gives none. */
  readonly tokens: Readonly<Record<string, number>>;
  /** The tokens as `fencingHeader` writes them; undefined when the locker gives none. */
  readonly fencingToken: string | undefined;
}

/** Options after checking: channels unique and sorted. */
export interface ResolvedOptions {
  readonly channels: readonly string[];
  readonly timeout: number;
  readonly interval: number;
  readonly queue: boolean;
  readonly fencingHeader: string | undefined;
  readonly beforeSend: ((method: Method<any>, lock: HeldLocks) => void | Promise<void>) | undefined;
  readonly releaseOnResponse: boolean;
}

/** The option names `atomize` reads. */
const KNOWN = ['channel', 'timeout', 'interval', 'queue', 'fencingHeader', 'beforeSend', 'releaseOnResponse'] as const;

/** The longest timer Node can set (ms, about 24.8 days); a longer `timeout` would fire at once. */
const MAX_TIMER = 2 ** 31 - 1;

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const bad = (option: string, value: unknown, expected: string, where = 'atomize'): TypeError => {
  const err = new TypeError(`${where}: invalid option \`${option}\` ${describe(value)}: expected ${expected}`);
  return Object.assign(err, { code: 'ERR_ATOMIZE_INVALID_OPTION', option, value });
};

const channelsOf = (channel: unknown, where: string): string[] => {
  const list = Array.isArray(channel) ? channel : [channel];
  if (list.length === 0) throw bad('channel', channel, 'a non-empty string or a non-empty array of them', where);
  for (const name of list) {
    if (typeof name !== 'string' || name.length === 0) throw bad('channel', name, 'a non-empty string', where);
  }
  return [...new Set(list as string[])].sort();
};

/** Checks `atomize` options and applies the defaults; throws a `TypeError` naming the bad option. */
export const resolveOptions = (options: AtomizeOptions = {}, where = 'atomize'): ResolvedOptions => {
  if (options === null || typeof options !== 'object') throw bad('options', options, 'an object', where);
  refuseUnknownOptions(where, options, KNOWN);
  const { channel = ATOMIZE_DEFAULTS.channel, timeout = ATOMIZE_DEFAULTS.timeout, interval = ATOMIZE_DEFAULTS.interval, queue = ATOMIZE_DEFAULTS.queue } = options;
  const { fencingHeader, beforeSend, releaseOnResponse = ATOMIZE_DEFAULTS.releaseOnResponse } = options;
  if (fencingHeader !== undefined && (typeof fencingHeader !== 'string' || !HEADER_NAME.test(fencingHeader))) {
    throw bad('fencingHeader', fencingHeader, 'an HTTP header name', where);
  }
  if (beforeSend !== undefined && typeof beforeSend !== 'function') throw bad('beforeSend', beforeSend, 'a function', where);
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > MAX_TIMER) {
    throw bad('timeout', timeout, `a number of milliseconds from 0 to ${MAX_TIMER} (about 24.8 days)`, where);
  }
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0 || interval > MAX_TIMER) {
    throw bad('interval', interval, `a positive number of milliseconds up to ${MAX_TIMER}`, where);
  }
  if (typeof queue !== 'boolean') throw bad('queue', queue, 'true or false', where);
  if (typeof releaseOnResponse !== 'boolean') throw bad('releaseOnResponse', releaseOnResponse, 'true or false', where);
  return { channels: channelsOf(channel, where), timeout, interval, queue, fencingHeader, beforeSend, releaseOnResponse };
};
