import type { Lock } from '@sesamecare-oss/redlock';
import { within } from '../connection/within.js';
import type { LockContext } from './lock-context.js';
import { releaseKey } from './release-key.js';
import { judgeAcquire } from './verdict.js';

const noop = (): void => undefined;

/**
 * One Redlock attempt at `key` (no retries): the lock, or `null` when another holder has it. Bounded
 * by two command bounds; a lock won after that is released. Other failures reject (see `judgeAcquire`).
 */
export const takeLease = async (ctx: LockContext, channel: string, key: string): Promise<Lock | null> => {
  try {
    const late = (taken: Lock): void => void releaseKey(ctx, channel, key, taken.value).catch(noop);
    return await within(ctx.redlock.acquire([key], ctx.ttl, { retryCount: 0 }), 2 * ctx.bound, late);
  } catch (error) {
    const verdict = await judgeAcquire(ctx, channel, error);
    if (verdict === 'held') return null;
    throw verdict;
  }
};
