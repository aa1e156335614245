import { Cluster, Redis } from 'ioredis';
import type { Target } from '../options.js';
import { linkOf, type Link } from './link.js';

/**
 * Opens (or adopts) the connection a target describes. A quorum voter fails fast: without an offline
 * queue (unless its options ask for one), a server known to be down votes "no" at once instead of
 * holding the vote until the command times out.
 */
export const openLink = (target: Target, voter = false): Link => {
  if (target.kind === 'client') return linkOf(target.client, false);
  if (target.kind === 'cluster') return linkOf(new Cluster(target.nodes, target.options), true);
  const options = voter ? { enableOfflineQueue: false, ...target.options } : target.options;
  return linkOf(target.url ? new Redis(target.url, options) : new Redis(options), true);
};

/** A new connection like `link`'s, for SUBSCRIBE (always owned by the adapter). */
export const duplicateLink = (link: Link): Link => {
  const { client } = link;
  const copy = client.isCluster ? (client as Cluster).duplicate() : (client as Redis).duplicate({ autoResubscribe: false, enableOfflineQueue: true });
  return linkOf(copy, true);
};
