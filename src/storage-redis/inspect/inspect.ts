import { describe, LockerConfigError } from '../../shared/errors.js';
import { tokenOf, type LockInspection } from '../../shared/inspection.js';
import { isConfigError, reasonOf, rootOf, unavailable } from '../connection/server-errors.js';
import type { LockContext } from '../lock/lock-context.js';
import { readChannel, type Reading } from './read-channel.js';

/** The value a quorum of `readings` hold the lock with, and its TTLs there. */
const agreed = (readings: readonly Reading[], quorum: number): { holder: string; ttls: number[] } | undefined => {
  const ttls = new Map<string, number[]>();
  for (const { holder, ttl } of readings) if (holder !== null) ttls.set(holder, [...(ttls.get(holder) ?? []), ttl]);
  const [holder, times] = [...ttls].find(([, found]) => found.length >= quorum) ?? [];
  return holder === undefined ? undefined : { holder, ttls: times! };
};

/**
 * Reads `channel` on every lock server (one script each, bounded like the locker's commands) and tells
 * what a quorum agrees on: held when a quorum holds one value (one server: that server); the lock lasts
 * while a quorum still holds it, so `expiresInMs` is the quorum-th longest TTL. Too few answers reject
 * like a lock attempt: `LockerConfigError` for refused credentials or permissions, else
 * `LockerUnavailableError` naming each server.
 */
export const inspectChannel = async (ctx: LockContext, prefix: string, channel: string): Promise<LockInspection> => {
  const answers = await Promise.allSettled(
    ctx.voters.map((link) => (link.down ? Promise.reject(link.lastError) : readChannel(link, prefix, channel, ctx.db, ctx.bound))),
  );
  const readings = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
  if (readings.length < ctx.quorum) {
    const failures = answers.flatMap((answer, i) => (answer.status === 'rejected' ? [{ link: ctx.voters[i]!, error: answer.reason as unknown }] : []));
    const reasons = failures.map(({ link, error }) => reasonOf(link, error));
    const config = failures.find(({ error }) => isConfigError(error));
    if (config) throw new LockerConfigError(`Redis refused the inspection of channel ${describe(channel)}: ${reasons.join('; ')}`, rootOf(config.error));
    throw unavailable(`inspect channel ${describe(channel)}`, reasons, failures[0]?.error);
  }
  const lock = agreed(readings, ctx.quorum);
  const ttl = lock?.ttls.sort((a, b) => b - a)[ctx.quorum - 1];
  const tokens = readings.map((reading) => tokenOf(reading.token)).filter((token) => token !== undefined);
  const token = tokens.sort((a, b) => (BigInt(a) < BigInt(b) ? 1 : -1))[0];
  return {
    channel,
    held: lock !== undefined,
    ...(lock ? { holder: lock.holder } : {}),
    ...(ttl !== undefined && ttl >= 0 ? { expiresInMs: ttl } : {}),
    waiters: Math.max(...readings.map((reading) => reading.waiters)),
    ...(token === undefined ? {} : { token }),
  };
};
