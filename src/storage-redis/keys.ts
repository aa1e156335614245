/**
 * Key layout. Cache entries: `${prefix}cache:${name}`; a channel's lock: `${prefix}lock:{${name}}` and
 * its line of waiters (fair handoff): `${prefix}line:{${name}}`; the release notification of a lock is
 * published on a pub/sub channel named like the lock's full key.
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

/** Escapes glob metacharacters, for SCAN MATCH. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** SCAN MATCH pattern of every cache key of `prefix` (as the server sees them, after `clientPrefix`). */
export const cachePattern = (clientPrefix: string, prefix: string): string => `${escapeGlob(clientPrefix + prefix)}cache:*`;
