import { describe } from '../../shared/errors.js';
import { notifyChannelOf } from '../cache/keys.js';
import { reasonOf, unavailable } from '../connection/server-errors.js';
import { within } from '../connection/within.js';
import type { LockContext } from './lock-context.js';
import { majority } from './majority.js';
import { releaseScript } from './release-script.js';

/**
 * Releases `key` where it still holds `value`, on every voter at once (one round trip each), and
 * publishes the release when notifications are on. Resolves once a quorum answered (a key already
 * expired, or taken over since, counts as answered); rejects when too many servers failed to answer.
 */
export const releaseKey = async (ctx: LockContext, channel: string, key: string, value: string): Promise<void> => {
  // A server known to be down fails at once: its copy of the lock ends by its lease.
  const tasks = ctx.voters.map((link) =>
    link.down
      ? Promise.reject(link.lastError)
      : within(releaseScript(link.client, [key], ctx.db, value, ctx.notify ? notifyChannelOf(link, key) : ''), ctx.bound),
  );
  const tally = await majority(tasks, ctx.quorum);
  if (!tally.reached) {
    const reasons = tally.failures.map(({ index, error }) => reasonOf(ctx.voters[index]!, error));
    throw unavailable(`confirm the release of channel ${describe(channel)}`, reasons, tally.failures[0]?.error);
  }
};
