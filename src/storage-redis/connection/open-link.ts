import type { Cluster, Redis } from 'ioredis';
import type { Target } from '../options.js';
import { redisPeers } from '../peers.js';
import { linkOf, type Link } from './link.js';

/**
 * What a connection is for: `'main'` (the adapter's own connection), `'voter'` (a quorum server) or
 * `'cache'` (a connection for the cache alone, opened at its first command).
 */
export type LinkRole = 'main' | 'voter' | 'cache';

/**
 * Opens (or adopts) the connection a target describes. A quorum voter fails fast: without an offline
 * queue (unless its options ask for one), a server known to be down votes "no" at once instead of
 * holding the vote until the command times out. A cache connection connects lazily (unless its
 * options say otherwise, or have no offline queue): an adapter used only for locks never opens it.
 */
/**
 * ioredis waits this long (ms) for a dropped socket to close gracefully, on a timer that a socket
 * closed already (its server down) never clears: 0 on the adapter's connections, so that `close()`
 * leaves no timer behind (see quitWithin). Their options may set another.
 */
const DROP = { disconnectTimeout: 0 };

export const openLink = (target: Target, role: LinkRole = 'main'): Link => {
  if (target.kind === 'client') return linkOf(target.client, false);
  const { Cluster, Redis } = redisPeers().ioredis;
  // Lazily only with an offline queue: without one, the first command would fail while connecting.
  const lazy = role === 'cache' && (target.options as { enableOfflineQueue?: boolean }).enableOfflineQueue !== false ? { lazyConnect: true } : {};
  if (target.kind === 'cluster') {
    const redisOptions = { ...DROP, ...target.options.redisOptions };
    return linkOf(new Cluster(target.nodes, { ...lazy, ...target.options, redisOptions }), true);
  }
  const options = role === 'voter' ? { enableOfflineQueue: false, ...DROP, ...target.options } : { ...lazy, ...DROP, ...target.options };
  return linkOf(target.url ? new Redis(target.url, options) : new Redis(options), true);
};

/** A new connection like `link`'s, for SUBSCRIBE (always owned by the adapter). */
export const duplicateLink = (link: Link): Link => {
  const { client } = link;
  const copy = client.isCluster
    ? (client as Cluster).duplicate(undefined, { redisOptions: { ...(client as Cluster).options.redisOptions, ...DROP } })
    : (client as Redis).duplicate({ autoResubscribe: false, enableOfflineQueue: true, ...DROP });
  return linkOf(copy, true);
};
