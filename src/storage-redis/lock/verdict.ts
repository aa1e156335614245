/** Verdicts on failed lock commands, from the votes against them. */
import type { Lock } from '@sesamecare-oss/redlock';
import { LockerConfigError, describe } from '../../shared/errors.js';
import { isConfigError, reasonOf, rootOf, unavailable } from '../connection/server-errors.js';
import type { Link } from '../connection/link.js';
import { NoAnswerError, within } from '../connection/within.js';
import type { Loss } from './keep-alive.js';
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

/** How long the words of a loss may delay its signal, at most, ms: one read of the key per server. */
const EXPLAIN_MS = 250;

/**
 * Reads who holds a lock's key now, in the locks' database (as Redlock's scripts select it): its value,
 * or for a fair lock (a list: holder, then waiters) its first entry.
 */
const VALUE_OF = `redis.pcall("SELECT", tonumber(ARGV[1]))
local value = redis.pcall("GET", KEYS[1])
if type(value) == "table" and value.err then return redis.call("LINDEX", KEYS[1], 0) end
return value`;

/** What `link` holds under `key` now: `null` (nothing), a value, or `undefined` when it could not tell within `ms`. */
const valueAt = async (ctx: LockContext, link: Link, key: string, ms: number): Promise<string | null | undefined> => {
  try {
    return ((await within(link.client.eval(VALUE_OF, 1, key, ctx.db) as Promise<string | null>, ms)) ?? null);
  } catch {
    return undefined;
  }
};

/** One server's part in a loss, from what it holds under the key now. */
const lossAt = (name: string, value: string | null | undefined, ours: string): string => {
  if (value === null) return `its key was deleted on ${name}`;
  if (value === undefined || value === ours) return `${name} no longer renews it for this holder`;
  return `another holder took it over on ${name}`;
};

const WHY_DELETED = 'deleted by a client, a FLUSHDB or FLUSHALL, evicted under maxmemory, or lost in a restart or failover';
const WHY_TAKEN = "its key holds another holder's token: it had been deleted or had expired, and another process locked the channel";

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Why a renewal failed, in words (see `LeaseSpec.explain`). When the lock is `gone`, each server
 * that no longer holds it is asked what its key holds now (bounded by {@link EXPLAIN_MS}): nothing
 * (deleted) or another holder's value (taken over). Otherwise the servers' own errors say why
 * (unreachable, timed out, refused), the first of them as `cause`.
 */
export const explainLoss = async (ctx: LockContext, error: unknown, lock: Lock, gone: boolean): Promise<Loss> => {
  const votes = ctx.voters.length > 1 ? await votesOf(ctx, error, EXPLAIN_MS) : undefined;
  if (gone) {
    const lost = votes?.filter((vote) => isHeldVote(vote.error)).map((vote) => vote.link) ?? [ctx.voters[0]!];
    const key = lock.resources[0]!;
    const values = await Promise.all(lost.map((link) => valueAt(ctx, link, key, Math.min(ctx.bound, EXPLAIN_MS))));
    const parts = lost.map((link, i) => lossAt(link.name, values[i], lock.value));
    const taken = values.some((value) => typeof value === 'string' && value !== lock.value);
    const why = values.includes(null) ? ` (${WHY_DELETED})` : taken ? ` (${WHY_TAKEN})` : '';
    return { reason: ctx.voters.length > 1 ? `no quorum holds it any more: ${parts.join('; ')}${why}` : `${parts[0]}${why}`, cause: error };
  }
  if (!votes) return { reason: reasonOf(ctx.voters[0]!, rootOf(error)) || messageOf(error), cause: rootOf(error) };
  const failed = votes.filter((vote) => !isHeldVote(vote.error));
  const reasons = votes.map((vote) => (isHeldVote(vote.error) ? `${vote.link.name}: no longer holds it` : reasonOf(vote.link, vote.error)));
  return { reason: reasons.join('; ') || messageOf(error), cause: rootOf(failed[0]?.error ?? error) };
};
