import { Lock } from '@sesamecare-oss/redlock';
import { randomUUID } from 'node:crypto';
import type { LockHandle, WaitTicket } from '../../shared/contract.js';
import { ATOMIZE_DEFAULTS } from '../../shared/defaults.js';
import { LockerConfigError, describe } from '../../shared/errors.js';
import { fenceKey, lineKey, lockKey, notifyChannelOf, rollKey } from '../cache/keys.js';
import { isConfigError, reasonOf, rootOf, unavailable } from '../connection/server-errors.js';
import { within } from '../connection/within.js';
import type { LockContext } from '../lock/lock-context.js';
import { RedisLockHandle } from '../lock/lock-handle.js';
import { fairAcquire, fairRelease, type FairKeys } from './fair-scripts.js';

const noop = (): void => undefined;

/** A waiter counts as alive for this many of its `interval`s after each attempt. */
const ALIVE_INTERVALS = 3;

/** One wait of this process, by ticket id. */
interface Waiting {
  readonly keys: FairKeys;
  /** The ticket may be in the Redis line, or may hold a lock handed to it: an attempt said so, or its outcome is unknown. */
  maybeQueued: boolean;
  /** An attempt is on its way. */
  trying: boolean;
  /** A handle was returned to the waiter: the lock is the handle's now, not the wait's. */
  taken: boolean;
  ended: boolean;
}

/**
 * Fair handoff on one server or cluster (not a quorum): waiters queue in a line per channel in Redis,
 * and a release hands the lock to the first waiter still alive, announcing `grant:<ticket id>`. The
 * grantee confirms with its next attempt (one round trip), which sets its own lease; a handle is only
 * returned for a lease confirmed that way. Every ticket this process may have left in a line (also
 * by an attempt whose answer never came) leaves it when its wait ends, or when the adapter closes;
 * one that cannot (the process died) stops counting as alive and is skipped.
 */
export class FairLine {
  readonly #waiting = new Map<string, Waiting>();
  /** Attempts on their way, for `close()`. */
  readonly #attempts = new Set<Promise<unknown>>();

  constructor(private readonly ctx: LockContext, private readonly prefix: string) {}

  async tryAcquire(channel: string, ticket?: WaitTicket): Promise<LockHandle | null> {
    const ctx = this.ctx;
    const link = ctx.voters[0]!;
    const key = lockKey(this.prefix, channel);
    const keys: FairKeys = {
      lock: key,
      line: lineKey(this.prefix, channel),
      roll: rollKey(this.prefix, channel),
      fence: fenceKey(this.prefix, channel),
      pub: ctx.notify ? notifyChannelOf(link, key) : '',
    };
    const token = ticket?.id ?? randomUUID();
    const waiting = ticket ? this.#follow(ticket, keys) : undefined;
    const window = Math.ceil(ALIVE_INTERVALS * (ticket?.interval ?? ATOMIZE_DEFAULTS.interval));
    const lineTtl = Math.max(60_000, 10 * ctx.ttl);
    const started = Date.now();
    // An answer after the bound: a wait still on keeps it (its next attempt finds the lock its own,
    // or its place); otherwise the lock won, or the place taken, is given up.
    const late = (): void => {
      if (!waiting || waiting.ended) void this.#leave(keys, token);
    };
    if (waiting) waiting.trying = true;
    const attempt = within(fairAcquire(link.client, keys, ctx.scriptDb, token, ctx.ttl, lineTtl, keys.pub, ticket ? '1' : '0', window), 2 * ctx.bound, late);
    this.#attempts.add(attempt);
    let won: number;
    try {
      won = await attempt;
    } catch (error) {
      // Unknown outcome: maybe queued, maybe handed the lock. The end of the wait cleans it up.
      if (waiting && !waiting.ended) waiting.maybeQueued = true;
      else void this.#leave(keys, token);
      // Refused credentials or permissions (`NOPERM`): no retry can mend that, atomize fails at once.
      if (isConfigError(error)) throw new LockerConfigError(`Redis refused the lock commands for channel ${describe(channel)}: ${reasonOf(link, error)}`, rootOf(error));
      throw unavailable(`lock channel ${describe(channel)}`, [reasonOf(link, error)], error);
    } finally {
      this.#attempts.delete(attempt);
      if (waiting) waiting.trying = false;
    }
    if (won === 0) {
      if (waiting) waiting.maybeQueued = true;
      if (waiting?.ended) void this.#leave(keys, token);
      return null;
    }
    const lock = this.#confirmed(keys, token, started);
    if (!lock) {
      // The answer came after the lease it confirmed had run out (a stalled event loop): not ours.
      void this.#leave(keys, token);
      return null;
    }
    if (waiting) waiting.taken = true;
    return new RedisLockHandle(ctx, channel, key, lock, () => this.#free(channel, keys, token), won);
  }

  /**
   * Leaves every line this process may be in (handing on any lock granted meanwhile), once the
   * attempts on their way have answered or timed out. Never rejects.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#attempts]);
    const leaving = [...this.#waiting].map(([id, waiting]) => {
      waiting.ended = true;
      this.#waiting.delete(id);
      return waiting.taken ? undefined : this.#leave(waiting.keys, id);
    });
    await Promise.all(leaving);
  }

  /** The lock held with `token` since `started` under this adapter's lease, or null when that already ran out. */
  #confirmed(keys: FairKeys, token: string, started: number): Lock | null {
    const ctx = this.ctx;
    const drift = Math.round(ctx.ttl * 0.01) + 2;
    const expiration = started + ctx.ttl - drift;
    return Date.now() < expiration ? new Lock(ctx.redlock, [keys.lock], token, [], expiration) : null;
  }

  /** Releases the lock held with `token` (handing it to the first live waiter); rejects when Redis did not confirm. */
  async #free(channel: string, keys: FairKeys, token: string): Promise<void> {
    try {
      await this.#release(keys, token);
    } catch (error) {
      throw unavailable(`confirm the release of channel ${describe(channel)}`, [reasonOf(this.ctx.voters[0]!, error)], error);
    }
  }

  /** Leaves the line, handing on a lock granted meanwhile (best effort: a ticket left behind stops counting as alive). */
  #leave(keys: FairKeys, token: string): Promise<void> {
    return this.#release(keys, token).then(noop, noop);
  }

  /** The release script, bounded: drops `token` from the line, hands on or deletes a lock it holds. */
  #release(keys: FairKeys, token: string): Promise<number> {
    const { voters, scriptDb, bound } = this.ctx;
    return within(fairRelease(voters[0]!.client, keys, scriptDb, token, keys.pub), bound);
  }

  /** Tracks a ticket from its first attempt until its wait ends; then leaves the line if it may be in it. */
  #follow(ticket: WaitTicket, keys: FairKeys): Waiting {
    const known = this.#waiting.get(ticket.id);
    if (known) return known;
    const waiting: Waiting = { keys, maybeQueued: false, trying: false, taken: false, ended: false };
    this.#waiting.set(ticket.id, waiting);
    const end = (): void => {
      if (waiting.ended) return;
      waiting.ended = true;
      this.#waiting.delete(ticket.id);
      // An attempt on its way leaves when it answers (see tryAcquire).
      if (!waiting.taken && waiting.maybeQueued && !waiting.trying) void this.#leave(keys, ticket.id);
    };
    if (ticket.signal.aborted) queueMicrotask(end);
    else ticket.signal.addEventListener('abort', end, { once: true });
    return waiting;
  }
}
