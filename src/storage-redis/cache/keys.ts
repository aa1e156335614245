import type { Link } from '../connection/link.js';

/**
 * Key layout. Cache entries: `${prefix}cache:${name}`; a channel's lock: `${prefix}lock:{${name}}`,
 * its line of waiters (fair handoff): `${prefix}line:{${name}}` and their roll of liveness
 * `${prefix}roll:{${name}}`; the release notification of a lock is published on a pub/sub channel
 * named like the lock's full key.
 *
 * Names are user data: `%`, `{` and `}` are percent-encoded, so a name can never close the prefix's
 * namespace nor choose a Redis Cluster hash tag of its own. A channel's lock and line share the hash tag
 * `{name}`, so they live in one slot (a prefix with a hash tag of its own, e.g. `'{app}:'`, keeps every
 * key in one slot instead). The encoding is one-to-one: two names never share a key.
 */

const encodeName = (name: string): string => name.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'));

export const cacheKey = (prefix: string, name: string): string => `${prefix}cache:${encodeName(name)}`;

export const lockKey = (prefix: string, channel: string): string => `${prefix}lock:{${encodeName(channel)}}`;

/** The line of waiters of a channel, in the lock's slot. */
export const lineKey = (prefix: string, channel: string): string => `${prefix}line:{${encodeName(channel)}}`;

/** The liveness roll of a channel's waiters, in the lock's slot. */
export const rollKey = (prefix: string, channel: string): string => `${prefix}roll:{${encodeName(channel)}}`;

/** The fencing tokens of a channel (the last one given, and to whom), in the lock's slot. */
export const fenceKey = (prefix: string, channel: string): string => `${prefix}fence:{${encodeName(channel)}}`;

/** The Redis Cluster hash tag of `key`: what its slot is computed from. */
const hashTagOf = (key: string): string => {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
};

/**
 * True when, under `fullPrefix` (the client's own keyPrefix, then the adapter's), a channel's lock,
 * line and roll keys share one hash tag, so one script can use them on a cluster. A prefix with an
 * unbalanced `{` or an empty `{}` breaks that.
 */
export const isSlotSafe = (fullPrefix: string): boolean => {
  const tags = [lockKey, lineKey, rollKey, fenceKey].map((key) => hashTagOf(key(fullPrefix, 'x')));
  return tags.every((tag) => tag === tags[0]);
};

/** Escapes glob metacharacters, for SCAN MATCH. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** SCAN MATCH pattern of every cache key of `prefix` (as the server sees them, after `clientPrefix`). */
export const cachePattern = (clientPrefix: string, prefix: string): string => `${escapeGlob(clientPrefix + prefix)}cache:*`;

/** The pub/sub channel the release of `key` is announced on, as `link`'s server sees it. */
export const notifyChannelOf = (link: Link, key: string): string => (link.client.options.keyPrefix ?? '') + key;
