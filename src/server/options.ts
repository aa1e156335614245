import { ATOMIZE_DEFAULTS } from '../shared/defaults.js';
import { describe } from '../shared/errors.js';

/** Options of `atomize`, as alova documents them. */
export interface AtomizeOptions {
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
   * Milliseconds between attempts while a channel is held by someone else.
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
}

/** Options after checking: channels unique and sorted. */
export interface ResolvedOptions {
  readonly channels: readonly string[];
  readonly timeout: number;
  readonly interval: number;
  readonly queue: boolean;
}

const bad = (option: string, value: unknown, expected: string): TypeError => {
  const err = new TypeError(`atomize: invalid option \`${option}\` ${describe(value)}: expected ${expected}`);
  return Object.assign(err, { code: 'ERR_ATOMIZE_INVALID_OPTION', option, value });
};

const channelsOf = (channel: unknown): string[] => {
  const list = Array.isArray(channel) ? channel : [channel];
  if (list.length === 0) throw bad('channel', channel, 'a non-empty string or a non-empty array of them');
  for (const name of list) {
    if (typeof name !== 'string' || name.length === 0) throw bad('channel', name, 'a non-empty string');
  }
  return [...new Set(list as string[])].sort();
};

/** Checks `atomize` options and applies the defaults; throws a `TypeError` naming the bad option. */
export const resolveOptions = (options: AtomizeOptions = {}): ResolvedOptions => {
  if (options === null || typeof options !== 'object') throw bad('options', options, 'an object');
  const { channel = ATOMIZE_DEFAULTS.channel, timeout = ATOMIZE_DEFAULTS.timeout, interval = ATOMIZE_DEFAULTS.interval, queue = ATOMIZE_DEFAULTS.queue } = options;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
    throw bad('timeout', timeout, 'a finite number of milliseconds, 0 or more');
  }
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
    throw bad('interval', interval, 'a positive finite number of milliseconds');
  }
  if (typeof queue !== 'boolean') throw bad('queue', queue, 'true or false');
  return { channels: channelsOf(channel), timeout, interval, queue };
};
