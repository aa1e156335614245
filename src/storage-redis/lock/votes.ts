import type { ExecutionStats } from '@sesamecare-oss/redlock';
import type { Link } from '../connection/link.js';
import { within } from '../connection/within.js';
import type { LockContext } from './lock-context.js';

/** A vote of one server against an operation. */
export interface Vote {
  readonly link: Link;
  readonly error: unknown;
}

/** Redlock's vote "the key is there with another value" (held by another, or no longer ours). */
export const isHeldVote = (error: unknown): boolean => (error as Error | null)?.name === 'ResourceLockedError';

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
