import type { ExecutionStats, Redlock } from '@sesamecare-oss/redlock';
import { within } from './bound.js';
import type { Link } from './connect.js';
import type { Vote } from './failures.js';
import type { OwnedHandle } from './handle.js';

/** What the locker, its handles and their leases share. */
export interface LockContext {
  readonly redlock: Redlock;
  /** The servers (or clusters) that vote on every lock. */
  readonly voters: readonly Link[];
  /** Votes needed: a majority of the voters. */
  readonly quorum: number;
  /** Lease of a lock, ms. */
  readonly ttl: number;
  /** Bound of one command, ms. */
  readonly bound: number;
  /** The database Redlock keeps locks in. */
  readonly db: number;
  /** `db` for the fair scripts to SELECT, or '' when the (only) voter's connection already uses it. */
  readonly scriptDb: number | '';
  /** Publish on release. */
  readonly notify: boolean;
  /** Fair handoff (one voter only): see `FairLine`. */
  readonly fair: boolean;
  /** Handles not yet released, for `close()`. */
  readonly live: Set<OwnedHandle>;
}

/** The pub/sub channel the release of `key` is announced on, as `link`'s server sees it. */
export const notifyChannelOf = (link: Link, key: string): string => (link.client.options.keyPrefix ?? '') + key;

/**
 * The votes against a failed Redlock operation (its `ExecutionError`), once every voter answered
 * (within `ms`); `undefined` when they are not known in time or the error is not Redlock's.
 */
export const votesOf = async (ctx: LockContext, error: unknown, ms: number): Promise<Vote[] | undefined> => {
  const attempts = (error as { attempts?: ReadonlyArray<Promise<ExecutionStats>> } | null)?.attempts;
  const last = attempts?.[attempts.length - 1];
  if (!last) return undefined;
  try {
    const stats = await within(last, ms);
    return [...stats.votesAgainst].map(([client, reason]) => ({
      link: ctx.voters.find((voter) => voter.client === client) ?? ctx.voters[0]!,
      error: reason,
    }));
  } catch {
    return undefined;
  }
};
