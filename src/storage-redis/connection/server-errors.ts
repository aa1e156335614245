/** What a Redis server's failure means, in words and in kind. */
import { LockerUnavailableError } from '../../shared/errors.js';
import type { Link } from './link.js';

/**
 * Replies that no retry can mend: credentials, permissions, a cluster node used as a single server, a
 * server too old for the lock scripts (a command they run is unknown there: `LPOS` needs Redis 6.0.6).
 * An ACL denial inside a script does not start with `NOPERM` on Redis 7.0 (`ERR The user executing the
 * script can't run this command …`, `… can't access at least one of the keys …`): it counts too.
 */
const CONFIG =
  /^(NOAUTH|WRONGPASS|NOPERM)\b|\bNOPERM\b|user executing the script can't|invalid password|invalid username-password|cluster support disabled|^MOVED\b|Unknown Redis command called from (Lua )?script/i;

/** ioredis wraps a cluster's failure to load its slots around the node's own error. */
export const rootOf = (error: unknown): unknown => (error as { lastNodeError?: unknown } | null)?.lastNodeError ?? error;

const messageOf = (error: unknown): string => {
  const root = rootOf(error);
  return root instanceof Error ? root.message : String(root);
};

export const isConfigError = (error: unknown): boolean => CONFIG.test(messageOf(error));

const HINTS: Array<[RegExp, string]> = [
  [/^MOVED\b/, ' (a Redis Cluster node: give the adapter `nodes`)'],
  [/cluster support disabled/i, ' (not a Redis Cluster: give the adapter `host` and `port`)'],
  [/Unknown Redis command called from/i, ' (the lock scripts need Redis 6.0.6 or later)'],
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
