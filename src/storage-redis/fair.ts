import { Lock } from '@sesamecare-oss/redlock';
import { randomUUID } from 'node:crypto';
import type { LockHandle, WaitTicket } from '../shared/contract.js';
import { describe } from '../shared/errors.js';
import { within } from './bound.js';
import { notifyChannelOf, type LockContext } from './context.js';
import { fairAcquire, fairRelease, type FairKeys } from './fair-scripts.js';
import { reasonOf, unavailable } from './failures.js';
import { openHandle } from './handle.js';
import { lineKey, lockKey } from './keys.js';

const noop = (): void => undefined;

/** One wait of this process, by ticket id. */
interface Waiting {
  readonly channel: string;
  readonly keys: FairKeys;
  /** Queued in Redis (an attempt answered "not yours"), and not yet handed the lock here. */
  queued: boolean;
  /** An attempt is on its way. */
  trying: boolean;
  /** The lock went to this ticket. */
  taken: boolean;
  ended: boolean;
}

/**
 * Fair handoff on one server or cluster (not a quorum): waiters queue in a line per channel in Redis,
 * and a release hands the lock straight to the first of them, announcing `grant:<ticket id>`. The
 * grantee's process takes it without another round trip; anyone else goes on waiting.
 */
export class FairLine {
  readonly #waiting = new Map<string, Waiting>();
  /** Grants heard for tickets of this process: when each was heard. */
  readonly #grants = new Map<string, number>();

  constructor(private readonly ctx: LockContext, private readonly prefix: string) {}

  /** Called by the notifier for every `grant:<id>` it hears. */
  granted(id: string): void {
    const waiting = this.#waiting.get(id);
    if (waiting && !waiting.ended && !waiting.taken) this.#grants.set(id, Date.now());
  }

  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    const ctx = this.ctx;
    const link = ctx.voters[0]!;
    const key = lockKey(this.prefix, channel);
    const keys: FairKeys = { lock: key, line: lineKey(this.prefix, channel), pub: ctx.notify ? notifyChannelOf(link, key) : '' };
    const token = ticket?.id ?? randomUUID();
    const waiting = ticket ? this.#follow(ticket, channel, keys) : undefined;
    const heard = this.#grants.get(token);
    if (waiting && heard !== undefined) {
      this.#grants.delete(token);
      waiting.taken = true;
      return this.#handle(channel, keys, token, heard);
    }
    const started = Date.now();
    const lineTtl = Math.max(60_000, 10 * ctx.ttl);
    // An answer after the bound. While the wait goes on it keeps what it got: the next attempt (same
    // token) finds the lock its own, or its place in line; the end of the wait leaves. Otherwise give
    // back a lock won and leave a line joined.
    const late = (won: number): void => {
      if (waiting && !waiting.ended) waiting.queued = true;
      else if (won === 1 || ticket) void this.#leave(keys, token);
    };
    if (waiting) waiting.trying = true;
    let won: number;
    try {
      won = await within(fairAcquire(link.client, keys, ctx.scriptDb, token, ctx.ttl, lineTtl, !!ticket), 2 * ctx.bound, late);
    } catch (error) {
      throw unavailable(`lock channel ${describe(channel)}`, [reasonOf(link, error)], error);
    } finally {
      if (waiting) waiting.trying = false;
    }
    if (won === 1) {
      if (waiting) waiting.taken = true;
      return this.#handle(channel, keys, token, started);
    }
    if (waiting) waiting.queued = true;
    if (waiting?.ended) void this.#leave(keys, token);
    return null;
  }

  /** A handle on the lock held with `token` since `since` (its lease counted from then). */
  #handle(channel: string, keys: FairKeys, token: string, since: number): LockHandle {
    const ctx = this.ctx;
    const drift = Math.round(ctx.ttl * 0.01) + 2;
    const lock = new Lock(ctx.redlock, [keys.lock], token, [], since + ctx.ttl - drift);
    return openHandle(ctx, channel, keys.lock, lock, () => this.#free(channel, keys, token));
  }

  /** Releases the lock held with `token` (handing it to the first in line); rejects when Redis did not confirm. */
  async #free(channel: string, keys: FairKeys, token: string): Promise<void> {
    try {
      await this.#release(keys, token);
    } catch (error) {
      throw unavailable(`confirm the release of channel ${describe(channel)}`, [reasonOf(this.ctx.voters[0]!, error)], error);
    }
  }

  /** Leaves the line, handing on a lock granted meanwhile (best effort: a failure costs one lease). */
  #leave(keys: FairKeys, token: string): Promise<void> {
    return this.#release(keys, token).then(noop, noop);
  }

  /** The release script, bounded: drops `token` from the line, hands on or deletes a lock it holds. */
  #release(keys: FairKeys, token: string): Promise<number> {
    const { voters, scriptDb, ttl, bound } = this.ctx;
    return within(fairRelease(voters[0]!.client, keys, scriptDb, token, ttl), bound);
  }

  /** Tracks a ticket from its first attempt until its wait ends. */
  #follow(ticket: WaitTicket, channel: string, keys: FairKeys): Waiting {
    let waiting = this.#waiting.get(ticket.id);
    if (waiting) return waiting;
    const fresh: Waiting = { channel, keys, queued: false, trying: false, taken: false, ended: false };
    this.#waiting.set(ticket.id, fresh);
    const end = (): void => {
      fresh.ended = true;
      this.#waiting.delete(ticket.id);
      this.#grants.delete(ticket.id);
      if (!fresh.taken && fresh.queued && !fresh.trying) void this.#leave(keys, ticket.id);
    };
    if (ticket.signal.aborted) queueMicrotask(end);
    else ticket.signal.addEventListener('abort', end, { once: true });
    waiting = fresh;
    return waiting;
  }
}
