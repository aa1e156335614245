import type { Link } from '../connection/link.js';

/**
 * Key layout. Cache entries: `${prefix}cache:${name}`; a channel's lock (with its line of waiters,
 * see fair-scripts.ts): `${prefix}lock:{${name}}`, its fencing tokens `${prefix}fence:{${name}}`; the
 * release notification of a lock is published on a pub/sub channel named like the lock's full key, and
 * handoffs on each adapter's own `${prefix}grant:<id>`.
 *
 * Names are user data, written percent-encoded so that two names never share a key:
 * - `%` → `%25`, `{` → `%7B`, `}` → `%7D`: a name can never choose a Redis Cluster hash tag of its
 *   own, nor imitate an escape;
 * - a lone UTF-16 surrogate (one not part of a pair) → `%` and its code in 4 upper-case hex digits
 *   (`%D800` … `%DFFF`): Redis keys are UTF-8, where every lone surrogate would become U+FFFD, so
 *   `a\uD800` and `a\uDC00` would otherwise be one key;
 * - in cache names only, `:` → `%3A`: a cache key is then exactly `${prefix}cache:` and a remainder
 *   without `:`, while every key another adapter writes under a longer prefix (`${prefix}cache:x:`,
 *   say) has a `kind:` part after that prefix. So `clear()` can tell this adapter's entries from
 *   anyone else's (see {@link isOwnCacheKey}). Lock and fence keys keep `:` as it is.
 * Decoding is unambiguous: after `%`, a `D` starts a 4-digit surrogate code; `2`, `7` and `3` start
 * the 2-digit escapes `%25`, `%7B`, `%7D`, `%3A`.
 *
 * A channel's lock and fence share the hash tag `{name}`, so they live in one slot (a prefix with a
 * hash tag of its own, e.g. `'{app}:'`, keeps every key in one slot instead).
 */

const LONE_SURROGATE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const CHANNEL_ESCAPES = new RegExp(`[%{}]|${LONE_SURROGATE}`, 'g');
const CACHE_ESCAPES = new RegExp(`[%{}:]|${LONE_SURROGATE}`, 'g');

const escapeUnit = (unit: string): string => {
  const code = unit.charCodeAt(0);
  return `%${code.toString(16).toUpperCase().padStart(code > 0xff ? 4 : 2, '0')}`;
};

const encodeChannel = (name: string): string => name.replace(CHANNEL_ESCAPES, escapeUnit);

const encodeCacheName = (name: string): string => name.replace(CACHE_ESCAPES, escapeUnit);

const CACHE_KIND = 'cache:';

export const cacheKey = (prefix: string, name: string): string => `${prefix}${CACHE_KIND}${encodeCacheName(name)}`;

export const lockKey = (prefix: string, channel: string): string => `${prefix}lock:{${encodeChannel(channel)}}`;

/** The fencing tokens of a channel (a counter: the last one given), in the lock's slot. */
export const fenceKey = (prefix: string, channel: string): string => `${prefix}fence:{${encodeChannel(channel)}}`;

/** The fence key next to lock key `lock` of `prefix` (as {@link lockKey} makes it), or undefined for another key. */
export const fenceKeyOfLock = (prefix: string, lock: string): string | undefined =>
  lock.startsWith(`${prefix}lock:{`) ? `${prefix}fence:${lock.slice(`${prefix}lock:`.length)}` : undefined;

/** The Redis Cluster hash tag of `key`: what its slot is computed from. */
const hashTagOf = (key: string): string => {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
};

/**
 * True when, under `fullPrefix` (the client's own keyPrefix, then the adapter's), a channel's lock and
 * fence keys share one hash tag, so one script can use them on a cluster. A prefix with an
 * unbalanced `{` or an empty `{}` breaks that.
 */
export const isSlotSafe = (fullPrefix: string): boolean => {
  const tags = [lockKey, fenceKey].map((key) => hashTagOf(key(fullPrefix, 'x')));
  return tags.every((tag) => tag === tags[0]);
};

/** Escapes glob metacharacters, for SCAN MATCH. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** SCAN MATCH pattern of every cache key of `fullPrefix` (the client's own keyPrefix, then the adapter's). */
export const cachePattern = (fullPrefix: string): string => `${escapeGlob(fullPrefix)}${CACHE_KIND}*`;

/** What {@link encodeCacheName} can give: no `:`, `{`, `}`, and `%` only in one of its escapes. */
const ENCODED_CACHE_NAME = /^(?:[^%{}:]|%(?:25|7B|7D|3A|D[89A-F][0-9A-F]{2}))*$/;

/**
 * True when `key` (as the server has it, `fullPrefix` included) is a cache entry this prefix wrote:
 * `${fullPrefix}cache:` and an encoded name. A key of an adapter whose prefix merely starts with
 * `${fullPrefix}cache:` has a `:` in that remainder (its own `cache:`, `lock:`, …), so it is not.
 */
export const isOwnCacheKey = (key: string, fullPrefix: string): boolean => {
  const start = fullPrefix + CACHE_KIND;
  return key.startsWith(start) && ENCODED_CACHE_NAME.test(key.slice(start.length));
};

/** The pub/sub channel the release of `key` is announced on, as `link`'s server sees it. */
export const notifyChannelOf = (link: Link, key: string): string => (link.client.options.keyPrefix ?? '') + key;
