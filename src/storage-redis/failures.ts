import { LockerConfigError, LockerUnavailableError, describe } from '../shared/errors.js';
import type { Link } from './connect.js';

/** Replies that no retry can mend: credentials, permissions, a cluster node used as a single server. */
const CONFIG = /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid password|invalid username-password|cluster support disabled|^MOVED\b/i;

/** ioredis wraps a cluster's failure to load its slots around the node's own error. */
const rootOf = (error: unknown): unknown => (error as { lastNodeError?: unknown } | null)?.lastNodeError ?? error;

const messageOf = (error: unknown): string => {
  const root = rootOf(error);
  return root instanceof Error ? root.message : String(root);
};

export const isConfigError = (error: unknown): boolean => CONFIG.test(messageOf(error));

/** Redlock's vote "the key is there with another value" (held by another, or no longer ours). */
export const isHeldVote = (error: unknown): boolean => (error as Error | null)?.name === 'ResourceLockedError';

const HINTS: Array<[RegExp, string]> = [
  [/^MOVED\b/, ' (a Redis Cluster node: give the adapter `nodes`)'],
  [/cluster support disabled/i, ' (not a Redis Cluster: give the adapter `host` and `port`)'],
];
const hinted = (message: string): string => message + (HINTS.find(([pattern]) => pattern.test(message))?.[1] ?? '');

/** One line on what went wrong with one server, naming it, with its last connection error when useful. */
export const reasonOf = (link: Link, error: unknown): string => {
  const message = messageOf(error);
  const last = link.lastError;
  if (isConfigError(error)) return `${link.name}: ${hinted(message)}`;
  if (/timed out|no answer/i.test(message)) {
    return `${link.name}: ${message}${last ? ` (last connection error: ${messageOf(last)})` : ' (server stopped or overloaded?)'}`;
  }
  if (last && link.client.status !== 'ready') {
    return isConfigError(last) ? `${link.name}: ${hinted(messageOf(last))}` : `${link.name}: unreachable (${messageOf(last)})`;
  }
  return `${link.name}: ${hinted(message)}`;
};

/** The backend could not answer: the caller may retry (atomize does, until its deadline). */
export const unavailable = (what: string, reasons: readonly string[], cause?: unknown): LockerUnavailableError =>
  new LockerUnavailableError(`Redis could not ${what}: ${reasons.join('; ') || 'no answer'}`, cause);

/** A vote of one server against an operation. */
export interface Vote {
  readonly link: Link;
  readonly error: unknown;
}

/**
 * Judges a failed quorum operation on `channel` from the votes against it: `'held'` when another
 * holder has the key, a `LockerConfigError` when misconfigured servers leave no quorum possible,
 * else an error saying which servers failed and why.
 */
export const judge = (channel: string, votes: readonly Vote[], members: number, quorum: number): 'held' | Error => {
  const config = votes.filter((vote) => isConfigError(vote.error));
  const reasons = votes.filter((vote) => !isHeldVote(vote.error)).map((vote) => reasonOf(vote.link, vote.error));
  if (config.length > 0 && members - config.length < quorum) {
    return new LockerConfigError(`Redis refused the lock commands for channel ${describe(channel)}: ${reasons.join('; ')}`, rootOf(config[0]!.error));
  }
  if (votes.some((vote) => isHeldVote(vote.error))) return 'held';
  const agreed = members > 1 ? ` (no quorum: ${quorum} of ${members} servers needed)` : '';
  return unavailable(`lock channel ${describe(channel)}${agreed}`, reasons, rootOf(votes[0]?.error));
};
