import { Cluster, Redis } from 'ioredis';
import type { Target } from '../options.js';
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
export const openLink = (target: Target, role: LinkRole = 'main'): Link => {
  if (target.kind === 'client') return linkOf(target.client, false);
  // Lazily only with an offline queue: without one, the first command would fail while connecting.
  const lazy = role === 'cache' && (target.options as { enableOfflineQueue?: boolean }).enableOfflineQueue !== false ? { lazyConnect: true } : {};
  if (target.kind === 'cluster') return linkOf(new Cluster(target.nodes, { ...lazy, ...target.options }), true);
  const options = role === 'voter' ? { enableOfflineQueue: false, ...target.options } : { ...lazy, ...target.options };
  return linkOf(target.url ? new Redis(target.url, options) : new Redis(options), true);
};

/** A new connection like `link`'s, for SUBSCRIBE (always owned by the adapter). */
export const duplicateLink = (link: Link): Link => {
  const { client } = link;
  const copy = client.isCluster ? (client as Cluster).duplicate() : (client as Redis).duplicate({ autoResubscribe: false, enableOfflineQueue: true });
  return linkOf(copy, true);
};
