/** Verdicts on failed lock commands, from the votes against them. */
import type { Lock } from '@sesamecare-oss/redlock';
import { LockerConfigError, describe } from '../../shared/errors.js';
import { isConfigError, reasonOf, rootOf, unavailable } from '../connection/server-errors.js';
import { NoAnswerError } from '../connection/within.js';
import type { LockContext } from './lock-context.js';
import { isHeldVote, votesOf, type Vote } from './votes.js';

/** Another holder has the channel (`'held'`), or the error to reject with. */
export type Verdict = 'held' | Error;

/**
 * Judges a failed quorum operation on `channel` from the votes against it: `'held'` when another
 * holder has the key, a `LockerConfigError` when misconfigured servers leave no quorum possible,
 * else an error saying which servers failed and why.
 */
export const judge = (channel: string, votes: readonly Vote[], members: number, quorum: number): Verdict => {
  const config = votes.filter((vote) => isConfigError(vote.error));
  const reasons = votes.filter((vote) => !isHeldVote(vote.error)).map((vote) => reasonOf(vote.link, vote.error));
  if (config.length > 0 && members - config.length < quorum) {
    return new LockerConfigError(`Redis refused the lock commands for channel ${describe(channel)}: ${reasons.join('; ')}`, rootOf(config[0]!.error));
  }
  if (votes.some((vote) => isHeldVote(vote.error))) return 'held';
  const agreed = members > 1 ? ` (no quorum: ${quorum} of ${members} servers needed)` : '';
  return unavailable(`lock channel ${describe(channel)}${agreed}`, reasons, rootOf(votes[0]?.error));
};

/** Judges a failed (or unanswered) Redlock acquire of `channel`. */
export const judgeAcquire = async (ctx: LockContext, channel: string, error: unknown): Promise<Verdict> => {
  const what = `lock channel ${describe(channel)}`;
  if (error instanceof NoAnswerError) return unavailable(what, ctx.voters.map((voter) => reasonOf(voter, error)), error);
  const votes = await votesOf(ctx, error, ctx.bound);
  if (votes) return judge(channel, votes, ctx.voters.length, ctx.quorum);
  if ((error as Error | null)?.name !== 'ExecutionError') return error as Error;
  return unavailable(what, ctx.voters.map((voter) => reasonOf(voter, new NoAnswerError(ctx.bound))), error);
};

/** True when a failed renewal shows so many voters no longer hold our value that no quorum can: the lock is gone. */
export const isGone = async (ctx: LockContext, error: unknown, lock: Lock): Promise<boolean> => {
  const votes = await votesOf(ctx, error, Math.max(0, lock.expiration - Date.now()));
  const gone = votes?.filter((vote) => isHeldVote(vote.error)).length ?? 0;
  return gone > ctx.voters.length - ctx.quorum;
};
